"""Serve one stored video to ffmpeg over loopback HTTP, straight from GridFS, with byte ranges.

ffmpeg needs random access for many inputs (an MP4 with its index at the end is read from the
end first), which a pipe cannot give, and a temporary copy of the video would put the whole
upload on the pod's disk. So the conversion serves the GridFS file on 127.0.0.1, on a port the
kernel picks, under a random path that only this conversion knows, for as long as it runs.
Every request answers one byte range from GridFS (storage.iter_chunks_streaming: a quick lookup
of its first chunk, the rest streamed), a few chunks ahead of the socket so the database and
ffmpeg work at once; memory stays bounded by that window per request.

A read that fails half-way cannot be told to ffmpeg reliably (it may just see the file end and
store a truncated audio), so the server remembers the failure in ``failed``/``error``: the
conversion checks it and turns it into a retry, never a "bad media" verdict.
"""

from __future__ import annotations

import contextlib
import http.server
import logging
import queue
import re
import secrets
import socketserver
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from pymongo.database import Database

from video2audio.convert.media import MediaInput
from video2audio.infra.storage import iter_chunks_streaming

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
READ_AHEAD_CHUNKS = 2  # chunks waiting for the socket: 2 MiB with the 1 MiB upload chunks
PUT_TICK = 0.2
SOCKET_TIMEOUT = 60.0  # a reader that stops reading for this long is gone
RANGE = re.compile(r"bytes=(\d*)-(\d*)$")
PROTOCOLS = ("http", "tcp")


class _Reader(threading.Thread):
    """Reads the bytes ``start`` .. ``end`` (inclusive) chunk by chunk into a bounded queue."""

    def __init__(
        self, db: Database, bucket: str, file_doc: Mapping[str, Any], start: int, end: int
    ) -> None:
        super().__init__(name="loopback-read", daemon=True)
        self._db, self._bucket, self._doc = db, bucket, file_doc
        self._start, self._end = start, end
        self.blocks: queue.Queue[bytes | BaseException | None] = queue.Queue(READ_AHEAD_CHUNKS)
        self.stopped = threading.Event()

    def _offer(self, item: bytes | BaseException | None) -> bool:
        while not self.stopped.is_set():
            try:
                self.blocks.put(item, timeout=PUT_TICK)
                return True
            except queue.Full:
                continue
        return False

    def run(self) -> None:
        size = int(self._doc["chunkSize"])
        try:
            chunks = iter_chunks_streaming(
                self._db, self._bucket, self._doc, self._start // size, self._end // size
            )
            with contextlib.closing(chunks):
                for n, data in chunks:
                    offset = n * size
                    lo, hi = max(self._start - offset, 0), min(self._end + 1 - offset, len(data))
                    if not self._offer(data[lo:hi]):
                        return
        except Exception as exc:
            self._offer(exc)
            return
        self._offer(None)


class LoopbackSource:
    """One GridFS file served on loopback for one conversion; a context manager.

    Only ``GET``/``HEAD`` of the one random path are answered; anything else is a 404.
    """

    def __init__(self, db: Database, bucket: str, file_doc: Mapping[str, Any]) -> None:
        self._db, self._bucket, self._doc = db, bucket, file_doc
        self._length = int(file_doc["length"])
        self._path = "/" + secrets.token_urlsafe(24)
        self.failed = threading.Event()
        self.error: BaseException | None = None
        self.bytes_served = 0
        self.requests = 0
        self._lock = threading.Lock()
        self._server = _Server((HOST, 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="loopback-http",
            daemon=True,
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}{self._path}"

    def media_input(self, demuxer: str) -> MediaInput:
        return MediaInput(self.url, demuxer, PROTOCOLS)

    def __enter__(self) -> LoopbackSource:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and wait for every request thread (each ends within a read or a tick)."""
        self._server.closing.set()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def _record_failure(self, exc: BaseException) -> None:
        with self._lock:
            if self.error is None:
                self.error = exc
        self.failed.set()
        logger.warning("reading the video from GridFS failed during conversion: %r", exc)

    def _count(self, served: int) -> None:
        with self._lock:
            self.bytes_served += served


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = False
    block_on_close = True  # server_close() joins the request threads
    allow_reuse_address = False

    def __init__(self, address: tuple[str, int], handler: type) -> None:
        self.closing = threading.Event()
        super().__init__(address, handler)


def _parse_range(header: str | None, length: int) -> tuple[int, int] | None:
    """(first, last) byte of a ``Range`` header; the whole file without one; None if unusable."""
    if length == 0:
        return None
    if not header:
        return 0, length - 1
    match = RANGE.match(header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    if match.group(1) == "":
        suffix = int(match.group(2))
        return (max(length - suffix, 0), length - 1) if suffix else None
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) else length - 1
    if first >= length or last < first:
        return None
    return first, min(last, length - 1)


def _handler_for(source: LoopbackSource) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one response per connection: a seek is a new request
        timeout = SOCKET_TIMEOUT

        def log_message(self, format: str, *args: Any) -> None:
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("loopback: %s", format % args)

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        def _answer(self, *, body: bool) -> None:
            if self.path != source._path or source._server.closing.is_set():
                self.send_error(404)
                return
            with source._lock:
                source.requests += 1
            length = source._length
            wanted = _parse_range(self.headers.get("Range"), length)
            if wanted is None:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{length}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            first, last = wanted
            self.send_response(206 if self.headers.get("Range") else 200)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Range", f"bytes {first}-{last}/{length}")
            self.send_header("Content-Length", str(last - first + 1))
            self.end_headers()
            if body:
                self._send_body(first, last)

        def _send_body(self, first: int, last: int) -> None:
            reader = _Reader(source._db, source._bucket, source._doc, first, last)
            reader.start()
            try:
                for block in _blocks(reader, source._server.closing):
                    self.wfile.write(block)
                    source._count(len(block))
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                # ffmpeg seeked elsewhere or finished: it closes the connection mid-range.
                pass
            except Exception as exc:
                source._record_failure(exc)
                # Cut the response short: ffmpeg sees an early end, the conversion sees failed.
                self.close_connection = True
            finally:
                reader.stopped.set()
                reader.join()

    return Handler


def _blocks(reader: _Reader, closing: threading.Event) -> Iterator[bytes]:
    while True:
        try:
            item = reader.blocks.get(timeout=PUT_TICK)
        except queue.Empty:
            if closing.is_set():
                return
            continue
        if item is None:
            return
        if isinstance(item, BaseException):
            raise item
        yield item


@contextlib.contextmanager
def serving(db: Database, bucket: str, file_doc: Mapping[str, Any]) -> Iterator[LoopbackSource]:
    """Serve ``file_doc`` for the length of the ``with`` block; shut down on every way out."""
    source = LoopbackSource(db, bucket, file_doc)
    with source:
        yield source
