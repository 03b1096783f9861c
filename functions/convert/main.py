"""The convert function: a ``video.uploaded`` CloudEvent in, the job's audio file out.

Served with ``functions-framework --target convert --signature-type cloudevent`` (port 8083).
Outcomes map to HTTP answers in one place (run_event_handler): 2xx acknowledges the message,
including permanent failures recorded on the job; 503 asks the event source to retry later; 400
rejects an event that cannot be understood.
"""

from __future__ import annotations

import logging
from typing import Any

import functions_framework
from cloudevents.http import CloudEvent

from video2audio.clients import mongo_database, rabbit_publisher
from video2audio.conversion import ConvertConfig, handle_video_uploaded
from video2audio.event_handling import run_event_handler
from video2audio.events import VIDEO_UPLOADED, event_data
from video2audio.logs import configure_logging
from video2audio.settings import get_settings

logger = logging.getLogger(__name__)

# Settings are read and checked as the process starts, so a function whose configuration cannot
# run (a placeholder secret outside development, a malformed number) refuses to start.
configure_logging()


def _handle(event: CloudEvent) -> dict[str, Any]:
    data = event_data(event, expected_types=(VIDEO_UPLOADED,))
    settings = get_settings()
    config = ConvertConfig(
        lease_seconds=settings.convert_lease_seconds,
        timeout_seconds=settings.convert_timeout_seconds,
        notify_queue=settings.notify_queue,
    )
    logger.info("event %s (%s) for job %s", event["id"], event["type"], data.get("job_id"))
    return handle_video_uploaded(
        data, db=mongo_database(), publisher=rabbit_publisher(), config=config
    )


@functions_framework.cloud_event
def convert(event: CloudEvent) -> None:
    run_event_handler(lambda: _handle(event))
