"""Serving a function: functions-framework's app and gunicorn server, hardened against slow clients.

``video2audio-serve --target upload --source functions/upload/main.py`` is what ``make up`` and
the container images run. It builds the app exactly as the ``functions-framework``
command does and runs functions-framework's own gunicorn application, with options that command
cannot pass:

- a thread worker (:class:`GuardedThreadWorker`) whose connections have deadlines: the request
  line and headers must arrive within ``HTTP_HEADER_TIMEOUT_SECONDS``, and a client that sends or
  reads nothing for ``HTTP_IDLE_TIMEOUT_SECONDS`` is dropped, so stalled clients free their
  threads while a slow but steady upload (a phone on a bad network) goes on for as long as it
  sends;
- ``HTTP_THREADS`` threads, so many slow uploads and idle connections cannot take the last one;
- a request line and header fields of at most 8 KiB each, and at most 100 header fields;
- gunicorn's own log lines written like every other (:class:`ProcessLogger`), so a function's
  log stays one JSON object per line.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import socket
import time
from typing import Any

from functions_framework import create_app
from functions_framework._http import create_server
from gunicorn.glogging import Logger
from gunicorn.workers.gthread import ThreadWorker

from video2audio.core.settings import get_settings

logger = logging.getLogger(__name__)

MAX_REQUEST_LINE = 8190
MAX_HEADER_FIELD = 8190
MAX_HEADER_FIELDS = 100


class IdleClientError(ConnectionResetError):
    """The client sent (or read) nothing within its deadline; the connection is dropped."""

    def __init__(self, what: str, seconds: float) -> None:
        super().__init__(errno.ECONNRESET, f"{what}: nothing for {seconds:g} s")


class PacedSocket:
    """A connection's socket whose every read and write has a deadline.

    Each ``recv`` waits at most the idle limit; while a request's head is being read it also
    waits no longer than what is left of the head's deadline, so a client dripping one byte at a
    time cannot hold a thread either. Everything else is the socket's own.
    """

    def __init__(self, sock: socket.socket, *, idle_seconds: float, head_seconds: float) -> None:
        self._sock = sock
        self._idle = idle_seconds
        self._head = head_seconds
        self._head_deadline: float | None = None

    def start_head(self) -> None:
        self._head_deadline = time.monotonic() + self._head

    def end_head(self) -> None:
        self._head_deadline = None

    def recv(self, size: int, *flags: int) -> bytes:
        timeout = self._idle
        if self._head_deadline is not None:
            timeout = min(timeout, self._head_deadline - time.monotonic())
            if timeout <= 0:
                raise IdleClientError("request head incomplete", self._head)
        self._sock.settimeout(timeout)
        try:
            return self._sock.recv(size, *flags)
        except TimeoutError:
            what = "request head incomplete" if self._head_deadline else "client idle"
            raise IdleClientError(what, timeout) from None

    def sendall(self, data: Any, *flags: int) -> None:
        self._sock.settimeout(self._idle)
        try:
            self._sock.sendall(data, *flags)
        except TimeoutError:
            raise IdleClientError("client not reading", self._idle) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class GuardedThreadWorker(ThreadWorker):
    """gunicorn's thread worker with :class:`PacedSocket` connections."""

    def init_process(self) -> None:
        settings = get_settings()
        self._idle_seconds = settings.http_idle_timeout_seconds
        self._head_seconds = settings.http_header_timeout_seconds
        super().init_process()

    def handle(self, conn: Any) -> Any:
        if not isinstance(conn.sock, PacedSocket):
            conn.sock = PacedSocket(
                conn.sock, idle_seconds=self._idle_seconds, head_seconds=self._head_seconds
            )
        conn.sock.start_head()
        return super().handle(conn)

    def handle_request(self, req: Any, conn: Any) -> Any:
        # The head is in: from here on only the idle limit applies (bodies may take long).
        conn.sock.end_head()
        return super().handle_request(req, conn)


class ProcessLogger(Logger):
    """gunicorn's logger without handlers of its own: its records go to the process's handler.

    That handler (:func:`video2audio.core.logs.configure_logging`) is installed when the function's
    module is loaded, before gunicorn starts.
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in list(log.handlers):
                log.removeHandler(handler)
            log.propagate = True


def server_options() -> dict[str, Any]:
    """What functions-framework's gunicorn application gets on top of its own defaults."""
    settings = get_settings()
    return {
        "worker_class": f"{__name__}.GuardedThreadWorker",
        "logger_class": f"{__name__}.ProcessLogger",
        "threads": settings.http_threads,
        "worker_connections": settings.http_threads + settings.http_max_idle_connections,
        "keepalive": 5,
        "limit_request_line": MAX_REQUEST_LINE,
        "limit_request_fields": MAX_HEADER_FIELDS,
        "limit_request_field_size": MAX_HEADER_FIELD,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default=os.environ.get("FUNCTION_TARGET"))
    parser.add_argument("--source", default=os.environ.get("FUNCTION_SOURCE", "main.py"))
    parser.add_argument(
        "--signature-type",
        default=os.environ.get("FUNCTION_SIGNATURE_TYPE", "http"),
        choices=["http", "cloudevent"],
    )
    parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a server's default
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    args = parser.parse_args(argv)
    app = create_app(args.target, args.source, args.signature_type)
    create_server(app, False, **server_options()).run(args.host, args.port)


if __name__ == "__main__":
    main()
