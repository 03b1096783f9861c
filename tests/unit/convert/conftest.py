"""Media made by the real ffmpeg for the convert unit tests."""

from __future__ import annotations

import subprocess

import pytest

from video2audio.convert.media import M4A_FRAGMENT, M4A_REWRITE_FLAGS

FFMPEG = ["ffmpeg", "-v", "error", "-nostdin"]


@pytest.fixture(scope="session")
def fragmented_m4a() -> bytes:
    """1.5 s of AAC (48 kHz, stereo, title "Hello") piped as convert asks for a rewritten M4A."""
    command = [*FFMPEG, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=3"]
    command += ["-ac", "2", "-c:a", "aac", "-b:a", "128k", "-metadata", "title=Hello"]
    command += [*M4A_REWRITE_FLAGS, *M4A_FRAGMENT, "-t", "1.5", "-f", "mp4", "pipe:1"]
    return subprocess.run(command, check=True, capture_output=True, timeout=60).stdout


@pytest.fixture(scope="session")
def jpeg_cover() -> bytes:
    """A 320x240 JPEG."""
    command = [*FFMPEG, "-f", "lavfi", "-i", "testsrc=size=320x240", "-frames:v", "1"]
    command += ["-c:v", "mjpeg", "-f", "image2pipe", "pipe:1"]
    return subprocess.run(command, check=True, capture_output=True, timeout=60).stdout
