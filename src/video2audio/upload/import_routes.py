"""Import from a URL: ``POST /import`` records and announces a job whose video is fetched later.

The request only checks and records: the job (queued, its ``import.url`` set) is announced
through the outbox exactly as an upload's is, and the convert function that claims it fetches
the file first (:mod:`video2audio.convert.imports`), under the job's lease, so a fetch that dies
with its pod is retried and a job is never lost between the answer and the download. Where the
URL leads is checked at every hop when it is fetched; here only its form.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote

import flask
from bson import ObjectId

from video2audio.core.errors import BadRequestError
from video2audio.core.logs import bind_log_context
from video2audio.core.metrics import UPLOADS
from video2audio.core.text import base_name
from video2audio.infra.outbound import parse_url
from video2audio.jobs import quotas
from video2audio.jobs import repository as jobs
from video2audio.jobs.announcements import announce_upload
from video2audio.jobs.model import new_job_id, parse_output
from video2audio.jobs.publishing import COVER_IMAGE_FIELD, OPTION_FIELDS, parse_publishing
from video2audio.upload.context import UploadContext
from video2audio.upload.submissions import check_upload_fields, parse_webhook_url
from video2audio.web.router import json_response, request_span

logger = logging.getLogger(__name__)

FIELDS = ("format", "bitrate", "webhook_url", *OPTION_FIELDS)
# JSON numbers are welcome where the form takes a number as text ("loudness": -16).
NUMERIC_FIELDS = ("start", "end", "loudness", "true_peak", "year")


def _import_request(request: flask.Request) -> tuple[str, dict[str, str]]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequestError('send a JSON object like {"url": "https://…/video.mp4"}')
    url = body.get("url")
    if not isinstance(url, str) or not url.strip():
        raise BadRequestError("url is required: the http(s) address of the video")
    parse_url(url, what="url")
    if COVER_IMAGE_FIELD in body or str(body.get("cover", "")).strip().lower() == "upload":
        raise BadRequestError(
            "an import cannot carry a cover image: use cover auto or none, or upload the video"
            " (/upload with a cover_image part, or tus and PUT /files/{job_id}/cover)"
        )
    fields: dict[str, str] = {}
    for name in FIELDS:
        value = body.get(name)
        if value is None:
            continue
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if numeric and name in NUMERIC_FIELDS:
            value = str(value)
        if not isinstance(value, str):
            raise BadRequestError(f"{name} must be a string")
        fields[name] = value
    unknown = sorted(set(body) - {"url", *FIELDS})
    if unknown:
        raise BadRequestError(f"unknown field {unknown[0]!r}")
    check_upload_fields(fields)
    return url.strip(), fields


def _filename(url: str) -> str:
    path = parse_url(url, what="url").path
    return base_name(unquote(path.rsplit("/", 1)[-1]) or "video")


def import_video(request: flask.Request, context: UploadContext) -> flask.Response:
    try:
        owner = context.owner_of(request)
        url, fields = _import_request(request)
        db = context.database()
        jobs.ensure_indexes(db)
        job_id = new_job_id()
        bind_log_context(job_id=job_id)
        # The size is unknown until the fetch, which stops at MAX_UPLOAD_BYTES.
        quotas.check_storage(db, owner=owner, incoming=None, quota=context.quota)
        slot = quotas.reserve_slot(db, owner=owner, job_id=job_id, quota=context.quota)
    except Exception:
        UPLOADS.labels("rejected").inc()
        raise
    try:
        quotas.record_upload(db, owner=owner, job_id=job_id, quota=context.quota)
        job = jobs.create_job(
            db,
            owner=owner,
            video_fid=ObjectId(),  # the file the fetch will store
            filename=_filename(url),
            output=parse_output(fields.get("format"), fields.get("bitrate")),
            webhook_url=parse_webhook_url(fields.get("webhook_url")),
            publish=parse_publishing(fields, cover_image=False),
            job_id=job_id,
            trace=request_span(request),
            extra={"import": {"url": url}},
        )
    except Exception:
        quotas.release_slot(db, slot, job_id)
        quotas.forget_upload(db, job_id)
        UPLOADS.labels("failed").inc()
        raise
    # Recorded: accepted. If the broker cannot take the event now, the outbox sends it later.
    announce_upload(
        job, db=db, publisher=context.publisher(), convert_queue=context.settings.convert_queue
    )
    UPLOADS.labels("accepted").inc()
    logger.info("job %s accepted: import of %s", job_id, url)
    return json_response(_answer(job, context), 202, {"Location": _status_url(job, context)})


def _status_url(job: dict[str, Any], context: UploadContext) -> str:
    return f"{context.base_url}/jobs/{job['_id']}"


def _answer(job: dict[str, Any], context: UploadContext) -> dict[str, Any]:
    return {
        "job_id": job["_id"],
        "video_fid": str(job["video_fid"]),
        "status": job["status"],
        "status_url": _status_url(job, context),
        "trace_id": job["trace_id"],
    }
