"""Resumable (tus) uploads in MongoDB: their record, and the lock one request at a time holds.

The record (``resumable_uploads``, keyed by the job id, which is also the upload's id) says how
far the upload got: ``offset`` bytes are stored, the last ``offset % chunk size`` of them in
``tail`` (see :mod:`video2audio.infra.appending_upload`). It lives beside the job, which shows
status ``uploading`` and ``bytes_received`` meanwhile.

Functions are stateless and may run as several pods, so the lock that keeps two requests from
appending to one upload at once is a database entry, not process memory: an insert with the
upload's id (:mod:`video2audio.infra.claims`, atomic even on FerretDB v1). Its holder renews it
while bytes arrive; a holder that died leaves an entry that runs out after the lock time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from bson import Binary, ObjectId
from pymongo.database import Database

from video2audio.core.clock import as_utc, now
from video2audio.core.errors import NotFoundError
from video2audio.infra import claims, storage
from video2audio.jobs import quotas
from video2audio.jobs.model import JobStatus, is_job_id
from video2audio.jobs.repository import JOBS

UPLOADS = "resumable_uploads"
LOCKS = "resumable_upload_locks"


def create_record(
    db: Database,
    *,
    upload_id: str,
    owner: str,
    file_id: ObjectId,
    length: int,
    filename: str,
    fields: Mapping[str, str],
    expires_at: datetime,
) -> dict[str, Any]:
    record = {
        "_id": upload_id,
        "owner": owner,
        "file_id": file_id,
        "length": length,
        "offset": 0,
        "tail": Binary(b""),
        "filename": filename,
        "fields": dict(fields),
        "done": False,
        "created_at": now(),
        "expires_at": expires_at,
    }
    db[UPLOADS].insert_one(record)
    return record


def get_record(db: Database, upload_id: object, *, owner: str) -> dict[str, Any]:
    """The owner's upload; :class:`NotFoundError` for anyone else's, as for an unknown id."""
    found = (
        db[UPLOADS].find_one({"_id": upload_id, "owner": owner}) if is_job_id(upload_id) else None
    )
    if found is None:
        raise NotFoundError("upload not found")
    return found


def record_progress(
    db: Database, upload_id: str, *, offset: int, tail: bytes, expires_at: datetime
) -> None:
    """How far the upload got, on the record and (for its owner's eyes) on the job."""
    db[UPLOADS].update_one(
        {"_id": upload_id},
        {"$set": {"offset": offset, "tail": Binary(tail), "expires_at": expires_at}},
    )
    changes = {"bytes_received": offset, "upload_expires_at": expires_at, "updated_at": now()}
    db[JOBS].update_one({"_id": upload_id}, {"$set": changes})


def mark_done(db: Database, upload_id: str, *, offset: int) -> None:
    """All bytes are in: the record only answers HEAD from now on (until it expires)."""
    db[UPLOADS].update_one(
        {"_id": upload_id}, {"$set": {"done": True, "offset": offset, "tail": Binary(b"")}}
    )


def delete_record(db: Database, upload_id: str) -> None:
    db[UPLOADS].delete_one({"_id": upload_id})
    db[LOCKS].delete_many({"_id": upload_id})


def expired_records(db: Database, *, moment: datetime, limit: int) -> list[dict[str, Any]]:
    """Records past their expiry; without the tails (up to a chunk each)."""
    cursor = db[UPLOADS].find({"expires_at": {"$lt": moment}}, {"tail": 0}).limit(limit)
    return list(cursor)


def file_ids_in_progress(db: Database) -> set[ObjectId]:
    """Files whose chunks belong to an upload still under way (no file document yet)."""
    return {doc["file_id"] for doc in db[UPLOADS].find({"done": False}, {"file_id": 1})}


def acquire_lock(db: Database, upload_id: str, *, lease_seconds: float) -> str | None:
    """The upload's lock for one request; None while another request holds it."""
    return claims.acquire(db, LOCKS, upload_id, lease_seconds=lease_seconds)


def renew_lock(db: Database, upload_id: str, token: str, *, lease_seconds: float) -> None:
    db[LOCKS].update_one(
        {"_id": upload_id, "token": token},
        {"$set": {"until": now() + timedelta(seconds=lease_seconds)}},
    )


def is_locked(db: Database, upload_id: str, *, moment: datetime) -> bool:
    entry = db[LOCKS].find_one({"_id": upload_id})
    return entry is not None and entry.get("until") is not None and as_utc(entry["until"]) > moment


def release_lock(db: Database, upload_id: str, token: str) -> None:
    claims.release(db, LOCKS, upload_id, token)


def abandon(db: Database, record: Mapping[str, Any]) -> None:
    """Remove an unfinished upload: its job (still uploading), its chunks, its slot, its record.

    The job goes first, so a job never points at chunks that are gone; a finished upload's job
    and file are left alone (the record alone goes).
    """
    upload_id = record["_id"]
    if not record.get("done"):
        db[JOBS].delete_one({"_id": upload_id, "status": JobStatus.UPLOADING.value})
        storage.delete_file(db, storage.VIDEOS, record["file_id"])
        for cover in storage.files_of_job(db, storage.VIDEOS, upload_id):  # PUT .../cover
            storage.delete_file(db, storage.VIDEOS, cover)
        quotas.release_job_slot(db, owner=record["owner"], job_id=upload_id)
    delete_record(db, upload_id)
