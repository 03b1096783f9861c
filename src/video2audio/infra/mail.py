"""Handing email to an SMTP server.

SMTP outcomes map onto the domain's errors: anything a later attempt may fix (server down,
timeout, 4xx replies, a login the operator can still correct) is a :class:`TransientError`; a 5xx
reply about the message or its recipient is a :class:`PermanentError`, since resending the same
message will be refused the same way.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from video2audio.core.errors import PermanentError, TransientError
from video2audio.core.settings import Settings

logger = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str = "none"  # none | starttls | tls
    user: str = ""
    password: str = ""
    timeout: float = SMTP_TIMEOUT_SECONDS


def send_email(message: EmailMessage, *, smtp: SmtpConfig) -> None:
    """Hand ``message`` to the SMTP server; raises Transient/PermanentError on failure."""
    context = ssl.create_default_context()
    client: smtplib.SMTP | None = None
    try:
        if smtp.security == "tls":
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        if smtp.security == "starttls":
            client.starttls(context=context)
        if smtp.user:
            client.login(smtp.user, smtp.password)
        client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            raise PermanentError("the mail server refused the recipient address") from exc
        raise TransientError("the mail server deferred the recipient") from exc
    except smtplib.SMTPAuthenticationError as exc:
        # An operator can fix the credentials; until then the message waits in the queue.
        raise TransientError("the mail server refused our login") from exc
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code >= 500:
            raise PermanentError(f"the mail server refused the message ({exc.smtp_code})") from exc
        raise TransientError(f"the mail server deferred the message ({exc.smtp_code})") from exc
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("SMTP server %s:%d unavailable: %r", smtp.host, smtp.port, exc)
        raise TransientError("the mail server is unavailable") from exc
    finally:
        if client is not None:
            _close_quietly(client)


def _close_quietly(client: smtplib.SMTP) -> None:
    # The message was already accepted (or the error already raised): a failing QUIT must not
    # turn a delivered mail into a retry that would send it twice.
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


def smtp_config(settings: Settings) -> SmtpConfig:
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        user=settings.smtp_user,
        password=settings.smtp_password,
    )
