"""Bytes already written to a GridFS upload are replaced in place before it is published."""

from __future__ import annotations

import os

import gridfs
import pytest
from bson import ObjectId

from video2audio.infra.chunked_upload import ChunkedUpload
from video2audio.infra.clients import mongo_database

BUCKET = "test_chunked"
CHUNK = 1024


def stored(db, file_id: ObjectId) -> bytes:
    return gridfs.GridFSBucket(db, bucket_name=BUCKET).open_download_stream(file_id).read()


def test_a_rewrite_across_stored_chunks_and_the_unfinished_one_lands_where_asked():
    db, content = mongo_database(), os.urandom(3 * CHUNK + 500)
    upload = ChunkedUpload(db, BUCKET, "rewritten.bin", metadata={}, chunk_size=CHUNK)
    upload.write(content)

    upload.rewrite(1000, b"x" * 2500)  # the end of chunk 0, chunks 1 and 2, the buffer
    upload.rewrite(0, b"head")
    upload.close()

    assert stored(db, upload.file_id) == b"head" + content[4:1000] + b"x" * 2500 + content[3500:]


def test_a_rewrite_past_what_was_written_is_refused():
    upload = ChunkedUpload(mongo_database(), BUCKET, "short.bin", metadata={}, chunk_size=CHUNK)
    upload.write(b"abc")
    with pytest.raises(ValueError):
        upload.rewrite(2, b"xy")
    upload.abort()
