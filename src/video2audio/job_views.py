"""What the upload function shows of jobs: views with expiry, pages of jobs, request fields.

Kept apart from :mod:`video2audio.jobs` (the model and its writes, shared with convert and
expire) so that API concerns — cursors, limits, URLs — stay in the HTTP layer's package code.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from bson import ObjectId
from pymongo import DESCENDING
from pymongo.database import Database

from video2audio.errors import BadRequestError
from video2audio.jobs import JOBS, JobStatus, as_utc, public_view

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_WEBHOOK_URL_CHARS = 2048


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
    status_url = f"{base_url.rstrip('/')}/jobs/{job['_id']}" if base_url else None
    view = public_view(job, status_url=status_url)
    if job.get("video_size") is not None:
        view["video_size"] = job["video_size"]
    if job["status"] != JobStatus.EXPIRED.value and "expires_at" not in view:
        moment = expires_at(job, retention_seconds=retention_seconds)
        view["expires_at"] = moment.isoformat() if moment else None
    return view


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE_SIZE
    # isdecimal, not isdigit: isdigit accepts '²', which int() refuses.
    if not raw.isdecimal() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise BadRequestError(f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return int(raw)


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


def job_for_audio(db: Database, file_id: ObjectId) -> dict[str, Any] | None:
    """The job that produced an audio file, whoever owns it (signed links carry no token)."""
    return db[JOBS].find_one({"audio_fid": file_id})


def parse_webhook_url(raw: str | None) -> str | None:
    """An absolute http(s) URL or None. Where it points is checked when notify calls it."""
    if raw is None or not raw.strip():
        return None
    url = raw.strip()
    if len(url) > MAX_WEBHOOK_URL_CHARS or any(not ch.isprintable() or ch.isspace() for ch in url):
        raise BadRequestError("webhook_url is not a valid URL")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
        # A UnicodeError (a ValueError) for a name no resolver takes: an empty or 64+ char label.
        (parts.hostname or "").encode("idna")
    except ValueError:
        raise BadRequestError("webhook_url is not a valid URL") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise BadRequestError("webhook_url must be an absolute http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise BadRequestError("webhook_url must not contain credentials")
    return url
