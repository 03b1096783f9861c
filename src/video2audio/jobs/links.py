"""Signed download links: an HMAC over the file id, its owner and an expiry time.

A link opens in a browser without a token (from an email or a webhook) and stops working when it
expires; any change to the file id, owner or expiry invalidates the signature.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

from video2audio.core.errors import ForbiddenError
from video2audio.core.text import parse_decimal


def link_signature(file_id: str, owner: str, expires_at: int, *, secret: str) -> str:
    message = f"{file_id}\n{owner}\n{expires_at}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_download_url(
    base_url: str, file_id: str, owner: str, expires_at: int, *, secret: str
) -> str:
    query = urlencode(
        {
            "fid": file_id,
            "exp": expires_at,
            "sig": link_signature(file_id, owner, expires_at, secret=secret),
        }
    )
    return f"{base_url.rstrip('/')}/download?{query}"


def check_link_signature(
    file_id: str, owner: str, raw_expiry: str, signature: str, *, secret: str
) -> None:
    """Raise :class:`ForbiddenError` unless the signature is right and not expired."""
    expiry = parse_decimal(raw_expiry)
    if expiry is None:
        raise ForbiddenError("download link is invalid")
    expected = link_signature(file_id, owner, expiry, secret=secret)
    # As bytes: compare_digest raises TypeError for a str with non-ASCII characters.
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise ForbiddenError("download link is invalid")
    if expiry < time.time():
        raise ForbiddenError("download link has expired; ask for a new one")
