"""The loopback server over a real GridFS file: the queries a read costs, what it keeps after."""

from __future__ import annotations

import urllib.request

import pytest
from pymongo import MongoClient, monitoring

from video2audio.convert import loopback
from video2audio.core.settings import get_settings
from video2audio.infra.storage import VIDEOS, delete_file, find_file, open_upload


def test_a_closed_source_keeps_none_of_the_chunks_it_served(db):
    upload = open_upload(db, VIDEOS, "loopback.bin", metadata={})
    upload.write(bytes(range(256)) * 4096 * 3)  # 3 MiB: several chunks
    upload.close()
    file_doc = find_file(db, VIDEOS, upload.file_id)
    try:
        with loopback.serving(db, VIDEOS, file_doc) as source:
            request = urllib.request.Request(source.url, headers={"Range": "bytes=0-99"})
            with urllib.request.urlopen(request, timeout=30) as answer:
                assert answer.read() == bytes(range(100))
            assert source.cached_chunks > 0
        assert source.cached_chunks == 0
    finally:
        delete_file(db, VIDEOS, upload.file_id)


class ChunkQueries(monitoring.CommandListener):
    """The chunk queries a client sent: lookups name one chunk, whole-file queries do not."""

    def __init__(self) -> None:
        self.lookups = 0
        self.streaming = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        command = event.command
        if event.command_name != "find" or command.get("find") != f"{VIDEOS}.chunks":
            return
        if isinstance(command.get("filter", {}).get("n"), int):
            self.lookups += 1
        else:
            self.streaming += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
def watched(db):
    """A database handle whose chunk queries are counted, and a stored 6 MiB video."""
    queries = ChunkQueries()
    client = MongoClient(get_settings().mongo_url, event_listeners=[queries])
    upload = open_upload(db, VIDEOS, "watched.bin", metadata={})
    for _ in range(6):
        upload.write(bytes(range(256)) * 4096)  # 1 MiB each: six chunks
    upload.close()
    try:
        yield client[db.name], queries, find_file(db, VIDEOS, upload.file_id)
    finally:
        client.close()
        delete_file(db, VIDEOS, upload.file_id)


def test_a_read_that_stops_early_costs_no_chunk_past_the_first_two(watched):
    # ffmpeg asks for "bytes=0-" and reads a few kilobytes before it seeks away, four or five
    # times per conversion: reading ahead for it would fetch megabytes nobody wants.
    watched_db, queries, file_doc = watched
    with loopback.serving(watched_db, VIDEOS, file_doc) as source:
        request = urllib.request.Request(source.url, headers={"Range": "bytes=0-"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.read(64 * 1024) == (bytes(range(256)) * 256)
    assert queries.streaming == 0
    assert 1 <= queries.lookups <= 2


def test_a_read_through_the_file_looks_up_each_chunk_once(watched):
    watched_db, queries, file_doc = watched
    with loopback.serving(watched_db, VIDEOS, file_doc) as source:
        request = urllib.request.Request(source.url, headers={"Range": "bytes=0-"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = answer.read()
    assert body == bytes(range(256)) * 4096 * 6
    assert queries.streaming == 0
    assert queries.lookups == 6
