"""At-most-once claims for side effects (an email, a webhook call), in MongoDB.

FerretDB v1 does not make a conditional update atomic: two concurrent ``update_one`` calls with
the same filter can both match (measured: up to 8 of 8 racing claims "won"). Inserting a
document with a given ``_id`` is atomic (a unique key in PostgreSQL underneath), so a claim is an
insert: exactly one delivery of an event gets to send, and every later one finds the entry.

An entry is ``sending`` until its sender records the outcome; a sender that crashed leaves a
``sending`` entry whose deadline runs out, and the next delivery takes it over.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from video2audio.jobs import now

logger = logging.getLogger(__name__)

DELIVERY_LOG = "delivery_log"
SENDING = "sending"


def claim(db: Database, claim_id: str, *, lease_seconds: float, **fields: Any) -> str | None:
    """Claim ``claim_id``; returns a token for :func:`finish` / :func:`release`, or None if
    someone else holds it or it is already done."""
    log = db[DELIVERY_LOG]
    moment = now()
    token = uuid.uuid4().hex
    entry = {
        **fields,
        "_id": claim_id,
        "state": SENDING,
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
    if existing is None or existing["state"] != SENDING or existing["until"] > moment:
        return None
    logger.warning("taking over %s from a sender that did not finish", claim_id)
    # Removing exactly the stale entry (by its token) and inserting again lets the insert decide
    # between two deliveries taking over at once.
    log.delete_one({"_id": claim_id, "token": existing["token"]})
    try:
        log.insert_one(entry)
        return token
    except DuplicateKeyError:
        return None


def finish(db: Database, claim_id: str, token: str, outcome: Mapping[str, Any]) -> None:
    """Record the outcome: from now on the claim is never granted again."""
    db[DELIVERY_LOG].update_one(
        {"_id": claim_id, "token": token},
        {"$set": {**outcome, "finished_at": now()}, "$unset": {"until": ""}},
    )


def release(db: Database, claim_id: str, token: str) -> None:
    """Give the claim back (a temporary failure) so the next delivery can try at once."""
    db[DELIVERY_LOG].delete_one({"_id": claim_id, "token": token})


def entry_state(db: Database, claim_id: str) -> str | None:
    entry = db[DELIVERY_LOG].find_one({"_id": claim_id}, {"state": 1})
    return entry["state"] if entry else None


def prune(db: Database, *, older_than_seconds: float, dry_run: bool = False) -> int:
    """Forget entries older than any redelivery can come (the retention sweep calls this)."""
    query = {"created_at": {"$lt": now() - timedelta(seconds=older_than_seconds)}}
    if dry_run:
        return db[DELIVERY_LOG].count_documents(query)
    return db[DELIVERY_LOG].delete_many(query).deleted_count
