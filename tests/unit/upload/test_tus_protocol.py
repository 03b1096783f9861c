"""The tus 1.0.0 headers: version, numbers, metadata, dates."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import flask
import pytest

from video2audio.core.errors import BadRequestError, UnsupportedMediaError
from video2audio.upload.tus_protocol import (
    UnsupportedVersionError,
    check_offset_body,
    check_version,
    http_date,
    parse_metadata,
    parse_number,
    server_headers,
)

app = flask.Flask(__name__)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def request_with(**headers: str) -> flask.Request:
    environ = app.test_request_context(headers=headers).request.environ
    return flask.Request(environ)


def test_version_1_0_0_is_accepted():
    check_version(request_with(**{"Tus-Resumable": "1.0.0"}))


@pytest.mark.parametrize("version", [None, "0.2.2", "1.0"])
def test_another_or_no_version_is_a_412(version):
    headers = {"Tus-Resumable": version} if version else {}
    with pytest.raises(UnsupportedVersionError) as raised:
        check_version(request_with(**headers))
    assert raised.value.status_code == 412


def test_a_number_header_is_read_as_an_integer():
    assert parse_number(request_with(**{"Upload-Length": "12345"}), "Upload-Length") == 12345


@pytest.mark.parametrize("raw", ["-1", "1e3", "ten", "", "1 2", "9" * 20])
def test_a_number_header_that_is_not_a_non_negative_integer_is_a_400(raw):
    with pytest.raises(BadRequestError, match="non-negative integer"):
        parse_number(request_with(**{"Upload-Offset": raw}), "Upload-Offset")


def test_a_missing_number_header_is_a_400_naming_it():
    with pytest.raises(BadRequestError, match="Upload-Length header is required"):
        parse_number(request_with(), "Upload-Length")


def test_metadata_keeps_the_upload_form_fields():
    raw = f"filename {b64('talk.mp4')},format {b64('opus')},bitrate {b64('96k')}"
    assert parse_metadata(raw) == {"filename": "talk.mp4", "format": "opus", "bitrate": "96k"}


def test_metadata_ignores_keys_the_upload_form_does_not_take():
    raw = f"filetype {b64('video/mp4')},filename {b64('a.mp4')},is_confidential"
    assert parse_metadata(raw) == {"filename": "a.mp4"}


def test_metadata_keeps_the_publishing_options():
    options = {
        "start": "1:05", "end": "90", "loudness": "-16", "true_peak": "-2", "title": "Talk",
        "artist": "Ada", "album": "Talks", "year": "2024", "comment": "hi", "cover": "none",
    }  # fmt: skip
    raw = ",".join(f"{key} {b64(value)}" for key, value in options.items())
    assert parse_metadata(raw) == options


@pytest.mark.parametrize(
    "raw", [f"cover_image {b64('x.jpg')}", f"cover {b64('upload')}", f"cover {b64(' Upload')}"]
)
def test_a_cover_image_in_metadata_is_a_400_pointing_at_the_cover_request(raw):
    with pytest.raises(BadRequestError, match=r"PUT the JPEG or PNG to /files/\{job_id\}/cover"):
        parse_metadata(raw)


def test_metadata_values_may_be_unicode():
    assert parse_metadata(f"filename {b64('Vortrag über Öl.mp4')}") == {
        "filename": "Vortrag über Öl.mp4"
    }


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_no_metadata_is_no_fields(raw):
    assert parse_metadata(raw) == {}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("filename not*base64", "not base64"),
        (f"filename {b64('a')},filename {b64('b')}", "twice"),
        (f",filename {b64('a')}", "empty key"),
        ("format " + base64.b64encode(b"\xff\xfe").decode(), "not base64 of UTF-8"),
        ("x " + "A" * 9000, "too long"),
    ],
)
def test_malformed_metadata_is_a_400(raw, message):
    with pytest.raises(BadRequestError, match=message):
        parse_metadata(raw)


def test_bytes_must_come_as_offset_octet_stream():
    ok = request_with(**{"Content-Type": "application/offset+octet-stream"})
    check_offset_body(ok)
    with pytest.raises(UnsupportedMediaError):
        check_offset_body(request_with(**{"Content-Type": "application/octet-stream"}))


def test_upload_expires_is_an_http_date():
    moment = datetime(2026, 11, 30, 6, 0, 5, tzinfo=UTC)
    assert http_date(moment) == "Mon, 30 Nov 2026 06:00:05 GMT"


def test_options_advertises_the_extensions_and_max_size():
    headers = server_headers(2048)
    assert headers["Tus-Extension"] == "creation,creation-with-upload,termination,expiration"
    assert (headers["Tus-Version"], headers["Tus-Max-Size"]) == ("1.0.0", "2048")


def test_metadata_with_non_ascii_instead_of_base64_is_a_400():
    with pytest.raises(BadRequestError, match="not base64"):
        parse_metadata("filename ü")


def test_upload_expires_takes_times_in_any_utc_zone_as_stored_times_come_back():
    from bson.tz_util import utc as bson_utc

    moment = datetime(2026, 11, 30, 6, 0, 5, tzinfo=bson_utc)
    assert http_date(moment) == "Mon, 30 Nov 2026 06:00:05 GMT"
