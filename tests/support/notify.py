"""Helpers of the notify tests (fixtures stay in their conftest.py)."""

from __future__ import annotations

import email
import email.policy
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.network import free_port, port_open
from tests.support.paths import ROOT
from video2audio.accounts.users import confirm_email, ensure_schema, webhook_secret
from video2audio.auth.credentials import Credentials
from video2audio.auth.login import register_user
from video2audio.infra.clients import mongo_database, postgres_connection
from video2audio.infra.events import AUDIO_READY, build_event, to_http_binary
from video2audio.infra.storage import AUDIO, VIDEOS, open_upload
from video2audio.jobs.model import JobStatus
from video2audio.jobs.repository import create_job, update_job

AUDIO_BYTES = b"ID3" + bytes(range(256)) * 40


class SmtpSink:
    """scripts/smtp_sink.py on a private port, as `make up` runs it."""

    def __init__(self, directory: Path, *options: str) -> None:
        self.port = free_port()
        self.directory = directory
        self.options = options
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "scripts" / "smtp_sink.py"),
                "--port",
                str(self.port),
                "--dir",
                str(self.directory),
                *self.options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while not port_open(self.port):
            assert self.process.poll() is None, "the SMTP sink exited at start"
            assert time.monotonic() < deadline, "the SMTP sink did not open its port"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def messages_to(self, address: str) -> list[EmailMessage]:
        found = []
        for path in sorted(self.directory.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["X-Envelope-To"] == address:
                found.append(message)
        return found


@dataclass
class WebhookReceiver:
    """A real HTTP endpoint that checks every call's signature, as a user's server would."""

    status: int = 200
    calls: list[dict[str, Any]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    # The secret the receiver checks with, for the owner a payload names (default: theirs).
    secret_for: Callable[[str], str | None] = field(default=lambda owner: owner_secret(owner))

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/video2audio"


@dataclass
class Owner:
    username: str
    email: str | None


def make_owner(with_email: bool = True, *, verified: bool = True) -> Owner:
    """A registered user; their address verified unless told otherwise."""
    username = f"notify-{uuid.uuid4().hex[:10]}"
    address = f"{username}@example.test" if with_email else None
    with postgres_connection() as connection:
        ensure_schema(connection)
        register_user(
            Credentials(username, "password-123", address), connection=connection, bcrypt_rounds=4
        )
        if address and verified:
            assert confirm_email(username, address, connection=connection)
    return Owner(username, address)


def owner_secret(username: str) -> str | None:
    """The user's webhook signing secret, as GET /webhook-secret of the auth function gives it."""
    with postgres_connection() as connection:
        return webhook_secret(username, connection=connection)


def store(bucket: str, filename: str, data: bytes, owner: str):
    stream = open_upload(mongo_database(), bucket, filename, metadata={"owner": owner})
    stream.write(data)
    stream.close()
    return stream.file_id


def finished_job(owner: str, *, webhook_url: str | None) -> dict[str, Any]:
    db = mongo_database()
    video_fid = store(VIDEOS, "holiday.mp4", b"\x00\x00\x00\x18ftypmp42", owner)
    job = create_job(
        db,
        owner=owner,
        video_fid=video_fid,
        filename="holiday.mp4",
        output={"format": "mp3", "bitrate": "192k"},
        webhook_url=webhook_url,
    )
    audio_fid = store(AUDIO, "holiday.mp3", AUDIO_BYTES, owner)
    update_job(db, job["_id"], {"status": JobStatus.DONE.value, "audio_fid": audio_fid})
    return {**job, "audio_fid": audio_fid, "status": JobStatus.DONE.value}


def outcome_event(job: dict[str, Any], event_type: str = AUDIO_READY, **extra: Any):
    data = {
        "job_id": job["_id"],
        "owner": job["owner"],
        "status": "done" if event_type == AUDIO_READY else "failed",
        "audio_fid": str(job["audio_fid"]) if job.get("audio_fid") else None,
        "video_fid": str(job["video_fid"]),
        "error": None,
        "format": "mp3",
        "filename": job["filename"],
        **extra,
    }
    return build_event(event_type, data, source="/tests/convert", subject=job["_id"])


def deliver(client, event):
    headers, body = to_http_binary(event)
    return client.post("/", headers=headers, data=body)
