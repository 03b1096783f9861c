"""The expire function, on a Knative PingSource's schedule (every minute): two sweeps.

1. Redelivery (:mod:`video2audio.expire.redelivery`): the outbox, stalled jobs, giving up.
2. Retention (:mod:`video2audio.expire.sweep`): files older than the retention are deleted.

Answers the retention sweep's JSON summary with the redelivery's under ``redelivery``. In
Knative it is cluster-local, and no ping can make it delete more than its schedule would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import flask
from pymongo.database import Database

from video2audio.core.metrics import EXPIRED_BYTES, EXPIRED_FILES, EXPIRY_LAST_SUCCESS, EXPIRY_RUNS
from video2audio.core.settings import Settings
from video2audio.expire.options import sweep_options
from video2audio.expire.redelivery import RedeliveryPolicy, redeliver
from video2audio.expire.sweep import expire_files
from video2audio.infra.clients import mongo_database, rabbit_publisher
from video2audio.infra.events import CloudEvent
from video2audio.infra.messaging import RabbitPublisher
from video2audio.web.event_handler import event_scope, run_event_handler
from video2audio.web.event_senders import SenderCheck, sender_check


@dataclass(frozen=True)
class ExpireFunction:
    settings: Settings
    database: Callable[[], Database] = mongo_database
    publisher: Callable[[], RabbitPublisher] = rabbit_publisher
    senders: SenderCheck | None = None

    def __call__(self, event: CloudEvent) -> None:
        with event_scope(event):
            authorization = flask.request.headers.get("Authorization")
            run_event_handler(
                lambda: self.handle(event, authorization),
                function="expire",
                event_type=event["type"],
            )

    def handle(self, event: CloudEvent, authorization: str | None = None) -> dict[str, Any]:
        if self.senders is not None:
            self.senders.verify(authorization)
        options = sweep_options(event, retention_seconds=self.settings.retention_seconds)
        if options["dry_run"]:
            # Looks without touching anything: not a run the expiry metrics count.
            return {**expire_files(self.database(), **options), "redelivery": None}
        try:
            summary = self.run(options)
        except Exception:
            EXPIRY_RUNS.labels("failed").inc()
            raise
        EXPIRY_RUNS.labels("ok").inc()
        EXPIRY_LAST_SUCCESS.set_to_current_time()
        EXPIRED_FILES.inc(summary["files_deleted"])
        EXPIRED_BYTES.inc(summary["bytes_deleted"])
        return summary

    def run(self, options: dict[str, Any]) -> dict[str, Any]:
        """Both sweeps: redelivery, then retention."""
        settings = self.settings
        db = self.database()
        redelivered = redeliver(
            db,
            self.publisher(),
            convert_queue=settings.convert_queue,
            notify_queue=settings.notify_queue,
            policy=RedeliveryPolicy(
                stall_seconds=settings.job_stall_seconds,
                give_up_seconds=settings.job_give_up_seconds,
            ),
        )
        return {**expire_files(db, **options), "redelivery": redelivered}


def build_handler(settings: Settings) -> ExpireFunction:
    return ExpireFunction(settings, senders=sender_check(settings))
