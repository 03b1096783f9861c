"""Appending a request's bytes to a resumable upload, and accepting the upload at its last byte.

One request at a time appends (a lock in the database, :mod:`video2audio.jobs.resumable`), at
exactly the offset stored so far. Bytes go into GridFS chunk by chunk as they arrive, and the
offset is recorded after each chunk and when the request ends, however it ends: a client that
drops the connection resumes where its stored bytes end. At the last byte the container is
recognised as for ``/upload`` (a non-media file is removed, 415), then the job is queued and
announced through the outbox exactly as a one-request upload is.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import IO, Any

from pymongo.database import Database
from werkzeug.exceptions import ClientDisconnected

from video2audio.core.clock import now
from video2audio.core.containers import SNIFF_BYTES, sniff_container
from video2audio.core.errors import (
    BusyError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    RequestTimeoutError,
    UnsupportedMediaError,
)
from video2audio.core.metrics import UPLOAD_BYTES, UPLOADS
from video2audio.infra.appending_upload import AppendingUpload
from video2audio.infra.storage import VIDEOS
from video2audio.jobs import quotas, resumable
from video2audio.jobs.announcements import announce_upload
from video2audio.jobs.model import JobStatus
from video2audio.jobs.repository import JOBS, load_job
from video2audio.upload.context import UploadContext

logger = logging.getLogger(__name__)

READ_SIZE = 256 * 1024


def expiry_from(moment: datetime, context: UploadContext) -> datetime:
    """An unfinished upload expires this long after its last stored byte."""
    return moment + timedelta(seconds=context.settings.resumable_upload_expiry_seconds)


def append(
    stream: IO[bytes],
    *,
    context: UploadContext,
    db: Database,
    upload_id: str,
    owner: str,
    client_offset: int,
    declared: int | None,
) -> dict[str, Any]:
    """Append the body at ``client_offset``; the upload's record as it is afterwards."""
    lease = context.settings.resumable_upload_lock_seconds
    token = resumable.acquire_lock(db, upload_id, lease_seconds=lease)
    if token is None:
        raise BusyError("another request is appending to this upload; retry shortly")
    try:
        # Read under the lock: the offset another request recorded before it let go counts.
        record = resumable.get_record(db, upload_id, owner=owner)
        if not record["done"] and load_job(db, upload_id) is None:
            # Its owner deleted the job (DELETE /jobs/...): the upload goes with it.
            resumable.abandon(db, record)
            raise NotFoundError("upload not found")
        if record["done"] or client_offset != record["offset"]:
            raise ConflictError(f"Upload-Offset must be {record['offset']}, the bytes stored")
        if declared is not None and client_offset + declared > record["length"]:
            raise PayloadTooLargeError("the bytes sent go past the upload's Upload-Length")
        writer = AppendingUpload(
            db, VIDEOS, record["file_id"], offset=record["offset"], tail=bytes(record["tail"])
        )
        writer.discard_beyond_offset()
        _receive(stream, writer, db=db, record=record, token=token, context=context)
        record = {**record, "offset": writer.offset, "tail": writer.tail}
        if writer.offset == record["length"]:
            _complete(writer, context=context, db=db, record=record)
            record["done"] = True
        return record
    finally:
        resumable.release_lock(db, upload_id, token)


def _receive(
    stream: IO[bytes],
    writer: AppendingUpload,
    *,
    db: Database,
    record: Mapping[str, Any],
    token: str,
    context: UploadContext,
) -> None:
    upload_id, length = record["_id"], record["length"]
    lease = context.settings.resumable_upload_lock_seconds

    def on_chunk(offset: int, tail: bytes) -> None:
        resumable.record_progress(
            db, upload_id, offset=offset, tail=tail, expires_at=expiry_from(now(), context)
        )
        resumable.renew_lock(db, upload_id, token, lease_seconds=lease)

    interrupted = False
    try:
        while True:
            data = stream.read(READ_SIZE)
            if not data:
                break
            if len(data) > length - writer.offset:
                # The piece that overshoots is refused whole; what came before it stays stored.
                raise PayloadTooLargeError("the bytes sent go past the upload's Upload-Length")
            writer.write(data, on_chunk=on_chunk)
    except (ClientDisconnected, ConnectionError, TimeoutError):
        # The client went away (or stalled past HTTP_IDLE_TIMEOUT_SECONDS): what arrived counts.
        interrupted = True
    finally:
        # However the request ends, the offset and tail are recorded: the resume starts there.
        on_chunk(writer.offset, writer.tail)
    if interrupted:
        logger.info("upload %s interrupted at %s of %s bytes", upload_id, writer.offset, length)
        raise RequestTimeoutError(f"the request stopped at offset {writer.offset}; resume there")


def _complete(
    writer: AppendingUpload, *, context: UploadContext, db: Database, record: Mapping[str, Any]
) -> None:
    """The last byte is in: recognise the container, publish the file, queue and announce."""
    upload_id, owner = record["_id"], record["owner"]
    container = sniff_container(writer.head(SNIFF_BYTES))
    if container is None:
        resumable.abandon(db, record)
        quotas.forget_upload(db, upload_id)
        UPLOADS.labels("rejected").inc()
        logger.info("upload %s refused: not media; its chunks were removed", upload_id)
        raise UnsupportedMediaError("the file is not a video or audio file this service recognises")
    writer.publish(
        filename=record["filename"],
        metadata={"owner": owner, "job_id": upload_id, "container": container},
    )
    moment = now()
    db[JOBS].update_one(
        {"_id": upload_id, "status": JobStatus.UPLOADING.value},
        {
            "$set": {
                "status": JobStatus.QUEUED.value,
                "media": {"container": container},
                "video_size": writer.offset,
                "bytes_received": writer.offset,
                "upload_finished_at": moment,
                "updated_at": moment,
            }
        },
    )
    resumable.mark_done(db, upload_id, offset=writer.offset)
    job = load_job(db, upload_id)
    if job is None:  # deleted by its owner meanwhile: the file goes with it
        resumable.abandon(db, {**record, "done": False})
        raise ConflictError("the upload's job was deleted")
    announce_upload(
        job, db=db, publisher=context.publisher(), convert_queue=context.settings.convert_queue
    )
    UPLOADS.labels("accepted").inc()
    UPLOAD_BYTES.inc(writer.offset)
    logger.info("job %s accepted: %s bytes of %s (resumable)", upload_id, writer.offset, container)
