"""Conversion jobs: the model and its MongoDB repository.

A job is owned by one user; every lookup takes the owner, so a user only ever sees their own jobs
(another user's id and an unknown id are the same 404). Claiming a job for conversion and the
lease that comes with it are in :mod:`video2audio.leases`.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database

from video2audio.errors import BadRequestError, NotFoundError

JOBS = "jobs"
JOB_ID_LENGTH = 32


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"


class AudioFormat(enum.StrEnum):
    MP3 = "mp3"
    M4A = "m4a"
    OPUS = "opus"
    FLAC = "flac"
    WAV = "wav"

    @property
    def is_lossy(self) -> bool:
        return self in {AudioFormat.MP3, AudioFormat.M4A, AudioFormat.OPUS}

    @property
    def media_type(self) -> str:
        return {
            AudioFormat.MP3: "audio/mpeg",
            AudioFormat.M4A: "audio/mp4",
            AudioFormat.OPUS: "audio/ogg",
            AudioFormat.FLAC: "audio/flac",
            AudioFormat.WAV: "audio/wav",
        }[self]

    @property
    def extension(self) -> str:
        return "ogg" if self is AudioFormat.OPUS else self.value


DEFAULT_BITRATE = {AudioFormat.MP3: "192k", AudioFormat.M4A: "192k", AudioFormat.OPUS: "128k"}
MIN_BITRATE_KBPS, MAX_BITRATE_KBPS = 32, 320


def parse_output(format_name: str | None, bitrate: str | None) -> dict[str, Any]:
    """The requested output ``{"format", "bitrate"}``, validated; bitrate is None when lossless."""
    try:
        audio_format = AudioFormat((format_name or "mp3").strip().lower())
    except ValueError:
        allowed = ", ".join(f.value for f in AudioFormat)
        raise BadRequestError(f"format must be one of {allowed}") from None
    if not audio_format.is_lossy:
        if bitrate:
            raise BadRequestError(f"bitrate does not apply to lossless {audio_format.value}")
        return {"format": audio_format.value, "bitrate": None}
    raw = (bitrate or DEFAULT_BITRATE[audio_format]).strip().lower()
    digits = raw.removesuffix("k")
    # isdecimal, not isdigit: isdigit accepts '²', which int() refuses.
    if not digits.isdecimal() or not MIN_BITRATE_KBPS <= int(digits) <= MAX_BITRATE_KBPS:
        raise BadRequestError(
            f"bitrate must be between {MIN_BITRATE_KBPS}k and {MAX_BITRATE_KBPS}k, like 192k"
        )
    return {"format": audio_format.value, "bitrate": f"{int(digits)}k"}


def now() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` with UTC attached when it has no zone: the clients read times zone-aware, but a
    client configured otherwise returns naive UTC, which cannot be compared with aware times."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def ensure_indexes(db: Database) -> None:
    jobs = db[JOBS]
    jobs.create_index([("owner", ASCENDING), ("created_at", DESCENDING)])
    jobs.create_index([("video_fid", ASCENDING)])
    jobs.create_index([("audio_fid", ASCENDING)])


def new_job_id() -> str:
    return uuid.uuid4().hex


def create_job(
    db: Database,
    *,
    owner: str,
    video_fid: ObjectId,
    filename: str,
    output: Mapping[str, Any],
    webhook_url: str | None,
    media: Mapping[str, Any] | None = None,
    video_size: int | None = None,
    job_id: str | None = None,
) -> dict[str, Any]:
    created = now()
    job = {
        "_id": job_id or new_job_id(),
        "owner": owner,
        "video_fid": video_fid,
        "filename": filename,
        "output": dict(output),
        "webhook_url": webhook_url,
        "status": JobStatus.QUEUED.value,
        "audio_fid": None,
        "error": None,
        "progress": 0,
        "attempts": 0,
        "lease_owner": None,
        "lease_until": None,
        "media": dict(media or {}),
        "video_size": video_size,
        "created_at": created,
        "updated_at": created,
    }
    db[JOBS].insert_one(job)
    return job


def _job_id_filter(job_id: object) -> str:
    if not isinstance(job_id, str) or len(job_id) != JOB_ID_LENGTH:
        raise NotFoundError("job not found")
    try:
        int(job_id, 16)
    except ValueError:
        raise NotFoundError("job not found") from None
    return job_id


def get_job(db: Database, job_id: object, *, owner: str) -> dict[str, Any]:
    job = db[JOBS].find_one({"_id": _job_id_filter(job_id), "owner": owner})
    if job is None:
        raise NotFoundError("job not found")
    return job


def load_job(db: Database, job_id: object) -> dict[str, Any] | None:
    """A job by id for the event functions, which act for whoever owns it."""
    try:
        return db[JOBS].find_one({"_id": _job_id_filter(job_id)})
    except NotFoundError:
        return None


def find_job_by_file(db: Database, field: str, file_id: ObjectId, *, owner: str) -> dict[str, Any]:
    if field not in {"video_fid", "audio_fid"}:
        raise ValueError(field)
    job = db[JOBS].find_one({field: file_id, "owner": owner})
    if job is None:
        raise NotFoundError("file not found")
    return job


def delete_job(db: Database, job_id: str, *, owner: str) -> None:
    db[JOBS].delete_one({"_id": job_id, "owner": owner})


def update_job(db: Database, job_id: str, changes: Mapping[str, Any]) -> None:
    db[JOBS].update_one({"_id": job_id}, {"$set": {**changes, "updated_at": now()}})


def public_view(job: Mapping[str, Any], *, status_url: str | None = None) -> dict[str, Any]:
    """The job as the API shows it to its owner."""
    output = job.get("output") or {}
    view: dict[str, Any] = {
        "job_id": job["_id"],
        "video_fid": str(job["video_fid"]),
        "status": job["status"],
        "progress": int(job.get("progress") or 0),
        "format": output.get("format"),
        "bitrate": output.get("bitrate"),
        "filename": job.get("filename"),
        "created_at": _iso(job.get("created_at")),
        "updated_at": _iso(job.get("updated_at")),
    }
    if job.get("audio_fid") is not None:
        view["audio_fid"] = str(job["audio_fid"])
        if output.get("format") == AudioFormat.MP3.value:
            view["mp3_fid"] = view["audio_fid"]
    if job.get("error"):
        view["error"] = job["error"]
    for key in ("media", "audio"):
        if job.get(key):
            view[key] = job[key]
    if job.get("expires_at"):
        view["expires_at"] = _iso(job["expires_at"])
    if status_url:
        view["status_url"] = status_url
    return view


def _iso(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat()
