"""What convert counts (families: :mod:`video2audio.core.metrics`), labelled by output format.

Every claimed conversion attempt ends as exactly one of ``done``, ``failed`` (permanently, the
job records why) or ``retried`` (given back for the event source's retry: a dependency was
down, the time limit passed, another worker took over, or a bug). Durations and realtime
factors describe successful conversions only: failures end early and would drag both down.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from video2audio.core.metrics import (
    CONVERSION_DURATION,
    CONVERSION_FORMATS,
    CONVERSION_READ_BYTES,
    CONVERSION_REALTIME_FACTOR,
    CONVERSION_WRITTEN_BYTES,
    CONVERSIONS,
    bounded,
)
from video2audio.jobs.model import AudioFormat


def format_label(job: Mapping[str, Any]) -> str:
    """The job's output format as a label value (mp3 when the job names none, as converted)."""
    output = job.get("output") or {}
    return bounded(output.get("format", AudioFormat.MP3.value), CONVERSION_FORMATS)


def count_attempt(audio_format: str, outcome: str) -> None:
    CONVERSIONS.labels(audio_format, outcome).inc()


def count_read(audio_format: str, size: int) -> None:
    CONVERSION_READ_BYTES.labels(audio_format).inc(size)


def count_written(audio_format: str, size: int) -> None:
    CONVERSION_WRITTEN_BYTES.labels(audio_format).inc(size)


def observe_done(audio_format: str, *, wall_seconds: float, media_seconds: float | None) -> None:
    CONVERSION_DURATION.labels(audio_format).observe(wall_seconds)
    # A stream without a known duration has no realtime factor.
    if media_seconds and wall_seconds > 0:
        CONVERSION_REALTIME_FACTOR.labels(audio_format).observe(media_seconds / wall_seconds)
