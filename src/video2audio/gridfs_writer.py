"""A GridFS writer whose memory does not grow with the file.

pymongo's ``GridIn`` (4.x) collects up to 32 MB of chunks before one ``insert_many``, and encoding
that batch doubles it: a single upload stream costs about 100 MB of transient memory. This
writer produces the same GridFS layout (``<bucket>.chunks`` documents ``{files_id, n, data}``
and, last, the ``<bucket>.files`` document) while holding at most one small batch of chunks.
Readers — pymongo's ``GridFSBucket`` and :func:`video2audio.storage.iter_file_bytes` — see an
ordinary GridFS file, and since the file document is written last, an interrupted upload is
never visible as a file (its chunks are orphans the expire function removes).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bson import Binary, Int64, ObjectId
from pymongo import ASCENDING
from pymongo.database import Database

from video2audio.storage import CHUNK_SIZE

WRITE_BATCH_CHUNKS = 2  # chunks per insert: a little batching, a few MiB of memory at most

_indexed: set[tuple[str, str]] = set()
_indexed_lock = threading.Lock()


def _ensure_indexes(db: Database, bucket: str) -> None:
    """The indexes GridFS drivers expect (the unique one also refuses a duplicated chunk)."""
    key = (db.name, bucket)
    if key in _indexed:
        return
    with _indexed_lock:
        db[f"{bucket}.chunks"].create_index(
            [("files_id", ASCENDING), ("n", ASCENDING)], unique=True
        )
        db[f"{bucket}.files"].create_index([("filename", ASCENDING), ("uploadDate", ASCENDING)])
        _indexed.add(key)


class GridFSWriter:
    """Write a file into a GridFS bucket in bounded memory; ``close()`` or ``abort()`` it."""

    def __init__(
        self,
        db: Database,
        bucket: str,
        filename: str,
        *,
        metadata: Mapping[str, Any],
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        _ensure_indexes(db, bucket)
        self._id = ObjectId()
        self._db, self._bucket = db, bucket
        self._filename, self._metadata = filename, dict(metadata)
        self._chunk_size = chunk_size
        self._buffer = bytearray()
        self._pending: list[dict[str, Any]] = []
        self._next_n = 0
        self._length = 0
        self._closed = False

    @property
    def length(self) -> int:
        return self._length

    def write(self, data: bytes) -> None:
        if self._closed:
            raise ValueError("cannot write to a closed GridFS file")
        self._buffer += data
        self._length += len(data)
        while len(self._buffer) >= self._chunk_size:
            self._add_chunk(bytes(self._buffer[: self._chunk_size]))
            del self._buffer[: self._chunk_size]

    def _add_chunk(self, data: bytes) -> None:
        self._pending.append({"files_id": self._id, "n": self._next_n, "data": Binary(data)})
        self._next_n += 1
        if len(self._pending) >= WRITE_BATCH_CHUNKS:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._db[f"{self._bucket}.chunks"].insert_many(self._pending, ordered=True)
            self._pending = []

    def close(self) -> None:
        """Write the remaining chunks, then the file document that makes the file visible."""
        if self._closed:
            return
        if self._buffer:
            self._add_chunk(bytes(self._buffer))
            self._buffer.clear()
        self._flush()
        self._db[f"{self._bucket}.files"].insert_one(
            {
                "_id": self._id,
                "length": Int64(self._length),
                "chunkSize": self._chunk_size,
                "uploadDate": datetime.now(UTC),
                "filename": self._filename,
                "metadata": self._metadata,
            }
        )
        self._closed = True

    def abort(self) -> None:
        """Remove every chunk written so far; the file never becomes visible."""
        self._closed = True
        self._pending = []
        self._buffer.clear()
        self._db[f"{self._bucket}.chunks"].delete_many({"files_id": self._id})


def open_writer(
    db: Database, bucket: str, filename: str, *, metadata: Mapping[str, Any]
) -> GridFSWriter:
    return GridFSWriter(db, bucket, filename, metadata=metadata)
