"""Generated test media (ffmpeg), and ffprobe's view of a file: shared by every test tier."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path


def make_video(
    path: Path,
    *,
    seconds: float = 6,
    size: str = "640x360",
    fps: int = 25,
    audio: bool = True,
) -> Path:
    """An H.264/AAC MP4 with a tone, its index (moov) at the end as ffmpeg writes it by default.

    The defaults make a few MB, enough for upload progress to be visible.
    """
    video = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}:duration={seconds}"]
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


def remux(source: Path, target: Path, *options: str) -> Path:
    """``source`` copied into ``target``'s container, streams unchanged unless ``options`` say."""
    command = ["ffmpeg", "-v", "error", "-y", "-i", str(source), "-c", "copy", *options]
    subprocess.run([*command, str(target)], check=True, timeout=120)
    return target
