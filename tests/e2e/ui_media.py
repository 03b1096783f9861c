"""Generated media for the web page and CLI tests (ffmpeg), and ffprobe's view of a file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path


def make_video(
    path: Path, *, seconds: float = 6, size: str = "640x360", audio: bool = True
) -> Path:
    """An H.264/AAC MP4 with a tone: large enough (a few MB) that upload progress is visible."""
    video = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={seconds}"]
    tone = ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}"]
    codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-qp", "10"]
    if audio:
        codecs += ["-c:a", "aac", "-b:a", "128k", "-shortest"]
    inputs = video + tone if audio else video
    subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, *codecs, str(path)], check=True)
    return path


def probe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)
