"""A conversion that loses its job — deleted by its owner, or taken over after its lease ran
out — stops and leaves nothing behind; the job ends with exactly one audio file or none."""

from __future__ import annotations

import threading
from datetime import timedelta

from tests.support.convert import ffmpeg_children, post_event_http, uploaded_event
from tests.support.functions import function_app
from tests.support.network import listening_ports
from tests.support.waiting import wait_until
from video2audio.core.clock import now
from video2audio.core.settings import get_settings
from video2audio.core.tokens import issue_token
from video2audio.infra.storage import AUDIO
from video2audio.jobs.repository import JOBS, load_job


def converting(db, job_id: str) -> bool:
    job = load_job(db, job_id)
    return job["status"] == "processing" and int(job.get("progress") or 0) > 0


def start(url: str, job) -> tuple[threading.Thread, dict]:
    outcome: dict = {}
    thread = threading.Thread(
        target=lambda: outcome.update(response=post_event_http(url, uploaded_event(job)))
    )
    thread.start()
    return thread, outcome


def audio_of(db, job_id: str) -> int:
    return db[f"{AUDIO}.files"].count_documents({"metadata.job_id": job_id})


def test_deleting_a_job_while_it_converts_stops_the_conversion_and_keeps_no_audio(
    convert_server, store_job, db, long_audio
):
    job = store_job(long_audio, "mp3", "320k")
    thread, outcome = start(convert_server.url, job)
    wait_until(lambda: converting(db, job["_id"]), timeout=30, what="the conversion to start")
    chunks_before = db[f"{AUDIO}.chunks"].estimated_document_count()
    settings = get_settings()
    token = issue_token(
        job["owner"], secret=settings.jwt_secret, issuer=settings.jwt_issuer, ttl_seconds=60
    )

    deleted = (
        function_app("upload")
        .test_client()
        .delete(f"/jobs/{job['_id']}", headers={"Authorization": f"Bearer {token}"})
    )

    assert deleted.status_code == 204
    thread.join(timeout=30)
    assert outcome["response"].status_code in {200, 503}  # a retry then finds no job: acked
    assert ffmpeg_children(convert_server.process.pid) == []
    assert load_job(db, job["_id"]) is None
    assert audio_of(db, job["_id"]) == 0
    # What it had written of the audio was removed with the unfinished file.
    assert db[f"{AUDIO}.chunks"].estimated_document_count() <= chunks_before


def test_a_conversion_whose_job_was_taken_over_stops_and_the_job_ends_with_one_audio_file(
    convert_server, store_job, db, long_audio
):
    job = store_job(long_audio, "mp3", "320k")
    thread, outcome = start(convert_server.url, job)
    wait_until(lambda: converting(db, job["_id"]), timeout=30, what="the conversion to start")

    # Another worker takes the job over, as after a stalled heartbeat.
    db[JOBS].update_one(
        {"_id": job["_id"]},
        {"$set": {"lease_owner": "the-other-worker", "lease_until": now() + timedelta(hours=1)}},
    )
    thread.join(timeout=30)

    assert outcome["response"].status_code == 503
    assert ffmpeg_children(convert_server.process.pid) == []
    assert audio_of(db, job["_id"]) == 0  # the first worker wrote nothing that stayed
    # The other worker is gone too: its lease runs out, and the retry converts the job once.
    db[JOBS].update_one(
        {"_id": job["_id"]}, {"$set": {"lease_until": now() - timedelta(seconds=1)}}
    )
    final = post_event_http(convert_server.url, uploaded_event(job))
    assert final.status_code == 200
    assert load_job(db, job["_id"])["status"] == "done"
    assert audio_of(db, job["_id"]) == 1


def test_the_loopback_server_of_a_cancelled_conversion_stops_listening(
    convert_server, store_job, db, long_audio
):
    server = convert_server.process.pid
    idle = listening_ports(server)
    job = store_job(long_audio, "mp3", "320k")
    thread, outcome = start(convert_server.url, job)
    wait_until(lambda: converting(db, job["_id"]), timeout=30, what="the conversion to start")
    serving = listening_ports(server) - idle

    db[JOBS].update_one(
        {"_id": job["_id"]},
        {"$set": {"lease_owner": "the-other-worker", "lease_until": now() + timedelta(hours=1)}},
    )
    thread.join(timeout=30)

    assert outcome["response"].status_code == 503
    assert len(serving) == 1  # the conversion's own loopback port, while it ran
    wait_until(
        lambda: listening_ports(server) == idle, timeout=10, what="the loopback port to close"
    )
