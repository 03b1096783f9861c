"""Audio ready to publish: trim, loudness, tags and cover art, measured on the converted files."""

from __future__ import annotations

import pytest

from tests.support.convert import post_event, uploaded_event
from tests.support.convert_media import audio_packets_md5
from tests.support.publishing_media import (
    attached_picture,
    decoded_seconds,
    generate_png,
    generate_wide_video,
    loudness,
    picture_decodes,
    tags_of,
)
from video2audio.infra.storage import AUDIO, find_file, iter_file_bytes
from video2audio.jobs.repository import load_job

# One audio frame (samples per packet / sample rate) of each output, at 48 kHz.
FRAME_SECONDS = {"mp3": 1152 / 48000, "m4a": 1024 / 48000, "opus": 960 / 48000}
TAGS = {"title": "Episode 1", "artist": "Alice", "album": "Talks", "year": "2024"}
TAGS["comment"] = "Recorded live"
# ffprobe's names for the tags: ffmpeg's keys, whichever way the format stores them.
READ_BACK = {"title": "Episode 1", "artist": "Alice", "album": "Talks", "date": "2024"}
READ_BACK["comment"] = "Recorded live"


def converted(convert_client, db, job, target):
    response = post_event(convert_client, uploaded_event(job))
    assert response.status_code == 200, response.get_data(as_text=True)
    done = load_job(db, job["_id"])
    assert done["status"] == "done", done.get("error")
    document = find_file(db, AUDIO, done["audio_fid"])
    with target.open("wb") as out:
        for block in iter_file_bytes(db, AUDIO, document):
            out.write(block)
    return target


@pytest.mark.parametrize("audio_format", ["mp3", "m4a", "opus", "flac", "wav"])
def test_a_trimmed_audio_lasts_end_minus_start_within_one_frame(
    convert_client, store_published_job, db, media, tmp_path, audio_format
):
    job = store_published_job(media["mov"], audio_format, {"start": "0.5", "end": "00:02.000"})
    output = converted(convert_client, db, job, tmp_path / f"out.{audio_format}")
    frame = FRAME_SECONDS.get(audio_format, 1 / 48000)
    assert decoded_seconds(output) == pytest.approx(1.5, abs=frame)


def test_an_end_past_the_recording_keeps_the_rest_of_it(
    convert_client, store_published_job, db, media, tmp_path
):
    job = store_published_job(media["mov"], "wav", {"start": "1", "end": "10:00"})
    output = converted(convert_client, db, job, tmp_path / "out.wav")
    assert decoded_seconds(output) == pytest.approx(1.5, abs=1 / 48000)


def test_a_start_past_the_recording_fails_the_job_with_a_clear_error(
    convert_client, store_published_job, db, media
):
    job = store_published_job(media["mov"], "mp3", {"start": "30"})
    response = post_event(convert_client, uploaded_event(job))
    assert response.status_code == 200
    failed = load_job(db, job["_id"])
    assert failed["status"] == "failed"
    assert "at or after the end of the recording" in failed["error"]


@pytest.mark.parametrize("audio_format", ["mp3", "opus", "flac"])
@pytest.mark.parametrize("level", ["quiet-speech", "loud-music", "with-silence"])
def test_loudness_reaches_the_target_under_the_true_peak_ceiling(
    convert_client, store_published_job, db, levels, tmp_path, level, audio_format
):
    job = store_published_job(levels[level], audio_format, {"loudness": "-16", "true_peak": "-1"})
    output = converted(convert_client, db, job, tmp_path / f"out.{audio_format}")
    integrated, peak = loudness(output)
    assert integrated == pytest.approx(-16, abs=1.0)
    assert peak <= -1.0


@pytest.mark.parametrize("audio_format", ["mp3", "flac"])
def test_when_the_gain_would_clip_the_peaks_are_limited_and_the_target_still_reached(
    convert_client, store_published_job, db, levels, tmp_path, audio_format
):
    job = store_published_job(levels["peaky"], audio_format, {"loudness": "-16"})
    output = converted(convert_client, db, job, tmp_path / f"out.{audio_format}")
    integrated, peak = loudness(output)
    assert peak <= -1.0
    assert integrated == pytest.approx(-16, abs=1.0)


