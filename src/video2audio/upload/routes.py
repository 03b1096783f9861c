"""The upload function's HTTP API: upload, job status and listing, download, links, health.

Every view is a module-level function ``view(request, context, **path_arguments)``;
:func:`build_router` composes them, so the function's entry point stays a few lines and tests can
build one with their own settings and clients.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask
from pymongo.database import Database

from video2audio.core.errors import (
    DEPENDENCY_ERRORS,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    GoneError,
    NotFoundError,
    Video2AudioError,
)
from video2audio.core.settings import Settings
from video2audio.infra import storage
from video2audio.infra.clients import mongo_database, rabbit_publisher
from video2audio.infra.messaging import RabbitPublisher
from video2audio.jobs import quotas
from video2audio.jobs import repository as jobs
from video2audio.jobs.links import check_link_signature, signed_download_url
from video2audio.jobs.model import AudioFormat, JobStatus, new_job_id
from video2audio.upload import job_views
from video2audio.upload.multipart import (
    check_declared_length,
    drain,
    multipart_boundary,
    receive_upload,
)
from video2audio.upload.submissions import check_upload_fields, create_and_announce
from video2audio.web.downloads import download_filename, file_response
from video2audio.web.router import (
    Router,
    authenticate,
    error_response,
    json_response,
    unread_body_response,
)
from video2audio.web.security_headers import page_policy
from video2audio.web.static_files import index_page, static_file

logger = logging.getLogger(__name__)

DRAIN_LIMIT = 4 * 1024 * 1024


@dataclass(frozen=True)
class UploadContext:
    settings: Settings
    static_dir: Path
    database: Callable[[], Database] = mongo_database
    publisher: Callable[[], RabbitPublisher] = rabbit_publisher

    @property
    def base_url(self) -> str:
        return self.settings.public_upload_url.rstrip("/")

    def owner_of(self, request: flask.Request) -> str:
        return authenticate(request, self.settings).username

    @property
    def quota(self) -> quotas.Quota:
        settings = self.settings
        return quotas.Quota(
            max_active_jobs=settings.max_active_jobs_per_user,
            max_stored_bytes=settings.max_stored_bytes_per_user,
            max_uploads_per_hour=settings.max_uploads_per_hour,
        )

    def view(self, job: Mapping[str, Any]) -> dict[str, Any]:
        return job_views.job_view(
            job, retention_seconds=self.settings.retention_seconds, base_url=self.base_url
        )


def upload_video(request: flask.Request, context: UploadContext) -> flask.Response:
    settings = context.settings
    try:
        owner = context.owner_of(request)
        check_declared_length(request.content_length, max_bytes=settings.max_upload_bytes)
        boundary = multipart_boundary(request.headers.get("Content-Type"))
        db = context.database()
        jobs.ensure_indexes(db)
        job_id = new_job_id()
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
        )
    except Exception:
        _give_back(db, slot, job_id)
        raise
    status_url = f"{context.base_url}/jobs/{job_id}"
    body = {
        "job_id": job_id,
        "video_fid": str(stored.file_id),
        "status": job["status"],
        "status_url": status_url,
    }
    return json_response(body, 202, {"Location": status_url})


def quota(request: flask.Request, context: UploadContext) -> flask.Response:
    owner = context.owner_of(request)
    return json_response(quotas.usage(context.database(), owner=owner, quota=context.quota))


def status_by_video(request: flask.Request, context: UploadContext) -> flask.Response:
    owner = context.owner_of(request)
    file_id = storage.parse_file_id(_required_arg(request, "fid"))
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
    if job.get("audio_fid") is not None:
        storage.delete_file(db, storage.AUDIO, job["audio_fid"])
    jobs.delete_job(db, job["_id"], owner=job["owner"])
    quotas.release_job_slot(db, owner=job["owner"], job_id=job["_id"])
    return flask.Response(status=204)


def create_link(request: flask.Request, context: UploadContext, job_id: str) -> flask.Response:
    settings = context.settings
    job = jobs.get_job(context.database(), job_id, owner=context.owner_of(request))
    _require_audio(job)
    expiry = job_views.expires_at(job, retention_seconds=settings.retention_seconds)
    expiry_seconds = int(expiry.timestamp()) if expiry else int(time.time()) + 3600
    if expiry_seconds <= time.time():
        raise GoneError("the audio has expired and was deleted")
    fid = str(job["audio_fid"])
    url = signed_download_url(
        context.base_url, fid, job["owner"], expiry_seconds, secret=settings.link_secret
    )
    return json_response({"url": url, "audio_fid": fid, "expires_at": expiry_seconds})


def download(request: flask.Request, context: UploadContext) -> flask.Response:
    db = context.database()
    if request.args.get("sig") is not None or request.args.get("exp") is not None:
        raw_fid = _required_arg(request, "fid")
        job = _job_for_signed_link(db, request, raw_fid, secret=context.settings.link_secret)
    else:
        owner = context.owner_of(request)  # no signature: the Bearer token decides, before all
        file_id = storage.parse_file_id(_required_arg(request, "fid"))
        job = jobs.find_job_by_file(db, "audio_fid", file_id, owner=owner)
    _require_audio(job)
    file_doc = storage.find_file(db, storage.AUDIO, job["audio_fid"])
    if file_doc is None:
        raise GoneError("the audio has expired and was deleted; upload the video again")
    audio_format = AudioFormat(job["output"]["format"])
    return file_response(
        request,
        db=db,
        bucket=storage.AUDIO,
        file_doc=file_doc,
        media_type=audio_format.media_type,
        filename=download_filename(job.get("filename"), audio_format.extension),
    )


def healthz(request: flask.Request, context: UploadContext) -> flask.Response:
    checks = {"mongodb": _mongo_ok(context.database), "rabbitmq": _rabbit_ok(context.publisher)}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    return json_response(body, 200 if healthy else 503)


def page_config(request: flask.Request, context: UploadContext) -> flask.Response:
    settings = context.settings
    return json_response(
        {
            "auth_url": settings.public_auth_url,
            "upload_url": settings.public_upload_url,
            "max_upload_bytes": settings.max_upload_bytes,
        }
    )


def page(request: flask.Request, context: UploadContext) -> flask.Response:
    response = index_page(context.static_dir)
    response.headers["Content-Security-Policy"] = page_policy(
        api_origins=(context.settings.public_upload_url, context.settings.public_auth_url)
    )
    return response


def page_file(request: flask.Request, context: UploadContext, path: str) -> flask.Response:
    return static_file(context.static_dir, path)


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
    return router


def _give_back(db: Database, slot: str, job_id: str) -> None:
    """The limits an upload took, given back because it was not accepted after all."""
    try:
        quotas.release_slot(db, slot, job_id)
        quotas.forget_upload(db, job_id)
    except DEPENDENCY_ERRORS:
        # MongoDB is what failed: the slot frees itself once its job is seen not to exist.
        logger.warning("could not give back the limits of upload %s", job_id, exc_info=True)


def _rejected_upload(request: flask.Request, exc: Exception) -> flask.Response:
    """The error answer for a refused upload, without reading the rest of a large body."""
    response = error_response(exc)
    if isinstance(exc, Video2AudioError) and exc.status_code < 500:
        logger.info("upload refused (%s): %s", exc.status_code, exc.message)
    # A small rest of the body is read, so the client is not reset before it reads the answer;
    # a large or unknown one is not waited for (a client may declare 3 GiB and send nothing).
    declared = request.content_length
    if (
        declared is not None
        and declared <= DRAIN_LIMIT
        and drain(request.stream, limit=DRAIN_LIMIT)
    ):
        return response
    return unread_body_response(response)


def _required_arg(request: flask.Request, name: str) -> str:
    # request.args values are always strings: `fid[$ne]=` is just an unknown parameter here,
    # never a query operator.
    value = request.args.get(name)
    if not value:
        raise BadRequestError(f"the {name} query parameter is required")
    return value


def _require_audio(job: Mapping[str, Any]) -> None:
    if job["status"] == JobStatus.EXPIRED.value:
        raise GoneError("the audio has expired and was deleted; upload the video again")
    if job["status"] != JobStatus.DONE.value or job.get("audio_fid") is None:
        raise ConflictError(f"the audio is not ready: the job is {job['status']}")


def _job_for_signed_link(
    db: Database, request: flask.Request, raw_fid: str, *, secret: str
) -> dict[str, Any]:
    """The job behind a signed link; any doubt about the link is the same 403."""
    expiry, signature = request.args.get("exp", ""), request.args.get("sig", "")
    try:
        file_id = storage.parse_file_id(raw_fid)
    except NotFoundError:
        raise ForbiddenError("download link is invalid") from None
    job = jobs.job_for_audio(db, file_id)
    if job is None:
        raise ForbiddenError("download link is invalid")
    check_link_signature(raw_fid, job["owner"], expiry, signature, secret=secret)
    return job


def _mongo_ok(database: Callable[[], Database]) -> bool:
    try:
        database().command("ping")
    except DEPENDENCY_ERRORS as exc:
        logger.warning("health check: MongoDB unavailable: %r", exc)
        return False
    return True


def _rabbit_ok(publisher: Callable[[], RabbitPublisher]) -> bool:
    healthy = publisher().is_healthy()
    if not healthy:
        logger.warning("health check: RabbitMQ unavailable")
    return healthy
