"""The tus 1.0.0 protocol's headers: versions, extensions, lengths, offsets and metadata.

https://tus.io/protocols/resumable-upload : every request but OPTIONS names the protocol
version it speaks (``Tus-Resumable``), every answer names ours, and the upload's metadata is a
comma-separated list of ``key base64(value)`` pairs.
"""

from __future__ import annotations

import base64
import email.utils
import re
from datetime import UTC, datetime

import flask

from video2audio.core.errors import BadRequestError, UnsupportedMediaError, Video2AudioError
from video2audio.jobs.publishing import COVER_IMAGE_FIELD, OPTION_FIELDS

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,creation-with-upload,termination,expiration"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
# The creation answer's header naming the job the upload becomes (also the upload's own id).
JOB_ID_HEADER = "Video2Audio-Job-Id"
METADATA_KEYS = ("filename", "format", "bitrate", "webhook_url", *OPTION_FIELDS)
# A header cannot carry an image: the cover comes in a request of its own.
COVER_PATH = "/files/{job_id}/cover"
MAX_METADATA_CHARS = 8 * 1024
_NUMBER = re.compile(r"[0-9]{1,19}")


class UnsupportedVersionError(Video2AudioError):
    """The client speaks a tus version this server does not (412, naming ours)."""

    status_code = 412


def check_version(request: flask.Request) -> None:
    version = request.headers.get("Tus-Resumable")
    if version != TUS_VERSION:
        raise UnsupportedVersionError(
            f"send Tus-Resumable: {TUS_VERSION}; this server speaks tus {TUS_VERSION} only"
        )


def parse_number(request: flask.Request, header: str) -> int:
    """A header that must hold a non-negative integer."""
    raw = request.headers.get(header)
    if raw is None:
        raise BadRequestError(f"the {header} header is required")
    if not _NUMBER.fullmatch(raw.strip()):
        raise BadRequestError(f"the {header} header must be a non-negative integer")
    return int(raw)


def check_offset_body(request: flask.Request) -> None:
    if request.mimetype != OFFSET_CONTENT_TYPE:
        raise UnsupportedMediaError(f"send the bytes as {OFFSET_CONTENT_TYPE}")


def parse_metadata(raw: str | None) -> dict[str, str]:
    """``Upload-Metadata`` decoded: only the keys ``/upload`` takes as form fields are kept."""
    if raw is None or not raw.strip():
        return {}
    if len(raw) > MAX_METADATA_CHARS:
        raise BadRequestError("the Upload-Metadata header is too long")
    found: dict[str, str] = {}
    for pair in raw.split(","):
        key, _, encoded = pair.strip().partition(" ")
        if not key:
            raise BadRequestError("the Upload-Metadata header has an empty key")
        if key in found:
            raise BadRequestError(f"Upload-Metadata names {key!r} twice")
        try:
            value = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):  # binascii.Error, non-ASCII input
            raise BadRequestError(f"Upload-Metadata {key!r} is not base64 of UTF-8 text") from None
        found[key] = value
    if COVER_IMAGE_FIELD in found or found.get("cover", "").strip().lower() == "upload":
        raise BadRequestError(
            f"Upload-Metadata cannot carry a cover image: create the upload, then PUT the JPEG"
            f" or PNG to {COVER_PATH} before its last byte (or use cover auto or none)"
        )
    # Keys of no meaning here (tus clients add their own, such as filetype) are left out.
    return {key: value for key, value in found.items() if key in METADATA_KEYS}


def http_date(moment: datetime) -> str:
    """RFC 9110's date format, as ``Upload-Expires`` takes it."""
    # Stored times come back with bson's own UTC zone, which format_datetime does not take.
    return email.utils.format_datetime(moment.astimezone(UTC), usegmt=True)


def server_headers(max_bytes: int) -> dict[str, str]:
    """What OPTIONS advertises."""
    return {
        "Tus-Resumable": TUS_VERSION,
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": TUS_EXTENSIONS,
        "Tus-Max-Size": str(max_bytes),
    }
