"""Finding and removing GridFS chunks whose file document is gone.

They are left by a crash between GridFS's two deletes (file document first, then chunks) or by
an upload that died before closing (chunks are written first, the file document at the end).

Cost matters on FerretDB v1: only plain equality filters reach PostgreSQL ("pushdown"); a range
or ``$in`` filter makes it read every document, chunk data included. So candidates are found
through ``n == 0`` (one chunk per file, never the bulk of the data) and orphans deleted one
``files_id`` equality at a time. Even so the scan reads each file's first chunk, so the sweep runs
it only every so often (:func:`scan_due`).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from bson import ObjectId
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from video2audio.jobs import resumable

logger = logging.getLogger(__name__)

STATE = "expiry_state"
SCAN_STATE_ID = "orphan-chunk-scan"
CHECK_SLICE = 500


def scan_due(db: Database, *, moment: datetime, interval_seconds: float, dry_run: bool) -> bool:
    """Whether an orphan scan is due; a real run records that it scans now.

    Two overlapping runs may both scan: harmless, since removing a chunk twice is not possible
    and each removal is counted once.
    """
    if interval_seconds <= 0:
        return True
    state = db[STATE].find_one({"_id": SCAN_STATE_ID})
    last = state.get("last_at") if state else None
    if last is not None and last > moment - timedelta(seconds=interval_seconds):
        return False
    if not dry_run:
        try:
            db[STATE].update_one({"_id": SCAN_STATE_ID}, {"$set": {"last_at": moment}}, upsert=True)
        except DuplicateKeyError:
            # Two first-ever runs raced to create the record (FerretDB does not retry an
            # upsert as MongoDB does): the other run scans.
            return False
    return True


def remove_orphan_chunks(
    db: Database,
    bucket: str,
    *,
    moment: datetime,
    grace_seconds: float,
    dry_run: bool,
    deadline: float,
) -> int:
    """Remove (or, dry, count) orphaned chunks of ``bucket``; returns how many.

    Chunks of a file whose id (made when its upload opened) is younger than ``grace_seconds`` are
    left alone: that upload may still be running.
    """
    chunks = db[f"{bucket}.chunks"]
    # A resumable upload's chunks have no file document until its last byte: not orphans.
    in_progress = resumable.file_ids_in_progress(db)
    boundary = ObjectId.from_datetime(moment - timedelta(seconds=grace_seconds))
    candidates = [
        file_id
        for file_id in chunks.distinct("files_id", {"n": 0})
        if isinstance(file_id, ObjectId) and file_id < boundary and file_id not in in_progress
    ]
    removed = 0
    for start in range(0, len(candidates), CHECK_SLICE):
        ids = candidates[start : start + CHECK_SLICE]
        present = {doc["_id"] for doc in db[f"{bucket}.files"].find({"_id": {"$in": ids}})}
        for file_id in ids:
            if file_id in present:
                continue
            if time.monotonic() >= deadline:
                return removed
            if dry_run:
                removed += chunks.count_documents({"files_id": file_id})
            else:
                removed += chunks.delete_many({"files_id": file_id}).deleted_count
                logger.info("removed the orphaned chunks of %s file %s", bucket, file_id)
    return removed
