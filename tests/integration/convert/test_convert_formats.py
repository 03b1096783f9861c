"""Real media of every supported kind, converted into every output format."""

from __future__ import annotations

import pytest
from gridfs import GridFSBucket

from tests.support.convert import post_event, uploaded_event
from tests.support.convert_media import SOURCES, audio_facts, audio_packets_md5
from tests.support.media import probe
from video2audio.infra.events import AUDIO_READY
from video2audio.infra.storage import AUDIO, find_file, iter_file_bytes
from video2audio.jobs.repository import load_job

EXPECTED_CODEC = {"mp3": "mp3", "m4a": "aac", "opus": "opus", "flac": "flac", "wav": "pcm_s16le"}


def convert(convert_client, store_job, source, audio_format):
    job = store_job(source, audio_format)
    response = post_event(convert_client, uploaded_event(job))
    assert response.status_code == 200, response.get_data(as_text=True)
    return job


def download_audio(db, job_id, target):
    job = load_job(db, job_id)
    assert job["status"] == "done", job.get("error")
    document = find_file(db, AUDIO, job["audio_fid"])
    with target.open("wb") as out:
        for block in iter_file_bytes(db, AUDIO, document):
            out.write(block)
    return job, document


@pytest.mark.parametrize("audio_format", list(EXPECTED_CODEC))
@pytest.mark.parametrize("source_name", list(SOURCES))
def test_source_converts_to_format_with_matching_codec_and_duration(
    convert_client, store_job, db, media, tmp_path, source_name, audio_format
):
    source = media[source_name]
    job = convert(convert_client, store_job, source, audio_format)
    output = tmp_path / f"out.{audio_format}"
    download_audio(db, job["_id"], output)
    codec, duration = audio_facts(output)
    _, source_duration = audio_facts(source)
    assert codec == EXPECTED_CODEC[audio_format]
    assert duration == pytest.approx(source_duration, abs=0.1)


def test_m4a_from_aac_source_copies_the_audio_without_re_encoding(
    convert_client, store_job, db, media, tmp_path
):
    job = convert(convert_client, store_job, media["mp4"], "m4a")
    output = tmp_path / "out.m4a"
    download_audio(db, job["_id"], output)
    assert audio_packets_md5(output) == audio_packets_md5(media["mp4"])


def test_mp3_is_constant_bitrate_at_the_requested_rate(
    convert_client, store_job, db, media, tmp_path
):
    job = store_job(media["mp4"], "mp3", "160k")
    assert post_event(convert_client, uploaded_event(job)).status_code == 200
    output = tmp_path / "out.mp3"
    download_audio(db, job["_id"], output)

    stream = next(s for s in probe(output)["streams"] if s["codec_type"] == "audio")
    assert int(stream["bit_rate"]) == 160_000


def test_audio_carries_the_title_of_the_original_file_and_links_to_the_job(
    convert_client, store_job, db, media, tmp_path
):
    job = convert(convert_client, store_job, media["mkv"], "mp3")
    output = tmp_path / "out.mp3"
    _, document = download_audio(db, job["_id"], output)

    assert probe(output)["format"]["tags"]["title"] == "Holiday clip"
    assert document["metadata"]["job_id"] == job["_id"]
    assert document["metadata"]["video_fid"] == job["video_fid"]
    assert document["filename"] == "Holiday clip.mp3"


def test_finished_job_records_progress_media_facts_and_timings(
    convert_client, store_job, db, media
):
    job = convert(convert_client, store_job, media["webm"], "opus")
    stored = load_job(db, job["_id"])
    assert stored["progress"] == 100
    assert stored["media"]["video_codec"] == "vp9"
    assert stored["media"]["audio_codec"] == "opus"
    assert stored["audio"]["size"] > 0
    assert stored["timings"]["convert_seconds"] > 0
    assert stored["lease_owner"] is None


def test_audio_ready_is_published_to_the_notify_queue(
    convert_client, store_job, db, media, notify_queue
):
    job = convert(convert_client, store_job, media["mov"], "flac")
    events = notify_queue.events_for(job["_id"])
    assert len(events) == 1
    event_type, data = events[0]
    stored = load_job(db, job["_id"])
    assert event_type == AUDIO_READY
    assert data["status"] == "done"
    assert data["audio_fid"] == str(stored["audio_fid"])
    assert data["video_fid"] == str(job["video_fid"])
    assert data["owner"] == job["owner"]
    assert data["format"] == "flac"
    assert data["filename"] == "Holiday clip.mov"


def test_stored_audio_is_standard_gridfs_that_pymongo_reads(convert_client, store_job, db, media):
    job = convert(convert_client, store_job, media["mp4"], "wav")
    audio_fid = load_job(db, job["_id"])["audio_fid"]
    document = find_file(db, AUDIO, audio_fid)
    ours = b"".join(iter_file_bytes(db, AUDIO, document))
    theirs = GridFSBucket(db, bucket_name=AUDIO).open_download_stream(audio_fid).read()
    assert ours == theirs
    assert document["length"] == len(ours)
