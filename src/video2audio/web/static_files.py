"""Static files (the web page) served by an HTTP function from a folder.

The page is plain files (no build step), so serving them is a matter of safe paths and correct
content types.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

import flask
from werkzeug.utils import safe_join

from video2audio.core.errors import NotFoundError

# Types that matter for browsers and are missing from some systems' mime databases.
EXTRA_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
    ".json": "application/json",
    ".ico": "image/x-icon",
}


def media_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in EXTRA_TYPES:
        return EXTRA_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def static_file(static_dir: Path, relative: str) -> flask.Response:
    """A file under ``static_dir``; anything outside it, hidden or missing is a 404."""
    joined = safe_join(str(static_dir), relative)
    if joined is None or any(part.startswith(".") for part in Path(relative).parts):
        raise NotFoundError("not found")
    path = Path(joined)
    if not path.is_file():
        raise NotFoundError("not found")
    # Flask adds "; charset=utf-8" to text/* types.
    response = flask.Response(path.read_bytes(), mimetype=media_type(path))
    response.headers["Cache-Control"] = "no-cache"
    return response


def index_page(static_dir: Path) -> flask.Response:
    return static_file(static_dir, "index.html")
