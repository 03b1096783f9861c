"""Headers every response carries, and the Content-Security-Policy of the web page."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

import flask

BASE_HEADERS = {
    # Browsers must take the declared type, never guess one (a JSON error sniffed as HTML...).
    "X-Content-Type-Options": "nosniff",
    # Signed download links carry their signature in the URL; never leak it in a Referer.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def add_security_headers(response: flask.Response) -> flask.Response:
    """The base headers on ``response`` (a view may have set stricter ones: they are kept)."""
    for name, value in BASE_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def page_policy(*, api_origins: Iterable[str]) -> str:
    """What the page may load: its own scripts and styles, the API origins, its own media.

    Media may also be a ``blob:`` URL: the page plays a download it fetched with the token when
    it cannot get a signed link.
    """
    connect = " ".join(["'self'", *sorted({origin(url) for url in api_origins})])
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "media-src 'self' blob:",
            f"connect-src {connect}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def docs_policy() -> str:
    """What the API documentation page may load: its own scripts, styles and images, and
    requests to its own function (Swagger UI's "Try it out"). Swagger UI draws some icons as
    ``data:`` images; nothing is inline, so no 'unsafe-inline' anywhere."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
