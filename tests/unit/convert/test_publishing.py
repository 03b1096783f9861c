"""The ffmpeg arguments for trim, loudness, tags and cover art, without running ffmpeg."""

from __future__ import annotations

import base64
import struct

import pytest

from video2audio.convert.media import MediaInfo, MediaInput, build_command, codec_arguments
from video2audio.convert.publishing import (
    OutputPlan,
    cover_arguments,
    ffmetadata,
    limits_peaks,
    loudness_correction,
    metadata_arguments,
    needs_classic_mp4,
    normalise_arguments,
    parse_measurement,
    picture_block,
    tag_values,
    trim_arguments,
    trim_window,
    wants_cover,
)
from video2audio.core.errors import PermanentError
from video2audio.jobs.model import AudioFormat

AAC = MediaInfo("mov", 10.0, 1000, "h264", "aac", 48000, 2, None, 128000)
EBUR128_SUMMARY = """[Parsed_ebur128_0 @ 0x1] Summary:

  Integrated loudness:
    I:         -27.6 LUFS
    Threshold: -37.6 LUFS

  Loudness range:
    LRA:        18.1 LU
    Threshold: -47.6 LUFS
    LRA low:   -30.1 LUFS
    LRA high:  -12.0 LUFS

  True peak:
    Peak:       -4.5 dBFS
"""


def test_a_trim_inside_the_recording_keeps_its_length():
    assert trim_window({"start": 2.0, "end": 5.5}, 10.0).length == pytest.approx(3.5)


def test_an_end_past_the_recording_means_its_end():
    trim = trim_window({"start": 2.0, "end": 50.0}, 10.0)
    assert (trim.start, trim.length) == (2.0, None)


def test_a_start_at_or_past_the_end_fails_the_job_permanently():
    with pytest.raises(PermanentError, match="at or after the end"):
        trim_window({"start": 10.0, "end": None}, 10.0)


def test_the_trim_seeks_the_input_and_cuts_the_output():
    before, after = trim_arguments(trim_window({"start": 1.5, "end": 4.0}, 10.0))
    assert before == ["-ss", "1.500000"] and after == ["-t", "2.500000"]


def test_no_trim_adds_no_arguments():
    assert trim_arguments(trim_window({}, 10.0)) == ([], [])


def test_the_measurement_is_read_from_the_meter_summary_at_the_end_of_stderr():
    measured = parse_measurement("t: 0.1 I: -70.0 LUFS\n" + EBUR128_SUMMARY)
    assert measured == {
        "input_i": -27.6,
        "input_thresh": -37.6,
        "input_lra": 18.1,
        "input_tp": -4.5,
    }


def test_a_missing_measurement_fails_permanently():
    with pytest.raises(PermanentError, match="could not be measured"):
        parse_measurement("ffmpeg said nothing useful")


def test_silence_cannot_be_normalised():
    silent = EBUR128_SUMMARY.replace("-27.6 LUFS", "-70.0 LUFS")
    with pytest.raises(PermanentError, match="silent"):
        parse_measurement(silent)


def test_a_gain_that_keeps_the_peak_under_the_ceiling_is_a_plain_volume_change():
    measured = {**parse_measurement(EBUR128_SUMMARY), "input_tp": -14.0}
    arguments = normalise_arguments(
        {"loudness": -16.0, "true_peak": -1.0},
        measured,
        audio_format=AudioFormat.FLAC,
        sample_rate=44100,
        channels=1,
    )
    assert arguments == ["-af", "volume=11.60dB"]  # -14.0 + 11.6 = -2.4 dBTP: under -1


def test_a_gain_that_would_clip_goes_through_loudnorm_with_the_measured_values():
    measured = {**parse_measurement(EBUR128_SUMMARY), "input_tp": -0.5}
    arguments = normalise_arguments(
        {"loudness": -16.0, "true_peak": -1.0},
        measured,
        audio_format=AudioFormat.FLAC,
        sample_rate=44100,
        channels=1,
    )
    assert arguments == [
        "-af",
        "loudnorm=I=-16.0:TP=-1.0:LRA=11:measured_I=-27.60:measured_TP=-0.50"
        ":measured_LRA=18.10:measured_thresh=-37.60:linear=true,aresample=44100",
        "-ac",
        "1",
    ]


def test_a_correction_raises_loudnorms_aim_only():
    measured = {**parse_measurement(EBUR128_SUMMARY), "input_tp": -0.5}
    publish = {"loudness": -16.0, "true_peak": -1.0}
    facts = {"audio_format": AudioFormat.FLAC, "sample_rate": 44100, "channels": 1}
    plain = normalise_arguments(publish, measured, **facts)
    corrected = normalise_arguments(publish, measured, **facts, correction=2.4)
    assert corrected[1] == plain[1].replace("I=-16.0:", "I=-13.6:", 1)
    assert limits_peaks(corrected) and not limits_peaks(["-af", "volume=3.00dB"])


@pytest.mark.parametrize(
    ("reached", "expected"), [(-18.4, 2.4), (-16.3, 0.0), (-15.2, 0.0), (-30.0, 6.0)]
)
def test_the_correction_is_the_shortfall_beyond_half_a_lu_and_at_most_6(reached, expected):
    correction = loudness_correction({"loudness": -16.0}, {"input_i": reached})
    assert correction == pytest.approx(expected)


def test_lossy_formats_aim_below_the_ceiling_for_the_encoder_overshoot():
    measured = {**parse_measurement(EBUR128_SUMMARY), "input_tp": -5.0}
    arguments = normalise_arguments(
        {"loudness": -16.0, "true_peak": -1.0},
        measured,
        audio_format=AudioFormat.OPUS,
        sample_rate=44100,
        channels=2,
    )
    # 11.6 dB of gain on a -5.0 dBTP peak would reach 6.6: over -1.5, so loudnorm limits.
    assert "TP=-1.5" in arguments[1] and arguments[1].endswith("aresample=48000")


