"""Telling a job's owner how it ended: an email and a signed webhook call, each at most once.

The job document is the truth; an event is only a hint that a job may have ended. Everything a
message says comes from the job (its status, file name, error as recorded by convert), never
from the event. A job has one outcome, so each channel sends at most once per job outcome,
whatever the number of events: the key is the job id and its final status. An event whose type
disagrees with the job's status (a forged "failed" for a done job) sends nothing.

Idempotency: each channel is *claimed* in the delivery log (:mod:`video2audio.infra.claims`)
before anything is sent, so a redelivered event, or two deliveries racing, send nothing twice;
the outcome is recorded there and on the job under ``notifications.<key>.<channel>``
(``{"state": "sent" | "failed" | "skipped", ...}``). The one gap left is a crash between the server
accepting a message and the outcome being recorded: the claim then runs out and a retry sends
again (at-least-once), with the same Message-ID / delivery id so receivers can tell.

A transient failure of either channel makes the whole event fail transiently (the source retries),
after the other channel has had its chance; what was already sent is not repeated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from bson import ObjectId
from pymongo.database import Database

from video2audio.core.clock import as_utc, now
from video2audio.core.errors import BadRequestError, PermanentError, TransientError
from video2audio.core.metrics import NOTIFICATIONS
from video2audio.core.settings import Settings
from video2audio.infra import claims
from video2audio.infra.mail import send_email, smtp_config
from video2audio.infra.storage import AUDIO, find_file
from video2audio.jobs.announcements import OUTCOME_EVENTS, outcome_key
from video2audio.jobs.links import signed_download_url
from video2audio.jobs.model import JobStatus, is_job_id
from video2audio.jobs.repository import load_job, update_job
from video2audio.notify.mail import JobNotice, render_email
from video2audio.notify.webhooks import post_webhook

logger = logging.getLogger(__name__)

CLAIM_SECONDS = 120  # longer than an SMTP send plus a webhook call can take


def build_notice(job: Mapping[str, Any], *, db: Database, settings: Settings) -> JobNotice:
    """What happened to the job, with a signed link valid until the audio file is deleted."""
    output = job.get("output") or {}
    common = {
        "job_id": job["_id"],
        "owner": job["owner"],
        "filename": job.get("filename") or "video",
        "audio_format": output.get("format"),
        "bitrate": output.get("bitrate"),
    }
    if job["status"] == JobStatus.FAILED.value:
        return JobNotice(succeeded=False, error=str(job.get("error") or "unknown error"), **common)
    audio_fid = job.get("audio_fid")
    file_doc = find_file(db, AUDIO, audio_fid) if isinstance(audio_fid, ObjectId) else None
    if file_doc is None:
        # Already expired (the event waited out a long outage): say so instead of a dead link.
        return JobNotice(succeeded=True, audio_fid=str(audio_fid) if audio_fid else None, **common)
    # expire deletes a file once its uploadDate is older than the retention: that is the expiry.
    expires_at = as_utc(file_doc["uploadDate"]) + timedelta(seconds=settings.retention_seconds)
    url = signed_download_url(
        settings.public_upload_url,
        str(audio_fid),
        job["owner"],
        int(expires_at.timestamp()),
        secret=settings.link_secret,
    )
    return JobNotice(
        succeeded=True,
        audio_fid=str(audio_fid),
        size=int(file_doc["length"]),
        download_url=url,
        expires_at=expires_at,
        **common,
    )


def webhook_payload(notice: JobNotice, *, event_type: str, event_id: str) -> dict[str, Any]:
    return {
        "type": event_type,
        "event_id": event_id,
        "job_id": notice.job_id,
        "owner": notice.owner,
        "status": "done" if notice.succeeded else "failed",
        "filename": notice.filename,
        "format": notice.audio_format,
        "size": notice.size,
        "audio_fid": notice.audio_fid,
        "download_url": notice.download_url,
        "expires_at": notice.expires_at.isoformat() if notice.expires_at else None,
        "error": notice.error,
    }


class _Skipped(Exception):
    """Nothing to send on this channel (no address, no URL): recorded, never retried."""


def _run_channel(
    db: Database, job_id: str, key: str, channel: str, send: Callable[[], dict[str, Any]]
) -> tuple[str, bool]:
    """Send through one channel unless already handled; returns (state, transient failure?)."""
    claim_id = f"{key}:{channel}"
    token = claims.acquire(
        db, claims.DELIVERY_LOG, claim_id, lease_seconds=CLAIM_SECONDS, job_id=job_id
    )
    if token is None:
        # Sent, failed or skipped before, or another delivery of this event is sending right
        # now (if that one fails transiently, its own redelivery retries).
        logger.info("%s for job %s already handled (%s); not sending again", channel, job_id, key)
        return "already handled", False
    try:
        outcome = {"state": "sent", **send()}
    except _Skipped as exc:
        outcome = {"state": "skipped", "reason": str(exc)}
    except PermanentError as exc:
        outcome = {"state": "failed", "error": exc.message}
    except TransientError as exc:
        claims.release(db, claims.DELIVERY_LOG, claim_id, token)
        NOTIFICATIONS.labels(channel, "retried").inc()
        logger.warning("%s for job %s failed, will retry: %s", channel, job_id, exc.message)
        return "retrying", True
    except BaseException:
        claims.release(db, claims.DELIVERY_LOG, claim_id, token)
        raise
    NOTIFICATIONS.labels(channel, outcome["state"]).inc()
    # On the job for people and the status API; in the log, where it decides redeliveries.
    update_job(db, job_id, {f"notifications.{key}.{channel}": {**outcome, "at": now()}})
    claims.complete(db, claims.DELIVERY_LOG, claim_id, token, outcome)
    return outcome["state"], False


def notify_job_outcome(
    event_type: str | None,
    data: Mapping[str, Any],
    *,
    db: Database,
    find_email: Callable[[str], str | None],
    find_webhook_secret: Callable[[str], str | None],
    settings: Settings,
) -> dict[str, Any]:
    """Email the owner and call the job's webhook if the job named by the event has ended.

    ``event_type`` is the event's claim (audio.ready, conversion.failed), or None for a queue
    message that makes none; the job's own status decides what is said.
    """
    job_id = data.get("job_id")
    if not is_job_id(job_id):
        raise BadRequestError("event data has no valid job_id (32 hexadecimal digits)")
    job = load_job(db, job_id)
    if job is None:
        raise PermanentError(f"job {job_id} not found; nobody to notify")
    outcome = OUTCOME_EVENTS.get(job["status"])
    if outcome is None:
        logger.info("job %s is %s: nothing to notify", job_id, job["status"])
        return {"job_id": job_id, "action": "none", "reason": f"the job is {job['status']}"}
    if event_type is not None and event_type != outcome:
        logger.warning(
            "event %s for job %s disagrees with the job's status %s; nothing sent",
            event_type,
            job_id,
            job["status"],
        )
        return {"job_id": job_id, "action": "none", "reason": "the event does not match the job"}
    notice = build_notice(job, db=db, settings=settings)
    key = outcome_key(job)

    def email() -> dict[str, Any]:
        if not settings.smtp_host:
            raise _Skipped("SMTP is not configured")
        recipient = find_email(job["owner"])
        if not recipient:
            raise _Skipped("the owner has no verified email address")
        message = render_email(
            notice,
            sender=settings.smtp_sender,
            recipient=recipient,
            message_id=f"<{key}.email@video2audio>",
        )
        send_email(message, smtp=smtp_config(settings))
        logger.info("emailed the outcome of job %s to its owner", job_id)
        return {"to": recipient}

    def webhook() -> dict[str, Any]:
        url = job.get("webhook_url")
        if not url:
            raise _Skipped("the job has no webhook URL")
        secret = find_webhook_secret(job["owner"])
        if not secret:
            raise _Skipped("the owner's account no longer exists")
        status = post_webhook(
            url,
            webhook_payload(notice, event_type=outcome, event_id=key),
            secret=secret,
            timeout=settings.webhook_timeout_seconds,
            allow_private=settings.webhook_allow_private,
            event_type=outcome,
            delivery_id=key,
        )
        logger.info("webhook for job %s answered %d", job_id, status)
        return {"status_code": status}

    summary: dict[str, Any] = {"job_id": job_id, "outcome": key}
    retry = False
    for channel, send in (("email", email), ("webhook", webhook)):
        state, transient = _run_channel(db, job_id, key, channel, send)
        summary[channel] = state
        retry = retry or transient
    if retry:
        raise TransientError(f"notifying job {job_id} failed for now: {summary}")
    return summary
