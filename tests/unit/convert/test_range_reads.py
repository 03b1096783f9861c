"""The cache of chunks the requests of one conversion share."""

from __future__ import annotations

from video2audio.convert.range_reads import ChunkCache


def test_the_chunk_cache_keeps_the_most_recently_used_chunks():
    cache = ChunkCache(2)
    cache.put(("f", 0), b"head")
    cache.put(("f", 9), b"tail")
    assert cache.get(("f", 0)) == b"head"  # used again: now the most recent
    cache.put(("f", 5), b"middle")
    assert (cache.get(("f", 9)), cache.get(("f", 0)), cache.get(("f", 5))) == (
        None,
        b"head",
        b"middle",
    )
