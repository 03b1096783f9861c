"""Accepting a stored upload: validate its fields, record the job, announce it.

A stored video and its recorded job are an accepted upload: the event that announces it to
convert goes out now if the broker takes it, or later from the outbox
(:mod:`video2audio.jobs.announcements`). A video whose job could not be recorded is removed,
never left behind.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bson import ObjectId
from pymongo.database import Database

from video2audio.core.errors import TransientError, is_transient
from video2audio.core.tracing import Span
from video2audio.infra import storage
from video2audio.infra.messaging import RabbitPublisher
from video2audio.infra.outbound import parse_url
from video2audio.jobs.announcements import announce_upload
from video2audio.jobs.model import parse_output
from video2audio.jobs.publishing import COVER_IMAGE_FIELD, parse_publishing
from video2audio.jobs.repository import create_job, delete_job
from video2audio.upload.multipart import StoredUpload

logger = logging.getLogger(__name__)


def check_upload_fields(fields: Mapping[str, str]) -> None:
    """Raise :class:`BadRequestError` for an unknown format, a bad bitrate or webhook URL, or
    a bad publishing option (trim, loudness, tags, cover).

    The multipart receiver adds ``cover_image`` ("True"/"False") once the whole form is in.
    """
    parse_output(fields.get("format"), fields.get("bitrate"))
    parse_webhook_url(fields.get("webhook_url"))
    parse_publishing(fields, cover_image=_cover_received(fields))


def _cover_received(fields: Mapping[str, str]) -> bool | None:
    flag = fields.get(COVER_IMAGE_FIELD)
    return None if flag is None else flag == "True"


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
    trace: Span | None = None,
) -> dict[str, Any]:
    """Record the job, then announce it: once recorded, the upload is accepted.

    If the job cannot be recorded, video and job are removed (503: nothing was kept). If the
    broker cannot take the event now, the job waits in the outbox and the redelivery sweep
    announces it once the broker is back: the user never sends the file again.
    """
    output = parse_output(stored.fields.get("format"), stored.fields.get("bitrate"))
    publish = parse_publishing(stored.fields, cover_image=stored.cover_fid is not None)
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
            publish=publish,
            cover_fid=stored.cover_fid,
            job_id=job_id,
            trace=trace,
        )
    except Exception as exc:
        undo_upload(db, owner=owner, job_id=job_id, file_id=stored.file_id)
        if is_transient(exc):
            raise TransientError(
                "the upload could not be recorded; nothing was kept, try again"
            ) from exc
        raise
    announce_upload(job, db=db, publisher=publisher, convert_queue=routing_key)
    return job


def undo_upload(db: Database, *, owner: str, job_id: str, file_id: ObjectId) -> None:
    """Remove the job and video of an upload that could not be completed.

    The job goes first: if the rest fails, a video without a job is deleted by the expire sweep,
    whereas a job whose video document was already gone would be listed as queued for good.
    """
    try:
        delete_job(db, job_id, owner=owner)
        storage.delete_file(db, storage.VIDEOS, file_id)
        for other in storage.files_of_job(db, storage.VIDEOS, job_id):  # a cover image
            storage.delete_file(db, storage.VIDEOS, other)
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
