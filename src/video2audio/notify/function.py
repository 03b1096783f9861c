"""The notify function: emails the owner and calls the job's webhook when a conversion ends.

CloudEvents ``io.video2audio.audio.ready`` / ``io.video2audio.conversion.failed``, delivered by
Knative's RabbitmqSource from the notify queue. Answers 503 on temporary failures so the source
retries with backoff; everything permanent is recorded on the job and acknowledged.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pymongo.database import Database

from video2audio.accounts.users import ensure_tables, find_user_email, webhook_secret
from video2audio.core.logs import bind_log_context
from video2audio.core.settings import Settings
from video2audio.infra.clients import mongo_database, postgres_connection
from video2audio.infra.events import (
    AUDIO_READY,
    CONVERSION_FAILED,
    RABBITMQ_MESSAGE,
    CloudEvent,
    event_data,
)
from video2audio.jobs.model import is_job_id
from video2audio.notify.handler import notify_job_outcome
from video2audio.web.event_handler import event_scope, run_event_handler

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NotifyFunction:
    settings: Settings
    database: Callable[[], Database] = mongo_database
    connection: Callable[[], contextlib.AbstractContextManager[Any]] = postgres_connection

    def __call__(self, event: CloudEvent) -> None:
        with event_scope(event):
            run_event_handler(
                lambda: self.handle(event), function="notify", event_type=event["type"]
            )

    def handle(self, event: CloudEvent) -> dict[str, Any]:
        data = event_data(event, expected_types=(AUDIO_READY, CONVERSION_FAILED))
        if is_job_id(data.get("job_id")):
            bind_log_context(job_id=data["job_id"])
        logger.info("event %s (%s) for job %s", event["id"], event["type"], data.get("job_id"))
        # A queue message without CloudEvent headers claims no outcome: the job says it.
        claimed = None if event["type"] == RABBITMQ_MESSAGE else event["type"]
        return notify_job_outcome(
            claimed,
            data,
            db=self.database(),
            find_email=self.owner_email,
            find_webhook_secret=self.owner_webhook_secret,
            settings=self.settings,
        )

    # Asked only when a channel is actually due, so PostgreSQL being down delays just that one.
    def owner_email(self, owner: str) -> str | None:
        ensure_tables(self.connection)
        with self.connection() as connection:
            return find_user_email(owner, connection=connection)

    def owner_webhook_secret(self, owner: str) -> str | None:
        ensure_tables(self.connection)
        with self.connection() as connection:
            return webhook_secret(owner, connection=connection)


def build_handler(settings: Settings) -> NotifyFunction:
    return NotifyFunction(settings)
