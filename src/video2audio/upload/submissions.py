"""Accepting a stored upload: validate its fields, record the job, announce it.

Either all of it happens — video stored, job recorded, event confirmed by the broker — or none
of it stays: a job nobody will convert, or a video no job points to, is never left behind.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bson import ObjectId
from pymongo.database import Database

from video2audio.core.errors import DEPENDENCY_ERRORS, TransientError
from video2audio.infra import storage
from video2audio.infra.events import VIDEO_UPLOADED, build_event
from video2audio.infra.messaging import RabbitPublisher
from video2audio.infra.outbound import parse_url
from video2audio.jobs.model import parse_output
from video2audio.jobs.repository import create_job, delete_job
from video2audio.upload.multipart import StoredUpload

logger = logging.getLogger(__name__)

EVENT_SOURCE = "/video2audio/upload"


def check_upload_fields(fields: Mapping[str, str]) -> None:
    """Raise :class:`BadRequestError` for an unknown format, a bad bitrate or webhook URL."""
    parse_output(fields.get("format"), fields.get("bitrate"))
    parse_webhook_url(fields.get("webhook_url"))


def parse_webhook_url(raw: str | None) -> str | None:
    """An absolute http(s) URL or None. Where it points is checked when notify calls it."""
    if raw is None or not raw.strip():
        return None
    parse_url(raw, what="webhook_url")
    return raw.strip()


def create_and_announce(
    db: Database,
    publisher: RabbitPublisher,
    *,
    routing_key: str,
    owner: str,
    job_id: str,
    stored: StoredUpload,
) -> dict[str, Any]:
    """Record the job and publish its event; on any failure remove both video and job (503)."""
    output = parse_output(stored.fields.get("format"), stored.fields.get("bitrate"))
    try:
        job = create_job(
            db,
            owner=owner,
            video_fid=stored.file_id,
            filename=stored.filename,
            output=output,
            webhook_url=parse_webhook_url(stored.fields.get("webhook_url")),
            media={"container": stored.container},
            video_size=stored.size,
            job_id=job_id,
        )
        event = build_event(
            VIDEO_UPLOADED,
            {
                "job_id": job_id,
                "video_fid": str(stored.file_id),
                "owner": owner,
                "output": output,
                "filename": stored.filename,
            },
            source=EVENT_SOURCE,
            subject=job_id,
        )
        publisher.publish(event, routing_key=routing_key)
    except Exception as exc:
        undo_upload(db, owner=owner, job_id=job_id, file_id=stored.file_id)
        if isinstance(exc, (TransientError, *DEPENDENCY_ERRORS)):
            raise TransientError(
                "the upload could not be queued for conversion; nothing was kept, try again"
            ) from exc
        raise
    return job


def undo_upload(db: Database, *, owner: str, job_id: str, file_id: ObjectId) -> None:
    """Remove the job and video of an upload that could not be completed.

    The job goes first: if the rest fails, a video without a job is deleted by the expire sweep,
    whereas a job whose video document was already gone would be listed as queued for good.
    """
    try:
        delete_job(db, job_id, owner=owner)
        storage.delete_file(db, storage.VIDEOS, file_id)
    except Exception:
        # MongoDB may be what failed; the expire function deletes the leftovers later.
        logger.exception(
            "could not remove the job %s and video %s of a failed upload",
            job_id,
            file_id,
            extra={"file_id": str(file_id)},
        )
    else:
        logger.info(
            "removed the video %s and job %s of a failed upload",
            file_id,
            job_id,
            extra={"file_id": str(file_id)},
        )
