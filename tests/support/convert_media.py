"""Real media for the convert tests, generated with ffmpeg's test sources (short, to stay fast)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.media import probe

CLIP_SECONDS = 2.5
VIDEO = ["-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=10:duration={CLIP_SECONDS}"]
AUDIO = ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={CLIP_SECONDS}"]
VP9 = ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"]
H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]

# name -> (file name, ffmpeg arguments between the inputs and the output path)
SOURCES: dict[str, tuple[str, list[str]]] = {
    # ffmpeg writes the MP4 index (moov) after the media data unless told otherwise.
    "mp4": ("clip.mp4", [*VIDEO, *AUDIO, *H264, "-c:a", "aac", "-b:a", "128k", "-ac", "2"]),
    "mp4-index-first": (
        "clip-faststart.mp4",
        [*VIDEO, *AUDIO, *H264, "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart"],
    ),
    "mkv": ("clip.mkv", [*VIDEO, *AUDIO, *H264, "-c:a", "ac3", "-b:a", "128k"]),
    "webm": (
        "clip.webm",
        [*VIDEO, *AUDIO, *VP9, "-c:a", "libopus", "-b:a", "64k"],
    ),
    "mov": ("clip.mov", [*VIDEO, *AUDIO, *H264, "-c:a", "pcm_s16le"]),
    "audio-only": ("clip.mp3", [*AUDIO, "-c:a", "libmp3lame", "-b:a", "128k"]),
}


# Sources whose audio already is an output format's codec: converting them is a stream copy.
COPY_SOURCES: dict[str, tuple[str, list[str]]] = {
    "mp3-in-mp4": ("clip-mp3.mp4", [*VIDEO, *AUDIO, *H264, "-c:a", "libmp3lame", "-b:a", "128k"]),
    "flac-in-mkv": ("clip-flac.mkv", [*VIDEO, *AUDIO, *H264, "-c:a", "flac"]),
}


def ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args],
        check=True,
        timeout=120,
    )


def generate(directory: Path) -> dict[str, Path]:
    paths = {}
    for name, (filename, arguments) in {**SOURCES, **COPY_SOURCES}.items():
        path = directory / filename
        ffmpeg(*arguments, str(path))
        paths[name] = path
    no_audio = directory / "no-audio.mp4"
    ffmpeg(*VIDEO, *H264, str(no_audio))
    paths["no-audio"] = no_audio
    # Cut short, an MP4 loses the index at its end: no player or probe can read it.
    truncated = directory / "truncated.mp4"
    truncated.write_bytes(paths["mp4"].read_bytes()[: paths["mp4"].stat().st_size // 2])
    paths["truncated"] = truncated
    return paths


def generate_long_audio(path: Path, minutes: int) -> Path:
    """A long AAC track in MP4, made quickly: one encoded minute, repeated by stream copy."""
    minute = path.with_name("minute.m4a")
    source = "sine=frequency=220:sample_rate=44100:duration=60"
    ffmpeg("-f", "lavfi", "-i", source, "-ac", "2", "-c:a", "aac", "-b:a", "96k", str(minute))
    ffmpeg("-stream_loop", str(minutes - 1), "-i", str(minute), "-c", "copy", str(path))
    return path


def audio_facts(path: Path) -> tuple[str, float]:
    """The first audio stream's codec and its duration (the container's when it has none)."""
    info = probe(path)
    stream = next(s for s in info["streams"] if s["codec_type"] == "audio")
    duration = stream.get("duration") or info["format"]["duration"]
    return stream["codec_name"], float(duration)


def audio_packets_md5(path: Path) -> str:
    """A checksum of the audio packets as stored (not decoded): equal means copied unchanged."""
    completed = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0", "-c", "copy", "-f", "md5", "-"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return completed.stdout.decode().strip()
