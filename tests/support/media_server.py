"""A local HTTP server for the import tests: files, redirects, slow and oversized answers.

Routes (``/<name>``) are set per test: a body, a redirect, or a slow dribble. It is a real
server on 127.0.0.1, in a thread of the test process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    location: str | None = None
    content_type: str = "application/octet-stream"
    delay_per_chunk: float = 0.0  # seconds between 64 KiB pieces: a slow server
    declare_length: bool = True


@dataclass
class MediaServer:
    host: str
    port: int
    routes: dict[str, Route] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self.port}/{name}"


@contextmanager
def media_server(host: str = "127.0.0.1") -> Iterator[MediaServer]:
    served = MediaServer(host, 0)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            route = served.routes.get(self.path.lstrip("/").split("?", 1)[0])
            if route is None:
                self.send_error(404)
                return
            self.send_response(route.status)
            if route.location:
                self.send_header("Location", route.location)
            self.send_header("Content-Type", route.content_type)
            if route.declare_length:
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            try:
                for start in range(0, len(route.body), 64 * 1024):
                    if route.delay_per_chunk:
                        time.sleep(route.delay_per_chunk)
                    self.wfile.write(route.body[start : start + 64 * 1024])
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading: what the limits are for

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    served.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
