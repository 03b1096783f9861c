"""Notification emails: what they say (plain text plus an HTML alternative) and sending them.

Sending maps SMTP outcomes onto the domain's errors: anything a later attempt may fix (server
down, timeout, 4xx replies, a login the operator can still correct) is a
:class:`TransientError`; a 5xx reply about the message or its recipient is a
:class:`PermanentError`, since resending the same message will be refused the same way.
"""

from __future__ import annotations

import html
import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formatdate

from video2audio.core.errors import PermanentError, TransientError
from video2audio.core.text import human_size

logger = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class JobNotice:
    """Everything an email (or webhook) says about one finished or failed job."""

    job_id: str
    owner: str
    succeeded: bool
    filename: str
    audio_format: str | None = None
    bitrate: str | None = None
    size: int | None = None
    audio_fid: str | None = None
    download_url: str | None = None
    expires_at: datetime | None = None
    error: str | None = None


def _lines(notice: JobNotice) -> tuple[str, list[str], list[tuple[str, str]], list[str]]:
    """Subject, introduction, labelled facts and closing lines, shared by both renderings."""
    if not notice.succeeded:
        return (
            f"Conversion failed: {notice.filename}",
            [f'Your video "{notice.filename}" could not be converted.'],
            [("Reason", notice.error or "unknown error"), ("Job", notice.job_id)],
            ["You can upload the video again to retry."],
        )
    audio_format = (notice.audio_format or "audio").upper()
    if notice.bitrate:
        audio_format = f"{audio_format} ({notice.bitrate})"
    facts = [("Original file", notice.filename), ("Format", audio_format)]
    if notice.size is not None:
        exact = f" ({notice.size:,} bytes)" if notice.size >= 1024 else ""
        facts.append(("Size", human_size(notice.size) + exact))
    facts += [("Audio file id", notice.audio_fid or "-"), ("Job", notice.job_id)]
    if notice.download_url and notice.expires_at:
        expiry = notice.expires_at.strftime("%Y-%m-%d %H:%M UTC")
        closing = [
            f"Download it (no login needed) until {expiry}; the file is deleted after that:",
            notice.download_url,
        ]
    else:
        closing = ["The audio file has already expired and is no longer available."]
    return (
        f"Your audio is ready: {notice.filename}",
        [f'Your video "{notice.filename}" has been converted.'],
        facts,
        closing,
    )


def render_email(
    notice: JobNotice, *, sender: str, recipient: str, message_id: str
) -> EmailMessage:
    subject, intro, facts, closing = _lines(notice)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = formatdate(localtime=False)
    # Stable per event and channel, so a resend after a crash can be recognised as the same mail.
    message["Message-ID"] = message_id
    message["X-Video2Audio-Job"] = notice.job_id
    if notice.expires_at:
        message["Expires"] = format_datetime(notice.expires_at)

    width = max(len(label) for label, _ in facts) + 1
    text = [f"Hello {notice.owner},", "", *intro, ""]
    text += [f"  {label + ':':<{width}} {value}" for label, value in facts]
    text += ["", *closing, "", "-- Video2Audio"]
    message.set_content("\n".join(text) + "\n")

    rows = "".join(
        f"<tr><th align='left'>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in facts
    )
    closing_html = "".join(
        f"<p><a href='{html.escape(line, quote=True)}'>Download the audio</a></p>"
        if line == notice.download_url
        else f"<p>{html.escape(line)}</p>"
        for line in closing
    )
    body = (
        f"<html><body><p>Hello {html.escape(notice.owner)},</p>"
        + "".join(f"<p>{html.escape(line)}</p>" for line in intro)
        + f"<table>{rows}</table>{closing_html}<p>&mdash; Video2Audio</p></body></html>"
    )
    message.add_alternative(body, subtype="html")
    return message


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
