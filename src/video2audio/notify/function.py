"""The notify function: emails the owner and calls the job's webhook when a conversion ends.

CloudEvents ``io.video2audio.audio.ready`` / ``io.video2audio.conversion.failed``, delivered by
Knative's RabbitmqSource from the notify queue. Answers 503 on temporary failures so the source
retries with backoff; everything permanent is recorded on the job and acknowledged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pymongo.database import Database

from video2audio.accounts.users import find_user_email
from video2audio.core.settings import Settings
from video2audio.infra.clients import mongo_database, postgres_connection
from video2audio.infra.events import (
    AUDIO_READY,
    CONVERSION_FAILED,
    RABBITMQ_MESSAGE,
    CloudEvent,
    event_data,
)
from video2audio.notify.handler import notify_job_outcome
from video2audio.web.event_handler import run_event_handler


def event_identity(event: CloudEvent, data: dict[str, Any]) -> tuple[str, str]:
    """The event's id and type, for idempotency and for what to say."""
    if event["type"] != RABBITMQ_MESSAGE:
        return event["id"], event["type"]
    # A queue message without CloudEvent headers: its body says how the job ended, and the
    # adapter's id may differ per delivery, so the job's outcome is what makes it unique.
    failed = data.get("status") == "failed"
    event_id = f"{data.get('job_id')}-{'failed' if failed else 'done'}"
    return event_id, CONVERSION_FAILED if failed else AUDIO_READY


@dataclass(frozen=True)
class NotifyFunction:
    settings: Settings
    database: Callable[[], Database] = mongo_database
    connection: Callable[[], contextlib.AbstractContextManager[Any]] = postgres_connection

    def __call__(self, event: CloudEvent) -> None:
        run_event_handler(lambda: self.handle(event))

    def handle(self, event: CloudEvent) -> dict[str, Any]:
        data = event_data(event, expected_types=(AUDIO_READY, CONVERSION_FAILED))
        event_id, event_type = event_identity(event, data)
        return notify_job_outcome(
            event_id,
            event_type,
            data,
            db=self.database(),
            find_email=self.owner_email,
            settings=self.settings,
        )

    def owner_email(self, owner: str) -> str | None:
        # Asked only when an email is actually due, so PostgreSQL being down delays just that.
        with self.connection() as connection:
            return find_user_email(owner, connection=connection)


def build_handler(settings: Settings) -> NotifyFunction:
    return NotifyFunction(settings)
