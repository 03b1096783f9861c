"""The metric families and their label helpers."""

from __future__ import annotations

from prometheus_client import REGISTRY

from video2audio.core.metrics import bounded, export_zeros, status_class


def test_a_label_value_outside_the_known_ones_is_other():
    assert (bounded("mp3", ("mp3",)), bounded("../etc", ("mp3",)), bounded(None, ("mp3",))) == (
        "mp3",
        "other",
        "other",
    )


def test_statuses_are_grouped_by_class():
    assert [status_class(s) for s in (200, 204, 400, 401, 429, 500, 503)] == [
        "2xx",
        "2xx",
        "4xx",
        "4xx",
        "4xx",
        "5xx",
        "5xx",
    ]


def test_a_functions_own_series_exist_at_zero_before_anything_happens():
    export_zeros("convert")
    labels = {"format": "flac", "outcome": "retried"}
    assert REGISTRY.get_sample_value("video2audio_conversions_total", labels) is not None
