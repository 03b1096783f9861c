"""A local SMTP sink for development and tests: every message received becomes an .eml file.

    .venv/bin/python scripts/smtp_sink.py [--host 127.0.0.1] [--port 1025] [--dir .run/mail]
        [--tls-cert CERT --tls-key KEY [--implicit-tls]]

With a certificate it offers STARTTLS, or with ``--implicit-tls`` speaks TLS from the first byte
(SMTP_SECURITY=starttls / tls), so those settings can be tried locally too.

It accepts any sender and recipient without authentication or TLS and relays nothing, so it
must only ever listen on a loopback address. The envelope is recorded in ``X-Envelope-From`` /
``X-Envelope-To`` headers prepended to the message, since it can differ from the From/To headers.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import ssl
import threading
import time
import uuid
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

logger = logging.getLogger("smtp_sink")
ROOT = Path(__file__).resolve().parents[1]


class MailDirectoryHandler:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def handle_DATA(self, server, session, envelope) -> str:
        envelope_headers = (
            f"X-Envelope-From: {envelope.mail_from}\r\n"
            f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        # Written under a temporary name and renamed, so a reader never sees half a message.
        partial = self.directory / f".{name}.part"
        partial.write_bytes(envelope_headers + envelope.original_content)
        os.replace(partial, self.directory / name)
        logger.info(
            "stored message from %s to %s as %s", envelope.mail_from, envelope.rcpt_tos, name
        )
        return "250 Message accepted for delivery"


def accept_any_login(server, session, envelope, mechanism, auth_data) -> AuthResult:
    # Lets a development setting with SMTP_USER/SMTP_PASSWORD talk to the sink unchanged.
    return AuthResult(success=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, default=ROOT / ".run" / "mail")
    parser.add_argument("--tls-cert", type=Path, help="PEM certificate: offer STARTTLS")
    parser.add_argument("--tls-key", type=Path, help="PEM private key of --tls-cert")
    parser.add_argument("--implicit-tls", action="store_true", help="TLS from the first byte")
    args = parser.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key) or (args.implicit_tls and not args.tls_cert):
        parser.error("--tls-cert and --tls-key go together, and --implicit-tls needs them")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args.dir.mkdir(parents=True, exist_ok=True)

    # aiosmtpd logs every SMTP command at INFO: keep only its warnings.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    tls: dict[str, ssl.SSLContext] = {}
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        tls = {"ssl_context": context} if args.implicit_tls else {"tls_context": context}
    controller = Controller(
        MailDirectoryHandler(args.dir),
        hostname=args.host,
        port=args.port,
        authenticator=accept_any_login,
        auth_require_tls=False,
        **tls,
    )
    controller.start()
    mode = "implicit TLS" if args.implicit_tls else "STARTTLS" if args.tls_cert else "plain"
    logger.info(
        "SMTP sink (%s) on %s:%d storing messages in %s", mode, args.host, args.port, args.dir
    )

    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    stopping.wait()
    controller.stop()
    logger.info("SMTP sink stopped")


if __name__ == "__main__":
    main()
