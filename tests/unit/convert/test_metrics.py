"""convert's metric labels."""

from __future__ import annotations

from video2audio.convert.metrics import format_label
from video2audio.core.metrics import CONVERSION_FORMATS
from video2audio.jobs.model import AudioFormat


def test_every_output_format_is_a_conversion_label():
    assert set(CONVERSION_FORMATS) == {audio_format.value for audio_format in AudioFormat}


def test_a_job_without_an_output_is_labelled_mp3_as_it_is_converted():
    assert format_label({"output": None}) == "mp3"


def test_an_unknown_format_is_labelled_other():
    assert format_label({"output": {"format": "ogg-vorbis"}}) == "other"
