"""Reading ffmpeg's two text outputs while it runs: its log (stderr) and its progress pipe.

The log is kept for a failure's message: the last error lines. A conversion that needs facts
printed at lower levels (an MP3's encoder delay and sample count, convert/lame_header.py) runs
ffmpeg with ``-loglevel level+verbose``, which tags each line with its level, so that the errors
can still be told from the rest.
"""

from __future__ import annotations

import collections
import logging
import re
from collections.abc import Callable
from typing import IO

from video2audio.convert.media import ProgressParser

logger = logging.getLogger(__name__)

# A line of a log printed with ``-loglevel level+...``: an optional context, then the level.
LEVEL_TAGGED = re.compile(r"^((?:\[[^\]]* @ [^\]]*\] )?)\[(\w+)\] ")
KEPT_LEVELS = frozenset({"panic", "fatal", "error"})


def without_level(line: str) -> tuple[str | None, str]:
    """(the line's level or None when untagged, the line without its level tag)."""
    tagged = LEVEL_TAGGED.match(line)
    if tagged is None:
        return None, line
    return tagged[2], tagged[1] + line[tagged.end() :]


def drain_stderr(
    stream: IO[bytes], tail: collections.deque[str], on_line: Callable[[str], None] | None = None
) -> None:
    """Keep the error lines in ``tail`` (every line of an untagged log, which has only errors);
    hand every line to ``on_line``."""
    for raw in stream:
        line = raw.decode("utf-8", "replace").rstrip()
        if on_line is not None:
            on_line(line)
        level, message = without_level(line)
        if level is None or level in KEPT_LEVELS:
            tail.append(message)


def read_progress(fd: int, on_progress: Callable[[float], None] | None) -> None:
    parser = ProgressParser()
    with open(fd, "rb") as stream:
        for raw in stream:
            if parser.feed(raw.decode("ascii", "replace")) and on_progress is not None:
                try:
                    on_progress(parser.out_seconds)
                except Exception:
                    # A progress report must never break the conversion it reports on.
                    logger.exception("progress callback failed")
