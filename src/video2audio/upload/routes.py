"""The upload function's HTTP API: upload, job status and listing, download, links, health.

Every view is a module-level function ``view(request, context, **path_arguments)``;
:func:`build_router` composes them, so the function's entry point stays a few lines and tests can
build one with their own settings and clients.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import flask
from pymongo.database import Database

from video2audio.core.errors import RequestTimeoutError, Video2AudioError, is_dependency_failure
from video2audio.core.logs import bind_log_context
from video2audio.core.metrics import UPLOAD_BYTES, UPLOADS
from video2audio.core.settings import Settings
from video2audio.infra import storage
from video2audio.infra.clients import mongo_database, rabbit_publisher
from video2audio.infra.messaging import RabbitPublisher
from video2audio.jobs import quotas
from video2audio.jobs import repository as jobs
from video2audio.jobs.model import new_job_id
from video2audio.upload import job_views
from video2audio.upload.audio_routes import create_link, download
from video2audio.upload.context import UploadContext, required_arg
from video2audio.upload.import_routes import import_video
from video2audio.upload.multipart import (
    check_declared_length,
    drain,
    multipart_boundary,
    receive_upload,
)
from video2audio.upload.page_routes import (
    openapi_description,
    page,
    page_config,
    page_file,
)
from video2audio.upload.submissions import check_upload_fields, create_and_announce
from video2audio.upload.tus_cover import attach_cover
from video2audio.upload.tus_routes import (
    tus_append,
    tus_create,
    tus_offset,
    tus_options,
    tus_terminate,
)
from video2audio.web.api_docs import api_docs, api_docs_file
from video2audio.web.router import (
    Router,
    error_response,
    json_response,
    request_span,
    unread_body_response,
)

logger = logging.getLogger(__name__)

DRAIN_LIMIT = 4 * 1024 * 1024


def upload_video(request: flask.Request, context: UploadContext) -> flask.Response:
    settings = context.settings
    try:
        owner = context.owner_of(request)
        check_declared_length(
            request.content_length, max_bytes=settings.max_upload_bytes + settings.max_cover_bytes
        )
        boundary = multipart_boundary(request.headers.get("Content-Type"))
        db = context.database()
        jobs.ensure_indexes(db)
        job_id = new_job_id()
        bind_log_context(job_id=job_id)
        # The limits are checked before a byte of the body is read.
        quotas.check_storage(db, owner=owner, incoming=request.content_length, quota=context.quota)
        slot = quotas.reserve_slot(db, owner=owner, job_id=job_id, quota=context.quota)
    except Exception as exc:
        return _rejected_upload(request, exc)
    try:
        quotas.record_upload(db, owner=owner, job_id=job_id, quota=context.quota)
        stored = receive_upload(
            request.stream,
            boundary=boundary,
            db=db,
            owner=owner,
            job_id=job_id,
            max_bytes=settings.max_upload_bytes,
            check_fields=check_upload_fields,
            max_cover_bytes=settings.max_cover_bytes,
        )
    except Exception as exc:
        _give_back(db, slot, job_id)
        return _rejected_upload(request, exc)
    try:
        job = create_and_announce(
            db,
            context.publisher(),
            routing_key=settings.convert_queue,
            owner=owner,
            job_id=job_id,
            stored=stored,
            # The job's trace: this request's span (a child of the caller's, or a fresh trace).
            trace=request_span(request),
        )
    except Exception:
        _give_back(db, slot, job_id)
        UPLOADS.labels("failed").inc()
        raise
    logger.info("job %s accepted: %s bytes of %s", job_id, stored.size, stored.container)
    UPLOADS.labels("accepted").inc()
    UPLOAD_BYTES.inc(stored.size)
    status_url = f"{context.base_url}/jobs/{job_id}"
    body = {
        "job_id": job_id,
        "video_fid": str(stored.file_id),
        "status": job["status"],
        "status_url": status_url,
        "trace_id": job["trace_id"],
    }
    return json_response(body, 202, {"Location": status_url})


def quota(request: flask.Request, context: UploadContext) -> flask.Response:
    owner = context.owner_of(request)
    return json_response(quotas.usage(context.database(), owner=owner, quota=context.quota))


def status_by_video(request: flask.Request, context: UploadContext) -> flask.Response:
    owner = context.owner_of(request)
    file_id = storage.parse_file_id(required_arg(request, "fid"))
    job = jobs.find_job_by_file(context.database(), "video_fid", file_id, owner=owner)
    return json_response(context.view(job))


def list_jobs(request: flask.Request, context: UploadContext) -> flask.Response:
    owner = context.owner_of(request)
    limit = job_views.parse_limit(request.args.get("limit"))
    page, cursor = job_views.list_page(
        context.database(), owner=owner, limit=limit, cursor=request.args.get("cursor") or None
    )
    return json_response({"jobs": [context.view(job) for job in page], "next_cursor": cursor})


def get_job(request: flask.Request, context: UploadContext, job_id: str) -> flask.Response:
    job = jobs.get_job(context.database(), job_id, owner=context.owner_of(request))
    return json_response(context.view(job))


def delete_job(request: flask.Request, context: UploadContext, job_id: str) -> flask.Response:
    db = context.database()
    job = jobs.get_job(db, job_id, owner=context.owner_of(request))
    storage.delete_file(db, storage.VIDEOS, job["video_fid"])
    if job.get("cover_fid") is not None:
        storage.delete_file(db, storage.VIDEOS, job["cover_fid"])
    jobs.delete_job(db, job["_id"], owner=job["owner"])
    quotas.release_job_slot(db, owner=job["owner"], job_id=job["_id"])
    # After the job: a conversion that finishes from now on finds it gone and deletes its own
    # audio; one that finished just before is found here by the job id its audio carries.
    for audio in storage.files_of_job(db, storage.AUDIO, job["_id"]):
        storage.delete_file(db, storage.AUDIO, audio)
    return flask.Response(status=204)


def healthz(request: flask.Request, context: UploadContext) -> flask.Response:
    checks = {"mongodb": _mongo_ok(context.database), "rabbitmq": _rabbit_ok(context.publisher)}
    # Without RabbitMQ uploads are still accepted (they wait in the outbox): degraded, still
    # ready. Without MongoDB nothing can be stored: not ready.
    if not checks["mongodb"]:
        status, code = "unavailable", 503
    else:
        status, code = ("ok" if checks["rabbitmq"] else "degraded"), 200
    return json_response({"status": status, "checks": checks}, code)


def build_router(
    settings: Settings,
    *,
    static_dir: Path,
    database: Callable[[], Database] = mongo_database,
    publisher: Callable[[], RabbitPublisher] = rabbit_publisher,
) -> Router[UploadContext]:
    context = UploadContext(settings, static_dir, database, publisher)
    router = Router(context, cors_origins=settings.cors_allowed_origins)
    router.add("/upload", upload_video, methods=["POST"], streams_body=True)
    # Resumable uploads (tus 1.0.0): video2audio/upload/tus_routes.py.
    router.add("/files/", tus_options, methods=["OPTIONS"])
    router.add("/files/", tus_create, methods=["POST"], streams_body=True)
    router.add("/files/<job_id>", tus_offset, methods=["HEAD"])
    router.add("/files/<job_id>", tus_append, methods=["PATCH"], streams_body=True)
    router.add("/files/<job_id>", tus_terminate, methods=["DELETE"])
    router.add("/files/<job_id>/cover", attach_cover, methods=["PUT"], streams_body=True)
    router.add("/import", import_video, methods=["POST"])
    router.add("/quota", quota, methods=["GET"])
    router.add("/status", status_by_video, methods=["GET"])
    router.add("/jobs", list_jobs, methods=["GET"])
    router.add("/jobs/<job_id>", get_job, methods=["GET"])
    router.add("/jobs/<job_id>", delete_job, methods=["DELETE"])
    router.add("/jobs/<job_id>/link", create_link, methods=["POST"])
    router.add("/download", download, methods=["GET", "HEAD"])
    router.add("/healthz", healthz, methods=["GET"])
    router.add("/config.json", page_config, methods=["GET"])
    router.add("/", page, methods=["GET"])
    # Under functions-framework, Flask's own static route answers /static/ first (the function's
    # main.py points it at the same folder); this route serves them anywhere else.
    router.add("/static/<path:path>", page_file, methods=["GET"])
    # Described in openapi.yaml here, with what every function shares (web/openapi_common.yaml).
    router.add("/openapi.json", openapi_description, methods=["GET"])
    router.add("/docs", api_docs, methods=["GET"])
    router.add("/docs/<asset>", api_docs_file, methods=["GET"])
    return router


def _give_back(db: Database, slot: str, job_id: str) -> None:
    """The limits an upload took, given back because it was not accepted after all."""
    try:
        quotas.release_slot(db, slot, job_id)
        quotas.forget_upload(db, job_id)
    except Exception as exc:
        if not is_dependency_failure(exc):
            raise
        # MongoDB is what failed: the slot frees itself once its job is seen not to exist.
        logger.warning("could not give back the limits of upload %s", job_id, exc_info=True)


def _rejected_upload(request: flask.Request, exc: Exception) -> flask.Response:
    """The error answer for a refused upload, without reading the rest of a large body."""
    response = error_response(exc)
    UPLOADS.labels("failed" if response.status_code >= 500 else "rejected").inc()
    if isinstance(exc, Video2AudioError) and exc.status_code < 500:
        logger.info("upload refused (%s): %s", exc.status_code, exc.message)
    # A small rest of the body is read, so the client is not reset before it reads the answer;
    # a large or unknown one is not waited for (a client may declare 3 GiB and send nothing).
    small = (request.content_length or DRAIN_LIMIT + 1) <= DRAIN_LIMIT
    gone = isinstance(exc, RequestTimeoutError)  # nothing more is coming: close at once
    if small and not gone and drain(request.stream, limit=DRAIN_LIMIT):
        return response
    return unread_body_response(response)


def _mongo_ok(database: Callable[[], Database]) -> bool:
    try:
        database().command("ping")
    except Exception as exc:
        if not is_dependency_failure(exc):
            raise
        logger.warning("health check: MongoDB unavailable: %r", exc)
        return False
    return True


def _rabbit_ok(publisher: Callable[[], RabbitPublisher]) -> bool:
    healthy = publisher().is_healthy()
    if not healthy:
        logger.warning("health check: RabbitMQ unavailable")
    return healthy
