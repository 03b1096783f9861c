"""Resumable uploads: tus 1.0.0 core with creation, creation-with-upload, termination and
expiration, at ``/files/``.

An upload is created with its length and metadata (the fields ``/upload`` takes), and becomes a
job at once (status ``uploading``, its id in the ``Video2Audio-Job-Id`` header and the upload's
URL); its bytes arrive over any number of ``PATCH`` requests, and at the last one the job is
queued and announced as a one-request upload is. Every request needs the owner's Bearer token;
anyone else's upload is a 404.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import flask
from bson import ObjectId

from video2audio.core.clock import as_utc, now
from video2audio.core.errors import (
    BadRequestError,
    BusyError,
    ConflictError,
    PayloadTooLargeError,
)
from video2audio.core.logs import bind_log_context
from video2audio.core.metrics import UPLOADS
from video2audio.core.text import base_name, human_size
from video2audio.jobs import quotas, resumable
from video2audio.jobs import repository as jobs
from video2audio.jobs.model import JobStatus, new_job_id, parse_output
from video2audio.jobs.publishing import parse_publishing
from video2audio.upload.context import UploadContext
from video2audio.upload.submissions import check_upload_fields, parse_webhook_url
from video2audio.upload.tus_protocol import (
    JOB_ID_HEADER,
    OFFSET_CONTENT_TYPE,
    TUS_VERSION,
    check_offset_body,
    check_version,
    http_date,
    parse_metadata,
    parse_number,
    server_headers,
)
from video2audio.upload.tus_transfer import append, expiry_from
from video2audio.web.router import error_response, request_span, unread_body_response

logger = logging.getLogger(__name__)

TusView = Callable[..., flask.Response]


def tus_view(view: TusView) -> TusView:
    """Checks the protocol version first, and names ours on every answer, errors included."""

    @functools.wraps(view)
    def wrapped(request: flask.Request, context: UploadContext, **kwargs: Any) -> flask.Response:
        try:
            check_version(request)
            response = view(request, context, **kwargs)
        except Exception as exc:
            response = error_response(exc)
            if request.method in {"PATCH", "POST"} and (request.content_length or 0) > 0:
                # The rest of a refused body is not read (it may be gigabytes).
                response = unread_body_response(response)
        response.headers["Tus-Resumable"] = TUS_VERSION
        if response.status_code == 412:
            response.headers["Tus-Version"] = TUS_VERSION
        return response

    return wrapped


def tus_options(request: flask.Request, context: UploadContext) -> flask.Response:
    """What this server speaks; needs no token and no version (tus discovery)."""
    return flask.Response(status=204, headers=server_headers(context.settings.max_upload_bytes))


@tus_view
def tus_create(request: flask.Request, context: UploadContext) -> flask.Response:
    settings = context.settings
    try:
        owner = context.owner_of(request)
        length = parse_number(request, "Upload-Length")
        if length == 0:
            raise BadRequestError("the file is empty")
        if length > settings.max_upload_bytes:
            limit = human_size(settings.max_upload_bytes)
            raise PayloadTooLargeError(f"the file is larger than the limit of {limit}")
        fields = parse_metadata(request.headers.get("Upload-Metadata"))
        check_upload_fields(fields)
        with_bytes = (request.content_length or 0) > 0 or request.mimetype == OFFSET_CONTENT_TYPE
        if with_bytes:
            check_offset_body(request)  # creation-with-upload
        db = context.database()
        jobs.ensure_indexes(db)
        job_id = new_job_id()
        bind_log_context(job_id=job_id)
        quotas.check_storage(db, owner=owner, incoming=length, quota=context.quota)
        slot = quotas.reserve_slot(db, owner=owner, job_id=job_id, quota=context.quota)
    except Exception:
        UPLOADS.labels("rejected").inc()
        raise
    try:
        quotas.record_upload(db, owner=owner, job_id=job_id, quota=context.quota)
    except Exception:
        quotas.release_slot(db, slot, job_id)
        UPLOADS.labels("rejected").inc()
        raise
    filename = base_name(fields.get("filename") or "video")
    try:
        record = _create(context, request, owner=owner, job_id=job_id, length=length, fields=fields)
    except Exception:
        quotas.release_slot(db, slot, job_id)
        quotas.forget_upload(db, job_id)
        resumable.delete_record(db, job_id)
        UPLOADS.labels("failed").inc()
        raise
    headers = {
        "Location": f"{context.base_url}/files/{job_id}",
        JOB_ID_HEADER: job_id,
        "Upload-Offset": "0",
        "Upload-Expires": http_date(as_utc(record["expires_at"])),
    }
    logger.info("resumable upload %s of %s bytes created (%s)", job_id, length, filename)
    if with_bytes:
        record = append(
            request.stream,
            context=context,
            db=db,
            upload_id=job_id,
            owner=owner,
            client_offset=0,
            declared=request.content_length,
        )
        headers["Upload-Offset"] = str(record["offset"])
    return flask.Response(status=201, headers=headers)


def _create(
    context: UploadContext,
    request: flask.Request,
    *,
    owner: str,
    job_id: str,
    length: int,
    fields: dict[str, str],
) -> dict[str, Any]:
    """The job (uploading) and the upload's record; the job's file id is the upload's file."""
    db = context.database()
    filename = base_name(fields.get("filename") or "video")
    record = resumable.create_record(
        db,
        upload_id=job_id,
        owner=owner,
        file_id=ObjectId(),
        length=length,
        filename=filename,
        fields=fields,
        expires_at=expiry_from(now(), context),
    )
    job = jobs.create_job(
        db,
        owner=owner,
        video_fid=record["file_id"],
        filename=filename,
        output=parse_output(fields.get("format"), fields.get("bitrate")),
        webhook_url=parse_webhook_url(fields.get("webhook_url")),
        video_size=length,
        publish=parse_publishing(fields, cover_image=False),
        job_id=job_id,
        trace=request_span(request),
        status=JobStatus.UPLOADING,
    )
    jobs.update_job(
        db, job["_id"], {"bytes_received": 0, "upload_expires_at": record["expires_at"]}
    )
    return record


