"""Conversion jobs: the model and its MongoDB repository.

A job is owned by one user; every lookup takes the owner, so a user only ever sees their own jobs
(another user's id and an unknown id are the same 404). Conversions take a *lease* on their job
and renew it while they work: a crashed worker's lease runs out quickly, so the event source's
retry can take the job over, while a duplicate delivery never converts a job twice.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from video2audio.errors import BadRequestError, NotFoundError

JOBS = "jobs"
CLAIMS = "job_claims"  # one document per conversion attempt; its unique _id is the claim
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


def list_jobs(
    db: Database, *, owner: str, limit: int, before: datetime | None = None
) -> list[dict[str, Any]]:
    query: dict[str, Any] = {"owner": owner}
    if before is not None:
        query["created_at"] = {"$lt": before}
    return list(db[JOBS].find(query).sort("created_at", DESCENDING).limit(limit))


def delete_job(db: Database, job_id: str, *, owner: str) -> None:
    db[JOBS].delete_one({"_id": job_id, "owner": owner})


def update_job(db: Database, job_id: str, changes: Mapping[str, Any]) -> None:
    db[JOBS].update_one({"_id": job_id}, {"$set": {**changes, "updated_at": now()}})


def claim_job(
    db: Database, job_id: str, *, worker: str, lease_seconds: float
) -> dict[str, Any] | None:
    """Take the job for conversion: queued, or processing under a lease that ran out.

    Returns the claimed job, or None when it is done, failed, expired, or leased by a live worker.
    The claim itself is the insert of a document whose ``_id`` names the job and attempt: FerretDB
    v1 does not make conditional updates atomic (several racing ``find_one_and_update`` calls can
    all "win"), but a duplicate ``_id`` is always refused, so exactly one delivery converts.
    """
    job = db[JOBS].find_one({"_id": job_id})
    moment = now()
    if job is None or not _claimable(job, moment):
        return None
    attempt = int(job.get("attempts") or 0) + 1
    claim_id = f"{job_id}:{attempt}"
    try:
        db[CLAIMS].insert_one(
            {"_id": claim_id, "job_id": job_id, "worker": worker, "claimed_at": moment}
        )
    except DuplicateKeyError:
        _skip_abandoned_claim(db, job, claim_id, moment, lease_seconds)
        return None
    changes = {
        "status": JobStatus.PROCESSING.value,
        "lease_owner": worker,
        "lease_until": moment + timedelta(seconds=lease_seconds),
        "started_at": moment,
        "updated_at": moment,
        "error": None,
        "attempts": attempt,
    }
    db[JOBS].update_one({"_id": job_id}, {"$set": changes})
    return {**job, **changes}


def _claimable(job: Mapping[str, Any], moment: datetime) -> bool:
    if job["status"] == JobStatus.QUEUED.value:
        return True
    lease_until = job.get("lease_until")
    if job["status"] != JobStatus.PROCESSING.value or lease_until is None:
        return False
    if lease_until.tzinfo is None:
        lease_until = lease_until.replace(tzinfo=UTC)
    return lease_until < moment


def _skip_abandoned_claim(
    db: Database, job: Mapping[str, Any], claim_id: str, moment: datetime, lease_seconds: float
) -> None:
    """A worker that claimed but died before recording it on the job would block every later
    claim of that attempt number; once such a claim is older than a lease, move past it."""
    claim = db[CLAIMS].find_one({"_id": claim_id})
    if claim is None or job.get("lease_owner") == claim["worker"]:
        return
    claimed_at = claim["claimed_at"]
    if claimed_at.tzinfo is None:
        claimed_at = claimed_at.replace(tzinfo=UTC)
    if claimed_at < moment - timedelta(seconds=lease_seconds):
        attempt = int(claim_id.rsplit(":", 1)[1])
        db[JOBS].update_one({"_id": job["_id"]}, {"$set": {"attempts": attempt}})


def renew_lease(
    db: Database, job_id: str, *, worker: str, lease_seconds: float, progress: int | None = None
) -> bool:
    """Extend our lease (and record progress); False if another worker has taken the job."""
    changes: dict[str, Any] = {"lease_until": now() + timedelta(seconds=lease_seconds)}
    if progress is not None:
        changes["progress"] = progress
    result = db[JOBS].update_one(
        {"_id": job_id, "lease_owner": worker, "status": JobStatus.PROCESSING.value},
        {"$set": {**changes, "updated_at": now()}},
    )
    return result.matched_count == 1


def finish_job(
    db: Database, job_id: str, *, worker: str, status: JobStatus, changes: Mapping[str, Any]
) -> bool:
    """Move our processing job to ``status``; False if we no longer hold it."""
    result = db[JOBS].update_one(
        {"_id": job_id, "lease_owner": worker, "status": JobStatus.PROCESSING.value},
        {
            "$set": {
                **changes,
                "status": status.value,
                "lease_owner": None,
                "lease_until": None,
                "finished_at": now(),
                "updated_at": now(),
            }
        },
    )
    return result.matched_count == 1


def release_job(db: Database, job_id: str, *, worker: str) -> None:
    """Give the job back after a transient failure, so the retry can claim it at once."""
    db[JOBS].update_one(
        {"_id": job_id, "lease_owner": worker, "status": JobStatus.PROCESSING.value},
        {
            "$set": {
                "status": JobStatus.QUEUED.value,
                "lease_owner": None,
                "lease_until": None,
                "updated_at": now(),
            }
        },
    )


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
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()
