"""Benchmark inputs: 1280x720 H.264/AAC MP4s of a given length, made quickly.

One minute is encoded (a moving test pattern at a low frame rate, ultrafast preset, and a tone),
then repeated by stream copy: encoding an hour of 720p video would take longer than the runs.
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
