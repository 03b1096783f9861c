"""Notification emails: what they say about a finished or failed job (plain text and HTML).

Sending them is :func:`video2audio.infra.mail.send_email`.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formatdate

from video2audio.core.text import human_size, printable

logger = logging.getLogger(__name__)


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


SUBJECT_TEXT_CHARS = 60


def subject_text(text: str) -> str:
    """User text fit for a subject line: printable, on one line, at most 60 characters."""
    flat = " ".join(printable(text).split())
    return flat if len(flat) <= SUBJECT_TEXT_CHARS else flat[: SUBJECT_TEXT_CHARS - 1] + "…"


def _lines(notice: JobNotice) -> tuple[str, list[str], list[tuple[str, str]], list[str]]:
    """Subject, introduction, labelled facts and closing lines, shared by both renderings."""
    if not notice.succeeded:
        return (
            f"Conversion failed: {subject_text(notice.filename)}",
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
        f"Your audio is ready: {subject_text(notice.filename)}",
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
