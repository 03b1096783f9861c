"""Every job reaches an end on its own: the outbox, stalled jobs, and giving up.

Run on the expire function's schedule (every minute), this sweep looks at the jobs themselves —
the database is the truth, a message only a hint — and republishes what a job still needs:

1. **The outbox.** A job whose ``video.uploaded`` or outcome event was never confirmed by the
   broker (it was down; the function died in between) is announced now.
2. **Stalled jobs.** A job queued or converting with no live lease and no progress for
   ``JOB_STALL_SECONDS`` is announced again: its message may have been parked after a long
   outage, or lost with a crashed consumer. convert is idempotent, so a duplicate is harmless.
3. **Stalled notifications.** An ended job whose email or webhook is still not recorded as sent
   (notify's dependency was down past its retries) is announced to notify again; notify sends
   each channel at most once per job outcome.
4. **Giving up.** A job that has not ended ``JOB_GIVE_UP_SECONDS`` after its upload fails with
   "gave up after N attempts over M minutes: <last error>", and its owner is told like any other
   failure; a notification still not sent that long after the job ended is recorded as given up.

Why a sweep and not RabbitMQ's dead-letter-with-TTL loop: the loop would bring back every parked
message forever, including ones that can never succeed, and knows nothing of the job; the sweep
decides from the job's own state, stops at the give-up time, and covers the outbox too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo.database import Database

from video2audio.core.clock import as_utc, now
from video2audio.core.errors import is_transient
from video2audio.infra.messaging import RabbitPublisher
from video2audio.jobs.announcements import (
    announce_outcome,
    announce_upload,
    outcome_key,
)
from video2audio.jobs.model import JobStatus
from video2audio.jobs.repository import JOBS

logger = logging.getLogger(__name__)

CHANNELS = ("email", "webhook")
ACTIVE = [JobStatus.QUEUED.value, JobStatus.PROCESSING.value]
ENDED = [JobStatus.DONE.value, JobStatus.FAILED.value]
# A job announced again waits twice as long each time, up to 8 stall periods: a long queue is
# not flooded, and a job is never left waiting much longer than that.
MAX_DOUBLINGS = 3


@dataclass(frozen=True)
class RedeliveryPolicy:
    stall_seconds: float
    give_up_seconds: float
    # What the request that stored a job is still publishing is not the outbox's yet.
    settle_seconds: float = 10.0
    batch_size: int = 200


@dataclass
class RedeliverySummary:
    uploads_announced: int = 0
    outcomes_announced: int = 0
    stalled_reannounced: int = 0
    notifications_reannounced: int = 0
    jobs_given_up: int = 0
    notifications_given_up: int = 0
    broker_unavailable: bool = False
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "uploads_announced": self.uploads_announced,
            "outcomes_announced": self.outcomes_announced,
            "stalled_reannounced": self.stalled_reannounced,
            "notifications_reannounced": self.notifications_reannounced,
            "jobs_given_up": self.jobs_given_up,
            "notifications_given_up": self.notifications_given_up,
            "broker_unavailable": self.broker_unavailable,
        }


def _lease_live(job: Mapping[str, Any], moment: datetime) -> bool:
    lease = job.get("lease_until")
    return (
        job["status"] == JobStatus.PROCESSING.value and lease is not None and as_utc(lease) > moment
    )


def _last_touched(job: Mapping[str, Any]) -> datetime:
    moments = [job.get(key) for key in ("updated_at", "announced_at", "created_at")]
    return max(as_utc(m) for m in moments if m is not None)


def _give_up(db: Database, job: Mapping[str, Any], moment: datetime) -> dict[str, Any] | None:
    """Fail a job that never ended; the failed job, or None if it changed meanwhile."""
    minutes = int((moment - as_utc(job["created_at"])).total_seconds() // 60)
    attempts = int(job.get("attempts") or 0)
    last = job.get("last_error") or "no conversion could finish"
    error = f"gave up after {attempts} attempts over {minutes} minutes: {last}"
    result = db[JOBS].update_one(
        {"_id": job["_id"], "status": {"$in": ACTIVE}, "updated_at": job.get("updated_at")},
        {
            "$set": {
                "status": JobStatus.FAILED.value,
                "error": error,
                "lease_owner": None,
                "lease_until": None,
                "finished_at": moment,
                "updated_at": moment,
                "notified": False,
                "notifications_pending": True,
            }
        },
    )
    if result.matched_count != 1:
        return None
    logger.warning("job %s %s", job["_id"], error)
    return {**job, "status": JobStatus.FAILED.value, "error": error}


class _Sweep:
    def __init__(
        self,
        db: Database,
        publisher: RabbitPublisher,
        *,
        convert_queue: str,
        notify_queue: str,
        policy: RedeliveryPolicy,
        moment: datetime,
    ) -> None:
        self.db, self.publisher = db, publisher
        self.convert_queue, self.notify_queue = convert_queue, notify_queue
        self.policy, self.moment = policy, moment
        self.summary = RedeliverySummary()

    def ago(self, seconds: float) -> datetime:
        return self.moment - timedelta(seconds=seconds)

    def find(self, query: Mapping[str, Any]) -> list[dict[str, Any]]:
        return list(self.db[JOBS].find(query).limit(self.policy.batch_size))

    def upload(self, job: Mapping[str, Any]) -> bool:
        ok = announce_upload(
            job, db=self.db, publisher=self.publisher, convert_queue=self.convert_queue
        )
        self.summary.broker_unavailable |= not ok
        return ok

    def outcome(self, job: Mapping[str, Any]) -> bool:
        try:
            announce_outcome(
                job, db=self.db, publisher=self.publisher, notify_queue=self.notify_queue
            )
        except Exception as exc:
            if not is_transient(exc):
                raise
            logger.warning("outcome of job %s waits in the outbox: %s", job["_id"], exc)
            self.summary.broker_unavailable = True
            return False
        return True

    def give_up_on_jobs(self) -> None:
        for job in self.find(
            {
                "status": {"$in": ACTIVE},
                "created_at": {"$lt": self.ago(self.policy.give_up_seconds)},
            }
        ):
            if _lease_live(job, self.moment):
                continue  # it is converting right now: its own time limit ends it
            failed = _give_up(self.db, job, self.moment)
            if failed is not None:
                self.summary.jobs_given_up += 1
                self.outcome(failed)

    def announce_outbox(self) -> None:
        settled = self.ago(self.policy.settle_seconds)
        for job in self.find(
            {"status": JobStatus.QUEUED.value, "upload_announced": False,
             "created_at": {"$lt": settled}}
        ):  # fmt: skip
            if self.upload(job):
                self.summary.uploads_announced += 1
        for job in self.find(
            {"status": {"$in": ENDED}, "notified": False, "finished_at": {"$lt": settled}}
        ):
            if self.outcome(job):
                self.summary.outcomes_announced += 1

    def reannounce_stalled(self) -> None:
        stalled = self.ago(self.policy.stall_seconds)
        for job in self.find(
            {"status": {"$in": ACTIVE}, "upload_announced": {"$ne": False},
             "updated_at": {"$lt": stalled}}
        ):  # fmt: skip
            # A queued job may also just wait behind a long queue (MAX_DOUBLINGS).
            times = int(job.get("reannounced") or 0)
            waited = self.ago(self.policy.stall_seconds * 2 ** min(times, MAX_DOUBLINGS))
            if _lease_live(job, self.moment) or _last_touched(job) >= waited:
                continue
            logger.info("job %s made no progress for a while: announcing it again", job["_id"])
            if self.upload(job):
                self.db[JOBS].update_one({"_id": job["_id"]}, {"$inc": {"reannounced": 1}})
                self.summary.stalled_reannounced += 1

    def settle_notifications(self) -> None:
        stalled = self.ago(self.policy.stall_seconds)
        for job in self.find(
            {"status": {"$in": ENDED}, "notified": True, "notifications_pending": True,
             "finished_at": {"$lt": stalled}}
        ):  # fmt: skip
            recorded = (job.get("notifications") or {}).get(outcome_key(job)) or {}
            missing = [channel for channel in CHANNELS if channel not in recorded]
            if not missing:
                self._settled(job)
            elif as_utc(job["finished_at"]) < self.ago(self.policy.give_up_seconds):
                self._gave_up_notifying(job, missing)
            elif _last_touched(job) < stalled and self.outcome(job):
                self.summary.notifications_reannounced += 1

    def _settled(self, job: Mapping[str, Any]) -> None:
        self.db[JOBS].update_one({"_id": job["_id"]}, {"$set": {"notifications_pending": False}})

    def _gave_up_notifying(self, job: Mapping[str, Any], missing: list[str]) -> None:
        key = outcome_key(job)
        entry = {"state": "gave up", "error": "could not be delivered in time", "at": self.moment}
        changes: dict[str, Any] = {f"notifications.{key}.{channel}": entry for channel in missing}
        changes["notifications_pending"] = False
        self.db[JOBS].update_one({"_id": job["_id"]}, {"$set": changes})
        self.summary.notifications_given_up += len(missing)
        logger.warning("gave up notifying job %s by %s", job["_id"], ", ".join(missing))


def redeliver(
    db: Database,
    publisher: RabbitPublisher,
    *,
    convert_queue: str,
    notify_queue: str,
    policy: RedeliveryPolicy,
    clock: Callable[[], datetime] = now,
) -> dict[str, Any]:
    """One pass over the jobs that still need something; returns a JSON-ready summary."""
    sweep = _Sweep(
        db,
        publisher,
        convert_queue=convert_queue,
        notify_queue=notify_queue,
        policy=policy,
        moment=clock(),
    )
    sweep.give_up_on_jobs()
    sweep.announce_outbox()
    sweep.reannounce_stalled()
    sweep.settle_notifications()
    summary = sweep.summary.as_dict()
    if any(value for key, value in summary.items() if key != "broker_unavailable"):
        logger.info("redelivery: %s", summary)
    return summary
