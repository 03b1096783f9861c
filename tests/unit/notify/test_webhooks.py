"""Webhook signing, verification, URL checks, and how a receiver's answers are classified."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from video2audio.core.errors import PermanentError, TransientError
from video2audio.notify.webhooks import (
    SIGNATURE_HEADER,
    post_webhook,
    sign_webhook,
    verify_webhook_signature,
)

SECRET = "webhook-test-secret"
BODY = b'{"job_id":"abc","status":"done"}'


def test_a_signature_verifies_against_the_same_body_and_secret():
    assert verify_webhook_signature(sign_webhook(BODY, secret=SECRET), BODY, SECRET)


def test_the_signature_header_has_the_t_and_v1_form():
    header = sign_webhook(BODY, secret=SECRET, timestamp=1_700_000_000)
    timestamp, digest = header.split(",")
    assert timestamp == "t=1700000000"
    assert digest.startswith("v1=") and len(digest) == 3 + 64


def test_a_changed_body_does_not_verify():
    header = sign_webhook(BODY, secret=SECRET)
    assert not verify_webhook_signature(header, BODY.replace(b"done", b"fail"), SECRET)


def test_another_secret_does_not_verify():
    assert not verify_webhook_signature(sign_webhook(BODY, secret="other"), BODY, SECRET)


def test_an_old_signature_is_rejected_as_a_replay():
    header = sign_webhook(BODY, secret=SECRET, timestamp=int(time.time()) - 301)
    assert not verify_webhook_signature(header, BODY, SECRET, tolerance=300)


def test_a_changed_timestamp_does_not_verify():
    header = sign_webhook(BODY, secret=SECRET, timestamp=int(time.time()) - 10)
    forged = header.replace(header.split(",")[0], f"t={int(time.time())}")
    assert not verify_webhook_signature(forged, BODY, SECRET)


@pytest.mark.parametrize(
    "header", [None, "", "v1=abc", "t=abc,v1=abc", "t=1,t=2,v1=abc", "t=\u00b2,v1=abc", "junk"]
)
def test_malformed_headers_do_not_verify(header):
    assert not verify_webhook_signature(header, BODY, SECRET)


def test_a_v1_value_with_non_ascii_characters_does_not_verify():
    assert not verify_webhook_signature(f"t={int(time.time())},v1=\u00e9", BODY, SECRET)


def test_any_of_several_v1_values_may_match_during_a_secret_rotation():
    good = sign_webhook(BODY, secret=SECRET)
    timestamp, digest = good.split(",")
    assert verify_webhook_signature(f"{timestamp},v1={'0' * 64},{digest}", BODY, SECRET)


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, status: int, delay: float = 0.0) -> None:
        self.status, self.delay, self.requests = status, delay, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((dict(self.headers), body))
                time.sleep(outer.delay)
                self.send_response(outer.status)
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook?k=v"


@pytest.fixture
def receiver(request) -> Iterator[Receiver]:
    status, delay = getattr(request, "param", (200, 0.0))
    server = Receiver(status, delay)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def call(url: str, *, allow_private: bool = True, timeout: float = 2.0) -> int:
    return post_webhook(
        url,
        {"job_id": "abc", "status": "done"},
        secret=SECRET,
        timeout=timeout,
        allow_private=allow_private,
        event_type="io.video2audio.audio.ready",
        delivery_id="event-1",
    )


def test_a_webhook_post_carries_a_verifiable_signature(receiver):
    assert call(receiver.url) == 200
    [(headers, body)] = receiver.requests
    assert verify_webhook_signature(headers[SIGNATURE_HEADER], body, SECRET)
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Video2Audio-Delivery"] == "event-1"


@pytest.mark.parametrize("receiver", [(500, 0.0), (503, 0.0), (429, 0.0)], indirect=True)
def test_a_5xx_or_429_answer_is_transient(receiver):
    with pytest.raises(TransientError):
        call(receiver.url)


@pytest.mark.parametrize("receiver", [(400, 0.0), (404, 0.0), (410, 0.0)], indirect=True)
def test_a_4xx_answer_is_permanent(receiver):
    with pytest.raises(PermanentError):
        call(receiver.url)


@pytest.mark.parametrize("receiver", [(302, 0.0), (307, 0.0)], indirect=True)
def test_a_redirect_is_not_followed(receiver):
    with pytest.raises(PermanentError, match="redirect"):
        call(receiver.url)
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("receiver", [(200, 1.5)], indirect=True)
def test_a_slow_receiver_times_out_as_transient(receiver):
    with pytest.raises(TransientError):
        call(receiver.url, timeout=0.3)


def test_a_receiver_that_is_down_is_transient():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransientError):
        call(f"http://127.0.0.1:{port}/hook")


def test_a_refused_url_sends_nothing(receiver):
    with pytest.raises(PermanentError):
        call(receiver.url, allow_private=False)
    assert receiver.requests == []


@pytest.fixture
def https_receiver(certificate) -> Iterator[Receiver]:
    server = Receiver(200)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_an_https_webhook_checks_the_certificate_and_delivers(
    https_receiver, certificate, monkeypatch
):
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0])  # trust the test's own certificate
    assert call(https_receiver.url.replace("http://", "https://")) == 200
    assert len(https_receiver.requests) == 1


def test_an_https_webhook_with_an_untrusted_certificate_is_refused(https_receiver):
    with pytest.raises(PermanentError, match="certificate"):
        call(https_receiver.url.replace("http://", "https://"))
    assert https_receiver.requests == []
