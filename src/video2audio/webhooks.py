"""Signed webhook calls to user-supplied URLs.

The body is JSON, signed in ``X-Video2Audio-Signature: t=<unix time>,v1=<hex>`` where the hex is
HMAC-SHA256 over ``"<t>.<body>"`` with the deployment's webhook secret: the receiver recomputes
it (:func:`verify_webhook_signature`) and rejects old timestamps, which stops replays.

The URL comes from a user, so the call must not become a way into the cluster: the host is
resolved once, every address is checked (loopback, link-local, private, ... are refused unless
allowed), and the connection goes to the checked address itself, so a second DNS answer cannot
swap in an internal one. Redirects are never followed (http.client does not follow them).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from video2audio.errors import PermanentError, TransientError

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Video2Audio-Signature"
EVENT_HEADER = "X-Video2Audio-Event"
DELIVERY_HEADER = "X-Video2Audio-Delivery"
DEFAULT_TOLERANCE_SECONDS = 300
MAX_RESPONSE_BYTES = 4096  # we only need the status; never let a receiver stream into memory
# Statuses that say "not now" rather than "never".
RETRYABLE_CLIENT_STATUSES = {408, 425, 429}


@dataclass(frozen=True)
class WebhookTarget:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the resolved, checked address the connection goes to


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
    if len(timestamps) != 1 or not timestamps[0].isdecimal():
        return False
    timestamp = int(timestamps[0])
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


def _address_refused(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def resolve_webhook_target(url: str, *, allow_private: bool) -> WebhookTarget:
    """Parse and resolve ``url``; refuse it (permanently) when it may reach internal hosts."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise PermanentError("webhook URL is not a valid URL") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise PermanentError("webhook URL must be an http or https URL with a host")
    if parts.username or parts.password:
        raise PermanentError("webhook URL must not carry credentials")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        if exc.errno in {socket.EAI_AGAIN, getattr(socket, "EAI_SYSTEM", None)}:
            raise TransientError("webhook host name could not be resolved right now") from exc
        raise PermanentError("webhook host name does not resolve") from exc
    except UnicodeError as exc:
        # The IDNA encoding refuses the name (an empty label, one over 63 characters): no retry
        # can resolve it.
        raise PermanentError("webhook host name is not a valid host name") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not allow_private:
        refused = [address for address in addresses if _address_refused(address)]
        if refused:
            # One internal answer is enough to refuse: which address gets used is not ours to pick.
            raise PermanentError("webhook URL resolves to a non-public address")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return WebhookTarget(parts.scheme, parts.hostname, port, path, addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address while the Host header keeps the URL's name."""

    def __init__(self, target: WebhookTarget, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: WebhookTarget, timeout: float) -> None:
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the URL's host name, not the address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


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
    target = resolve_webhook_target(url, allow_private=allow_private)
    body = json.dumps(dict(payload), separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Video2Audio-Webhook/1",
        SIGNATURE_HEADER: sign_webhook(body, secret=secret),
        EVENT_HEADER: event_type,
        DELIVERY_HEADER: delivery_id,
    }
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, timeout)
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
