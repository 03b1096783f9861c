"""Copying ffmpeg's output to storage through the read-ahead queue."""

from __future__ import annotations

import io
import threading
import time

from video2audio.convert.transcode import READ_AHEAD, READ_BLOCK, _copy_pipe


class SlowSink:
    """A database that stalls on its first write long enough for the read-ahead to fill up."""

    def __init__(self) -> None:
        self.written = 0

    def write(self, block: bytes) -> None:
        if self.written == 0:
            time.sleep(0.6)
        self.written += len(block)


def test_the_end_of_the_output_reaches_a_writer_that_was_slow_while_the_queue_was_full():
    data = b"a" * (READ_BLOCK * (READ_AHEAD + 1))
    sink, copied = SlowSink(), []
    copier = threading.Thread(
        target=lambda: copied.append(_copy_pipe(io.BytesIO(data), sink)), daemon=True
    )
    copier.start()
    copier.join(timeout=10)
    assert copied == [len(data)]
