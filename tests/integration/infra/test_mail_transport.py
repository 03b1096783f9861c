"""SMTP security modes and refusals, against real servers: the sink script with a certificate,
and an aiosmtpd server that refuses some recipients."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from tests.support.notify import SmtpSink, free_port
from video2audio.core.errors import PermanentError, TransientError
from video2audio.infra.mail import SmtpConfig, send_email


def tls_sink(tmp_path, certificate, *extra: str) -> Iterator[SmtpSink]:
    sink = SmtpSink(tmp_path, "--tls-cert", certificate[0], "--tls-key", certificate[1], *extra)
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def starttls_sink(tmp_path, certificate) -> Iterator[SmtpSink]:
    yield from tls_sink(tmp_path, certificate)


@pytest.fixture
def implicit_tls_sink(tmp_path, certificate) -> Iterator[SmtpSink]:
    yield from tls_sink(tmp_path, certificate, "--implicit-tls")


def message(to: str = "someone@example.test") -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "noreply@video2audio.local", to, "test"
    mail.set_content("hello")
    return mail


def test_starttls_with_a_login_delivers(starttls_sink, certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0])  # trust the test's own CA
    config = SmtpConfig("127.0.0.1", starttls_sink.port, "starttls", "user", "secret")
    send_email(message(), smtp=config)
    assert len(starttls_sink.messages_to("someone@example.test")) == 1


def test_implicit_tls_delivers(implicit_tls_sink, certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0])
    send_email(message(), smtp=SmtpConfig("127.0.0.1", implicit_tls_sink.port, "tls"))
    assert len(implicit_tls_sink.messages_to("someone@example.test")) == 1


def test_an_untrusted_certificate_is_refused_and_nothing_is_sent(starttls_sink):
    with pytest.raises(TransientError):
        send_email(message(), smtp=SmtpConfig("127.0.0.1", starttls_sink.port, "starttls"))
    assert starttls_sink.messages_to("someone@example.test") == []


class Refusing:
    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.startswith("gone@"):
            return "550 5.1.1 no such mailbox"
        if address.startswith("busy@"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture(scope="module")
def refusing_server() -> Iterator[int]:
    port = free_port()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port
    controller.stop()


def test_a_recipient_refused_with_5xx_is_permanent(refusing_server):
    with pytest.raises(PermanentError):
        send_email(message("gone@example.test"), smtp=SmtpConfig("127.0.0.1", refusing_server))


def test_a_recipient_deferred_with_4xx_is_transient(refusing_server):
    with pytest.raises(TransientError):
        send_email(message("busy@example.test"), smtp=SmtpConfig("127.0.0.1", refusing_server))
