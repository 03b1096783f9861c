"""The CLI's local logic: output names and the stored session."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest

from video2audio_cli.errors import AUTH, USAGE, CliError
from video2audio_cli.session import Session, load_session, save_session
from video2audio_cli.transfer import output_path, publishing_fields


def test_output_name_is_derived_from_the_input(tmp_path):
    assert output_path(tmp_path / "talk.mp4", "mp3", None, many=False) == tmp_path / "talk.mp3"


def test_opus_output_gets_the_ogg_extension(tmp_path):
    assert output_path(tmp_path / "talk.mp4", "opus", None, many=False).name == "talk.ogg"


def test_output_goes_into_a_directory_given_with_o(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    assert output_path(Path("/videos/talk.mkv"), "flac", out, many=False) == out / "talk.flac"


def test_output_never_overwrites_the_input(tmp_path):
    source = tmp_path / "song.wav"
    source.touch()
    assert output_path(source, "wav", None, many=False).name == "song.converted.wav"


def test_saved_session_is_readable_only_by_the_user(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    path = save_session(Session("ann", "token", time.time() + 60))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_session().username == "ann"


def test_an_expired_session_is_an_authentication_error(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    save_session(Session("ann", "token", time.time() - 1))
    with pytest.raises(CliError) as raised:
        load_session()
    assert raised.value.exit_code == AUTH


def test_publishing_options_become_form_fields():
    fields, cover = publishing_fields(
        {"start": "1:00", "end": None, "loudness": "-16", "title": "Talk", "cover": "none"}
    )
    assert fields == {"start": "1:00", "loudness": "-16", "title": "Talk", "cover": "none"}
    assert cover is None


def test_a_cover_path_is_sent_as_the_image(tmp_path):
    image = tmp_path / "cover.jpg"
    image.write_bytes(b"\xff\xd8\xff")
    assert publishing_fields({"cover": str(image)}) == ({}, image)


def test_a_cover_that_is_neither_a_choice_nor_a_file_is_a_usage_error(tmp_path):
    with pytest.raises(CliError) as raised:
        publishing_fields({"cover": str(tmp_path / "missing.png")})
    assert raised.value.exit_code == USAGE
