"""Reading a stored file back: chunk lookups, a few at once, in order whatever the storage order."""

from __future__ import annotations

import contextlib
import datetime
import os
import random
import threading

import pytest
from bson import ObjectId

from video2audio.infra.clients import mongo_database
from video2audio.infra.storage import find_file, iter_chunks, iter_file_bytes

BUCKET = "test_chunk_reads"
CHUNK = 1000
CHUNKS = 20


@pytest.fixture
def shuffled():
    """A file whose chunks were written in random order (FerretDB keeps them as they came)."""
    db, content, file_id = mongo_database(), os.urandom(CHUNK * CHUNKS - 123), ObjectId()
    numbers = list(range(CHUNKS))
    random.Random(7).shuffle(numbers)
    for n in numbers:
        data = content[n * CHUNK : (n + 1) * CHUNK]
        db[f"{BUCKET}.chunks"].insert_one({"files_id": file_id, "n": n, "data": data})
    db[f"{BUCKET}.files"].insert_one(
        {
            "_id": file_id,
            "length": len(content),
            "chunkSize": CHUNK,
            "uploadDate": datetime.datetime.now(datetime.UTC),
            "filename": "shuffled.bin",
        }
    )
    yield db, content, find_file(db, BUCKET, file_id)
    db[f"{BUCKET}.chunks"].delete_many({"files_id": file_id})
    db[f"{BUCKET}.files"].delete_one({"_id": file_id})


def lookup_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name.startswith("gridfs-lookup")}


def test_chunks_stored_out_of_order_read_back_in_order(shuffled):
    db, content, file_doc = shuffled

    assert b"".join(iter_file_bytes(db, BUCKET, file_doc)) == content


def test_a_range_across_chunks_reads_exactly_its_bytes(shuffled):
    db, content, file_doc = shuffled

    read = b"".join(iter_file_bytes(db, BUCKET, file_doc, start=2500, end=7001))

    assert read == content[2500:7001]


def test_a_missing_chunk_fails_the_read_naming_it(shuffled):
    db, _, file_doc = shuffled
    db[f"{BUCKET}.chunks"].delete_one({"files_id": file_doc["_id"], "n": 7})

    with pytest.raises(OSError, match="missing chunk 7"):
        b"".join(iter_file_bytes(db, BUCKET, file_doc))


def test_a_read_closed_early_leaves_no_lookup_running(shuffled):
    db, _, file_doc = shuffled
    before = lookup_threads()

    chunks = iter_chunks(db, BUCKET, file_doc, 0, CHUNKS - 1)
    with contextlib.closing(chunks):
        assert next(chunks)[0] == 0
        started = lookup_threads() - before
        assert started

    assert not any(thread.is_alive() for thread in started)
