"""Signed download links: an HMAC over the file id, its owner and an expiry time.

A link opens in a browser without a token (from an email or a webhook) and stops working when it
expires; any change to the file id, owner or expiry invalidates the signature.
"""

from __future__ import annotations

from urllib.parse import urlencode

from video2audio.core.signing import check_expiring_signature, sign


def link_signature(file_id: str, owner: str, expires_at: int, *, secret: str) -> str:
    return sign(file_id, owner, expires_at, secret=secret)


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
    check_expiring_signature(
        file_id, owner, raw_expiry=raw_expiry, signature=signature, secret=secret,
        what="download link",
    )  # fmt: skip
