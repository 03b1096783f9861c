"""Download naming, Content-Disposition and range selection (pure functions)."""

from __future__ import annotations

import pytest

from video2audio.core.errors import RangeNotSatisfiableError
from video2audio.web.downloads import (
    content_disposition,
    download_filename,
    entity_tag,
    requested_range,
)

TAG = '"abc-1000"'


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("talk.mp4", "talk.mp3"),
        ("My Clip (1).MOV", "My Clip (1).mp3"),
        ("archive.tar.mkv", "archive.tar.mp3"),
        ("C:\\Users\\me\\video.mp4", "video.mp3"),
        ("../../etc/passwd", "passwd.mp3"),
        (".hidden", "hidden.mp3"),
        ("", "audio.mp3"),
        (None, "audio.mp3"),
        ('"quoted";.mp4', "_quoted__.mp3"),
        ("line\r\nbreak.mp4", "linebreak.mp3"),
    ],
)
def test_the_download_name_is_the_original_stem_with_the_audio_extension(original, expected):
    assert download_filename(original, "mp3") == expected


def test_a_very_long_name_is_shortened():
    assert len(download_filename("x" * 1000 + ".mp4", "mp3")) <= 160


def test_an_ascii_name_needs_no_filename_star():
    assert content_disposition("talk.mp3") == 'attachment; filename="talk.mp3"'


def test_a_non_ascii_name_goes_through_rfc_5987_filename_star():
    value = content_disposition("Café déjà vu.mp3")
    assert value.startswith('attachment; filename="Cafe deja vu.mp3"; ')
    assert value.endswith("filename*=UTF-8''Caf%C3%A9%20d%C3%A9j%C3%A0%20vu.mp3")


def test_a_name_without_ascii_letters_falls_back_to_audio():
    value = content_disposition("日本語.mp3")
    assert 'filename="audio.mp3"' in value
    assert "filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.mp3" in value


def test_the_header_value_has_no_quote_or_line_break_to_escape():
    value = content_disposition(download_filename('a"b\\c\r\nd\x00e.mp4', "m4a"))
    quoted = value.split('filename="', 1)[1].split('"', 1)[0]
    assert not set(quoted) & set('"\\\r\n\x00')


def test_the_entity_tag_names_the_file_and_its_length():
    assert entity_tag({"_id": "abc", "length": 1000}) == TAG


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-99", (0, 100)),
        ("bytes=900-", (900, 1000)),
        ("bytes=-100", (900, 1000)),
        ("bytes=950-5000", (950, 1000)),
        ("bytes=0-1,5-9", None),  # several ranges: the whole file is a valid answer
        ("lines=0-9", None),
        ("bytes=garbage", None),
    ],
)
def test_the_requested_range_is_one_span_or_the_whole_file(header, expected):
    assert requested_range(header, None, length=1000, tag=TAG) == expected


def test_a_range_past_the_end_is_not_satisfiable():
    with pytest.raises(RangeNotSatisfiableError):
        requested_range("bytes=1000-", None, length=1000, tag=TAG)


def test_if_range_with_the_current_tag_keeps_the_range():
    assert requested_range("bytes=0-9", TAG, length=1000, tag=TAG) == (0, 10)


def test_if_range_with_another_tag_means_the_whole_file():
    assert requested_range("bytes=0-9", '"old"', length=1000, tag=TAG) is None
