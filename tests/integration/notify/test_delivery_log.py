"""At-most-once claims on the real FerretDB."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

from video2audio import delivery_log
from video2audio.clients import mongo_database
from video2audio.jobs import now


def claim_id() -> str:
    return f"test-{uuid.uuid4().hex}:email"


def test_of_many_racing_claims_exactly_one_wins():
    db, key = mongo_database(), claim_id()
    start = threading.Barrier(8)
    tokens: list[str | None] = []

    def race() -> None:
        start.wait()
        tokens.append(delivery_log.claim(db, key, lease_seconds=60))

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len([token for token in tokens if token]) == 1


def test_a_finished_claim_is_never_granted_again():
    db, key = mongo_database(), claim_id()
    token = delivery_log.claim(db, key, lease_seconds=60)
    delivery_log.finish(db, key, token, {"state": "sent"})
    assert delivery_log.claim(db, key, lease_seconds=60) is None
    assert delivery_log.entry_state(db, key) == "sent"


def test_a_released_claim_can_be_taken_at_once():
    db, key = mongo_database(), claim_id()
    delivery_log.release(db, key, delivery_log.claim(db, key, lease_seconds=60))
    assert delivery_log.claim(db, key, lease_seconds=60)


def test_a_crashed_senders_claim_is_taken_over_after_its_deadline():
    db, key = mongo_database(), claim_id()
    stale = delivery_log.claim(db, key, lease_seconds=60)
    assert delivery_log.claim(db, key, lease_seconds=60) is None
    db[delivery_log.DELIVERY_LOG].update_one(
        {"_id": key}, {"$set": {"until": now() - timedelta(seconds=1)}}
    )
    fresh = delivery_log.claim(db, key, lease_seconds=60)
    assert fresh and fresh != stale
    # The crashed sender, should it come back, can no longer record over the new claim.
    delivery_log.finish(db, key, stale, {"state": "sent"})
    assert delivery_log.entry_state(db, key) == "sending"
