"""ffmpeg's log: the error lines kept for a failure's message, every line handed on."""

from __future__ import annotations

import collections
import io

from video2audio.convert.ffmpeg_log import drain_stderr


def test_a_log_tagged_with_levels_keeps_only_its_errors_and_hands_on_every_line():
    log = (
        b"[info] Output #0, mp3, to 'pipe:1':\n"
        b"[mp3 @ 0x1] [error] Invalid data found\n"
        b"[verbose]   Output stream #0:0 (audio): 5 frames encoded (5760 samples); \n"
        b"[fatal] Conversion failed!\n"
    )
    tail: collections.deque[str] = collections.deque(maxlen=40)
    seen: list[str] = []
    drain_stderr(io.BytesIO(log), tail, seen.append)
    assert list(tail) == ["[mp3 @ 0x1] Invalid data found", "Conversion failed!"]
    assert len(seen) == 4


def test_a_log_without_levels_is_kept_whole():
    tail: collections.deque[str] = collections.deque(maxlen=40)
    drain_stderr(io.BytesIO(b"pipe:1: Invalid argument\n"), tail)
    assert list(tail) == ["pipe:1: Invalid argument"]
