"""A GridFS upload stream that stores each chunk as soon as it is full.

pymongo 4's ``GridIn`` keeps finished chunks in memory until
they add up to the server's maximum message size (48 MB on FerretDB) and then encodes them into
one message, so a writer briefly holds about twice that: measured, the conversion's memory grew
with the length of the audio until that cap. This writer stores each chunk once it is full,
two at a time (measured on FerretDB: 27 MB/s one by one, 46 MB/s two at a time), holding at
most IN_FLIGHT chunks. The layout
is standard GridFS (``<bucket>.files`` and ``<bucket>.chunks``), so every GridFS reader, including
``storage.iter_file_bytes``, reads it as usual.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from typing import Any

from bson import Binary, ObjectId
from pymongo import ASCENDING
from pymongo.database import Database

from video2audio.core.once import once_per_process

CHUNK_SIZE = 1024 * 1024  # large chunks: FerretDB's per-document cost dominates small ones
WRITERS = 2
IN_FLIGHT = 3  # chunks written or waiting: bounds the memory at a few MiB


@once_per_process
def ensure_indexes(db: Database, bucket: str) -> None:
    """The indexes GridFS drivers create, once per process and bucket (readers rely on them)."""
    db[f"{bucket}.chunks"].create_index([("files_id", ASCENDING), ("n", ASCENDING)], unique=True)
    db[f"{bucket}.files"].create_index([("filename", ASCENDING), ("uploadDate", ASCENDING)])


class ChunkedUpload:
    """Write with ``write``; ``close`` to publish the file, ``abort`` to delete what was written."""

    def __init__(
        self,
        db: Database,
        bucket: str,
        filename: str,
        *,
        metadata: Mapping[str, Any],
        chunk_size: int = CHUNK_SIZE,
        file_id: ObjectId | None = None,
    ) -> None:
        ensure_indexes(db, bucket)
        # A caller may name the file in advance (an import's job names its video before it is
        # fetched).
        self.file_id = file_id or ObjectId()
        self._files = db[f"{bucket}.files"]
        self._chunks = db[f"{bucket}.chunks"]
        self._filename = filename
        self._metadata = dict(metadata)
        self._chunk_size = chunk_size
        self._buffer = bytearray()
        self._next_n = 0
        self.length = 0
        self.closed = False
        self._slots = threading.BoundedSemaphore(IN_FLIGHT)
        self._pool = ThreadPoolExecutor(WRITERS, thread_name_prefix="gridfs-chunk")
        self._pending: list[Future[Any]] = []

    def write(self, data: bytes) -> None:
        if self.closed:
            raise ValueError("write to a closed upload")
        self._buffer += data
        self.length += len(data)
        while len(self._buffer) >= self._chunk_size:
            chunk = bytes(self._buffer[: self._chunk_size])
            del self._buffer[: self._chunk_size]
            self._store(chunk)

    def rewrite_head(self, data: bytes) -> None:
        """Replace the first ``len(data)`` bytes written before ``close``."""
        self.rewrite(0, data)

    def rewrite(self, offset: int, data: bytes) -> None:
        """Replace the ``len(data)`` bytes written from ``offset`` on, before ``close``.

        For headers only known at the end of a stream (FLAC's sample count, an MP3's ID3 size
        and Info frame); the bytes may span chunks already stored and the one being filled.
        """
        end = offset + len(data)
        if self.closed or offset < 0 or end > self.length:
            raise ValueError("rewrite needs an open upload holding those bytes")
        stored = self._next_n * self._chunk_size  # bytes handed to chunk documents
        if end > stored:
            start = max(offset, stored)
            self._buffer[start - stored : end - stored] = data[start - offset :]
        if offset >= stored:
            return
        self._drain()
        for n in range(offset // self._chunk_size, (min(end, stored) - 1) // self._chunk_size + 1):
            chunk_start = n * self._chunk_size
            document = self._chunks.find_one({"files_id": self.file_id, "n": n})
            if document is None:
                raise OSError(f"GridFS upload {self.file_id} lost its chunk {n}")
            patched = bytearray(document["data"])
            start, stop = max(offset, chunk_start), min(end, chunk_start + self._chunk_size)
            patched[start - chunk_start : stop - chunk_start] = data[start - offset : stop - offset]
            update = {"$set": {"data": Binary(bytes(patched))}}
            self._chunks.update_one({"_id": document["_id"]}, update)

    def _store(self, chunk: bytes) -> None:
        self._raise_failure()
        self._slots.acquire()
        document = {"files_id": self.file_id, "n": self._next_n, "data": Binary(chunk)}
        self._next_n += 1
        try:
            future = self._pool.submit(self._chunks.insert_one, document)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())
        self._pending.append(future)

    def _raise_failure(self) -> None:
        """Surface a failed chunk write; forget the ones that succeeded."""
        still: list[Future[Any]] = []
        for future in self._pending:
            if not future.done():
                still.append(future)
            elif future.exception() is not None:
                raise future.exception()  # type: ignore[misc]
        self._pending = still

    def _drain(self) -> None:
        wait(self._pending)
        self._raise_failure()

    def close(self) -> None:
        """Store the last partial chunk, then the file document that makes the file visible."""
        if self.closed:
            return
        try:
            if self._buffer:
                self._store(bytes(self._buffer))
                self._buffer.clear()
            self._drain()
            self._files.insert_one(
                {
                    "_id": self.file_id,
                    "length": self.length,
                    "chunkSize": self._chunk_size,
                    "uploadDate": datetime.now(UTC),
                    "filename": self._filename,
                    "metadata": self._metadata,
                }
            )
        finally:
            self._pool.shutdown(wait=True)
        self.closed = True

    def abort(self) -> None:
        """Delete every chunk written so far; the file never becomes visible."""
        self.closed = True
        self._buffer.clear()
        # Writes still under way would otherwise land after the delete.
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._chunks.delete_many({"files_id": self.file_id})
