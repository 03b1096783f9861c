"""Proving an email address: a signed, expiring link mailed to it.

Until its owner follows the link, an address gets no mail but that link: nobody can make the
service write to someone else's mailbox by registering with their address. The link is an HMAC
(``LINK_SECRET``, kept apart from download links by its own prefix) over the user, the address
and an expiry, so it cannot be made for another address or kept past its time.
"""

from __future__ import annotations

import logging
import time
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import urlencode

from video2audio.core.errors import PermanentError, TransientError
from video2audio.core.settings import Settings
from video2audio.core.signing import check_expiring_signature, sign
from video2audio.infra.mail import send_email, smtp_config

logger = logging.getLogger(__name__)

PURPOSE = "verify-email"


def _signature(username: str, address: str, expires_at: int, *, secret: str) -> str:
    return sign(PURPOSE, username.lower(), address, expires_at, secret=secret)


def verification_url(settings: Settings, username: str, address: str) -> str:
    expires_at = int(time.time()) + settings.email_verification_ttl_seconds
    query = urlencode(
        {
            "u": username,
            "e": address,
            "exp": expires_at,
            "sig": _signature(username, address, expires_at, secret=settings.link_secret),
        }
    )
    return f"{settings.public_auth_url.rstrip('/')}/verify-email?{query}"


def check_verification_link(
    username: str, address: str, raw_expiry: str, signature: str, *, secret: str
) -> None:
    """Raise :class:`ForbiddenError` unless the link was made by us and has not expired."""
    check_expiring_signature(
        PURPOSE, username.lower(), address, raw_expiry=raw_expiry, signature=signature,
        secret=secret, what="the verification link",
    )  # fmt: skip


def verification_email(settings: Settings, username: str, address: str) -> EmailMessage:
    url = verification_url(settings, username, address)
    hours = settings.email_verification_ttl_seconds // 3600
    message = EmailMessage()
    message["Subject"] = "Confirm your email address for Video2Audio"
    message["From"] = settings.smtp_sender
    message["To"] = address
    message["Date"] = formatdate(localtime=False)
    message.set_content(
        f"Hello {username},\n\n"
        "Someone (we hope you) gave this address for the Video2Audio account above.\n"
        "Follow this link to confirm it; until then we send nothing else here:\n\n"
        f"{url}\n\n"
        f"The link works for {hours} hours. If this was not you, ignore this message.\n\n"
        "-- Video2Audio\n"
    )
    return message


def send_verification(settings: Settings, username: str, address: str) -> str:
    """Mail the link; returns what happened, for the API's answer (never raises for SMTP)."""
    if not settings.smtp_host:
        return "not sent: no mail server is configured"
    try:
        send_email(verification_email(settings, username, address), smtp=smtp_config(settings))
    except TransientError as exc:
        logger.warning("verification mail for %s not sent: %s", username, exc.message)
        return "not sent: the mail server is unavailable; ask again with POST /account/email"
    except PermanentError as exc:
        logger.warning("verification mail for %s refused: %s", username, exc)
        return "not sent: the mail server refused the address"
    return "sent"
