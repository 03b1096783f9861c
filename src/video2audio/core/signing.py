"""Expiring signatures for links that open without a token (downloads, email verification).

A signature is an HMAC-SHA256 over the link's parts and its expiry, one per line; any change to
a part or to the expiry invalidates it. Each kind of link puts its own first part (or none, for
download links, whose signatures predate this module), so one kind cannot stand in for another.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from video2audio.core.errors import ForbiddenError
from video2audio.core.text import parse_decimal


def sign(*parts: str | int, secret: str) -> str:
    message = "\n".join(str(part) for part in parts).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def check_expiring_signature(
    *parts: str, raw_expiry: str, signature: str, secret: str, what: str
) -> None:
    """Raise :class:`ForbiddenError` naming ``what`` unless the signature of ``parts`` and the
    expiry is right and the expiry has not passed."""
    expiry = parse_decimal(raw_expiry)
    if expiry is None:
        raise ForbiddenError(f"{what} is invalid")
    # As bytes: compare_digest raises TypeError for a str with non-ASCII characters.
    if not hmac.compare_digest(sign(*parts, expiry, secret=secret).encode(), signature.encode()):
        raise ForbiddenError(f"{what} is invalid")
    if expiry < time.time():
        raise ForbiddenError(f"{what} has expired; ask for a new one")
