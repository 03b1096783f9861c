"""Sending only the sound, locally: which container a codec goes into, what ffprobe's answer
means, when a frame is taken for the cover, and what happens without ffmpeg."""

from __future__ import annotations

import pytest

from video2audio_cli import extract, resumable
from video2audio_cli.api import Api

API = Api("http://auth.example", "http://upload.example")


@pytest.mark.parametrize(
    ("codec", "extension"),
    [("aac", "m4a"), ("alac", "m4a"), ("opus", "ogg"), ("vorbis", "ogg"), ("flac", "flac")],
)
def test_a_codec_goes_into_a_container_made_for_it(codec, extension):
    assert extract.container_for(codec)[0] == extension


def test_any_other_codec_goes_into_matroska_audio():
    assert extract.container_for("ac3") == ("mka", "matroska")


def test_a_probe_with_a_video_and_an_audio_stream_is_a_video_with_sound():
    probed = extract.parse_probe(
        {
            "format": {"duration": "12.0"},
            "streams": [
                {"codec_type": "video", "codec_name": "h264"},
                {"codec_type": "audio", "codec_name": "aac", "duration": "11.5"},
            ],
        }
    )
    assert probed == extract.Probed(audio_codec="aac", has_video=True, duration=11.5)


def test_cover_art_in_an_audio_file_is_not_a_video():
    art = {"codec_type": "video", "codec_name": "mjpeg", "disposition": {"attached_pic": 1}}
    probed = extract.parse_probe(
        {"format": {}, "streams": [{"codec_type": "audio", "codec_name": "mp3"}, art]}
    )
    assert probed is not None
    assert not probed.has_video


def test_a_probe_without_audio_streams_has_no_audio_codec():
    probed = extract.parse_probe({"streams": [{"codec_type": "video", "codec_name": "h264"}]})
    assert probed is not None
    assert probed.audio_codec is None


def test_a_probe_that_found_no_streams_is_not_media():
    assert extract.parse_probe({"format": {}, "streams": []}) is None


def test_a_frame_is_taken_for_the_default_cover():
    assert extract.wants_frame("mp3", {}, None)


def test_no_frame_is_taken_when_the_cover_is_none_an_image_or_the_format_has_no_cover(tmp_path):
    assert not extract.wants_frame("mp3", {"cover": "none"}, None)
    assert not extract.wants_frame("mp3", {}, tmp_path / "cover.png")
    assert not extract.wants_frame("wav", {}, None)


def test_send_video_uploads_the_file_as_it_is(tmp_path):
    video = tmp_path / "talk.mp4"
    video.write_bytes(b"x" * 10)
    upload = extract.prepare(video, tmp_path, send_video=True)
    assert (upload.path, upload.extracted, upload.fallback) == (video, False, None)


def test_without_ffmpeg_on_path_the_whole_video_goes_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    video = tmp_path / "talk.mp4"
    video.write_bytes(b"x" * 10)
    upload = extract.prepare(video, tmp_path, send_video=False)
    assert upload.path == video
    assert "ffmpeg is not on PATH" in (upload.fallback or "")


def test_the_sound_keeps_the_name_of_the_video_it_came_from(tmp_path):
    upload = extract.Upload(source=tmp_path / "talk.mp4", path=tmp_path / "sound.m4a")
    assert upload.filename == "talk.mp4"


def test_the_same_sound_of_the_same_video_resumes_the_same_upload(tmp_path):
    video, sound = tmp_path / "talk.mp4", tmp_path / "sound.m4a"
    video.write_bytes(b"v" * 100)
    sound.write_bytes(b"a" * 10)
    first = resumable._key(API, sound, "mp3", None, source=video)
    sound.write_bytes(b"a" * 10)  # copied out again, the same bytes
    assert resumable._key(API, sound, "mp3", None, source=video) == first


def test_a_sound_that_came_out_different_starts_a_new_upload(tmp_path):
    video, sound = tmp_path / "talk.mp4", tmp_path / "sound.m4a"
    video.write_bytes(b"v" * 100)
    sound.write_bytes(b"a" * 10)
    first = resumable._key(API, sound, "mp3", None, source=video)
    sound.write_bytes(b"b" * 10)
    assert resumable._key(API, sound, "mp3", None, source=video) != first


def test_the_sound_and_the_whole_video_are_different_uploads(tmp_path):
    video, sound = tmp_path / "talk.mp4", tmp_path / "sound.m4a"
    video.write_bytes(b"v" * 100)
    sound.write_bytes(b"a" * 10)
    whole = resumable._key(API, video, "mp3", None)
    assert resumable._key(API, sound, "mp3", None, source=video) != whole
