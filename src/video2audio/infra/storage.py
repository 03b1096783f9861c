"""GridFS storage for videos and audio, streamed in bounded memory.

Writes go through :class:`~video2audio.infra.chunked_upload.ChunkedUpload`, which stores each chunk
as it fills (pymongo's ``GridIn`` buffers up to 48 MB first). Reads go through
:func:`iter_file_bytes`, which asks for chunks in small batches: FerretDB v1 ignores the default
batch sizing and answers pymongo's ``GridOut`` chunk query with every chunk in one reply, which
fails for files over 48 MB, and would hold the whole file in memory even if it did not. No read
sorts: FerretDB sorts in its own process, after reading the whole answer
(:func:`iter_chunks_streaming` puts an unsorted stream back in order instead).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
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
STREAM_BATCH = 2  # chunks per reply of a streaming range read: 2 MiB, fewer round trips than 1
# A range starting past this chunk is read by lookups: the unsorted query would first pass every
# earlier chunk through FerretDB, while a lookup by files_id and n is answered by an index in
# PostgreSQL (scripts/ferretdb-indexes.sql).
LOOKUP_AFTER = 4
REORDER_CHUNKS = 2  # chunks a streaming range read holds while waiting for an earlier one


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
    chunks = iter_chunks_streaming(db, bucket, file_doc, first, last)
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


def iter_chunks_streaming(
    db: Database, bucket: str, file_doc: Mapping[str, Any], first: int, last: int
) -> Iterator[tuple[int, bytes]]:
    """Chunks ``first`` to ``last`` (inclusive) of a stored file, in order, as (n, data).

    Made for random access that then reads on (a seek by ffmpeg): on FerretDB a sorted query
    prepares its whole answer before the first reply, about a scan of the file, while a lookup of
    one chunk is quick and an unsorted query streams in storage order. So the first chunk of a
    range that starts past the first few is looked up, the rest streams unsorted and is put back
    in order with a few chunks held; a chunk that does not come in time (stored far out of order)
    is looked up on its own.
    """
    file_id = file_doc["_id"]
    if first > LOOKUP_AFTER:
        # Near the start the unsorted query itself answers soon; past it, it would first pass
        # every earlier chunk through FerretDB, while a lookup is answered by an index.
        for n in range(first, last + 1):
            yield n, read_chunk(db, bucket, file_id, n)
        return
    expected = first
    held: dict[int, bytes] = {}
    if expected <= last:
        cursor = (
            db[f"{bucket}.chunks"]
            .find({"files_id": file_id, "n": {"$gte": expected, "$lte": last}})
            .batch_size(STREAM_BATCH)
        )
        with cursor:
            for chunk in cursor:
                if chunk["n"] >= expected:
                    held[chunk["n"]] = bytes(chunk["data"])
                while expected in held or len(held) > REORDER_CHUNKS:
                    data = held.pop(expected, None)
                    if data is None:
                        data = read_chunk(db, bucket, file_id, expected)
                    yield expected, data
                    expected += 1
    while expected <= last:
        data = held.pop(expected, None)
        yield expected, data if data is not None else read_chunk(db, bucket, file_id, expected)
        expected += 1


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
