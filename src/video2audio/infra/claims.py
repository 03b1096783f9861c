"""At-most-once claims in MongoDB: a conversion attempt, an email, a webhook call.

FerretDB v1 does not make a conditional update atomic: two concurrent ``update_one`` calls with
the same filter can both match (measured: up to 8 of 8 racing claims "won"). Inserting a
document with a given ``_id`` is atomic (a unique key in PostgreSQL underneath), so a claim is an
insert into a claims collection: exactly one caller gets it, every later one finds the entry.

An entry is ``held`` until its holder records the outcome (:func:`complete`) or gives it back
(:func:`release`). A holder that crashed leaves a ``held`` entry whose deadline runs out; the
next caller takes it over.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from video2audio.core.clock import as_utc, now

logger = logging.getLogger(__name__)

JOB_CLAIMS = "job_claims"  # one entry per conversion attempt
DELIVERY_LOG = "delivery_log"  # one entry per notification channel and job outcome
COLLECTIONS = (JOB_CLAIMS, DELIVERY_LOG)
HELD = "held"


def acquire(
    db: Database, collection: str, claim_id: str, *, lease_seconds: float, **fields: Any
) -> str | None:
    """Claim ``claim_id``; returns a token for :func:`complete` / :func:`release`, or None when
    someone else holds it or it was completed."""
    log = db[collection]
    moment = now()
    token = uuid.uuid4().hex
    entry = {
        **fields,
        "_id": claim_id,
        "state": HELD,
        "token": token,
        "until": moment + timedelta(seconds=lease_seconds),
        "created_at": moment,
    }
    try:
        log.insert_one(entry)
        return token
    except DuplicateKeyError:
        pass
    existing = log.find_one({"_id": claim_id})
    if existing is None or existing["state"] != HELD or as_utc(existing["until"]) > moment:
        return None
    logger.warning("taking over %s from a holder that did not finish", claim_id)
    # Removing exactly the stale entry (by its token) and inserting again lets the insert decide
    # between two callers taking over at once.
    log.delete_one({"_id": claim_id, "token": existing["token"]})
    try:
        log.insert_one(entry)
        return token
    except DuplicateKeyError:
        return None


def complete(
    db: Database, collection: str, claim_id: str, token: str, outcome: Mapping[str, Any]
) -> None:
    """Record the outcome: from now on the claim is never granted again."""
    db[collection].update_one(
        {"_id": claim_id, "token": token},
        {"$set": {**outcome, "finished_at": now()}, "$unset": {"until": ""}},
    )


def release(db: Database, collection: str, claim_id: str, token: str) -> None:
    """Give the claim back (a temporary failure) so the next caller can try at once."""
    db[collection].delete_one({"_id": claim_id, "token": token})


def prune(db: Database, *, older_than_seconds: float, dry_run: bool = False) -> int:
    """Forget entries older than any redelivery can come (the retention sweep calls this)."""
    query = {"created_at": {"$lt": now() - timedelta(seconds=older_than_seconds)}}
    removed = 0
    for collection in COLLECTIONS:
        if dry_run:
            removed += db[collection].count_documents(query)
        else:
            removed += db[collection].delete_many(query).deleted_count
    return removed