def test_without_a_loudness_target_levels_are_untouched(
    convert_client, store_published_job, db, levels, tmp_path
):
    job = store_published_job(levels["quiet-speech"], "flac", {"title": "x"})
    output = converted(convert_client, db, job, tmp_path / "out.flac")
    assert loudness(output)[0] == pytest.approx(loudness(levels["quiet-speech"])[0], abs=0.1)


@pytest.mark.parametrize("audio_format", ["mp3", "m4a", "opus", "flac", "wav"])
def test_the_tags_are_read_back_in_every_format(
    convert_client, store_published_job, db, media, tmp_path, audio_format
):
    job = store_published_job(media["mp4"], audio_format, {**TAGS, "cover": "none"})
    output = converted(convert_client, db, job, tmp_path / f"out.{audio_format}")
    tags = tags_of(output)
    assert {key: tags.get(key) for key in READ_BACK} == READ_BACK


def test_the_title_defaults_to_the_uploaded_file_name_stem(
    convert_client, store_published_job, db, media, tmp_path
):
    job = store_published_job(media["mp4"], "opus", {})
    output = converted(convert_client, db, job, tmp_path / "out.ogg")
    assert tags_of(output)["title"] == "Holiday clip"


def test_mp3_tags_are_id3v2_4(convert_client, store_published_job, db, media, tmp_path):
    job = store_published_job(media["mp4"], "mp3", {"title": "T", "cover": "none"})
    output = converted(convert_client, db, job, tmp_path / "out.mp3")
    assert output.read_bytes()[:4] == b"ID3\x04"


@pytest.mark.parametrize("audio_format", ["mp3", "m4a", "opus", "flac"])
def test_the_automatic_cover_is_a_decodable_frame_of_at_most_1400_px(
    convert_client, store_published_job, db, tmp_path, audio_format
):
    video = generate_wide_video(tmp_path / "wide.mp4")
    job = store_published_job(video, audio_format, {})
    output = converted(convert_client, db, job, tmp_path / f"out.{audio_format}")
    picture = attached_picture(output)
    assert picture is not None
    assert (picture["width"], picture["height"]) == (1400, 788)
    assert picture_decodes(output)


@pytest.mark.parametrize("audio_format", ["mp3", "m4a", "opus", "flac"])
def test_an_uploaded_cover_is_embedded_at_its_size(
    convert_client, store_published_job, db, media, tmp_path, audio_format
):
    cover = generate_png(tmp_path / "cover.png", "600x600")
    job = store_published_job(media["mp4"], audio_format, {}, cover=cover)
    output = converted(convert_client, db, job, tmp_path / f"out.{audio_format}")
    picture = attached_picture(output)
    assert picture is not None and (picture["width"], picture["height"]) == (600, 600)
    assert picture_decodes(output)


def test_an_uploaded_cover_larger_than_1400_px_is_scaled_down(
    convert_client, store_published_job, db, media, tmp_path
):
    cover = generate_png(tmp_path / "cover.png", "2000x1000")
    job = store_published_job(media["mp4"], "flac", {}, cover=cover)
    output = converted(convert_client, db, job, tmp_path / "out.flac")
    picture = attached_picture(output)
    assert (picture["width"], picture["height"]) == (1400, 700)


@pytest.mark.parametrize("cover", ["none", "auto"])
def test_wav_and_cover_none_carry_no_picture(
    convert_client, store_published_job, db, media, tmp_path, cover
):
    audio_format = "wav" if cover == "auto" else "mp3"
    job = store_published_job(media["mp4"], audio_format, {"cover": cover})
    output = converted(convert_client, db, job, tmp_path / f"out.{audio_format}")
    assert attached_picture(output) is None


def test_an_audio_only_input_gets_no_automatic_cover(
    convert_client, store_published_job, db, media, tmp_path
):
    job = store_published_job(media["audio-only"], "flac", {})
    output = converted(convert_client, db, job, tmp_path / "out.flac")
    assert attached_picture(output) is None


def test_m4a_from_aac_with_only_tags_and_a_cover_is_still_a_stream_copy(
    convert_client, store_published_job, db, media, tmp_path
):
    job = store_published_job(media["mp4"], "m4a", {"title": "T"})
    output = converted(convert_client, db, job, tmp_path / "out.m4a")
    assert attached_picture(output) is not None
    assert audio_packets_md5(output) == audio_packets_md5(media["mp4"])
