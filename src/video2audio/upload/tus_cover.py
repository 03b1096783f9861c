"""A cover image for a resumable upload: ``PUT /files/{job_id}/cover``, before its last byte.

tus metadata is a header, too small and the wrong place for an image, so the cover that
``/upload`` takes as its ``cover_image`` part comes here in a request of its own: a JPEG or PNG
body of at most ``MAX_COVER_BYTES``, recognised by its first bytes as the part is. It is taken
under the upload's lock and only while bytes are still missing, so the job that the last byte
queues already names it; a second PUT replaces the first.
"""

from __future__ import annotations

import logging

import flask

from video2audio.core.errors import BadRequestError, BusyError, ConflictError, NotFoundError
from video2audio.core.text import human_size
from video2audio.infra.storage import VIDEOS, delete_file
from video2audio.jobs import resumable
from video2audio.jobs.model import JobStatus
from video2audio.jobs.repository import JOBS, load_job
from video2audio.upload.context import UploadContext
from video2audio.upload.cover_part import CoverBuffer, store_cover
from video2audio.web.router import error_response, unread_body_response

logger = logging.getLogger(__name__)

READ_SIZE = 64 * 1024


def attach_cover(request: flask.Request, context: UploadContext, job_id: str) -> flask.Response:
    try:
        return _attach(request, context, job_id)
    except Exception as exc:
        # The rest of a refused body is not read (it may be far larger than a cover).
        return unread_body_response(error_response(exc))


def _attach(request: flask.Request, context: UploadContext, job_id: str) -> flask.Response:
    owner = context.owner_of(request)
    limit = context.settings.max_cover_bytes
    db = context.database()
    record = resumable.get_record(db, job_id, owner=owner)
    if (request.content_length or 0) > limit:
        raise BadRequestError(f"the cover image is larger than the limit of {human_size(limit)}")
    cover = _read(request, limit)
    token = resumable.acquire_lock(
        db, job_id, lease_seconds=context.settings.resumable_upload_lock_seconds
    )
    if token is None:
        raise BusyError("a request is appending to this upload; retry shortly")
    try:
        record = resumable.get_record(db, job_id, owner=owner)
        job = load_job(db, job_id)
        if job is None:  # its owner deleted the job; the upload goes with it on its next PATCH
            raise NotFoundError("upload not found")
        if record["done"] or job["status"] != JobStatus.UPLOADING.value:
            raise ConflictError("the upload is finished: a cover must come before its last byte")
        cover_fid = store_cover(db, cover, owner=owner, job_id=job_id)
        db[JOBS].update_one(
            {"_id": job_id}, {"$set": {"cover_fid": cover_fid, "publish.cover": "upload"}}
        )
    finally:
        resumable.release_lock(db, job_id, token)
    if job.get("cover_fid") is not None:
        delete_file(db, VIDEOS, job["cover_fid"])  # the one this replaces
    logger.info("cover image %s attached to upload %s", cover.content_type, job_id)
    return flask.Response(status=204)


def _read(request: flask.Request, limit: int) -> CoverBuffer:
    cover = CoverBuffer(limit)
    cover.start()
    while data := request.stream.read(READ_SIZE):
        cover.feed(data)  # refuses past the limit: a body without a length is bounded too
    cover.finish()
    return cover
