"""The CLI's resumable uploads, locally: which upload a file resumes, and its tus metadata."""

from __future__ import annotations

import base64
import os

from video2audio_cli import resumable
from video2audio_cli.api import Api

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
