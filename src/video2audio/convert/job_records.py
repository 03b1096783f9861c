"""What convert records on a job it holds: its outcome, a pending audio file, giving it back.

Each step is guarded by the worker's lease (``lease_owner``), so a worker that lost the job to
another one changes nothing; a job store that is down becomes a :class:`TransientError`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bson import ObjectId
from pymongo.database import Database

from video2audio.core.errors import TransientError, is_dependency_failure
from video2audio.infra.storage import AUDIO, delete_file
from video2audio.jobs.leases import finish_job, release_job
from video2audio.jobs.model import JobStatus
from video2audio.jobs.repository import JOBS

logger = logging.getLogger(__name__)


def record_failure(
    job: Mapping[str, Any],
    reason: str,
    *,
    db: Database,
    worker: str,
    traceparent: str | None = None,
) -> dict[str, Any]:
    """Record a permanent failure on the job; returns the job as recorded."""
    job_id = job["_id"]
    logger.info("job %s failed: %s", job_id, reason)
    changes = {
        "error": reason,
        "pending_audio_fid": None,
        "notified": False,
        "notifications_pending": True,
        "outcome_traceparent": traceparent,
    }
    if not record_outcome(db, job_id, worker=worker, status=JobStatus.FAILED, changes=changes):
        raise TransientError("the job was taken over by another worker")
    return {**job, **changes, "status": JobStatus.FAILED.value}


def record_outcome(
    db: Database, job_id: str, *, worker: str, status: JobStatus, changes: Mapping[str, Any]
) -> bool:
    """Record the outcome on the job; False if another worker holds it now."""
    try:
        return finish_job(db, job_id, worker=worker, status=status, changes=changes)
    except Exception as exc:
        if not is_dependency_failure(exc):
            raise
        raise TransientError(
            f"the job store became unavailable while recording the job as {status.value}"
        ) from exc


def record_pending_upload(db: Database, job_id: str, worker: str, fid: ObjectId) -> None:
    # If this worker dies mid-upload, the next claim finds the id and deletes the orphan chunks.
    db[JOBS].update_one(
        {"_id": job_id, "lease_owner": worker}, {"$set": {"pending_audio_fid": fid}}
    )


def record_received(db: Database, job_id: str, worker: str, received: str) -> None:
    # Recorded as soon as the probe knows, so status shows it while the conversion runs.
    db[JOBS].update_one({"_id": job_id, "lease_owner": worker}, {"$set": {"received": received}})


def discard_pending_upload(db: Database, job: Mapping[str, Any]) -> None:
    pending = job.get("pending_audio_fid")
    if pending is not None and pending != job.get("audio_fid"):
        logger.info("deleting the unfinished audio %s of an earlier attempt", pending)
        delete_file(db, AUDIO, pending)


def delete_audio(db: Database, audio_fid: ObjectId) -> None:
    try:
        delete_file(db, AUDIO, audio_fid)
    except Exception as exc:
        if not is_dependency_failure(exc):
            raise
        logger.warning("could not delete audio %s; the next attempt will: %r", audio_fid, exc)


def release(db: Database, job_id: str, worker: str, error: str | None = None) -> None:
    try:
        release_job(db, job_id, worker=worker, error=error)
    except Exception as exc:
        if not is_dependency_failure(exc):
            raise
        # The lease is short: a retry takes the job over once it runs out.
        logger.warning("could not release job %s: %r", job_id, exc)
