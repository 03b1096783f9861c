"""Job claims against the real MongoDB-wire server, where conditional updates are not atomic."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from bson import ObjectId

from video2audio.core.clock import now
from video2audio.infra import claims
from video2audio.infra.claims import JOB_CLAIMS as CLAIMS
from video2audio.infra.clients import mongo_database
from video2audio.jobs.leases import claim_job, finish_job, release_job
from video2audio.jobs.model import JobStatus
from video2audio.jobs.repository import JOBS, create_job


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


def abandon_claim(db, job_id: str, *, seconds_ago: float) -> None:
    """A worker inserted its claim and died before recording it on the job."""
    claims.acquire(db, CLAIMS, f"{job_id}:1", lease_seconds=30, job_id=job_id, worker="ghost")
    until = now() + timedelta(seconds=30 - seconds_ago)
    db[CLAIMS].update_one({"_id": f"{job_id}:1"}, {"$set": {"until": until}})


def test_a_claim_abandoned_before_it_was_recorded_blocks_the_job_while_its_lease_runs(job):
    db, job_id = job
    abandon_claim(db, job_id, seconds_ago=1)
    assert claim_job(db, job_id, worker="next", lease_seconds=30) is None


def test_a_claim_abandoned_before_it_was_recorded_is_taken_over_once_its_lease_ran_out(job):
    db, job_id = job
    abandon_claim(db, job_id, seconds_ago=60)
    taken = claim_job(db, job_id, worker="next", lease_seconds=30)
    assert taken is not None
    assert (taken["attempts"], taken["lease_owner"]) == (1, "next")
