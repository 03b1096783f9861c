"""Audio that already is what was asked is copied packet for packet; an asked-for bitrate that
differs from the source's makes convert encode."""

from __future__ import annotations

import pytest

from tests.support.convert import post_event, uploaded_event
from tests.support.convert_media import audio_facts, audio_packets_md5
from tests.support.media import probe
from video2audio.infra.storage import AUDIO, find_file, iter_file_bytes
from video2audio.jobs.repository import load_job


def converted(convert_client, db, job, target):
    response = post_event(convert_client, uploaded_event(job))
    assert response.status_code == 200, response.get_data(as_text=True)
    stored = load_job(db, job["_id"])
    assert stored["status"] == "done", stored.get("error")
    document = find_file(db, AUDIO, stored["audio_fid"])
    target.write_bytes(b"".join(iter_file_bytes(db, AUDIO, document)))
    return target


def audio_stream(path):
    return next(s for s in probe(path)["streams"] if s["codec_type"] == "audio")


@pytest.mark.parametrize(
    ("source_name", "audio_format", "codec"),
    [
        ("mp4", "m4a", "aac"),
        ("mp3-in-mp4", "mp3", "mp3"),
        ("webm", "opus", "opus"),
        ("flac-in-mkv", "flac", "flac"),
        ("mov", "wav", "pcm_s16le"),
    ],
)
def test_audio_already_in_the_asked_codec_is_copied_unchanged(
    convert_client, store_job, db, media, tmp_path, source_name, audio_format, codec
):
    job = store_job(media[source_name], audio_format)
    output = converted(convert_client, db, job, tmp_path / f"out.{audio_format}")
    assert audio_facts(output)[0] == codec
    # Equal packets: ffmpeg did not decode and encode again (an encode never gives the same).
    assert audio_packets_md5(output) == audio_packets_md5(media[source_name])


def test_an_asked_for_bitrate_equal_to_the_sources_still_copies(
    convert_client, store_job, db, media, tmp_path
):
    job = store_job(media["mp3-in-mp4"], "mp3", "128k", bitrate_requested=True)
    output = converted(convert_client, db, job, tmp_path / "out.mp3")
    assert audio_packets_md5(output) == audio_packets_md5(media["mp3-in-mp4"])


def test_an_asked_for_bitrate_different_from_the_sources_forces_an_encode(
    convert_client, store_job, db, media, tmp_path
):
    job = store_job(media["mp3-in-mp4"], "mp3", "192k", bitrate_requested=True)
    output = converted(convert_client, db, job, tmp_path / "out.mp3")
    assert int(audio_stream(output)["bit_rate"]) == 192_000
    assert audio_packets_md5(output) != audio_packets_md5(media["mp3-in-mp4"])


def test_a_default_bitrate_does_not_force_an_encode_of_aac_into_m4a(
    convert_client, store_job, db, media, tmp_path
):
    # Upload fills in 192k when the client names none: that is no request to re-encode.
    job = store_job(media["mp4"], "m4a", "192k")
    output = converted(convert_client, db, job, tmp_path / "out.m4a")
    assert audio_packets_md5(output) == audio_packets_md5(media["mp4"])
