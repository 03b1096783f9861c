"""Removing resumable (tus) uploads that stopped before their last byte.

An upload that has received nothing for RESUMABLE_UPLOAD_EXPIRY_SECONDS (the ``Upload-Expires``
its client was told) is abandoned: its job (still ``uploading``), its chunks, its slot in the
user's limits and its record go. A finished upload's record is kept as long for the clients
that ask its offset once more, then removed alone (its job and file live on as any job's).
An upload whose lock is held right now is left for the next run: a request is writing to it.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from pymongo.database import Database

from video2audio.jobs import resumable

logger = logging.getLogger(__name__)

BATCH = 200


def remove_abandoned_uploads(
    db: Database, *, moment: datetime, dry_run: bool, deadline: float
) -> int:
    """Remove (or, dry, count) unfinished uploads past their expiry; returns how many."""
    removed = 0
    for record in resumable.expired_records(db, moment=moment, limit=BATCH):
        if time.monotonic() >= deadline:
            break
        if resumable.is_locked(db, record["_id"], moment=moment):
            continue
        if not record.get("done"):
            removed += 1
            if not dry_run:
                logger.info(
                    "removing abandoned upload %s at %s bytes", record["_id"], record["offset"]
                )
        if not dry_run:
            resumable.abandon(db, record)
    return removed
