"""Delivery semantics: redelivery, both HTTP event modes, the wrapped queue message, leases,
the time limit, and the function behind a real functions-framework server."""

from __future__ import annotations

import os
from datetime import timedelta

from cloudevents.conversion import to_structured as to_http_structured

from tests.support.convert import (
    ffmpeg_children,
    post_event,
    post_event_http,
    reset_cached_settings,
    uploaded_event,
)
from tests.support.functions import function_app
from video2audio.core.clock import now
from video2audio.infra import claims
from video2audio.infra.claims import JOB_CLAIMS as CLAIMS
from video2audio.infra.events import RABBITMQ_MESSAGE, build_event
from video2audio.infra.storage import AUDIO
from video2audio.jobs.repository import JOBS, load_job


def audio_files_of(db, job_id) -> int:
    return db[f"{AUDIO}.files"].count_documents({"metadata.job_id": job_id})


def test_redelivered_event_leaves_exactly_one_audio_file(convert_client, store_job, db, media):
    job = store_job(media["mp4"])
    event = uploaded_event(job)
    first = post_event(convert_client, event)
    again = post_event(convert_client, event)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.get_json()["action"] == "none"
    assert audio_files_of(db, job["_id"]) == 1


def test_redelivery_does_not_announce_the_job_twice(convert_client, store_job, media, notify_queue):
    job = store_job(media["mp4"])
    post_event(convert_client, uploaded_event(job))
    post_event(convert_client, uploaded_event(job))
    assert len(notify_queue.events_for(job["_id"], count=2, timeout=2)) == 1


def test_redelivery_repeats_an_announcement_that_did_not_go_out(
    convert_client, store_job, db, media, notify_queue
):
    job = store_job(media["mp4"])
    post_event(convert_client, uploaded_event(job))
    db[JOBS].update_one({"_id": job["_id"]}, {"$set": {"notified": False}})
    response = post_event(convert_client, uploaded_event(job))
    assert response.status_code == 200
    assert len(notify_queue.events_for(job["_id"], count=2)) == 2
    assert load_job(db, job["_id"])["notified"] is True


def test_structured_mode_event_is_converted(convert_client, store_job, db, media):
    job = store_job(media["mkv"], "m4a")
    headers, body = to_http_structured(uploaded_event(job))
    response = convert_client.post("/", headers=headers, data=body)
    assert response.status_code == 200
    assert load_job(db, job["_id"])["status"] == "done"


def test_wrapped_rabbitmq_message_event_is_converted(convert_client, store_job, db, media):
    job = store_job(media["webm"], "opus")
    data = uploaded_event(job).get_data()
    wrapped = build_event(RABBITMQ_MESSAGE, data, source="/apis/v1/namespaces/v2a/rabbitmqsources")
    assert post_event(convert_client, wrapped).status_code == 200
    assert load_job(db, job["_id"])["status"] == "done"


def lease_job(db, job_id, *, until):
    db[JOBS].update_one(
        {"_id": job_id},
        {"$set": {"status": "processing", "lease_owner": "other-worker", "lease_until": until}},
    )


def test_a_queued_job_behind_an_abandoned_claim_is_retried_not_acknowledged(
    convert_client, store_job, db, media
):
    job = store_job(media["mp4"])
    # A worker inserted its claim and died before recording it on the job.
    claim_id = f"{job['_id']}:1"
    claims.acquire(db, CLAIMS, claim_id, lease_seconds=60, job_id=job["_id"], worker="ghost")
    skipped = post_event(convert_client, uploaded_event(job))
    db[CLAIMS].update_one({"_id": claim_id}, {"$set": {"until": now() - timedelta(seconds=1)}})
    retried = post_event(convert_client, uploaded_event(job))
    assert (skipped.status_code, retried.status_code) == (503, 200)
    assert load_job(db, job["_id"])["status"] == "done"


def test_job_under_a_live_lease_answers_503_and_is_left_alone(convert_client, store_job, db, media):
    job = store_job(media["mp4"])
    lease_job(db, job["_id"], until=now() + timedelta(minutes=5))
    response = post_event(convert_client, uploaded_event(job))
    stored = load_job(db, job["_id"])
    assert response.status_code == 503
    assert (stored["status"], stored["lease_owner"]) == ("processing", "other-worker")
    assert audio_files_of(db, job["_id"]) == 0


def test_job_whose_lease_ran_out_is_taken_over_and_finished(convert_client, store_job, db, media):
    job = store_job(media["mp4"])
    lease_job(db, job["_id"], until=now() - timedelta(seconds=1))
    response = post_event(convert_client, uploaded_event(job))
    stored = load_job(db, job["_id"])
    assert response.status_code == 200
    assert stored["status"] == "done"
    assert audio_files_of(db, job["_id"]) == 1


def test_time_limit_kills_ffmpeg_answers_503_and_leaves_the_job_retryable(
    convert_client, store_job, db, long_audio, monkeypatch
):
    job = store_job(long_audio, "mp3", "320k")
    monkeypatch.setenv("CONVERT_TIMEOUT_SECONDS", "1")
    reset_cached_settings()
    try:
        # The function reads its settings when it starts: start one with the short limit.
        response = post_event(function_app("convert").test_client(), uploaded_event(job))
    finally:
        monkeypatch.delenv("CONVERT_TIMEOUT_SECONDS")
        reset_cached_settings()
    stored = load_job(db, job["_id"])
    assert response.status_code == 503
    assert "limit" in response.get_json()["error"]
    assert stored["status"] == "queued"
    assert ffmpeg_children(os.getpid()) == []
    pending = stored.get("pending_audio_fid")
    assert pending is not None
    assert db[f"{AUDIO}.chunks"].count_documents({"files_id": pending}) == 0
    assert audio_files_of(db, job["_id"]) == 0


def test_function_served_by_functions_framework_converts_a_binary_event(
    convert_server, store_job, db, media
):
    url = convert_server.url
    job = store_job(media["mov"], "mp3")
    response = post_event_http(url, uploaded_event(job))
    assert response.status_code == 200, response.text
    assert load_job(db, job["_id"])["status"] == "done"
