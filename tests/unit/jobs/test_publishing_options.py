"""The publishing options of an upload (trim, loudness, tags, cover): parsed or refused with 400."""

from __future__ import annotations

import pytest

from video2audio.core.errors import BadRequestError
from video2audio.jobs.publishing import parse_publishing, parse_time, requires_encoding


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("12", 12.0), ("12.5", 12.5), ("01:30", 90.0), ("1:02:03.250", 3723.25), ("0:00.5", 0.5)],
)
def test_a_time_is_seconds_or_a_clock_reading(raw, seconds):
    assert parse_time(raw, name="start") == pytest.approx(seconds)


@pytest.mark.parametrize("raw", ["-1", "abc", "1:60", "1:2:3:4", "12,5", "½", "1e3", "nan"])
def test_a_malformed_or_negative_time_is_a_400_naming_the_field(raw):
    with pytest.raises(BadRequestError, match="start"):
        parse_time(raw, name="start")


def test_no_options_mean_an_untouched_audio_with_an_automatic_cover():
    assert parse_publishing({}) == {
        "start": None,
        "end": None,
        "loudness": None,
        "true_peak": None,
        "tags": {},
        "cover": "auto",
    }


def test_all_options_are_stored_as_numbers_and_tags():
    fields = {
        "start": "00:01.5",
        "end": "10",
        "loudness": "-16",
        "true_peak": "-2",
        "title": " Episode 1 ",
        "artist": "Me",
        "album": "Pod",
        "year": "2024",
        "comment": "Recorded live",
        "cover": "none",
    }
    publish = parse_publishing(fields)
    assert publish["start"] == 1.5 and publish["end"] == 10.0
    assert publish["loudness"] == -16.0 and publish["true_peak"] == -2.0
    assert publish["tags"] == {
        "title": "Episode 1",
        "artist": "Me",
        "album": "Pod",
        "year": "2024",
        "comment": "Recorded live",
    }
    assert publish["cover"] == "none"


def test_the_true_peak_ceiling_defaults_to_minus_one_with_a_loudness_target():
    assert parse_publishing({"loudness": "-16"})["true_peak"] == -1.0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"start": "10", "end": "5"}, "end must be after start"),
        ({"start": "5", "end": "5"}, "end must be after start"),
        ({"loudness": "-40"}, "between -31 and -9"),
        ({"loudness": "-5"}, "between -31 and -9"),
        ({"loudness": "loud"}, "loudness must be a number"),
        ({"loudness": "-16", "true_peak": "1"}, "true_peak must be between"),
        ({"true_peak": "-1"}, "only with a loudness target"),
        ({"title": "a\x07b"}, "control"),
        ({"artist": "x" * 10_000}, "longer than 200"),
        ({"year": "24"}, "four digits"),
        ({"cover": "maybe"}, "cover must be"),
    ],
)
def test_a_bad_option_is_a_400_with_a_clear_message(fields, message):
    with pytest.raises(BadRequestError, match=message):
        parse_publishing(fields)


def test_an_image_part_makes_the_cover_the_upload():
    assert parse_publishing({}, cover_image=True)["cover"] == "upload"


def test_cover_upload_without_an_image_part_is_a_400():
    with pytest.raises(BadRequestError, match="cover_image"):
        parse_publishing({"cover": "upload"}, cover_image=False)


def test_cover_none_with_an_image_part_is_a_400():
    with pytest.raises(BadRequestError, match="leave one out"):
        parse_publishing({"cover": "none"}, cover_image=True)


def test_while_the_form_arrives_an_image_part_may_still_come():
    assert parse_publishing({"cover": "upload"}, cover_image=None)["cover"] == "upload"


@pytest.mark.parametrize(
    ("fields", "encodes"),
    [
        ({}, False),
        ({"title": "x", "cover": "none"}, False),
        ({"loudness": "-16"}, True),
        ({"start": "1"}, True),
        ({"end": "3"}, True),
    ],
)
def test_only_loudness_and_trim_rule_out_a_stream_copy(fields, encodes):
    assert requires_encoding(parse_publishing(fields)) is encodes
