"""Serve one stored video to ffmpeg over loopback HTTP, straight from GridFS, with byte ranges.

ffmpeg needs random access for many inputs (an MP4 with its index at the end is read from the
end first), which a pipe cannot give, and a temporary copy of the video would put the whole
upload on the pod's disk. So the conversion serves the GridFS file on 127.0.0.1, on a port the
kernel picks, under a random path that only this conversion knows, for as long as it runs.
Every request answers one byte range from GridFS (convert/range_reads.py), a few chunks ahead of
the socket so the database and ffmpeg work at once; memory stays bounded by that window per
request and a small cache of chunks read again.

A read that fails half-way cannot be told to ffmpeg reliably (it may just see the file end and
store a truncated audio), so the server remembers the failure in ``failed``/``error``: the
conversion checks it and turns it into a retry, never a "bad media" verdict.
"""

from __future__ import annotations

import contextlib
import http.server
import logging
import re
import secrets
import socket
import socketserver
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from pymongo.database import Database

from video2audio.convert.media import MediaInput
from video2audio.convert.range_reads import ChunkCache, RangeReader, blocks
from video2audio.infra.storage import read_chunk

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
CACHE_CHUNKS = 4  # the head and an MP4's index at the end, read by every ffmpeg run
SOCKET_TIMEOUT = 60.0  # a reader that stops reading for this long is gone
# A block counts as delivered (range_reads reads ahead only after the first few) once the socket
# took it; with the kernel's own sizing it would take megabytes for an ffmpeg that is about to
# close the connection, so the buffer is kept small: loopback needs no more for full speed.
SEND_BUFFER = 128 * 1024
RANGE = re.compile(r"bytes=(\d*)-(\d*)$")
PROTOCOLS = ("http", "tcp")


class LoopbackSource:
    """One GridFS file served on loopback for one conversion; a context manager.

    Only ``GET``/``HEAD`` of the random paths it made are answered; anything else is a 404.
    Besides the video it serves the small inputs of issue 18 (the cover picture, Ogg's metadata
    file, an uploaded cover image) from memory or GridFS, so they need no local file either.
    """

    def __init__(self, db: Database, bucket: str, file_doc: Mapping[str, Any]) -> None:
        self._db, self._bucket, self._doc = db, bucket, file_doc
        self._path = "/" + secrets.token_urlsafe(24)
        self._extras: dict[str, bytes | Mapping[str, Any]] = {}
        self._cache = ChunkCache(CACHE_CHUNKS)
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

    def head(self, size: int) -> bytes:
        """The first ``size`` bytes of the file (within its first chunk), kept for ffprobe."""
        if self._doc["length"] == 0:
            return b""
        key = (self._doc["_id"], 0)
        data = self._cache.get(key)
        if data is None:
            data = read_chunk(self._db, self._bucket, self._doc["_id"], 0)
            self._cache.put(key, data)
        return data[:size]

    def serve_extra(self, content: bytes | Mapping[str, Any], demuxer: str) -> MediaInput:
        """Serve ``content`` (bytes, or a file document of the same bucket) under a new path."""
        path = "/" + secrets.token_urlsafe(24)
        self._extras[path] = content
        return MediaInput(f"http://{HOST}:{self.port}{path}", demuxer, PROTOCOLS, (demuxer,))

    def __enter__(self) -> LoopbackSource:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and wait for every request thread (each ends within a read or a tick).

        The cached chunks and served pictures are dropped here: the server's handler refers back
        to this source, a cycle only the garbage collector's rare full pass would free, and each
        conversion would leave megabytes of chunks in the worker until then.
        """
        self._server.closing.set()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
        self._cache.clear()
        self._extras.clear()

    @property
    def cached_chunks(self) -> int:
        return len(self._cache)

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

        def setup(self) -> None:
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
            super().setup()

        def log_message(self, format: str, *args: Any) -> None:
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("loopback: %s", format % args)

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        def _answer(self, *, body: bool) -> None:
            if self.path == source._path:
                content: bytes | Mapping[str, Any] | None = source._doc
            else:
                content = source._extras.get(self.path)
            if content is None or source._server.closing.is_set():
                self.send_error(404)
                return
            with source._lock:
                source.requests += 1
            length = len(content) if isinstance(content, bytes) else int(content["length"])
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
            if body and isinstance(content, bytes):
                with contextlib.suppress(BrokenPipeError, ConnectionResetError, TimeoutError):
                    self.wfile.write(content[first : last + 1])
            elif body:
                self._send_body(content, first, last, count=content is source._doc)

        def _send_body(
            self, file_doc: Mapping[str, Any], first: int, last: int, *, count: bool
        ) -> None:
            reader = RangeReader(source._db, source._bucket, file_doc, first, last, source._cache)
            reader.start()
            try:
                for block in blocks(reader, source._server.closing):
                    self.wfile.write(block)
                    if count:
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


@contextlib.contextmanager
def serving(db: Database, bucket: str, file_doc: Mapping[str, Any]) -> Iterator[LoopbackSource]:
    """Serve ``file_doc`` for the length of the ``with`` block; shut down on every way out."""
    source = LoopbackSource(db, bucket, file_doc)
    with source:
        yield source
