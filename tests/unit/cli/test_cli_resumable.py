"""The CLI's resumable uploads, locally: which upload a file resumes, and its tus metadata."""

from __future__ import annotations

import base64
import json
import os

import pytest
import requests

from video2audio_cli import resumable
from video2audio_cli.api import Api
from video2audio_cli.errors import CliError

API = Api("http://auth.example", "http://upload.example")


def test_metadata_is_base64_pairs_without_empty_fields():
    header = resumable._metadata(filename="talk.mp4", format="opus", bitrate=None)
    pairs = dict(pair.split(" ") for pair in header.split(","))
    assert {key: base64.b64decode(value).decode() for key, value in pairs.items()} == {
        "filename": "talk.mp4",
        "format": "opus",
    }


def test_the_same_file_and_output_resume_the_same_upload(tmp_path):
    video = tmp_path / "talk.mp4"
    video.write_bytes(b"x" * 100)
    first = resumable._key(API, video, "mp3", "192k")
    assert resumable._key(API, video, "mp3", "192k") == first


def test_a_changed_file_starts_a_new_upload(tmp_path):
    video = tmp_path / "talk.mp4"
    video.write_bytes(b"x" * 100)
    before = resumable._key(API, video, "mp3", None)
    os.utime(video, ns=(1, 1))
    assert resumable._key(API, video, "mp3", None) != before


def test_another_output_starts_a_new_upload(tmp_path):
    video = tmp_path / "talk.mp4"
    video.write_bytes(b"x" * 100)
    assert resumable._key(API, video, "mp3", None) != resumable._key(API, video, "opus", None)


def test_remembered_uploads_live_in_the_config_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    resumable._save({"key": "http://upload.example/files/abc"})
    assert resumable.state_path().is_relative_to(tmp_path)
    assert resumable._load() == {"key": "http://upload.example/files/abc"}


def test_other_publishing_options_start_a_new_upload(tmp_path):
    video = tmp_path / "talk.mp4"
    video.write_bytes(b"x" * 100)
    plain = resumable._key(API, video, "mp3", None)
    assert resumable._key(API, video, "mp3", None, '{"start": "5"}') != plain


def test_metadata_carries_the_publishing_options():
    header = resumable._metadata(filename="talk.mp4", start="5", loudness="-16", cover="none")
    pairs = dict(pair.split(" ") for pair in header.split(","))
    decoded = {key: base64.b64decode(value).decode() for key, value in pairs.items()}
    assert decoded == {"filename": "talk.mp4", "start": "5", "loudness": "-16", "cover": "none"}


def conflict(message: str, **headers: str) -> requests.Response:
    answer = requests.Response()
    answer.status_code = 409
    answer._content = json.dumps({"error": message}).encode()
    answer.headers.update(headers)
    return answer


def test_a_busy_upload_is_waited_for_with_growing_pauses_and_one_notice():
    said: list[str] = []
    pauses: list[float] = []
    patience = resumable.Patience(60, say=said.append, sleep=pauses.append)
    for _ in range(3):
        patience.conflict(conflict("another request is appending", **{"Retry-After": "1"}))
    assert pauses == [0.5, 1.0, 2.0]
    assert len(said) == 1
    assert "waiting up to 60 s" in said[0]


def test_a_busy_upload_past_the_wait_fails_naming_the_flag():
    patience = resumable.Patience(0, say=lambda message: None, sleep=lambda seconds: None)
    with pytest.raises(CliError, match="--busy-wait"):
        patience.conflict(conflict("another request is appending", **{"Retry-After": "1"}))


def test_a_stale_offset_is_read_again_once_then_fails():
    patience = resumable.Patience(60, say=lambda message: None, sleep=lambda seconds: None)
    patience.conflict(conflict("Upload-Offset must be 5"))
    with pytest.raises(CliError, match="Upload-Offset must be 5"):
        patience.conflict(conflict("Upload-Offset must be 5"))
