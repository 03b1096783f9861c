"""Fetching an import into GridFS from a local HTTP server, on the real MongoDB-wire server."""

from __future__ import annotations

import os

import pytest
from bson import ObjectId

from tests.support.media_server import Route, media_server
from video2audio.core.errors import PermanentError
from video2audio.infra import storage
from video2audio.infra.clients import mongo_database
from video2audio.infra.remote_fetch import FetchPolicy, fetch_into_gridfs

MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
POLICY = FetchPolicy(max_bytes=3_000_000, timeout_seconds=3, max_redirects=3, allow_private=True)


@pytest.fixture
def db():
    return mongo_database()


@pytest.fixture
def server():
    with media_server() as served:
        yield served


@pytest.fixture
def file_id(db):
    fid = ObjectId()
    yield fid
    storage.delete_file(db, storage.VIDEOS, fid)


def fetch(db, url, file_id, policy=POLICY):
    return fetch_into_gridfs(
        url,
        db=db,
        bucket=storage.VIDEOS,
        file_id=file_id,
        filename="talk.mp4",
        metadata={"owner": "import-test"},
        policy=policy,
    )


def chunks(db, file_id) -> int:
    return db["videos.chunks"].count_documents({"files_id": file_id})


def test_a_plain_file_is_stored_as_the_named_video(server, db, file_id):
    body = MP4_HEAD + os.urandom(2_500_000)
    server.routes["talk.mp4"] = Route(body=body)
    fetched = fetch(db, server.url("talk.mp4"), file_id)
    assert (fetched.size, fetched.container) == (len(body), "mp4")
    doc = storage.find_file(db, storage.VIDEOS, file_id)
    assert b"".join(storage.iter_file_bytes(db, storage.VIDEOS, doc)) == body


def test_a_redirect_chain_ends_at_the_stored_file(server, db, file_id):
    server.routes["old"] = Route(status=301, location="/moved")
    server.routes["moved"] = Route(status=302, location="/talk.mp4")
    server.routes["talk.mp4"] = Route(body=MP4_HEAD + b"\x00" * 5000)
    fetched = fetch(db, server.url("old"), file_id)
    assert fetched.final_url == server.url("talk.mp4")


def test_an_html_page_is_refused_and_nothing_is_stored(server, db, file_id):
    server.routes["page"] = Route(body=b"<!doctype html><html>" + b"x" * 10_000)
    with pytest.raises(PermanentError, match="not a video or audio file"):
        fetch(db, server.url("page"), file_id)
    assert chunks(db, file_id) == 0


def test_a_declared_oversized_body_is_refused_before_reading(server, db, file_id):
    server.routes["big"] = Route(body=MP4_HEAD + b"\x00" * 3_100_000)
    with pytest.raises(PermanentError, match="larger than the limit"):
        fetch(db, server.url("big"), file_id)
    assert chunks(db, file_id) == 0


def test_an_undeclared_oversized_body_is_cut_off_and_removed(server, db, file_id):
    body = MP4_HEAD + b"\x00" * 3_100_000
    server.routes["big"] = Route(body=body, declare_length=False)
    with pytest.raises(PermanentError, match="larger than the limit"):
        fetch(db, server.url("big"), file_id)
    assert chunks(db, file_id) == 0


def test_a_slow_server_past_the_time_limit_fails_and_leaves_nothing(server, db, file_id):
    # 64 KiB every 0.2 s: about 1.3 MB in the 3 s allowed, of 2.5 MB.
    body = MP4_HEAD + b"\x00" * 2_500_000
    server.routes["slow"] = Route(body=body, delay_per_chunk=0.2)
    with pytest.raises(PermanentError, match="longer than 3 s"):
        fetch(db, server.url("slow"), file_id)
    assert chunks(db, file_id) == 0