def test_the_title_defaults_to_the_file_stem_and_the_year_is_the_date():
    tags = tag_values({"tags": {"artist": "A", "year": "2024"}}, title="talk")
    assert tags == {"artist": "A", "date": "2024", "title": "talk"}


def test_mp3_tags_are_id3v2_4_without_id3v1():
    arguments = metadata_arguments({"title": "T"}, AudioFormat.MP3)
    assert arguments == [
        "-map_metadata", "-1", "-metadata", "title=T", "-id3v2_version", "4", "-write_id3v1", "0"
    ]  # fmt: skip


def test_the_cover_is_an_attached_front_cover_picture():
    maps, output = cover_arguments(AudioFormat.MP3, input_index=1)
    assert maps == ["-map", "1:v:0"]
    assert output[:4] == ["-c:v", "copy", "-disposition:v:0", "attached_pic"]
    assert "comment=Cover (front)" in output


@pytest.mark.parametrize(
    ("choice", "audio_format", "has_video", "expected"),
    [
        ("auto", AudioFormat.MP3, True, "auto"),
        ("auto", AudioFormat.MP3, False, None),
        ("upload", AudioFormat.OPUS, False, "upload"),
        ("none", AudioFormat.FLAC, True, None),
        ("upload", AudioFormat.WAV, True, None),
    ],
)
def test_which_cover_a_format_gets(choice, audio_format, has_video, expected):
    assert wants_cover({"cover": choice}, audio_format, has_video=has_video) == expected


def test_an_m4a_with_a_cover_or_a_trim_and_nothing_else_is_rewritten_as_a_classic_mp4():
    assert needs_classic_mp4(AudioFormat.M4A, with_cover=True, trimmed=False)
    assert needs_classic_mp4(AudioFormat.M4A, with_cover=False, trimmed=True)
    assert not needs_classic_mp4(AudioFormat.M4A, with_cover=False, trimmed=False)
    assert not needs_classic_mp4(AudioFormat.MP3, with_cover=True, trimmed=True)


def test_a_rewritten_m4a_is_piped_with_its_priming_in_the_first_moov_and_no_fragment_index():
    command = build_command(
        MediaInput("in", "mov"),
        output={"format": "m4a", "bitrate": "192k"},
        source=AAC,
        title="t",
        plan=OutputPlan(classic_mp4=True),
    )
    flags = command[command.index("-movflags") + 1].split("+")
    assert {"empty_moov", "delay_moov", "default_base_moof", "skip_trailer"} <= set(flags)
    assert command[-1] == "pipe:1" and "+faststart" not in command


def test_the_picture_block_follows_the_flac_layout():
    block = picture_block(b"JPEGDATA", mime="image/jpeg", width=640, height=360)
    kind, mime_length = struct.unpack(">II", block[:8])
    assert (kind, block[8 : 8 + mime_length]) == (3, b"image/jpeg")
    rest = block[8 + mime_length + 4 :]
    assert struct.unpack(">IIIII", rest[:20]) == (640, 360, 24, 0, 8) and rest[20:] == b"JPEGDATA"


def test_the_metadata_file_escapes_and_carries_the_picture_in_base64():
    text = ffmetadata({"title": "a=b;c#d"}, picture=b"\x00\x01")
    assert text.startswith(";FFMETADATA1\n")
    assert "title=a\\=b\\;c\\#d\n" in text
    encoded = base64.b64encode(b"\x00\x01").decode().replace("=", "\\=")
    assert f"METADATA_BLOCK_PICTURE={encoded}\n" in text


def test_a_loudness_target_rules_out_the_m4a_stream_copy():
    output = {"format": "m4a", "bitrate": "192k", "publish": {"loudness": -16.0}}
    assert codec_arguments(output, AAC)[:2] == ["-c:a", "aac"]
    assert codec_arguments({"format": "m4a", "bitrate": "192k"}, AAC)[:2] == ["-c:a", "copy"]


def test_a_plan_with_a_cover_keeps_the_picture_stream_after_the_seek_and_the_input():
    plan = OutputPlan(
        before_input=["-ss", "1.000000"],
        extra_inputs=["-f", "jpeg_pipe", "-i", "cover.jpg"],
        maps=["-map", "1:v:0"],
        metadata=["-map_metadata", "-1"],
        output=["-c:v", "copy"],
    )
    command = build_command(
        MediaInput("in", "mov"),
        output={"format": "mp3", "bitrate": "192k"},
        source=AAC,
        title="t",
        plan=plan,
    )
    assert command.index("-ss") < command.index("in") < command.index("cover.jpg")
    assert "-vn" not in command and command[-1] == "pipe:1"


def test_a_job_recorded_without_options_gets_the_title_only():
    from video2audio.convert.publishing_runs import prepared

    job = {"output": {"format": "mp3", "bitrate": "192k"}}
    with prepared(job, AAC, MediaInput("in", "mov"), db=None, title="talk", timeout=5) as plan:
        assert plan.metadata[:4] == ["-map_metadata", "-1", "-metadata", "title=talk"]
        assert (plan.before_input, plan.maps, plan.classic_mp4) == ([], [], False)


def test_a_trimmed_mp3_is_planned_as_a_seek_and_a_length():
    from video2audio.convert.publishing_runs import prepared

    job = {"output": {"format": "mp3"}, "publish": {"start": 1.0, "end": 2.0, "cover": "none"}}
    with prepared(job, AAC, MediaInput("in", "mov"), db=None, title="t", timeout=5) as plan:
        assert plan.before_input == ["-ss", "1.000000"] and "-t" in plan.output
        assert plan.seconds == 1.0
