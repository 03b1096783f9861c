"""Serving a stored file over HTTP: ranges, validators and a safe Content-Disposition.

The body streams from GridFS through :func:`video2audio.infra.storage.iter_file_bytes` (bounded
memory, and the only read path FerretDB serves for large files). Stored files never change, so the
file id and length make a strong ETag.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

import flask
from pymongo.database import Database
from werkzeug.http import parse_range_header

from video2audio.core.errors import RangeNotSatisfiableError
from video2audio.core.text import filename_stem, printable
from video2audio.infra.storage import iter_file_bytes

logger = logging.getLogger(__name__)

MAX_FILENAME_STEM = 150
UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._() +-]+")
# Characters that must not reach a header or a file system even inside filename*: quotes,
# separators, and anything that is not printable (CR, LF, other controls, bidi overrides).
UNSAFE_UNICODE = re.compile(r"[\"\\/:*?<>|;%]")


def download_filename(original: str | None, extension: str) -> str:
    """The download's name: the original name's stem, safe in a header and a file system."""
    stem = printable(filename_stem(original, default=""))
    stem = UNSAFE_UNICODE.sub("_", stem).strip(" .")[:MAX_FILENAME_STEM].strip(" .")
    return f"{stem or 'audio'}.{extension}"


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` and, when needed, an RFC 5987 ``filename*``."""
    stem, dot, extension = filename.rpartition(".")
    if not dot:
        stem, extension = filename, ""
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    ascii_stem = UNSAFE_ASCII.sub("_", ascii_stem).strip(" ._") or "audio"
    ascii_extension = UNSAFE_ASCII.sub("", extension)
    ascii_name = f"{ascii_stem}.{ascii_extension}" if ascii_extension else ascii_stem
    value = f'attachment; filename="{ascii_name}"'
    if ascii_name != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


def entity_tag(file_doc: Mapping[str, Any]) -> str:
    return f'"{file_doc["_id"]}-{int(file_doc["length"])}"'


def _tag_listed(header: str | None, tag: str) -> bool:
    if not header:
        return False
    candidates = {item.strip().removeprefix("W/") for item in header.split(",")}
    return "*" in candidates or tag in candidates


def requested_range(
    range_header: str | None, if_range: str | None, *, length: int, tag: str
) -> tuple[int, int] | None:
    """The single byte range to send as ``(start, end_exclusive)``, or None for the whole file.

    Several ranges or a malformed header are ignored (the whole file is a valid answer to both);
    a stale ``If-Range`` also means the whole file. A well-formed range that lies outside the
    file raises :class:`RangeNotSatisfiableError`.
    """
    if not range_header:
        return None
    if if_range is not None and if_range.strip() != tag:
        return None
    parsed = parse_range_header(range_header)
    if parsed is None or parsed.units != "bytes" or len(parsed.ranges) != 1:
        return None
    span = parsed.range_for_length(length)
    if span is None:
        raise RangeNotSatisfiableError(f"the range is outside the file of {length} bytes")
    return span


def file_response(
    request: flask.Request,
    *,
    db: Database,
    bucket: str,
    file_doc: Mapping[str, Any],
    media_type: str,
    filename: str,
) -> flask.Response:
    """The file as a streamed response honouring Range, If-Range and If-None-Match."""
    length = int(file_doc["length"])
    tag = entity_tag(file_doc)
    headers = {
        "ETag": tag,
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition(filename),
        "Cache-Control": "private, max-age=0, must-revalidate",
        "X-Content-Type-Options": "nosniff",
    }
    if _tag_listed(request.headers.get("If-None-Match"), tag):
        return flask.Response(status=304, headers=headers)
    try:
        span = requested_range(
            request.headers.get("Range"),
            request.headers.get("If-Range"),
            length=length,
            tag=tag,
        )
    except RangeNotSatisfiableError as exc:
        response = flask.jsonify({"error": exc.message})
        response.status_code = 416
        response.headers["Content-Range"] = f"bytes */{length}"
        return response
    start, end = span or (0, length)
    if span is not None:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{length}"
    headers["Content-Length"] = str(end - start)
    body = _stream(db, bucket, file_doc, start, end) if request.method != "HEAD" else iter(())
    response = flask.Response(
        body,
        status=206 if span is not None else 200,
        headers=headers,
        mimetype=media_type,
        direct_passthrough=True,
    )
    return response


def _stream(
    db: Database, bucket: str, file_doc: Mapping[str, Any], start: int, end: int
) -> Iterator[bytes]:
    try:
        yield from iter_file_bytes(db, bucket, file_doc, start=start, end=end)
    except Exception:
        # The status line is already sent; all that is left is to cut the body short, which the
        # client sees as a length mismatch rather than a silently truncated file.
        logger.exception("download of %s/%s failed mid-stream", bucket, file_doc["_id"])
        raise
