"""Container sniffing from the first bytes, on files made by ffmpeg and on non-media."""

from __future__ import annotations

import subprocess
import zlib

import pytest

from video2audio.upload.sniffing import SNIFF_BYTES, sniff_container

# extension, ffmpeg output options, expected container
MEDIA = [
    ("mp4", ["-c:a", "aac"], "mp4"),
    ("mov", ["-c:a", "aac"], "mp4"),
    ("3gp", ["-c:a", "aac", "-ar", "8000", "-ac", "1", "-b:a", "12k"], "mp4"),
    ("m4a", ["-c:a", "aac"], "mp4"),
    ("mkv", ["-c:a", "libopus"], "matroska"),
    ("webm", ["-c:a", "libopus"], "matroska"),
    ("avi", ["-c:a", "pcm_s16le"], "avi"),
    ("wav", [], "wav"),
    ("ogg", ["-c:a", "libvorbis"], "ogg"),
    ("opus", [], "ogg"),
    ("flac", [], "flac"),
    ("mp3", ["-c:a", "libmp3lame"], "mp3"),
    ("mp3", ["-c:a", "libmp3lame", "-id3v2_version", "0", "-write_xing", "0"], "mp3"),
    ("aac", ["-c:a", "aac", "-f", "adts"], "aac"),
    ("ts", ["-c:a", "aac"], "mpegts"),
    ("mpg", ["-c:a", "mp2"], "mpegps"),
    ("flv", ["-c:a", "aac"], "flv"),
    ("wma", ["-c:a", "wmav2"], "asf"),
    ("aiff", [], "aiff"),
    ("caf", [], "caf"),
]


FFMPEG = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"]


def ffmpeg_head(tmp_path, extension: str, options: list[str]) -> bytes:
    path = tmp_path / f"sample.{extension}"
    subprocess.run([*FFMPEG, "sine=duration=0.3", *options, str(path)], check=True, timeout=60)
    return path.read_bytes()[:SNIFF_BYTES]


@pytest.mark.parametrize(("extension", "options", "expected"), MEDIA)
def test_media_written_by_ffmpeg_is_recognised(tmp_path, extension, options, expected):
    assert sniff_container(ffmpeg_head(tmp_path, extension, options)) == expected


def test_a_video_with_its_index_at_the_end_is_recognised(tmp_path):
    path = tmp_path / "video.mp4"
    source = ["testsrc=size=64x48:rate=5", "-t", "1", "-c:v", "libx264"]
    subprocess.run([*FFMPEG, *source, str(path)], check=True, timeout=60)
    assert sniff_container(path.read_bytes()[:SNIFF_BYTES]) == "mp4"


def test_mxf_is_recognised_by_its_partition_key():
    assert sniff_container(bytes.fromhex("060e2b34020501010d01020101020400") + bytes(64)) == "mxf"


NOT_MEDIA = {
    "text": b"just some text, not a video\n" * 40,
    "html": b"<!doctype html><html><body>hi</body></html>",
    "json": b'{"video": "no"}',
    "png": b"\x89PNG\r\n\x1a\n" + bytes(100),
    "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(100),
    "gif": b"GIF89a" + bytes(100),
    "pdf": b"%PDF-1.7\n" + bytes(100),
    "zip": b"PK\x03\x04" + bytes(100),
    "gzip": b"\x1f\x8b\x08\x00" + zlib.compress(b"x" * 100),
    "elf": b"\x7fELF\x02\x01\x01" + bytes(100),
    "riff-webp": b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(100),
    "http-request": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + b"a" * 400,
    "zeros": bytes(SNIFF_BYTES),
    "tiny-box": b"\x00\x00\x00\x04ftyp",
    "empty": b"",
}


@pytest.mark.parametrize("content", NOT_MEDIA.values(), ids=NOT_MEDIA.keys())
def test_non_media_is_not_recognised(content):
    assert sniff_container(content) is None


def test_an_mpeg_audio_header_with_a_reserved_sample_rate_is_not_mp3():
    assert sniff_container(b"\xff\xfb\x9c\x00" + bytes(100)) is None


def test_a_single_ts_sync_byte_is_not_a_transport_stream():
    assert sniff_container(b"G" + b"x" * 400) is None
