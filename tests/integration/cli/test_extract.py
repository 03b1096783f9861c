"""The CLI copies the audio track out of a video with the real ffmpeg, before it uploads."""

from __future__ import annotations

import pytest

from tests.support.convert_media import audio_packets_md5
from tests.support.media import probe
from video2audio_cli import extract
from video2audio_cli.errors import FAILED, CliError


@pytest.mark.parametrize(
    ("source_name", "suffix", "codec"),
    [("mp4", ".m4a", "aac"), ("webm", ".ogg", "opus"), ("mkv", ".mka", "ac3")],
)
def test_the_audio_track_is_copied_unchanged_into_a_container_for_its_codec(
    media, tmp_path, source_name, suffix, codec
):
    upload = extract.prepare(media[source_name], tmp_path, send_video=False)
    assert upload.extracted
    assert upload.path.suffix == suffix
    streams = probe(upload.path)["streams"]
    assert [s["codec_name"] for s in streams] == [codec]
    assert audio_packets_md5(upload.path) == audio_packets_md5(media[source_name])


def test_the_sound_is_far_smaller_than_the_video(media, tmp_path):
    upload = extract.prepare(media["mp4"], tmp_path, send_video=False)
    assert upload.path.stat().st_size < media["mp4"].stat().st_size / 2


def test_copying_the_same_video_again_gives_the_same_bytes(media, tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first = extract.prepare(media["mp4"], tmp_path / "one", send_video=False)
    second = extract.prepare(media["mp4"], tmp_path / "two", send_video=False)
    assert first.extracted and second.extracted
    assert first.path.read_bytes() == second.path.read_bytes()


def test_a_video_without_an_audio_track_is_an_error_with_exit_code_1(media, tmp_path):
    with pytest.raises(CliError) as raised:
        extract.prepare(media["no-audio"], tmp_path, send_video=False)
    assert raised.value.exit_code == FAILED
    assert "no audio track" in raised.value.format_message()
    assert list(tmp_path.iterdir()) == []


def test_an_audio_file_is_sent_as_it_is(media, tmp_path):
    upload = extract.prepare(media["audio-only"], tmp_path, send_video=False)
    assert (upload.path, upload.extracted, upload.fallback) == (media["audio-only"], False, None)


def test_a_failed_copy_sends_the_whole_video_and_says_why(media, tmp_path):
    upload = extract.prepare(media["mp4"], tmp_path / "missing-directory", send_video=False)
    assert (upload.path, upload.extracted) == (media["mp4"], False)
    assert "could not be copied out" in (upload.fallback or "")


def test_a_file_ffprobe_cannot_read_is_sent_for_the_server_to_judge(media, tmp_path):
    upload = extract.prepare(media["truncated"], tmp_path, send_video=False)
    assert (upload.path, upload.extracted, upload.fallback) == (media["truncated"], False, None)


def test_the_cover_frame_is_a_jpeg_of_the_video_at_most_1400_pixels(media, tmp_path):
    upload = extract.prepare(media["mp4"], tmp_path, send_video=False)
    frame = extract.cover_frame(upload, tmp_path)
    assert frame is not None
    stream = probe(frame)["streams"][0]
    assert stream["codec_name"] == "mjpeg"
    assert (stream["width"], stream["height"]) == (320, 240)
