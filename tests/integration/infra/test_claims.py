"""At-most-once claims on the real MongoDB-wire server (FerretDB)."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

from video2audio.core.clock import now
from video2audio.infra import claims
from video2audio.infra.clients import mongo_database

LOG = claims.DELIVERY_LOG


def claim_id() -> str:
    return f"test-{uuid.uuid4().hex}:email"


def state_of(db, key: str) -> str | None:
    entry = db[LOG].find_one({"_id": key}, {"state": 1})
    return entry["state"] if entry else None


def test_of_many_racing_claims_exactly_one_wins():
    db, key = mongo_database(), claim_id()
    start = threading.Barrier(8)
    tokens: list[str | None] = []

    def race() -> None:
        start.wait()
        tokens.append(claims.acquire(db, LOG, key, lease_seconds=60))

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len([token for token in tokens if token]) == 1


def test_a_completed_claim_is_never_granted_again():
    db, key = mongo_database(), claim_id()
    token = claims.acquire(db, LOG, key, lease_seconds=60)
    claims.complete(db, LOG, key, token, {"state": "sent"})
    assert claims.acquire(db, LOG, key, lease_seconds=60) is None
    assert state_of(db, key) == "sent"


def test_a_released_claim_can_be_taken_at_once():
    db, key = mongo_database(), claim_id()
    claims.release(db, LOG, key, claims.acquire(db, LOG, key, lease_seconds=60))
    assert claims.acquire(db, LOG, key, lease_seconds=60)


def test_a_crashed_holders_claim_is_taken_over_after_its_deadline():
    db, key = mongo_database(), claim_id()
    stale = claims.acquire(db, LOG, key, lease_seconds=60)
    assert claims.acquire(db, LOG, key, lease_seconds=60) is None
    db[LOG].update_one({"_id": key}, {"$set": {"until": now() - timedelta(seconds=1)}})
    fresh = claims.acquire(db, LOG, key, lease_seconds=60)
    assert fresh and fresh != stale
    # The crashed holder, should it come back, can no longer record over the new claim.
    claims.complete(db, LOG, key, stale, {"state": "sent"})
    assert state_of(db, key) == claims.HELD
