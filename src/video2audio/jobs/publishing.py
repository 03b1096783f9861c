"""What makes the audio ready to publish: trim, loudness target, tags and cover art.

The options arrive as form fields on ``/upload``; :func:`parse_publishing` validates them into
the job's ``publish`` document, which convert reads back. Every refusal is a 400 naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from video2audio.core.errors import BadRequestError

# EBU R128 / podcast practice: -31 LUFS is about the quietest sensible target, -9 the loudest.
MIN_LOUDNESS, MAX_LOUDNESS = -31.0, -9.0
MIN_TRUE_PEAK, MAX_TRUE_PEAK = -9.0, 0.0
DEFAULT_TRUE_PEAK = -1.0
# Characters per tag: long enough for any real title, short enough for every tag format.
TAG_LIMITS = {"title": 200, "artist": 200, "album": 200, "comment": 1000}
TAG_FIELDS = (*TAG_LIMITS, "year")
COVER_CHOICES = ("auto", "none", "upload")
COVER_IMAGE_FIELD = "cover_image"
# Every option by name, as /upload's form fields, tus Upload-Metadata keys and /import's JSON.
OPTION_FIELDS = ("start", "end", "loudness", "true_peak", *TAG_FIELDS, "cover")

_SECONDS = re.compile(r"\d{1,7}(?:\.\d{1,6})?")
_CLOCK = re.compile(r"(?:(\d{1,4}):)?(\d{1,2}):(\d{1,2}(?:\.\d{1,6})?)")
_NUMBER = re.compile(r"[+-]?\d{1,3}(?:\.\d{1,3})?")
_YEAR = re.compile(r"\d{4}")


def parse_time(raw: str, *, name: str) -> float:
    """Seconds from ``12.5`` or ``[hh:]mm:ss[.fff]``; 400 for anything else or a negative time."""
    text = raw.strip()
    if text.startswith("-"):
        raise BadRequestError(f"{name} must not be negative")
    if _SECONDS.fullmatch(text):
        return float(text)
    clock = _CLOCK.fullmatch(text)
    if clock is None:
        raise BadRequestError(
            f"{name} must be seconds (like 12.5) or [hh:]mm:ss[.fff], not {text!r}"
        )
    hours, minutes, seconds = int(clock[1] or 0), int(clock[2]), float(clock[3])
    if minutes >= 60 or seconds >= 60:
        raise BadRequestError(f"{name} has minutes or seconds of 60 or more: {text!r}")
    return hours * 3600 + minutes * 60 + seconds


def _number(raw: str, *, name: str, low: float, high: float, unit: str) -> float:
    text = raw.strip()
    if not _NUMBER.fullmatch(text):
        raise BadRequestError(f"{name} must be a number of {unit}, like {high - 7:g}")
    value = float(text)
    if not low <= value <= high:
        raise BadRequestError(f"{name} must be between {low:g} and {high:g} {unit}")
    return value


def _tag(raw: str, *, name: str) -> str | None:
    text = raw.strip()
    if any(not ch.isprintable() for ch in text):
        raise BadRequestError(f"{name} must not contain control or invisible characters")
    limit = TAG_LIMITS.get(name)
    if limit is not None and len(text) > limit:
        raise BadRequestError(f"{name} is longer than {limit} characters")
    if name == "year" and text and not _YEAR.fullmatch(text):
        raise BadRequestError("year must be four digits, like 2024")
    return text or None


def _given(fields: Mapping[str, str], name: str) -> str | None:
    value = fields.get(name)
    return value if value is not None and value.strip() else None


def parse_publishing(
    fields: Mapping[str, str], *, cover_image: bool | None = False
) -> dict[str, Any]:
    """The job's ``publish`` document from the form fields; 400 for any bad value.

    ``cover_image`` says an image part came with the form: the cover is then that image
    (``cover`` may be left out or say ``upload``). None: not known yet (the form is still
    arriving), so only the fields themselves are judged.
    """
    start = _given(fields, "start")
    end = _given(fields, "end")
    start_s = parse_time(start, name="start") if start else None
    end_s = parse_time(end, name="end") if end else None
    if end_s is not None and end_s <= (start_s or 0.0):
        raise BadRequestError("end must be after start")
    loudness_raw, peak_raw = _given(fields, "loudness"), _given(fields, "true_peak")
    if peak_raw and not loudness_raw:
        raise BadRequestError("true_peak applies only with a loudness target")
    loudness = (
        _number(loudness_raw, name="loudness", low=MIN_LOUDNESS, high=MAX_LOUDNESS, unit="LUFS")
        if loudness_raw
        else None
    )
    peak = (
        _number(peak_raw, name="true_peak", low=MIN_TRUE_PEAK, high=MAX_TRUE_PEAK, unit="dBTP")
        if peak_raw
        else DEFAULT_TRUE_PEAK
    )
    tags = {}
    for name in TAG_FIELDS:
        raw = fields.get(name)
        value = _tag(raw, name=name) if raw is not None else None
        if value:
            tags[name] = value
    cover = (_given(fields, "cover") or ("upload" if cover_image else "auto")).strip().lower()
    if cover not in COVER_CHOICES:
        raise BadRequestError("cover must be auto, none, or an image sent as cover_image")
    if cover_image is not None and (cover == "upload") != cover_image:
        raise BadRequestError(
            "send the cover image as a cover_image file part"
            if cover == "upload"
            else f"cover is {cover!r} but a cover_image was sent too; leave one out"
        )
    return {
        "start": start_s,
        "end": end_s,
        "loudness": loudness,
        "true_peak": peak if loudness is not None else None,
        "tags": tags,
        "cover": cover,
    }


def requires_encoding(publish: Mapping[str, Any] | None) -> bool:
    """Whether the options change the samples, so the audio cannot be copied as it is.

    A loudness target changes every sample. A trim is always decoded and cut at its exact
    sample: cutting copied packets would start at a packet (AAC: 1024 samples) boundary and
    carry the codec's priming, so it is not sample-accurate. Tags and cover art need no encode.
    """
    if not publish:
        return False
    return publish.get("loudness") is not None or bool(publish.get("start") or publish.get("end"))
