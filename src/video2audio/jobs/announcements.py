"""Announcing a job on RabbitMQ: the outbox of the two events a job's life sends.

- ``video.uploaded`` (to the convert queue): the job waits for conversion. ``upload_announced``
  is False until the broker confirmed it.
- ``audio.ready`` / ``conversion.failed`` (to the notify queue): the job ended. ``notified`` is
  False until the broker confirmed it.

The job document is the outbox: whatever is still False when the publish failed (the broker was
down, the function died between storing and publishing) is published again by the redelivery
sweep (:mod:`video2audio.expire.redelivery`). Publishing twice is harmless — convert and notify
act on the job document, once per job and outcome — publishing never is what this prevents.
Event ids are stable per job and outcome, so consumers can recognise a repeat.

Each event carries the job's trace (the ``traceparent`` extension) from the job document, so a
repeat from the outbox continues the same trace as the first try: ``video.uploaded`` the span
that created the job, an outcome the span of the conversion that recorded it
(``outcome_traceparent``, falling back to the job's own).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pymongo.database import Database

from video2audio.core.clock import now
from video2audio.core.errors import is_transient
from video2audio.infra.events import (
    AUDIO_READY,
    CONVERSION_FAILED,
    VIDEO_UPLOADED,
    CloudEvent,
    build_event,
)
from video2audio.infra.messaging import RabbitPublisher
from video2audio.jobs.model import JobStatus, audio_filename
from video2audio.jobs.repository import JOBS

logger = logging.getLogger(__name__)

UPLOAD_SOURCE = "/video2audio/upload"
OUTCOME_SOURCE = "/video2audio/convert"
OUTCOME_EVENTS = {JobStatus.DONE.value: AUDIO_READY, JobStatus.FAILED.value: CONVERSION_FAILED}


def outcome_key(job: Mapping[str, Any]) -> str:
    """The key of the job's one outcome: its id and final status (a MongoDB-safe field name)."""
    return f"{job['_id']}-{job['status']}"


def upload_event(job: Mapping[str, Any]) -> CloudEvent:
    return build_event(
        VIDEO_UPLOADED,
        {
            "job_id": job["_id"],
            "video_fid": str(job["video_fid"]),
            "owner": job["owner"],
            "output": job.get("output"),
            "filename": job.get("filename"),
        },
        source=UPLOAD_SOURCE,
        subject=job["_id"],
        traceparent=job.get("traceparent"),
    )


def outcome_data(job: Mapping[str, Any]) -> dict[str, Any]:
    output = job.get("output") or {}
    audio_fid = job.get("audio_fid")
    return {
        "job_id": job["_id"],
        "owner": job.get("owner"),
        "status": job["status"],
        "audio_fid": str(audio_fid) if audio_fid is not None else None,
        "video_fid": str(job["video_fid"]),
        "error": job.get("error"),
        "format": output.get("format"),
        "bitrate": output.get("bitrate"),
        "filename": job.get("filename"),
        "audio_filename": audio_filename(job) if audio_fid is not None else None,
    }


def outcome_event(job: Mapping[str, Any]) -> CloudEvent | None:
    event_type = OUTCOME_EVENTS.get(job["status"])
    if event_type is None:
        return None
    return build_event(
        event_type,
        outcome_data(job),
        source=OUTCOME_SOURCE,
        subject=job["_id"],
        # Stable per outcome, so a consumer can recognise a repeated announcement.
        event_id=outcome_key(job),
        traceparent=job.get("outcome_traceparent") or job.get("traceparent"),
    )


def announce_upload(
    job: Mapping[str, Any], *, db: Database, publisher: RabbitPublisher, convert_queue: str
) -> bool:
    """Publish the job's ``video.uploaded``; False (logged) when the broker cannot take it now.

    The job stays in the outbox until then; the redelivery sweep publishes it later.
    """
    try:
        publisher.publish(upload_event(job), routing_key=convert_queue)
    except Exception as exc:
        if not is_transient(exc):
            raise
        logger.warning("job %s waits in the outbox: %s", job["_id"], exc)
        return False
    db[JOBS].update_one(
        {"_id": job["_id"]}, {"$set": {"upload_announced": True, "announced_at": now()}}
    )
    return True


def announce_outcome(
    job: Mapping[str, Any], *, db: Database, publisher: RabbitPublisher, notify_queue: str
) -> None:
    """Publish the job's outcome, then remember that it was published (raises when it cannot)."""
    event = outcome_event(job)
    if event is None:
        return
    publisher.publish(event, routing_key=notify_queue)
    db[JOBS].update_one({"_id": job["_id"]}, {"$set": {"notified": True, "announced_at": now()}})
