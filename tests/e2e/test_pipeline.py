"""The whole product as `make up` runs it: HTTP, Knative event sources, ffmpeg, mail, webhook."""

from __future__ import annotations

import contextlib
import email
import email.policy
import io
import json
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from bson import ObjectId

from tests.support.media import make_video, probe
from tests.support.paths import ROOT
from tests.support.waiting import wait_until
from video2audio.core.settings import DEVELOPMENT_SECRET
from video2audio.core.tokens import issue_token
from video2audio.infra.events import PING, build_event, to_http_binary
from video2audio.jobs.links import signed_download_url
from video2audio.notify.webhooks import verify_webhook_signature

POLL_TIMEOUT = 240


class WebhookReceiver:
    """A real HTTP server that records the webhook calls it receives."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.calls.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def user(stack) -> tuple[str, dict[str, str]]:
    username = f"e2e-{uuid.uuid4().hex[:10]}"
    token = stack.register_and_login(username)
    return username, {"Authorization": f"Bearer {token}"}


def upload(stack, headers, path: Path, **fields: str) -> dict:
    with path.open("rb") as handle:
        response = requests.post(
            f"{stack.upload_url}/upload",
            files={"file": (path.name, handle, "video/mp4")},
            data=fields,
            headers=headers,
            timeout=60,
        )
    assert response.status_code == 202, response.text
    return response.json()


def wait_for_status(stack, headers, job_id: str, wanted: set[str], timeout=POLL_TIMEOUT) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = requests.get(f"{stack.upload_url}/jobs/{job_id}", headers=headers, timeout=10).json()
        if job["status"] in wanted:
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} never reached {wanted}: {job}")


def completion_mails(stack, address: str) -> list[email.message.EmailMessage]:
    return [m for m in stack.mail_to(address) if m["Subject"].startswith("Your audio is ready")]


def wait_until_gone(group: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"process group {group} survived SIGKILL")


def audio_files_of(mongo, job_id: str) -> int:
    return mongo["audio.files"].count_documents({"metadata.job_id": job_id})


def test_a_video_goes_end_to_end_and_expires(stack, user, webhook, mongo, tmp_path):
    username, headers = user
    source = make_video(tmp_path / "talk.mp4", seconds=4)
    accepted = upload(stack, headers, source, format="mp3", webhook_url=webhook.url)

    done = wait_for_status(stack, headers, accepted["job_id"], {"done", "failed"})
    assert done["status"] == "done", done
    assert done["mp3_fid"] == done["audio_fid"]

    response = requests.get(
        f"{stack.upload_url}/download",
        params={"fid": done["audio_fid"]},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("audio/mpeg")
    audio = tmp_path / "talk.mp3"
    audio.write_bytes(response.content)
    facts = probe(audio)
    assert facts["streams"][0]["codec_name"] == "mp3"
    source_duration = float(probe(source)["format"]["duration"])
    assert abs(float(facts["format"]["duration"]) - source_duration) <= 0.1

    # one completion email (after the verification mail), whose link downloads the same audio
    # without a token
    address = f"{username}@example.com"
    [message] = wait_until(
        lambda: completion_mails(stack, address), timeout=30, what="the completion email"
    )
    body = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://\S+/download\?\S+", body).group(0)
    assert requests.get(link, timeout=10).content == response.content

    # one webhook call, with a signature the receiver can verify
    wait_until(lambda: webhook.calls, timeout=30, what="the webhook call")
    # Both deliveries recorded as sent: the event is acknowledged, no repeat can follow.
    outcome = f"{accepted['job_id']}-done"
    wait_until(
        lambda: all(
            (mongo["jobs"].find_one({"_id": accepted["job_id"]}) or {})
            .get("notifications", {})
            .get(outcome, {})
            .get(channel, {})
            .get("state")
            == "sent"
            for channel in ("email", "webhook")
        ),
        timeout=30,
        what="notify to record both deliveries",
    )
    assert len(webhook.calls) == 1
    call_headers, call_body = webhook.calls[0]
    signature = call_headers.get("X-Video2Audio-Signature")
    secret = requests.get(f"{stack.auth_url}/webhook-secret", headers=headers, timeout=10)
    assert verify_webhook_signature(signature, call_body, secret=secret.json()["webhook_secret"])
    assert json.loads(call_body)["job_id"] == accepted["job_id"]
    assert len(completion_mails(stack, address)) == 1
    subjects = sorted(str(m["Subject"]) for m in stack.mail_to(address))
    confirm, ready = "Confirm your email address for Video2Audio", "Your audio is ready: talk.mp4"
    assert subjects == [confirm, ready]

    # expiry: only this job's files are made older than the retention, then a ping as the
    # PingSource sends it on its schedule (nobody else's files are touched by the test)
    backdated = datetime.now(UTC) - timedelta(seconds=stack.retention_seconds + 60)
    for bucket, fid in (("videos", accepted["video_fid"]), ("audio", done["audio_fid"])):
        mongo[f"{bucket}.files"].update_one(
            {"_id": ObjectId(fid)}, {"$set": {"uploadDate": backdated}}
        )
    ping = build_event(PING, {}, source="/apis/v1/namespaces/e2e/pingsources/x")
    ping_headers, ping_body = to_http_binary(ping)
    expired = requests.post(stack.expire_url, data=ping_body, headers=ping_headers, timeout=60)
    assert expired.status_code == 200, expired.text
    status = requests.get(
        f"{stack.upload_url}/status",
        params={"fid": accepted["video_fid"]},
        headers=headers,
        timeout=30,
    ).json()
    assert status["status"] == "expired"
    gone = requests.get(
        f"{stack.upload_url}/download",
        params={"fid": done["audio_fid"]},
        headers=headers,
        timeout=30,
    )
    assert gone.status_code == 410
    assert gone.json()["error"]


def test_three_uploads_at_once_all_complete(stack, user, mongo, tmp_path):
    _, headers = user
    video = make_video(tmp_path / "clip.mp4", seconds=3)
    accepted: list[dict] = []
    threads = [
        threading.Thread(
            target=lambda f=fmt: accepted.append(upload(stack, headers, video, format=f))
        )
        for fmt in ("mp3", "opus", "flac")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(accepted) == 3
    for job in accepted:
        done = wait_for_status(stack, headers, job["job_id"], {"done", "failed"})
        assert done["status"] == "done", done
        assert audio_files_of(mongo, job["job_id"]) == 1


def test_a_conversion_killed_midway_completes_once_after_restart(stack, user, mongo, tmp_path):
    _, headers = user
    # Long enough audio that the encode is still running when the function is killed.
    video = make_video(tmp_path / "long.mp4", seconds=600, size="64x48", fps=1)
    job_id = upload(stack, headers, video, format="mp3", bitrate="320k")["job_id"]
    deadline = time.monotonic() + 60
    while True:
        job = requests.get(f"{stack.upload_url}/jobs/{job_id}", headers=headers, timeout=10).json()
        if job["status"] == "processing" and job["progress"] > 0:
            break
        assert job["status"] in {"queued", "processing"}, job
        assert time.monotonic() < deadline, "conversion never started"
        time.sleep(0.2)

    # The whole process group, as a crashed pod: functions-framework, its worker and ffmpeg.
    group = stack.pid("convert")
    os.killpg(group, signal.SIGKILL)
    wait_until_gone(group)
    stack.run("start", "convert")

    done = wait_for_status(stack, headers, job_id, {"done", "failed"})
    assert done["status"] == "done", done
    assert audio_files_of(mongo, job_id) == 1
    assert mongo["jobs"].find_one({"_id": job_id})["attempts"] >= 2


def test_messages_waiting_in_rabbitmq_survive_its_restart(stack, user, mongo, tmp_path):
    _, headers = user
    video = make_video(tmp_path / "wait.mp4", seconds=2)
    stack.run("stop", "convert-source")
    try:
        job_ids = [upload(stack, headers, video)["job_id"] for _ in range(3)]
        stack.run("services", "restart-rabbitmq")
    finally:
        stack.run("start", "convert-source")
    for job_id in job_ids:
        done = wait_for_status(stack, headers, job_id, {"done", "failed"})
        assert done["status"] == "done", done
        assert audio_files_of(mongo, job_id) == 1


def test_the_stack_runs_with_secrets_of_its_own_kept_for_the_owner_only(stack):
    secrets = stack.secrets_file
    assert secrets.stat().st_mode & 0o777 == 0o600
    values = dict(line.split("=", 1) for line in secrets.read_text().split())
    assert len(values["JWT_SECRET"]) >= 32 and len(values["LINK_SECRET"]) >= 32
    assert DEVELOPMENT_SECRET not in values.values()


def test_a_token_signed_with_the_development_placeholder_is_refused(stack, user):
    username, _ = user
    forged = issue_token(username, secret=DEVELOPMENT_SECRET, issuer="video2audio", ttl_seconds=60)
    headers = {"Authorization": f"Bearer {forged}"}
    assert requests.get(f"{stack.auth_url}/verify", headers=headers, timeout=10).status_code == 401
    assert requests.get(f"{stack.upload_url}/jobs", headers=headers, timeout=10).status_code == 401


def test_a_link_signed_with_the_development_placeholder_is_refused(stack, user, tmp_path):
    username, headers = user
    accepted = upload(stack, headers, make_video(tmp_path / "link.mp4", seconds=2))
    done = wait_for_status(stack, headers, accepted["job_id"], {"done", "failed"})
    expiry = int(time.time()) + 600
    forged = signed_download_url(
        stack.upload_url, done["audio_fid"], username, expiry, secret=DEVELOPMENT_SECRET
    )
    assert requests.get(forged, timeout=10).status_code == 403


def kill_rabbitmq() -> None:
    """SIGKILL the broker (its Erlang VM) and its launcher, as a crash would take them."""
    state = ROOT / ".run" / "rabbitmq"
    groups = set()
    for name in ("pid", "beam.pid"):
        with contextlib.suppress(ProcessLookupError):  # the launcher may be gone already
            groups.add(os.getpgid(int((state / name).read_text())))
    assert groups, "no RabbitMQ process to kill"
    for group in groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
    for group in groups:
        wait_until_gone(group)


def test_uploads_while_rabbitmq_is_down_are_accepted_and_converted_once_it_is_back(
    stack, user, mongo, tmp_path
):
    _, headers = user
    video = make_video(tmp_path / "outbox.mp4", seconds=2)
    payload = video.read_bytes()
    half = len(payload) // 2
    killed = threading.Event()

    boundary = "outbox-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="outbox.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    class BodyThatKillsTheBrokerHalfway(io.RawIOBase):
        """The video is being stored when the broker dies: its event cannot go out."""

        def __init__(self) -> None:
            self.parts = [head + payload[:half], payload[half:] + tail]

        def __len__(self) -> int:
            return sum(len(part) for part in self.parts)

        def read(self, size: int = -1) -> bytes:
            if not self.parts:
                return b""
            if len(self.parts) == 1 and not killed.is_set():
                kill_rabbitmq()
                killed.set()
            return self.parts.pop(0)

    try:
        first = requests.post(
            f"{stack.upload_url}/upload",
            data=BodyThatKillsTheBrokerHalfway(),
            headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            timeout=60,
        )
        assert killed.is_set()
        assert first.status_code == 202, first.text
        # And one more while it is down.
        second = upload(stack, headers, video)
        for job_id in (first.json()["job_id"], second["job_id"]):
            stored = mongo["jobs"].find_one({"_id": job_id})
            assert (stored["status"], stored["upload_announced"]) == ("queued", False)
    finally:
        stack.run("services", "start-rabbitmq")

    # No client action: the outbox is emptied by the redelivery sweep (every minute).
    for job_id in (first.json()["job_id"], second["job_id"]):
        done = wait_for_status(stack, headers, job_id, {"done", "failed"}, timeout=180)
        assert done["status"] == "done", done
        assert audio_files_of(mongo, job_id) == 1
