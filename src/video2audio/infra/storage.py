"""GridFS storage for videos and audio, streamed in bounded memory.

Writes go through :class:`~video2audio.infra.chunked_upload.ChunkedUpload`, which stores each chunk
as it fills (pymongo's ``GridIn`` buffers up to 48 MB first). Reads go through :func:`iter_chunks`
(and :func:`iter_file_bytes` on it): every chunk by its own lookup, a few at once, put in order.
On FerretDB that is both the fastest read and the only one whose cost does not depend on how the
chunks lie in its PostgreSQL tables: a query for a whole file answers in storage order, which
interleaves chunks written through different connections (1.5x the work to put back in order,
measured on a bucket with a history), sorts in FerretDB's own memory when asked to, and, closed
early, still passes the rest of the file from PostgreSQL. Three lookups in flight read a 105 MB
video in 1.8 s against 2.9 s for one streaming query on freshly written chunks, with less CPU.
"""

from __future__ import annotations

import collections
import contextlib
import logging
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from gridfs import GridFSBucket, NoFile
from pymongo.database import Database

from video2audio.core.errors import NotFoundError
from video2audio.infra.chunked_upload import ChunkedUpload

logger = logging.getLogger(__name__)

VIDEOS = "videos"
AUDIO = "audio"
BUCKETS = (VIDEOS, AUDIO)
LOOKUPS_IN_FLIGHT = 3  # chunks asked for at once by a read: FerretDB answers each in parallel


def parse_file_id(raw: object) -> ObjectId:
    """A file id from a request: anything that is not a 24-hex-digit string is simply unknown."""
    if not isinstance(raw, str):
        raise NotFoundError("file not found")
    try:
        return ObjectId(raw)
    except (InvalidId, TypeError):
        raise NotFoundError("file not found") from None


def open_upload(
    db: Database, bucket: str, filename: str, *, metadata: Mapping[str, Any]
) -> ChunkedUpload:
    """A GridFS upload stream that stores chunks as they fill; ``abort()`` it on failure so no
    chunks are left behind."""
    return ChunkedUpload(db, bucket, filename, metadata=metadata)


def find_file(db: Database, bucket: str, file_id: ObjectId) -> dict[str, Any] | None:
    return db[f"{bucket}.files"].find_one({"_id": file_id})


def iter_file_bytes(
    db: Database,
    bucket: str,
    file_doc: Mapping[str, Any],
    *,
    start: int = 0,
    end: int | None = None,
) -> Iterator[bytes]:
    """Yield the bytes ``start`` to ``end`` (exclusive) of a stored file, chunk by chunk."""
    length = int(file_doc["length"])
    end = length if end is None else min(end, length)
    if start >= end:
        return
    chunk_size = int(file_doc["chunkSize"])
    first, last = start // chunk_size, (end - 1) // chunk_size
    chunks = iter_chunks(db, bucket, file_doc, first, last)
    with contextlib.closing(chunks):
        for n, data in chunks:
            offset = n * chunk_size
            yield data[max(start - offset, 0) : min(end - offset, len(data))]


def read_chunk(db: Database, bucket: str, file_id: Any, n: int) -> bytes:
    """Chunk ``n`` of a stored file, by a lookup FerretDB filters in PostgreSQL (no sort)."""
    found = db[f"{bucket}.chunks"].find_one({"files_id": file_id, "n": n})
    if found is None:
        raise OSError(f"GridFS file {file_id} is missing chunk {n}")
    return bytes(found["data"])


def iter_chunks(
    db: Database,
    bucket: str,
    file_doc: Mapping[str, Any],
    first: int,
    last: int,
) -> Iterator[tuple[int, bytes]]:
    """Chunks ``first`` to ``last`` (inclusive) of a stored file, in order, as (n, data).

    Each chunk is looked up on its own, LOOKUPS_IN_FLIGHT of them at once, so at most that many
    chunks wait in memory; closing the iterator early waits only for the lookups under way.
    """
    if first > last:
        return
    file_id = file_doc["_id"]
    pending: collections.deque[tuple[int, Future[bytes]]] = collections.deque()
    lookups = ThreadPoolExecutor(max_workers=LOOKUPS_IN_FLIGHT, thread_name_prefix="gridfs-lookup")
    try:
        n = first
        while n <= last or pending:
            while n <= last and len(pending) < LOOKUPS_IN_FLIGHT:
                pending.append((n, lookups.submit(read_chunk, db, bucket, file_id, n)))
                n += 1
            number, answer = pending.popleft()
            yield number, answer.result()
    finally:
        for _, answer in pending:
            answer.cancel()
        lookups.shutdown(wait=True)


def files_of_job(db: Database, bucket: str, job_id: str) -> list[ObjectId]:
    """The stored files a job made (their metadata names it)."""
    return [
        doc["_id"] for doc in db[f"{bucket}.files"].find({"metadata.job_id": job_id}, {"_id": 1})
    ]


def delete_file(db: Database, bucket: str, file_id: ObjectId) -> bool:
    """Delete a stored file and its chunks; False if it was already gone."""
    try:
        GridFSBucket(db, bucket_name=bucket).delete(file_id)
    except NoFile:
        # The file document may be gone while chunks remain (a crash between the two deletes).
        db[f"{bucket}.chunks"].delete_many({"files_id": file_id})
        return False
    return True
