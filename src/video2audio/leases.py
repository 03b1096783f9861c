"""Claiming a job for conversion, and the lease the claim comes with.

Conversions take a *lease* on their job and renew it while they work: a crashed worker's lease
runs out quickly, so the event source's retry can take the job over, while a duplicate delivery
never converts a job twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from video2audio.jobs import JOBS, JobStatus, as_utc, now

CLAIMS = "job_claims"  # one document per conversion attempt; its unique _id is the claim


def claim_job(
    db: Database, job_id: str, *, worker: str, lease_seconds: float
) -> dict[str, Any] | None:
    """Take the job for conversion: queued, or processing under a lease that ran out.

    Returns the claimed job, or None when it is done, failed, expired, or leased by a live worker.
    The claim itself is the insert of a document whose ``_id`` names the job and attempt: FerretDB
    v1 does not make conditional updates atomic (several racing ``find_one_and_update`` calls can
    all "win"), but a duplicate ``_id`` is always refused, so exactly one delivery converts.
    """
    job = db[JOBS].find_one({"_id": job_id})
    moment = now()
    if job is None or not _claimable(job, moment):
        return None
    attempt = int(job.get("attempts") or 0) + 1
    claim_id = f"{job_id}:{attempt}"
    try:
        db[CLAIMS].insert_one(
            {"_id": claim_id, "job_id": job_id, "worker": worker, "claimed_at": moment}
        )
    except DuplicateKeyError:
        _skip_abandoned_claim(db, job, claim_id, moment, lease_seconds)
        return None
    changes = {
        "status": JobStatus.PROCESSING.value,
        "lease_owner": worker,
        "lease_until": moment + timedelta(seconds=lease_seconds),
        "started_at": moment,
        "updated_at": moment,
        "error": None,
        "attempts": attempt,
    }
    db[JOBS].update_one({"_id": job_id}, {"$set": changes})
    return {**job, **changes}


def _claimable(job: Mapping[str, Any], moment: datetime) -> bool:
    if job["status"] == JobStatus.QUEUED.value:
        return True
    lease_until = job.get("lease_until")
    if job["status"] != JobStatus.PROCESSING.value or lease_until is None:
        return False
    return as_utc(lease_until) < moment


def _skip_abandoned_claim(
    db: Database, job: Mapping[str, Any], claim_id: str, moment: datetime, lease_seconds: float
) -> None:
    """A worker that claimed but died before recording it on the job would block every later
    claim of that attempt number; once such a claim is older than a lease, move past it."""
    claim = db[CLAIMS].find_one({"_id": claim_id})
    if claim is None or job.get("lease_owner") == claim["worker"]:
        return
    if as_utc(claim["claimed_at"]) < moment - timedelta(seconds=lease_seconds):
        attempt = int(claim_id.rsplit(":", 1)[1])
        db[JOBS].update_one({"_id": job["_id"]}, {"$set": {"attempts": attempt}})


def renew_lease(
    db: Database, job_id: str, *, worker: str, lease_seconds: float, progress: int | None = None
) -> bool:
    """Extend our lease (and record progress); False if another worker has taken the job."""
    changes: dict[str, Any] = {"lease_until": now() + timedelta(seconds=lease_seconds)}
    if progress is not None:
        changes["progress"] = progress
    result = db[JOBS].update_one(
        {"_id": job_id, "lease_owner": worker, "status": JobStatus.PROCESSING.value},
        {"$set": {**changes, "updated_at": now()}},
    )
    return result.matched_count == 1


def finish_job(
    db: Database, job_id: str, *, worker: str, status: JobStatus, changes: Mapping[str, Any]
) -> bool:
    """Move our processing job to ``status``; False if we no longer hold it."""
    result = db[JOBS].update_one(
        {"_id": job_id, "lease_owner": worker, "status": JobStatus.PROCESSING.value},
        {
            "$set": {
                **changes,
                "status": status.value,
                "lease_owner": None,
                "lease_until": None,
                "finished_at": now(),
                "updated_at": now(),
            }
        },
    )
    return result.matched_count == 1


def release_job(db: Database, job_id: str, *, worker: str) -> None:
    """Give the job back after a transient failure, so the retry can claim it at once."""
    db[JOBS].update_one(
        {"_id": job_id, "lease_owner": worker, "status": JobStatus.PROCESSING.value},
        {
            "$set": {
                "status": JobStatus.QUEUED.value,
                "lease_owner": None,
                "lease_until": None,
                "updated_at": now(),
            }
        },
    )
