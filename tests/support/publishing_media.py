"""Media and measurements for the publishing tests: lavfi sources, EBU R128, decoded length."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.support.convert_media import ffmpeg
from tests.support.media import probe
from video2audio.infra.storage import AUDIO, find_file, iter_file_bytes
from video2audio.jobs.repository import load_job

SECONDS = 8
EBUR128_HEAD = ["ffmpeg", "-hide_banner", "-nostats", "-i"]
DECODE_HEAD = ["ffmpeg", "-v", "error", "-i"]
# aevalsrc expressions (mono, 48 kHz), each with a level far from -16 LUFS.
LEVELS = {
    # A voice-like buzz at syllable rate, quiet (about -36 LUFS), with some breath noise.
    "quiet-speech": "0.02*(sin(2*PI*140*t)+0.6*sin(2*PI*280*t)+0.4*sin(2*PI*560*t)"
    "+0.3*(random(0)-0.5))*(0.55+0.45*sin(2*PI*3.3*t))",
    # A loud chord on a beat, near full scale (about -8 LUFS).
    "loud-music": "(0.4*sin(2*PI*220*t)+0.3*sin(2*PI*277.2*t)+0.25*sin(2*PI*329.6*t))"
    "*(0.8+0.2*sin(2*PI*2*t))",
    # Tone, three seconds of digital silence, tone: the gate must ignore the silence.
    "with-silence": "if(between(t,2.5,5.5),0,0.1*sin(2*PI*330*t))",
}


# Quiet talk with a loud click every two seconds: the gain to -16 LUFS would clip the clicks.
PEAKY = (
    "0.05*(sin(2*PI*140*t)+0.6*sin(2*PI*280*t))*(0.55+0.45*sin(2*PI*3.3*t))"
    "+if(lt(mod(t,2),0.001),0.95,0)"
)


def generate_levels(directory: Path) -> dict[str, Path]:
    paths = {}
    for name, expression in {**LEVELS, "peaky": PEAKY}.items():
        path = directory / f"{name}.wav"
        source = f"aevalsrc=exprs='{expression}':s=48000:d={SECONDS}"
        ffmpeg("-f", "lavfi", "-i", source, "-c:a", "pcm_s16le", str(path))
        paths[name] = path
    return paths


def generate_wide_video(path: Path) -> Path:
    """A 2 s video wider than the largest cover (1600x900), with a tone."""
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=1600x900:rate=10:duration=2",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "96k", str(path),
    )  # fmt: skip
    return path


def generate_png(path: Path, size: str) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:duration=1", "-frames:v", "1", str(path))
    return path


def loudness(path: Path) -> tuple[float, float]:
    """(integrated loudness in LUFS, true peak in dBTP), measured by ffmpeg's ebur128 filter."""
    completed = subprocess.run(
        [*EBUR128_HEAD, str(path), "-map", "0:a:0", "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    summary = completed.stderr.rsplit("Summary:", 1)[1]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary)[1])
    peak = float(re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary)[1])
    return integrated, peak


def decoded_seconds(path: Path) -> float:
    """The length a player plays: decoded samples (encoder delay and padding skipped)."""
    stream = next(s for s in probe(path)["streams"] if s["codec_type"] == "audio")
    rate, channels = int(stream["sample_rate"]), int(stream["channels"])
    completed = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0", "-f", "s16le", "-"],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return len(completed.stdout) / (2 * channels * rate)


def attached_picture(path: Path) -> dict | None:
    """The attached picture stream (cover art) as ffprobe sees it, or None."""
    pictures = [
        s
        for s in probe(path)["streams"]
        if s["codec_type"] == "video" and s.get("disposition", {}).get("attached_pic")
    ]
    return pictures[0] if pictures else None


def tags_of(path: Path) -> dict[str, str]:
    """The container's and the audio stream's tags, keys in lower case (Vorbis: per stream)."""
    info = probe(path)
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    tags = {**(audio.get("tags") or {}), **(info["format"].get("tags") or {})}
    return {key.lower(): value for key, value in tags.items()}


def picture_decodes(path: Path) -> bool:
    """Whether the attached picture decodes to a frame."""
    completed = subprocess.run(
        [*DECODE_HEAD, str(path), "-map", "0:v:0", "-frames:v", "1", "-f", "null", "-"],
        capture_output=True,
        timeout=60,
    )
    return completed.returncode == 0 and not completed.stderr.strip()


def save_audio(db, job_id: str, target: Path) -> Path:
    """The finished job's audio, written out of GridFS to ``target``."""
    job = load_job(db, job_id)
    assert job is not None and job["status"] == "done", job and job.get("error")
    document = find_file(db, AUDIO, job["audio_fid"])
    with target.open("wb") as out:
        for block in iter_file_bytes(db, AUDIO, document):
            out.write(block)
    return target
