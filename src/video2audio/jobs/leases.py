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

from video2audio.core.clock import as_utc, now
from video2audio.infra import claims
from video2audio.jobs.model import JobStatus
from video2audio.jobs.repository import JOBS


def claim_job(
    db: Database, job_id: str, *, worker: str, lease_seconds: float
) -> dict[str, Any] | None:
    """Take the job for conversion: queued, or processing under a lease that ran out.

    Returns the claimed job, or None when it is done, failed, expired, or leased by a live worker.
    The claim itself is an entry in the job-claims collection naming the job and attempt
    (:mod:`video2audio.infra.claims`), so exactly one delivery converts each attempt even where
    conditional updates are not atomic. A worker that claimed and died before recording the claim
    on the job leaves an entry that the next delivery takes over once a lease has passed.
    """
    job = db[JOBS].find_one({"_id": job_id})
    moment = now()
    if job is None or not _claimable(job, moment):
        return None
    attempt = int(job.get("attempts") or 0) + 1
    claim_id = f"{job_id}:{attempt}"
    token = claims.acquire(
        db, claims.JOB_CLAIMS, claim_id, lease_seconds=lease_seconds, job_id=job_id, worker=worker
    )
    if token is None:
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
    # Recorded on the job: from now on the job's lease decides, and the claim is never retaken.
    claims.complete(db, claims.JOB_CLAIMS, claim_id, token, {"state": "recorded"})
    return {**job, **changes}


def _claimable(job: Mapping[str, Any], moment: datetime) -> bool:
    if job["status"] == JobStatus.QUEUED.value:
        return True
    lease_until = job.get("lease_until")
    if job["status"] != JobStatus.PROCESSING.value or lease_until is None:
        return False
    return as_utc(lease_until) < moment


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


def release_job(db: Database, job_id: str, *, worker: str, error: str | None = None) -> None:
    """Give the job back after a transient failure, so the retry can claim it at once.

    ``error`` is kept as the job's last error: what the job says if it is given up on.
    """
    changes: dict[str, Any] = {
        "status": JobStatus.QUEUED.value,
        "lease_owner": None,
        "lease_until": None,
        "updated_at": now(),
    }
    if error:
        changes["last_error"] = error
    db[JOBS].update_one(
        {"_id": job_id, "lease_owner": worker, "status": JobStatus.PROCESSING.value},
        {"$set": changes},
    )
