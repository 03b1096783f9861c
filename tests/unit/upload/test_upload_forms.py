"""Upload request checks that need no server: boundaries, lengths, names, fields, cursors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from video2audio.core.errors import BadRequestError, PayloadTooLargeError
from video2audio.core.text import base_name, human_size
from video2audio.upload.job_views import decode_cursor, encode_cursor, parse_limit
from video2audio.upload.multipart import (
    FORM_OVERHEAD_BYTES,
    check_declared_length,
    multipart_boundary,
)
from video2audio.upload.submissions import check_upload_fields, parse_webhook_url


def test_the_boundary_comes_from_a_multipart_content_type():
    assert multipart_boundary('multipart/form-data; boundary="abc123"') == b"abc123"


@pytest.mark.parametrize(
    "content_type",
    [None, "", "application/json", "multipart/form-data", "multipart/mixed; boundary=x"],
)
def test_anything_but_multipart_form_data_with_a_boundary_is_a_400(content_type):
    with pytest.raises(BadRequestError):
        multipart_boundary(content_type)


def test_a_declared_length_within_the_limit_and_framing_is_accepted():
    check_declared_length(1000 + FORM_OVERHEAD_BYTES, max_bytes=1000)
    check_declared_length(None, max_bytes=1000)


def test_a_declared_length_beyond_the_limit_is_a_413_naming_the_limit():
    with pytest.raises(PayloadTooLargeError, match="2 GiB"):
        check_declared_length(3 * 1024**3, max_bytes=2 * 1024**3)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("talk.mp4", "talk.mp4"),
        ("C:\\fakepath\\talk.mp4", "talk.mp4"),
        ("/home/me/talk.mp4", "talk.mp4"),
        ("bad\r\nname.mp4", "badname.mp4"),
        ("   ", "video"),
    ],
)
def test_the_stored_filename_is_the_last_printable_path_component(raw, expected):
    assert base_name(raw) == expected


def test_human_sizes_read_naturally():
    assert (human_size(512), human_size(1536), human_size(2 * 1024**3)) == (
        "512 bytes",
        "1.5 KiB",
        "2 GiB",
    )


def test_a_bitrate_in_superscript_digits_is_a_400():
    with pytest.raises(BadRequestError):
        check_upload_fields({"format": "mp3", "bitrate": "\u00b2k"})


def test_valid_fields_pass():
    check_upload_fields({"format": "m4a", "bitrate": "256k", "webhook_url": "http://h:8080/x"})
    check_upload_fields({})


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "/relative/path",
        "https://",
        "https://user:pass@example.com/",
        "https://example.com:99999/",
        "https://exa mple.com/",
        "https://example.com/\r\nX: y",
        "https://example.com/" + "a" * 3000,
        "https://" + "a" * 64 + ".example.com/",
    ],
)
def test_a_webhook_url_must_be_a_plain_absolute_http_url(url):
    with pytest.raises(BadRequestError):
        parse_webhook_url(url)


def test_a_blank_webhook_url_means_none():
    assert parse_webhook_url("  ") is None


def test_a_cursor_round_trips_time_and_id():
    job = {"_id": "a" * 32, "created_at": datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)}
    assert decode_cursor(encode_cursor(job)) == (job["created_at"], "a" * 32)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "%%%",
        "e30",
        "bm90IGpzb24",
        "eyJ0IjogIngiLCAiaWQiOiAxfQ",
        "eyJ0IjogMTAwMDAwMDAwMDAwMDAwMDAwMDAwLCAiaWQiOiAiYSJ9",
    ],
)
def test_a_forged_cursor_is_a_400(raw):
    with pytest.raises(BadRequestError):
        decode_cursor(raw)


@pytest.mark.parametrize(("raw", "expected"), [(None, 20), ("", 20), ("1", 1), ("100", 100)])
def test_limit_defaults_to_20_and_allows_up_to_100(raw, expected):
    assert parse_limit(raw) == expected


@pytest.mark.parametrize("raw", ["0", "101", "-1", "ten", "1.5", "\u00b2"])
def test_a_bad_limit_is_a_400(raw):
    with pytest.raises(BadRequestError):
        parse_limit(raw)
