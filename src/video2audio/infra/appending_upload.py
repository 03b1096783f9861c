"""A GridFS file written over many requests: the storage under resumable (tus) uploads.

GridFS stores a file as chunks of one fixed size, so only whole chunks go into
``<bucket>.chunks`` while the upload runs; the bytes after the last whole chunk (the *tail*,
less than one chunk) are kept by the caller in the upload's record and handed back on the next
request, which continues the chunk where it ended. Memory stays at one chunk plus a read buffer
however large a request is, and what was stored survives the process: a resumed upload continues
from :attr:`AppendingUpload.offset`. The file document, which makes the file visible to every
GridFS reader, is only written by :meth:`AppendingUpload.publish` once all bytes are in.

Chunks are written one at a time, and the caller records the new offset after each one: a chunk
written beyond the recorded offset (the process died between the two) is removed by the next
request before it writes (:meth:`AppendingUpload.discard_beyond_offset`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from bson import Binary, ObjectId
from pymongo.database import Database

from video2audio.infra.chunked_upload import CHUNK_SIZE, ensure_indexes

Progress = Callable[[int, bytes], None]


class AppendingUpload:
    """The stored part of one upload: ``offset`` bytes, of which ``tail`` are not in a chunk."""

    def __init__(
        self,
        db: Database,
        bucket: str,
        file_id: ObjectId,
        *,
        offset: int,
        tail: bytes,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        if offset % chunk_size != len(tail):
            raise ValueError("the tail does not match the offset")
        ensure_indexes(db, bucket)
        self.file_id = file_id
        self._files = db[f"{bucket}.files"]
        self._chunks = db[f"{bucket}.chunks"]
        self._chunk_size = chunk_size
        self._buffer = bytearray(tail)
        self._next_n = offset // chunk_size
        self.offset = offset

    @property
    def tail(self) -> bytes:
        return bytes(self._buffer)

    def discard_beyond_offset(self) -> None:
        """Remove the chunk a request wrote after the last offset it recorded, if any.

        Chunks are stored one at a time and the offset recorded after each, so at most the one
        chunk numbered from the recorded offset can be there. An equality match, not
        ``n >= next``: FerretDB filters a range itself, reading every stored chunk of the file
        first, which made each request of a large upload slower than the last until requests
        timed out (a 1 GB upload in 16 MiB requests stalled at about 400 MB).
        """
        self._chunks.delete_one({"files_id": self.file_id, "n": self._next_n})

    def write(self, data: bytes, *, on_chunk: Progress) -> None:
        """Append ``data``; each chunk that fills is stored, then ``on_chunk(offset, tail)``."""
        self._buffer += data
        self.offset += len(data)
        while len(self._buffer) >= self._chunk_size:
            self._store(bytes(self._buffer[: self._chunk_size]))
            del self._buffer[: self._chunk_size]
            on_chunk(self.offset, bytes(self._buffer))

    def _store(self, chunk: bytes) -> None:
        self._chunks.insert_one(
            {"files_id": self.file_id, "n": self._next_n, "data": Binary(chunk)}
        )
        self._next_n += 1

    def head(self, size: int) -> bytes:
        """The first ``size`` stored bytes (or fewer): for recognising the container."""
        first = self._chunks.find_one({"files_id": self.file_id, "n": 0})
        data = bytes(first["data"]) if first is not None else bytes(self._buffer)
        return data[:size]

    def publish(self, *, filename: str, metadata: Mapping[str, Any]) -> None:
        """Store the tail as the last chunk, then the file document: the file is complete."""
        if self._buffer:
            self._store(bytes(self._buffer))
            self._buffer.clear()
        # A replace: a retried completion (the first died after this) must not fail on its own
        # earlier document.
        self._files.replace_one(
            {"_id": self.file_id},
            {
                "_id": self.file_id,
                "length": self.offset,
                "chunkSize": self._chunk_size,
                "uploadDate": datetime.now(UTC),
                "filename": filename,
                "metadata": dict(metadata),
            },
            upsert=True,
        )
