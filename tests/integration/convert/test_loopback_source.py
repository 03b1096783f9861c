"""The loopback server over a real GridFS file: what it keeps once a conversion is over."""

from __future__ import annotations

import urllib.request

from video2audio.convert import loopback
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
