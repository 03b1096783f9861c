"""Benchmark inputs: 1280x720 H.264/AAC MP4s of a given length, made quickly.

One minute is encoded (a moving test pattern at a low frame rate, ultrafast preset, and a tone),
then repeated by stream copy: encoding an hour of 720p video would take longer than the runs.
The realistic input is what phones and screen recorders send: 3 minutes at 30 fps and about
4.5 Mbit/s, so the video is about 97% of the bytes (index at the end, as ffmpeg writes it).
Copy inputs carry the same video with the audio in another codec (MP3, Opus, FLAC, PCM).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

FFMPEG = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]


def _minute(directory: Path) -> Path:
    minute = directory / "minute-720p.mp4"
    if minute.exists():
        return minute
    partial = minute.with_suffix(".part.mp4")
    subprocess.run(
        [
            *FFMPEG,
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=5:duration=60",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:beep_factor=4:sample_rate=44100:duration=60",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-b:v",
            "400k",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-ac",
            "2",
            str(partial),
        ],
        check=True,
    )
    partial.rename(minute)
    return minute


def video(directory: Path, minutes: int) -> Path:
    """``directory``/input-<minutes>min.mp4, generated once and reused."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"input-{minutes}min.mp4"
    if path.exists():
        return path
    partial = path.with_suffix(".part.mp4")
    loop = ["-stream_loop", str(minutes - 1), "-i", str(_minute(directory))]
    subprocess.run([*FFMPEG, *loop, "-c", "copy", str(partial)], check=True)
    partial.rename(path)
    return path


def warm_up_clip(directory: Path) -> Path:
    """Two seconds of the same kind of media, to warm a server up before it is measured."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "warm-up.mp4"
    if not path.exists():
        minute = _minute(directory)
        subprocess.run([*FFMPEG, "-i", str(minute), "-t", "2", "-c", "copy", str(path)], check=True)
    return path


def realistic(directory: Path) -> Path:
    """3 minutes of 1280x720 at 30 fps, H.264 at a constant 4.5 Mbit/s plus AAC: about 100 MB."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "input-3min-720p30.mp4"
    if path.exists():
        return path
    partial = path.with_suffix(".part.mp4")
    video = "testsrc2=size=1280x720:rate=30:duration=180"
    tone = "sine=frequency=440:beep_factor=4:sample_rate=48000:duration=180"
    rate = ["-b:v", "4500k", "-minrate", "4500k", "-maxrate", "4500k", "-bufsize", "9000k"]
    subprocess.run(
        [
            *FFMPEG,
            *("-f", "lavfi", "-i", video, "-f", "lavfi", "-i", tone),
            *("-c:v", "libx264", "-preset", "ultrafast", *rate, "-x264-params", "nal-hrd=cbr"),
            *("-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-ac", "2", str(partial)),
        ],
        check=True,
    )
    partial.rename(path)
    return path


# name -> (file extension, audio encoder options): the video is copied, the audio re-encoded once.
COPY_AUDIO = {
    "mp3": ("mp4", ["-c:a", "libmp3lame", "-b:a", "192k"]),
    "opus": ("mkv", ["-c:a", "libopus", "-b:a", "128k"]),
    "flac": ("mkv", ["-c:a", "flac"]),
    "wav": ("mov", ["-c:a", "pcm_s16le"]),
}


def with_audio(directory: Path, source: Path, audio_format: str) -> Path:
    """``source``'s video with its audio already in ``audio_format``'s codec, made once."""
    extension, audio = COPY_AUDIO[audio_format]
    path = directory / f"{source.stem}-{audio_format}.{extension}"
    if path.exists():
        return path
    partial = path.with_name(f"part-{path.name}")
    command = [*FFMPEG, "-i", str(source), "-map", "0:v:0", "-map", "0:a:0", "-c:v", "copy"]
    subprocess.run([*command, *audio, str(partial)], check=True)
    partial.rename(path)
    return path


def demuxer(path: Path) -> str:
    """The demuxer convert would choose for the bench's own inputs."""
    return "matroska" if path.suffix == ".mkv" else "mov"


def phone_recording_1080p(directory: Path, minutes: int = 8) -> Path:
    """About 1 GB like a phone's 8-minute recording: 1920x1080 30 fps H.264 at 16 Mbit/s, AAC
    128k 48 kHz stereo, its index at the end (``directory``/phone-1080p-8min.mp4).

    One minute is encoded (film-grain noise keeps the bit rate up, as a camera's sensor does),
    then repeated by stream copy; generated once and reused.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"phone-1080p-{minutes}min.mp4"
    if path.exists():
        return path
    minute = directory / "phone-1080p-minute.mp4"
    if not minute.exists():
        partial_minute = minute.with_suffix(".part.mp4")
        picture = ["-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30:duration=60"]
        sound = [
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:beep_factor=4:sample_rate=48000:duration=60",
        ]
        video_codec = ["-vf", "noise=alls=12:allf=t", "-c:v", "libx264", "-preset", "ultrafast"]
        video_codec += ["-b:v", "16M", "-maxrate", "16M", "-bufsize", "32M", "-pix_fmt", "yuv420p"]
        audio_codec = ["-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2"]
        command = [*FFMPEG, *picture, *sound, *video_codec, *audio_codec, str(partial_minute)]
        subprocess.run(command, check=True)
        partial_minute.rename(minute)
    partial = path.with_suffix(".part.mp4")
    loop = ["-stream_loop", str(minutes - 1), "-i", str(minute)]
    subprocess.run([*FFMPEG, *loop, "-c", "copy", str(partial)], check=True)
    partial.rename(path)
    return path
