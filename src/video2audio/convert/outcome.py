"""Announcing a finished conversion on the notify queue, at least once.

The job is marked ``notified`` only after the broker confirmed the event, so a redelivered
``video.uploaded`` event for a finished job repeats an announcement that did not go out. Event ids
are stable per outcome, so a consumer can recognise a repeat.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.database import Database

from video2audio.infra.events import AUDIO_READY, CONVERSION_FAILED, build_event
from video2audio.infra.messaging import RabbitPublisher
from video2audio.jobs.model import JobStatus, audio_filename
from video2audio.jobs.repository import JOBS

EVENT_SOURCE = "/video2audio/convert"


def notification_data(job: Mapping[str, Any]) -> dict[str, Any]:
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


def announce(
    job: Mapping[str, Any], *, db: Database, publisher: RabbitPublisher, notify_queue: str
) -> None:
    """Publish the job's outcome, then remember that it was published."""
    if job["status"] not in {JobStatus.DONE.value, JobStatus.FAILED.value}:
        return
    event_type = AUDIO_READY if job["status"] == JobStatus.DONE.value else CONVERSION_FAILED
    event = build_event(
        event_type,
        notification_data(job),
        source=EVENT_SOURCE,
        subject=job["_id"],
        # Stable per outcome, so a consumer can recognise a repeated announcement.
        event_id=f"{job['_id']}-{job['status']}",
    )
    publisher.publish(event, routing_key=notify_queue)
    db[JOBS].update_one({"_id": job["_id"]}, {"$set": {"notified": True}})
