"""Per-user limits: conversions at once, bytes stored, uploads per hour.

Each is checked before an upload's body is read, so a refused upload costs nothing.

- **At once:** an upload takes one of the user's ``max_active_jobs`` slots — a document whose
  ``_id`` names the user and slot number, so two uploads can never take the same slot even where
  conditional updates are not atomic (FerretDB v1). A slot is free again once its job has ended
  or was deleted: the next upload that finds it taken looks at the job and takes it over, so
  nothing has to remember to give a slot back.
- **Stored:** the bytes of the user's files in GridFS, videos and audio — the files themselves,
  so an expired or deleted file stops counting at once.
- **Per hour:** an entry per accepted upload in a log; deleting the job does not undo it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from video2audio.core.clock import as_utc, now
from video2audio.core.errors import LimitExceededError, LimitReachedError
from video2audio.core.text import human_size
from video2audio.infra.storage import BUCKETS
from video2audio.jobs.model import FINAL_STATUSES
from video2audio.jobs.repository import load_job

ACTIVE_SLOTS = "active_job_slots"
UPLOAD_LOG = "upload_log"
HOUR = 3600
# A slot whose job was never recorded (the upload failed, or its function died) is free after
# this long; uploads are refused or done well within it.
UNRECORDED_SLOT_SECONDS = 3600
# When the user's stored files expire: how long to wait when storage is full.
STORAGE_RETRY_SECONDS = 300


@dataclass(frozen=True)
class Quota:
    max_active_jobs: int
    max_stored_bytes: int
    max_uploads_per_hour: int


def _slot_is_free(db: Database, slot: dict[str, Any]) -> bool:
    job = load_job(db, slot.get("job_id"))
    if job is not None:
        return job["status"] in FINAL_STATUSES
    return as_utc(slot["at"]) < now() - timedelta(seconds=UNRECORDED_SLOT_SECONDS)


def reserve_slot(db: Database, *, owner: str, job_id: str, quota: Quota) -> str:
    """Take a free slot for ``job_id``; :class:`LimitReachedError` when all are busy."""
    for n in range(quota.max_active_jobs):
        slot_id = f"{owner}:{n}"
        entry = {"_id": slot_id, "owner": owner, "job_id": job_id, "at": now()}
        try:
            db[ACTIVE_SLOTS].insert_one(entry)
            return slot_id
        except DuplicateKeyError:
            pass
        held = db[ACTIVE_SLOTS].find_one({"_id": slot_id})
        if held is None or not _slot_is_free(db, held):
            continue
        # Remove exactly the stale entry, then let the insert decide between two uploads.
        db[ACTIVE_SLOTS].delete_one({"_id": slot_id, "job_id": held["job_id"]})
        try:
            db[ACTIVE_SLOTS].insert_one(entry)
            return slot_id
        except DuplicateKeyError:
            continue
    raise LimitReachedError(
        f"you have {quota.max_active_jobs} conversions queued or running, the limit; "
        "upload again when one has finished",
        limit="max_active_jobs",
        value=quota.max_active_jobs,
        retry_after_seconds=30,
    )


def release_slot(db: Database, slot_id: str, job_id: str) -> None:
    """Free the slot of an upload that was refused or failed."""
    db[ACTIVE_SLOTS].delete_one({"_id": slot_id, "job_id": job_id})


def release_job_slot(db: Database, *, owner: str, job_id: str) -> None:
    """Free the slot of a job that is being deleted: it stops counting at once."""
    db[ACTIVE_SLOTS].delete_many({"owner": owner, "job_id": job_id})


def active_jobs(db: Database, owner: str) -> int:
    return sum(1 for slot in db[ACTIVE_SLOTS].find({"owner": owner}) if not _slot_is_free(db, slot))


def stored_bytes(db: Database, owner: str) -> int:
    total = 0
    for bucket in BUCKETS:
        for found in db[f"{bucket}.files"].aggregate(
            [
                {"$match": {"metadata.owner": owner}},
                {"$group": {"_id": None, "bytes": {"$sum": "$length"}}},
            ]
        ):
            total += int(found["bytes"])
    return total


def check_storage(db: Database, *, owner: str, incoming: int | None, quota: Quota) -> None:
    """Refuse an upload that would take the user's stored bytes over the limit."""
    limit = quota.max_stored_bytes
    if incoming is not None and incoming > limit:
        raise LimitExceededError(
            f"the upload is larger than your storage of {human_size(limit)}",
            limit="max_stored_bytes",
            value=limit,
        )
    used = stored_bytes(db, owner)
    if used + (incoming or 0) > limit:
        raise LimitReachedError(
            f"your files take {human_size(used)} of your {human_size(limit)}; delete some or "
            "wait until they expire",
            limit="max_stored_bytes",
            value=limit,
            retry_after_seconds=STORAGE_RETRY_SECONDS,
        )


def record_upload(db: Database, *, owner: str, job_id: str, quota: Quota) -> None:
    """Count this upload in the user's last hour; :class:`LimitReachedError` if one too many.

    The entry goes in first and is taken out again when over the limit, so two uploads at once
    cannot both slip under it.
    """
    moment = now()
    since = moment - timedelta(seconds=HOUR)
    db[UPLOAD_LOG].insert_one({"_id": job_id, "owner": owner, "at": moment})
    recent = list(db[UPLOAD_LOG].find({"owner": owner, "at": {"$gt": since}}, {"at": 1}))
    if len(recent) <= quota.max_uploads_per_hour:
        return
    db[UPLOAD_LOG].delete_one({"_id": job_id})
    oldest = min(as_utc(entry["at"]) for entry in recent)
    wait = math.ceil((oldest + timedelta(seconds=HOUR) - moment).total_seconds())
    raise LimitReachedError(
        f"you have uploaded {quota.max_uploads_per_hour} files in the last hour, the limit",
        limit="max_uploads_per_hour",
        value=quota.max_uploads_per_hour,
        retry_after_seconds=max(1, wait),
    )


def forget_upload(db: Database, job_id: str) -> None:
    """An upload that was refused after all does not count."""
    db[UPLOAD_LOG].delete_one({"_id": job_id})


def uploads_last_hour(db: Database, owner: str) -> int:
    since = now() - timedelta(seconds=HOUR)
    return db[UPLOAD_LOG].count_documents({"owner": owner, "at": {"$gt": since}})


def usage(db: Database, *, owner: str, quota: Quota) -> dict[str, Any]:
    """What ``GET /quota`` shows: each limit with what the user uses of it."""
    return {
        "active_jobs": {"used": active_jobs(db, owner), "limit": quota.max_active_jobs},
        "stored_bytes": {"used": stored_bytes(db, owner), "limit": quota.max_stored_bytes},
        "uploads_last_hour": {
            "used": uploads_last_hour(db, owner),
            "limit": quota.max_uploads_per_hour,
        },
    }


def prune_upload_log(db: Database) -> int:
    """Entries older than an hour count for nothing: the expire sweep removes them."""
    since = now() - timedelta(seconds=HOUR)
    return db[UPLOAD_LOG].delete_many({"at": {"$lt": since}}).deleted_count