@tus_view
def tus_offset(request: flask.Request, context: UploadContext, job_id: str) -> flask.Response:
    owner = context.owner_of(request)
    record = resumable.get_record(context.database(), job_id, owner=owner)
    headers = {
        "Upload-Offset": str(record["offset"]),
        "Upload-Length": str(record["length"]),
        "Cache-Control": "no-store",
        JOB_ID_HEADER: job_id,
    }
    # A finished upload's record (which answers HEAD) expires as well.
    headers["Upload-Expires"] = http_date(as_utc(record["expires_at"]))
    return flask.Response(status=200, headers=headers)


@tus_view
def tus_append(request: flask.Request, context: UploadContext, job_id: str) -> flask.Response:
    owner = context.owner_of(request)
    check_offset_body(request)
    offset = parse_number(request, "Upload-Offset")
    record = append(
        request.stream,
        context=context,
        db=context.database(),
        upload_id=job_id,
        owner=owner,
        client_offset=offset,
        declared=request.content_length,
    )
    headers = {
        "Upload-Offset": str(record["offset"]),
        "Upload-Expires": http_date(expiry_from(now(), context)),
        JOB_ID_HEADER: job_id,
    }
    return flask.Response(status=204, headers=headers)


@tus_view
def tus_terminate(request: flask.Request, context: UploadContext, job_id: str) -> flask.Response:
    """Abandon an unfinished upload: its job, bytes and slot go. A finished one is a job now
    (``DELETE /jobs/{job_id}``)."""
    owner = context.owner_of(request)
    db = context.database()
    lease = context.settings.resumable_upload_lock_seconds
    record = resumable.get_record(db, job_id, owner=owner)
    token = resumable.acquire_lock(db, job_id, lease_seconds=lease)
    if token is None or record["done"]:
        if token is not None:
            resumable.release_lock(db, job_id, token)
        if record["done"]:
            raise ConflictError("the upload is finished (delete its job instead)")
        raise BusyError("a request is appending to this upload; retry shortly")
    resumable.abandon(db, record)
    quotas.forget_upload(db, job_id)
    logger.info("resumable upload %s terminated by its owner", job_id)
    return flask.Response(status=204)
