"""Notify fixtures: the real SMTP sink as a subprocess, a signature-checking webhook receiver,
users in PostgreSQL and finished jobs with a real audio file in GridFS."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.functions import function_app
from tests.support.notify import (
    Owner,
    SmtpSink,
    WebhookReceiver,
    make_owner,
)
from video2audio.infra.clients import reset_clients
from video2audio.notify.webhooks import SIGNATURE_HEADER, verify_webhook_signature


@pytest.fixture(scope="session")
def smtp_sink(tmp_path_factory) -> Iterator[SmtpSink]:
    sink = SmtpSink(tmp_path_factory.mktemp("mail"))
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def running_sink(smtp_sink) -> SmtpSink:
    # A test that stopped the sink must not leave it down for the next one.
    if smtp_sink.process is None:
        smtp_sink.start()
    return smtp_sink


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            secret = receiver.secret_for(json.loads(body).get("owner", ""))
            verified = secret is not None and verify_webhook_signature(
                self.headers.get(SIGNATURE_HEADER), body, secret, 300
            )
            receiver.calls.append(
                {"verified": verified, "body": body, "headers": dict(self.headers)}
            )
            status = receiver.status if verified else 401
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    receiver.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=receiver.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def notify_env(monkeypatch, running_sink) -> Iterator[None]:
    """Settings pointing notify at the sink; rebuilt for this test and forgotten after it."""
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(running_sink.port))
    monkeypatch.setenv("SMTP_SECURITY", "none")
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "2")
    reset_clients()
    yield
    reset_clients()


@pytest.fixture
def notify_client(notify_env):
    """The function as it starts with the test's settings (it reads them when it starts)."""
    return function_app("notify").test_client()


@pytest.fixture(scope="session")
def upload_client():
    return function_app("upload").test_client()


@pytest.fixture
def owner() -> Owner:
    return make_owner()
