"""Inputs that can never convert end as failed jobs (2xx, announced); bad events are refused."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.convert import post_event, uploaded_event
from tests.support.hostile_media import POLYGLOTS
from video2audio.infra.events import (
    CONVERSION_FAILED,
    RABBITMQ_MESSAGE,
    VIDEO_UPLOADED,
    build_event,
)
from video2audio.infra.storage import AUDIO, VIDEOS, delete_file
from video2audio.jobs.repository import load_job


def test_video_without_audio_fails_with_a_readable_reason_and_is_acknowledged(
    convert_client, store_job, db, media
):
    job = store_job(media["no-audio"])
    response = post_event(convert_client, uploaded_event(job))
    stored = load_job(db, job["_id"])
    assert response.status_code == 200
    assert stored["status"] == "failed"
    assert "no audio track" in stored["error"]
    assert stored["audio_fid"] is None


def test_failure_is_published_as_conversion_failed(
    convert_client, store_job, db, media, notify_queue
):
    job = store_job(media["no-audio"])
    post_event(convert_client, uploaded_event(job))
    [(event_type, data)] = notify_queue.events_for(job["_id"])
    assert event_type == CONVERSION_FAILED
    assert data["status"] == "failed"
    assert "no audio track" in data["error"]
    assert data["audio_fid"] is None
    assert data["owner"] == job["owner"]


def test_truncated_file_fails_as_corrupt(convert_client, store_job, db, media):
    job = store_job(media["truncated"])
    response = post_event(convert_client, uploaded_event(job))
    stored = load_job(db, job["_id"])
    assert response.status_code == 200
    assert stored["status"] == "failed"
    assert "corrupt or unsupported" in stored["error"]
    assert db[f"{AUDIO}.files"].count_documents({"metadata.job_id": job["_id"]}) == 0


def test_deleted_video_fails_as_no_longer_available(convert_client, store_job, db, media):
    job = store_job(media["mp4"])
    delete_file(db, VIDEOS, job["video_fid"])
    response = post_event(convert_client, uploaded_event(job))
    assert response.status_code == 200
    assert "no longer available" in load_job(db, job["_id"])["error"]


def test_event_for_an_unknown_job_is_acknowledged_without_effect(convert_client, store_job, media):
    job = store_job(media["mp4"])
    job["_id"] = "0" * 32
    response = post_event(convert_client, uploaded_event(job))
    assert response.status_code == 200
    assert response.get_json()["action"] == "none"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"garbage", "application/json"),
        (b"{not json", "application/cloudevents+json"),
        (b'{"job_id": "no event attributes"}', "application/json"),
    ],
)
def test_request_that_is_not_a_cloudevent_is_refused_with_400(convert_client, body, content_type):
    response = convert_client.post("/", data=body, content_type=content_type)
    assert response.status_code == 400


def test_request_with_a_non_event_media_type_is_refused_as_a_client_error(convert_client):
    response = convert_client.post("/", data=b"\x00garbage", content_type="text/plain")
    assert 400 <= response.status_code < 500


def test_event_of_another_type_is_refused_with_400(convert_client):
    event = build_event("io.example.other", {"job_id": "x"}, source="/test")
    assert post_event(convert_client, event).status_code == 400


def test_event_without_a_job_id_is_refused_with_400(convert_client):
    event = build_event(RABBITMQ_MESSAGE, {"hello": "world"}, source="/test")
    assert post_event(convert_client, event).status_code == 400


def test_event_with_a_malformed_job_id_is_refused_with_400(convert_client):
    event = build_event(VIDEO_UPLOADED, {"job_id": "../../etc"}, source="/test")
    assert post_event(convert_client, event).status_code == 400


@pytest.fixture(scope="module")
def secret_track(tmp_path_factory) -> Path:
    """A local file the conversion must never read: a tone in an MPEG-TS file."""
    path = tmp_path_factory.mktemp("secret") / "secret.ts"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=1000:duration=3",
         "-c:a", "aac", "-f", "mpegts", str(path)],
        check=True,
        timeout=60,
    )  # fmt: skip
    return path


@pytest.mark.parametrize("kind", sorted(POLYGLOTS))
def test_a_stored_playlist_never_makes_ffmpeg_read_the_file_it_names(
    convert_client, store_job, db, tmp_path, secret_track, kind
):
    # Stored as if the upload's check had been bypassed: the conversion must refuse it on its own.
    disguised = tmp_path / "song.mp3"
    disguised.write_bytes(POLYGLOTS[kind](secret_track))
    job = store_job(disguised)

    response = post_event(convert_client, uploaded_event(job))

    stored = load_job(db, job["_id"])
    assert response.status_code == 200
    assert stored["status"] == "failed"
    assert stored["audio_fid"] is None
    assert db[f"{AUDIO}.files"].count_documents({"metadata.job_id": job["_id"]}) == 0


def test_a_recording_longer_than_the_limit_fails_before_conversion(
    converter_with, store_job, db, long_audio
):
    client = converter_with(max_duration_seconds="10")
    job = store_job(long_audio)

    response = post_event(client, uploaded_event(job))

    stored = load_job(db, job["_id"])
    assert response.status_code == 200
    assert stored["status"] == "failed"
    assert "the longest this service converts is 0:00:10" in stored["error"]
    assert stored.get("pending_audio_fid") is None  # never started writing audio


def test_audio_larger_than_the_output_limit_fails_and_leaves_no_partial_file(
    converter_with, store_job, db, long_audio
):
    client = converter_with(max_output_bytes="200000")
    job = store_job(long_audio, "wav")
    chunks_before = db[f"{AUDIO}.chunks"].estimated_document_count()

    response = post_event(client, uploaded_event(job))

    stored = load_job(db, job["_id"])
    assert response.status_code == 200
    assert stored["status"] == "failed"
    assert "larger than the limit of 195.3 KiB" in stored["error"]
    assert db[f"{AUDIO}.files"].count_documents({"metadata.job_id": job["_id"]}) == 0
    # The chunks written before the limit was reached were deleted with the unfinished file.
    assert db[f"{AUDIO}.chunks"].estimated_document_count() == chunks_before
