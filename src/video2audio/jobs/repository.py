"""Jobs in MongoDB: create, find, update and delete.

A job is owned by one user; every lookup made for a user takes the owner, so a user only ever sees
their own jobs (another user's id and an unknown id are the same 404). Claiming a job for
conversion and the lease that comes with it are in :mod:`video2audio.jobs.leases`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database

from video2audio.core.clock import now
from video2audio.core.errors import NotFoundError
from video2audio.core.once import once_per_process
from video2audio.core.tracing import Span
from video2audio.jobs.model import JobStatus, is_job_id, new_job_id

JOBS = "jobs"


@once_per_process
def ensure_indexes(db: Database) -> None:
    jobs = db[JOBS]
    jobs.create_index([("owner", ASCENDING), ("created_at", DESCENDING)])
    jobs.create_index([("video_fid", ASCENDING)])
    jobs.create_index([("audio_fid", ASCENDING)])


def create_job(
    db: Database,
    *,
    owner: str,
    video_fid: ObjectId,
    filename: str,
    output: Mapping[str, Any],
    webhook_url: str | None,
    media: Mapping[str, Any] | None = None,
    video_size: int | None = None,
    publish: Mapping[str, Any] | None = None,
    cover_fid: ObjectId | None = None,
    job_id: str | None = None,
    trace: Span | None = None,
    status: JobStatus = JobStatus.QUEUED,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Record a job (queued, or uploading while a resumable upload's bytes arrive); ``trace``
    is the span of the request that created it."""
    created = now()
    job = {
        "_id": job_id or new_job_id(),
        "owner": owner,
        "video_fid": video_fid,
        "filename": filename,
        "output": dict(output),
        "webhook_url": webhook_url,
        "status": status.value,
        "audio_fid": None,
        "error": None,
        "progress": 0,
        "attempts": 0,
        "lease_owner": None,
        "lease_until": None,
        "media": dict(media or {}),
        "video_size": video_size,
        # Trim, loudness, tags and cover (jobs/publishing.py); an uploaded cover's file id.
        "publish": dict(publish or {}),
        "cover_fid": cover_fid,
        # The outbox: True once the broker confirmed the job's video.uploaded event.
        "upload_announced": False,
        # The job's trace (W3C): its id, to find the job's log lines in every function, and the
        # creating span, the parent of what its events start (also when the outbox sends them).
        "trace_id": trace.trace_id if trace else None,
        "traceparent": trace.traceparent if trace else None,
        "created_at": created,
        "updated_at": created,
        # What else this kind of job records from the start (an import's URL, say).
        **(extra or {}),
    }
    db[JOBS].insert_one(job)
    return job


def get_job(db: Database, job_id: object, *, owner: str) -> dict[str, Any]:
    """The owner's job, or :class:`NotFoundError` (also for a malformed id)."""
    job = db[JOBS].find_one({"_id": job_id, "owner": owner}) if is_job_id(job_id) else None
    if job is None:
        raise NotFoundError("job not found")
    return job


def load_job(db: Database, job_id: object) -> dict[str, Any] | None:
    """A job by id for the event functions, which act for whoever owns it."""
    return db[JOBS].find_one({"_id": job_id}) if is_job_id(job_id) else None


def find_job_by_file(db: Database, field: str, file_id: ObjectId, *, owner: str) -> dict[str, Any]:
    if field not in {"video_fid", "audio_fid"}:
        raise ValueError(field)
    job = db[JOBS].find_one({field: file_id, "owner": owner})
    if job is None:
        raise NotFoundError("file not found")
    return job


def job_for_audio(db: Database, file_id: ObjectId) -> dict[str, Any] | None:
    """The job that produced an audio file, whoever owns it (signed links carry no token)."""
    return db[JOBS].find_one({"audio_fid": file_id})


def delete_job(db: Database, job_id: str, *, owner: str) -> None:
    db[JOBS].delete_one({"_id": job_id, "owner": owner})


def update_job(db: Database, job_id: str, changes: Mapping[str, Any]) -> None:
    db[JOBS].update_one({"_id": job_id}, {"$set": {**changes, "updated_at": now()}})
