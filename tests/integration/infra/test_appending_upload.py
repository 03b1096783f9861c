"""A GridFS file written over many requests, on the real MongoDB-wire server (FerretDB)."""

from __future__ import annotations

import gridfs
from bson import ObjectId

from video2audio.infra.appending_upload import AppendingUpload
from video2audio.infra.clients import mongo_database

BUCKET = "test_appending"
CHUNK = 1024


def test_a_chunk_stored_past_the_recorded_offset_is_replaced_by_the_next_request():
    db, file_id = mongo_database(), ObjectId()
    first = AppendingUpload(db, BUCKET, file_id, offset=0, tail=b"", chunk_size=CHUNK)
    recorded: list[tuple[int, bytes]] = []
    first.write(b"a" * CHUNK, on_chunk=lambda offset, tail: recorded.append((offset, tail)))
    # The process dies after storing the second chunk, before recording its offset.
    first.write(b"x" * CHUNK, on_chunk=lambda offset, tail: None)
    offset, tail = recorded[-1]

    second = AppendingUpload(db, BUCKET, file_id, offset=offset, tail=tail, chunk_size=CHUNK)
    second.discard_beyond_offset()
    second.write(b"b" * CHUNK + b"c" * 10, on_chunk=lambda offset, tail: None)
    second.publish(filename="resumed.bin", metadata={})

    stored = gridfs.GridFSBucket(db, bucket_name=BUCKET).open_download_stream(file_id).read()
    assert stored == b"a" * CHUNK + b"b" * CHUNK + b"c" * 10


def test_discarding_with_nothing_past_the_offset_keeps_every_stored_chunk():
    db, file_id = mongo_database(), ObjectId()
    first = AppendingUpload(db, BUCKET, file_id, offset=0, tail=b"", chunk_size=CHUNK)
    first.write(b"a" * (2 * CHUNK), on_chunk=lambda offset, tail: None)

    again = AppendingUpload(db, BUCKET, file_id, offset=2 * CHUNK, tail=b"", chunk_size=CHUNK)
    again.discard_beyond_offset()

    assert db[f"{BUCKET}.chunks"].count_documents({"files_id": file_id}) == 2
