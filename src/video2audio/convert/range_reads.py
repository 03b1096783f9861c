"""Byte ranges of a GridFS file for the loopback server: read ahead in a thread, first chunks kept.

ffmpeg asks for every range open-ended ("bytes=N-") and then mostly reads a few kilobytes before
it seeks away: the head, an MP4's index, the cover's frame. Only one read per run goes on through
the file. So the first chunks of a range are looked up one by one, and the rest is read ahead
(storage.iter_chunks, a few lookups at once) only once the client has taken those: a read that
ffmpeg leaves costs no chunks it never wanted. Chunks go through a bounded queue, so the database
works while the socket drains. The first chunks of every range go into a cache the conversion's
requests share: ffprobe, the cover and loudness passes and ffmpeg each seek back to the same
places.
"""

from __future__ import annotations

import collections
import contextlib
import queue
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from pymongo.database import Database

from video2audio.infra.storage import iter_chunks, read_chunk

READ_AHEAD_CHUNKS = 2  # chunks waiting for the socket: FerretDB and ffmpeg work at once
# The first chunks of each range: looked up one by one before reading ahead, and kept in the cache
# (what the next seek asks for again is the start of a range).
FIRST_CHUNKS = 2
PUT_TICK = 0.2


class ChunkCache:
    """The first chunks of the last ranges served, shared by the requests of one conversion.

    ffprobe, the cover frame, the loudness pass and ffmpeg each read the head of the file and
    (an MP4 with its index at the end) its tail again; on FerretDB every query costs about a scan
    of the bucket, so those repeats are answered from here.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._chunks: collections.OrderedDict[tuple[Any, int], bytes] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, int]) -> bytes | None:
        with self._lock:
            data = self._chunks.get(key)
            if data is not None:
                self._chunks.move_to_end(key)
            return data

    def __len__(self) -> int:
        with self._lock:
            return len(self._chunks)

    def clear(self) -> None:
        with self._lock:
            self._chunks.clear()

    def put(self, key: tuple[Any, int], data: bytes) -> None:
        with self._lock:
            self._chunks[key] = data
            self._chunks.move_to_end(key)
            while len(self._chunks) > self._size:
                self._chunks.popitem(last=False)


class RangeReader(threading.Thread):
    """Reads the bytes ``start`` .. ``end`` (inclusive) chunk by chunk into a bounded queue."""

    def __init__(
        self,
        db: Database,
        bucket: str,
        file_doc: Mapping[str, Any],
        start: int,
        end: int,
        cache: ChunkCache,
    ) -> None:
        super().__init__(name="loopback-read", daemon=True)
        self._db, self._bucket, self._doc = db, bucket, file_doc
        self._cache = cache
        self._start, self._end = start, end
        self.blocks: queue.Queue[bytes | BaseException | None] = queue.Queue(READ_AHEAD_CHUNKS)
        self.stopped = threading.Event()
        self._offered = 0
        self._delivered = 0
        self._progress = threading.Condition()

    def _offer(self, item: bytes | BaseException | None) -> bool:
        while not self.stopped.is_set():
            try:
                self.blocks.put(item, timeout=PUT_TICK)
            except queue.Full:
                continue
            with self._progress:
                self._offered += 1
            return True
        return False

    def delivered(self) -> None:
        """The client took another block (the socket accepted it)."""
        with self._progress:
            self._delivered += 1
            self._progress.notify_all()

    def _all_delivered(self) -> bool:
        """Wait until the client took every block offered so far; False if it left instead."""
        with self._progress:
            while self._delivered < self._offered:
                if self.stopped.is_set():
                    return False
                self._progress.wait(PUT_TICK)
        return not self.stopped.is_set()

    def _chunks(self, first: int, last: int) -> Iterator[tuple[int, bytes]]:
        """The first chunks from the cache or one by one, the rest read ahead."""
        file_id = self._doc["_id"]
        looked_up = first + FIRST_CHUNKS
        while first <= last:
            data = self._cache.get((file_id, first))
            if data is None:
                if first >= looked_up:
                    break
                data = read_chunk(self._db, self._bucket, file_id, first)
                self._cache.put((file_id, first), data)
            yield first, data
            first += 1
        if first > last or not self._all_delivered():
            return
        chunks = iter_chunks(self._db, self._bucket, self._doc, first, last)
        with contextlib.closing(chunks):
            yield from chunks

    def run(self) -> None:
        size = int(self._doc["chunkSize"])
        try:
            chunks = self._chunks(self._start // size, self._end // size)
            with contextlib.closing(chunks):
                for n, data in chunks:
                    offset = n * size
                    lo, hi = max(self._start - offset, 0), min(self._end + 1 - offset, len(data))
                    if not self._offer(data[lo:hi]):
                        return
        except Exception as exc:
            self._offer(exc)
            return
        self._offer(None)


def blocks(reader: RangeReader, closing: threading.Event) -> Iterator[bytes]:
    while True:
        try:
            item = reader.blocks.get(timeout=PUT_TICK)
        except queue.Empty:
            if closing.is_set():
                return
            continue
        if item is None:
            return
        if isinstance(item, BaseException):
            raise item
        yield item
        reader.delivered()  # resumed only once the caller has written the block out
