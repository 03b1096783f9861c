"""ffmpeg command building, probe interpretation and progress parsing (no processes run)."""

from __future__ import annotations

import pytest

from video2audio.convert.media import (
    MediaInfo,
    MediaInput,
    ProgressParser,
    build_command,
    is_stream_copy,
    media_info_from_probe,
    percent,
)
from video2audio.core.errors import PermanentError
from video2audio.core.text import filename_stem


def source(codec: str | None = "aac", bits: int | None = None) -> MediaInfo:
    return MediaInfo("mov,mp4", 10.0, 1000, "h264", codec, 48000, 2, bits, 128000)


def command(audio_format: str, bitrate: str | None = "128k", **kwargs) -> list[str]:
    info = kwargs.pop("info", source())
    output = {"format": audio_format, "bitrate": bitrate}
    source_input = MediaInput("/in/video", "mov")
    return build_command(source_input, output=output, source=info, title="My clip", **kwargs)


def option(cmd: list[str], name: str) -> str:
    """The value of an output option (after -i): input options come first."""
    output_part = cmd[cmd.index("-i") :]
    return output_part[output_part.index(name) + 1]


def input_option(cmd: list[str], name: str) -> str:
    input_part = cmd[: cmd.index("-i")]
    return input_part[input_part.index(name) + 1]


def test_mp3_uses_libmp3lame_at_the_requested_constant_bitrate():
    cmd = command("mp3", "160k")
    assert option(cmd, "-c:a") == "libmp3lame"
    assert option(cmd, "-b:a") == "160k"
    assert "-q:a" not in cmd and "-abr" not in cmd


def test_m4a_copies_aac_audio_without_re_encoding():
    cmd = command("m4a")
    assert option(cmd, "-c:a") == "copy"
    assert "-b:a" not in cmd


def test_m4a_encodes_aac_when_the_source_audio_is_something_else():
    cmd = command("m4a", info=source("opus"))
    assert option(cmd, "-c:a") == "aac"
    assert option(cmd, "-b:a") == "128k"


def test_m4a_written_to_a_pipe_is_fragmented():
    assert "empty_moov" in option(command("m4a"), "-movflags")


def test_opus_uses_libopus_in_an_ogg_container():
    cmd = command("opus", "96k")
    assert (option(cmd, "-c:a"), option(cmd, "-f")) == ("libopus", "ogg")


def test_flac_from_lossy_audio_stays_16_bit():
    cmd = command("flac", None, info=source("aac", bits=32))
    assert (option(cmd, "-c:a"), option(cmd, "-sample_fmt")) == ("flac", "s16")


def test_wav_from_24_bit_big_endian_pcm_keeps_24_bits():
    cmd = command("wav", None, info=source("pcm_s24be", bits=24))
    assert option(cmd, "-c:a") == "pcm_s24le"


@pytest.mark.parametrize(
    ("audio_format", "codec"),
    [("mp3", "mp3"), ("m4a", "aac"), ("opus", "opus"), ("flac", "flac"), ("wav", "pcm_s16le")],
)
def test_audio_already_in_the_formats_codec_is_copied(audio_format, codec):
    bitrate = None if audio_format in {"flac", "wav"} else "192k"
    assert option(command(audio_format, bitrate, info=source(codec)), "-c:a") == "copy"


@pytest.mark.parametrize(
    ("audio_format", "codec"),
    [("mp3", "aac"), ("opus", "vorbis"), ("flac", "alac"), ("wav", "pcm_s16be")],
)
def test_audio_in_another_codec_is_encoded(audio_format, codec):
    bitrate = None if audio_format in {"flac", "wav"} else "192k"
    assert option(command(audio_format, bitrate, info=source(codec)), "-c:a") != "copy"


def test_an_asked_for_bitrate_different_from_the_sources_forces_an_encode():
    output = {"format": "mp3", "bitrate": "192k", "bitrate_requested": True}
    assert not is_stream_copy(output, source("mp3"))  # the source is 128k


