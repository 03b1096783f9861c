"""What the upload function shows of jobs: views with expiry, and pages of a user's jobs."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import DESCENDING
from pymongo.database import Database

from video2audio.core.clock import as_utc
from video2audio.core.errors import BadRequestError
from video2audio.core.text import parse_decimal
from video2audio.jobs.model import AudioFormat, JobStatus
from video2audio.jobs.repository import JOBS

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def expires_at(job: Mapping[str, Any], *, retention_seconds: int) -> datetime | None:
    """When the job's files are deleted.

    The expire function removes files older than the retention: the audio of a done job lives
    ``retention`` after the job finished, otherwise what remains is the video, uploaded when the
    job was created.
    """
    if job.get("expires_at"):
        return as_utc(job["expires_at"])
    done = job.get("status") == JobStatus.DONE.value
    start = (job.get("finished_at") if done else None) or job.get("created_at")
    if start is None:
        return None
    return as_utc(start) + timedelta(seconds=retention_seconds)


def job_view(
    job: Mapping[str, Any], *, retention_seconds: int, base_url: str | None = None
) -> dict[str, Any]:
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
        # To quote in a support request: every function's log lines about the job carry it.
        "trace_id": job.get("trace_id"),
        # audio_only or video, from the probe of the stored file; null until convert probed it.
        "received": job.get("received"),
    }
    if job.get("audio_fid") is not None:
        view["audio_fid"] = str(job["audio_fid"])
        if output.get("format") == AudioFormat.MP3.value:
            # The seed systems' clients download by mp3_fid.
            view["mp3_fid"] = view["audio_fid"]
    if job.get("error"):
        view["error"] = job["error"]
    for key in ("media", "audio", "import", "publish"):
        if job.get(key):
            view[key] = job[key]
    if job.get("video_size") is not None:
        view["video_size"] = job["video_size"]
    if job.get("bytes_received") is not None:
        # A resumable upload: how much of video_size has arrived.
        view["bytes_received"] = int(job["bytes_received"])
    if job["status"] == JobStatus.UPLOADING.value and job.get("upload_expires_at"):
        # An unfinished upload is removed this long after its last bytes.
        view["expires_at"] = _iso(job["upload_expires_at"])
    elif job["status"] != JobStatus.EXPIRED.value:
        moment = expires_at(job, retention_seconds=retention_seconds)
        view["expires_at"] = moment.isoformat() if moment else None
    elif job.get("expires_at"):
        view["expires_at"] = _iso(job["expires_at"])
    if base_url:
        view["status_url"] = f"{base_url.rstrip('/')}/jobs/{job['_id']}"
    return view


def _iso(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat()


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE_SIZE
    limit = parse_decimal(raw)
    if limit is None or not 1 <= limit <= MAX_PAGE_SIZE:
        raise BadRequestError(f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return limit


def encode_cursor(job: Mapping[str, Any]) -> str:
    """An opaque position after ``job``: its creation time (ms) and id break ties in order."""
    created = as_utc(job["created_at"])
    payload = json.dumps({"t": int(created.timestamp() * 1000), "id": job["_id"]})
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> tuple[datetime, str]:
    try:
        padded = raw + "=" * (-len(raw) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        millis, job_id = payload["t"], payload["id"]
        if not isinstance(millis, int) or not isinstance(job_id, str):
            raise TypeError(payload)
        return datetime.fromtimestamp(millis / 1000, UTC), job_id
    # A time beyond what the platform's clock functions take is an OSError (EOVERFLOW).
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeError, OverflowError, OSError):
        raise BadRequestError("cursor is not valid; use the previous page's next_cursor") from None


def list_page(
    db: Database, *, owner: str, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the owner's jobs, newest first, and the cursor of the next page (or None)."""
    query: dict[str, Any] = {"owner": owner}
    if cursor:
        created, job_id = decode_cursor(cursor)
        query["$or"] = [
            {"created_at": {"$lt": created}},
            {"created_at": created, "_id": {"$lt": job_id}},
        ]
    order = [("created_at", DESCENDING), ("_id", DESCENDING)]
    found = list(db[JOBS].find(query).sort(order).limit(limit + 1))
    page = found[:limit]
    return page, encode_cursor(page[-1]) if len(found) > limit else None
