"""The upload function's views that hand out the audio: downloads and signed links."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import flask
from pymongo.database import Database

from video2audio.core.errors import (
    ConflictError,
    ForbiddenError,
    GoneError,
    NotFoundError,
)
from video2audio.infra import storage
from video2audio.jobs import repository as jobs
from video2audio.jobs.links import check_link_signature, signed_download_url
from video2audio.jobs.model import AudioFormat, JobStatus
from video2audio.upload import job_views
from video2audio.upload.context import UploadContext, required_arg
from video2audio.web.downloads import download_filename, file_response
from video2audio.web.router import json_response

logger = logging.getLogger(__name__)


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
        raw_fid = required_arg(request, "fid")
        job = _job_for_signed_link(db, request, raw_fid, secret=context.settings.link_secret)
    else:
        owner = context.owner_of(request)  # no signature: the Bearer token decides, before all
        file_id = storage.parse_file_id(required_arg(request, "fid"))
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
