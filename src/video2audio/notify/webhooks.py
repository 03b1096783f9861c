"""Signed webhook calls to user-supplied URLs.

The body is JSON, signed in ``X-Video2Audio-Signature: t=<unix time>,v1=<hex>`` where the hex is
HMAC-SHA256 over ``"<t>.<body>"`` with the deployment's webhook secret: the receiver recomputes
it (:func:`verify_webhook_signature`) and rejects old timestamps, which stops replays.

The URL comes from a user: it is resolved, checked and called through
:mod:`video2audio.infra.outbound`, never followed through a redirect.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import ssl
import time
from collections.abc import Mapping
from typing import Any

from video2audio.core.errors import PermanentError, TransientError
from video2audio.core.text import parse_decimal
from video2audio.infra.outbound import pinned_connection, resolve_target

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Video2Audio-Signature"
EVENT_HEADER = "X-Video2Audio-Event"
DELIVERY_HEADER = "X-Video2Audio-Delivery"
DEFAULT_TOLERANCE_SECONDS = 300
MAX_RESPONSE_BYTES = 4096  # we only need the status; never let a receiver stream into memory
# Statuses that say "not now" rather than "never".
RETRYABLE_CLIENT_STATUSES = {408, 425, 429}


def sign_webhook(body: bytes, *, secret: str, timestamp: int | None = None) -> str:
    """The signature header value for ``body`` at ``timestamp`` (default: now)."""
    moment = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{moment}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


def verify_webhook_signature(
    header: str | None,
    body: bytes,
    secret: str,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    *,
    now: float | None = None,
) -> bool:
    """True when ``header`` is a valid signature of ``body`` made within ``tolerance`` seconds.

    For receivers: verify the raw body bytes before parsing them, and also remember the
    ``X-Video2Audio-Delivery`` id if a replay inside the tolerance window matters.
    """
    if not header:
        return False
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(key, []).append(value)
    timestamps = parts.get("t", [])
    timestamp = parse_decimal(timestamps[0]) if len(timestamps) == 1 else None
    if timestamp is None:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = sign_webhook(body, secret=secret, timestamp=timestamp).partition("v1=")[2]
    # Several v1 values are allowed so a receiver can accept during a secret rotation.
    # As bytes: compare_digest raises TypeError for a str with non-ASCII characters.
    return any(
        hmac.compare_digest(expected.encode(), candidate.encode())
        for candidate in parts.get("v1", [])
    )


def post_webhook(
    url: str,
    payload: Mapping[str, Any],
    *,
    secret: str,
    timeout: float,
    allow_private: bool,
    event_type: str,
    delivery_id: str,
) -> int:
    """POST the signed ``payload``; returns the 2xx status.

    Raises :class:`TransientError` when a retry may succeed (unreachable, timeout, 5xx, 429) and
    :class:`PermanentError` when it cannot (refused URL, redirect, other 4xx).
    """
    target = resolve_target(url, allow_private=allow_private, what="webhook URL")
    body = json.dumps(dict(payload), separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Video2Audio-Webhook/1",
        SIGNATURE_HEADER: sign_webhook(body, secret=secret),
        EVENT_HEADER: event_type,
        DELIVERY_HEADER: delivery_id,
    }
    connection = pinned_connection(target, timeout=timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        status = response.status
    except ssl.SSLCertVerificationError as exc:
        raise PermanentError("webhook host's TLS certificate is not valid") from exc
    except (OSError, http.client.HTTPException) as exc:
        logger.info("webhook to %s failed: %r", target.host, exc)
        raise TransientError("webhook target is unreachable or timed out") from exc
    finally:
        connection.close()
    if 200 <= status < 300:
        return status
    if status >= 500 or status in RETRYABLE_CLIENT_STATUSES:
        raise TransientError(f"webhook target answered {status}")
    if 300 <= status < 400:
        raise PermanentError(f"webhook target answered a redirect ({status}); not followed")
    raise PermanentError(f"webhook target answered {status}")
