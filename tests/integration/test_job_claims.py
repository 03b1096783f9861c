"""Job claims against the real MongoDB-wire server, where conditional updates are not atomic."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from bson import ObjectId

from video2audio.clients import mongo_database
from video2audio.jobs import JOBS, JobStatus, create_job, now
from video2audio.leases import CLAIMS, claim_job, finish_job, release_job


@pytest.fixture
def job():
    db = mongo_database()
    created = create_job(
        db,
        owner="claims-test",
        video_fid=ObjectId(),
        filename="a.mp4",
        output={"format": "mp3", "bitrate": "192k"},
        webhook_url=None,
    )
    yield db, created["_id"]
    db[JOBS].delete_one({"_id": created["_id"]})
    db[CLAIMS].delete_many({"job_id": created["_id"]})


def test_racing_deliveries_claim_a_job_exactly_once(job):
    db, job_id = job
    with ThreadPoolExecutor(max_workers=8) as pool:
        claims = list(
            pool.map(lambda n: claim_job(db, job_id, worker=f"w{n}", lease_seconds=30), range(8))
        )
    winners = [claim for claim in claims if claim is not None]
    assert len(winners) == 1
    stored = db[JOBS].find_one({"_id": job_id})
    assert stored["status"] == JobStatus.PROCESSING
    assert stored["lease_owner"] == winners[0]["lease_owner"]
    assert stored["attempts"] == 1


def test_a_live_lease_is_not_claimed_again(job):
    db, job_id = job
    assert claim_job(db, job_id, worker="first", lease_seconds=30) is not None
    assert claim_job(db, job_id, worker="second", lease_seconds=30) is None


def test_an_expired_lease_is_taken_over(job):
    db, job_id = job
    assert claim_job(db, job_id, worker="crashed", lease_seconds=30) is not None
    db[JOBS].update_one({"_id": job_id}, {"$set": {"lease_until": now() - timedelta(seconds=1)}})
    taken = claim_job(db, job_id, worker="rescuer", lease_seconds=30)
    assert taken is not None
    assert taken["attempts"] == 2
    assert finish_job(db, job_id, worker="crashed", status=JobStatus.DONE, changes={}) is False


def test_a_released_job_is_claimed_at_once(job):
    db, job_id = job
    claim_job(db, job_id, worker="first", lease_seconds=30)
    release_job(db, job_id, worker="first")
    assert claim_job(db, job_id, worker="second", lease_seconds=30) is not None


def test_a_claim_abandoned_before_it_was_recorded_is_skipped(job):
    db, job_id = job
    # A worker inserted its claim and died before recording it on the job.
    db[CLAIMS].insert_one(
        {"_id": f"{job_id}:1", "job_id": job_id, "worker": "ghost",
         "claimed_at": now() - timedelta(seconds=60)}
    )  # fmt: skip
    assert claim_job(db, job_id, worker="next", lease_seconds=30) is None
    assert claim_job(db, job_id, worker="next", lease_seconds=30)["attempts"] == 2
