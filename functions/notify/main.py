"""The notify function: emails the owner and calls the job's webhook when a conversion ends.

CloudEvents `io.video2audio.audio.ready` / `io.video2audio.conversion.failed`, delivered by
Knative's RabbitmqSource from the notify queue. Answers 503 on temporary failures so the source
retries with backoff; everything permanent is recorded on the job and acknowledged.
"""

from __future__ import annotations

import logging
from typing import Any

import functions_framework

from video2audio.clients import mongo_database, postgres_connection
from video2audio.event_handling import run_event_handler
from video2audio.events import (
    AUDIO_READY,
    CONVERSION_FAILED,
    RABBITMQ_MESSAGE,
    CloudEvent,
    event_data,
)
from video2audio.logs import configure_logging
from video2audio.notifications import notify_job_outcome
from video2audio.settings import get_settings
from video2audio.users import find_user_email

logger = logging.getLogger(__name__)

# Settings are read and checked as the process starts, so a function whose configuration cannot
# run (a placeholder secret outside development, a malformed number) refuses to start.
configure_logging()


def _owner_email(owner: str) -> str | None:
    # Asked only when an email is actually due, so PostgreSQL being down delays just the email.
    with postgres_connection() as connection:
        return find_user_email(owner, connection=connection)


def _identity(event: CloudEvent, data: dict[str, Any]) -> tuple[str, str]:
    """The event's id and type, for idempotency and for what to say."""
    if event["type"] != RABBITMQ_MESSAGE:
        return event["id"], event["type"]
    # A queue message without CloudEvent headers: its body says how the job ended, and the
    # adapter's id may differ per delivery, so the job's outcome is what makes it unique.
    failed = data.get("status") == "failed"
    event_id = f"{data.get('job_id')}-{'failed' if failed else 'done'}"
    return event_id, CONVERSION_FAILED if failed else AUDIO_READY


@functions_framework.cloud_event
def notify(event: CloudEvent) -> None:

    def handle() -> dict[str, Any]:
        data = event_data(event, expected_types=(AUDIO_READY, CONVERSION_FAILED))
        event_id, event_type = _identity(event, data)
        return notify_job_outcome(
            event_id,
            event_type,
            data,
            db=mongo_database(),
            find_email=_owner_email,
            settings=get_settings(),
        )

    run_event_handler(handle)
