"""Container sniffing from the first bytes, on files made by ffmpeg and on non-media."""

from __future__ import annotations

import subprocess
import zlib

import pytest

from tests.support.hostile_media import ID3_HEADER, POLYGLOTS
from video2audio.core.containers import (
    ALLOWED_DEMUXERS,
    CONTAINERS,
    SNIFF_BYTES,
    demuxer_for,
    refers_elsewhere,
    sniff_container,
)

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


@pytest.mark.parametrize("kind", sorted(POLYGLOTS))
def test_a_playlist_behind_an_id3_header_is_not_media(kind, tmp_path):
    head = POLYGLOTS[kind](tmp_path / "secret.ts")
    assert head.startswith(b"ID3")
    assert sniff_container(head) is None


@pytest.mark.parametrize(
    "content",
    [
        b"#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n",
        b'<?xml version="1.0"?><MPD type="static"></MPD>',
        b"ffconcat version 1.0\nfile '/etc/passwd'\n",
        b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\nm=audio 5004 RTP/AVP 0\r\n",
    ],
)
def test_playlists_manifests_and_session_descriptions_are_not_media(content):
    assert refers_elsewhere(content)
    assert sniff_container(content) is None


def test_adts_audio_behind_an_id3_tag_is_aac(tmp_path):
    head = ffmpeg_head(tmp_path, "aac", ["-c:a", "aac", "-f", "adts"])
    assert sniff_container(ID3_HEADER + head) == "aac"


def test_an_id3_tag_longer_than_the_head_is_left_to_the_forced_mp3_demuxer():
    # Cover art makes tags of many KiB: what follows cannot be seen, and -f mp3 decides.
    big_tag = b"ID3\x04\x00\x00\x00\x01\x00\x00" + b"\x00" * (SNIFF_BYTES - 10)
    assert sniff_container(big_tag) == "mp3"


def test_every_recognised_container_has_a_demuxer_this_ffmpeg_has():
    listed = subprocess.run(
        ["ffmpeg", "-hide_banner", "-demuxers"], capture_output=True, text=True, check=True
    ).stdout
    names = {name for line in listed.splitlines()[4:] for name in line[4:].split()[0].split(",")}
    assert set(ALLOWED_DEMUXERS) <= names
    for container in {name for name, _ in CONTAINERS if name not in {"riff", "id3"}}:
        assert demuxer_for(container) in ALLOWED_DEMUXERS
    assert "hls" not in ALLOWED_DEMUXERS and "concat" not in ALLOWED_DEMUXERS