def test_an_asked_for_bitrate_equal_to_the_sources_within_a_few_percent_copies():
    info = MediaInfo("mov,mp4", 10.0, 1000, "h264", "aac", 48000, 2, None, 130_500)
    assert is_stream_copy({"format": "m4a", "bitrate": "128k", "bitrate_requested": True}, info)


def test_an_asked_for_bitrate_with_an_unknown_source_bitrate_encodes():
    info = MediaInfo("matroska,webm", 10.0, 1000, "vp9", "opus", 48000, 2, None, None)
    assert not is_stream_copy({"format": "opus", "bitrate": "96k", "bitrate_requested": True}, info)
    assert is_stream_copy({"format": "opus", "bitrate": "128k"}, info)


def test_command_takes_the_first_audio_stream_drops_video_and_sets_the_title():
    cmd = command("mp3")
    assert option(cmd, "-map") == "0:a:0"
    assert "-vn" in cmd
    assert option(cmd, "-metadata") == "title=My clip"
    assert cmd[-1] == "pipe:1"


def test_an_mp3_encode_logs_with_levels_up_to_verbose_and_other_conversions_only_errors():
    # The MP3's Info frame takes the encoder's delay and sample count from the verbose log.
    assert input_option(command("mp3"), "-loglevel") == "level+verbose"
    assert input_option(command("flac"), "-loglevel") == "error"
    copy = command("mp3", info=source("mp3"), bitrate=None)
    assert input_option(copy, "-loglevel") == "error"


def test_progress_goes_to_its_own_target():
    assert input_option(command("mp3", progress_target="pipe:7"), "-progress") == "pipe:7"


@pytest.mark.parametrize(
    ("filename", "title"),
    [("Holiday 2024.final.mp4", "Holiday 2024.final"), ("clip", "clip"), ("", "audio")],
)
def test_title_is_the_original_name_without_extension(filename, title):
    assert filename_stem(filename) == title


def test_progress_parser_reports_seconds_at_the_end_of_each_block():
    parser = ProgressParser()
    assert parser.feed("out_time_us=2500000\n") is False
    assert parser.feed("progress=continue\n") is True
    assert parser.out_seconds == 2.5
    parser.feed("out_time_ms=4000000")
    assert parser.feed("progress=end") is True
    assert parser.out_seconds == 4.0


def test_progress_parser_ignores_unknown_time_values():
    parser = ProgressParser()
    parser.feed("out_time_us=N/A")
    assert parser.out_seconds == 0.0


def test_percent_stays_below_100_until_the_audio_is_stored():
    assert percent(5, 10) == 50
    assert percent(12, 10) == 99
    assert percent(3, None) == 0


def test_probe_without_streams_is_a_permanent_error():
    with pytest.raises(PermanentError, match="corrupt or unsupported"):
        media_info_from_probe({}, size=10)


def test_cover_art_is_not_counted_as_video():
    info = media_info_from_probe(
        {
            "format": {"format_name": "mp3", "duration": "3.0"},
            "streams": [
                {"codec_type": "audio", "codec_name": "mp3", "sample_rate": "44100"},
                {"codec_type": "video", "codec_name": "mjpeg", "disposition": {"attached_pic": 1}},
            ],
        },
        size=10,
    )
    assert (info.video_codec, info.audio_codec, info.duration) == (None, "mp3", 3.0)


def test_the_input_is_read_with_one_forced_demuxer_allowed_formats_and_protocols():
    cmd = command("mp3")
    assert input_option(cmd, "-f") == "mov"
    assert input_option(cmd, "-protocol_whitelist") == "file"
    allowed = input_option(cmd, "-format_whitelist").split(",")
    assert "mov" in allowed
    assert not {"hls", "dash", "concat", "image2", "sdp", "rtp"} & set(allowed)
    assert option(cmd, "-i") == "/in/video"
