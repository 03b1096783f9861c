"""The loudness-normalised MP3 case: two-pass EBU R128 against the plain MP3, same input and run.

The first pass only decodes and measures; the second is the conversion with a gain. Target: the
pair costs at most LIMIT times the plain conversion. Kept apart from run.py's cases so each can
change on its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

LIMIT = 2.2
TARGET_LUFS = -16.0


def core_loudness_case(source: Path, bitrate: str) -> dict:
    """(l): the core as convert runs it with ``loudness=-16``: measure, then convert to GridFS."""
    from video2audio.convert import publishing_runs
    from video2audio.convert.media import MediaInput, probe
    from video2audio.convert.transcode import transcode_to_gridfs
    from video2audio.infra.clients import mongo_database
    from video2audio.infra.storage import AUDIO, delete_file, open_upload
    from video2audio.jobs.publishing import parse_publishing

    db = mongo_database()
    warm = open_upload(db, AUDIO, "warm-up", metadata={})
    warm.write(b"x")
    warm.close()
    delete_file(db, AUDIO, warm.file_id)
    publish = {**parse_publishing({"loudness": f"{TARGET_LUFS:g}"}), "cover": "none"}
    output = {"format": "mp3", "bitrate": bitrate, "publish": publish}
    job = {"output": output, "publish": publish}
    started = time.perf_counter()
    source_input = MediaInput(str(source), "mov")
    info = probe(source_input, size=source.stat().st_size, timeout=600)
    with publishing_runs.prepared(
        job, info, source_input, db=db, title="bench", timeout=7200
    ) as plan:
        result = transcode_to_gridfs(
            source_input,
            db=db,
            output=output,
            source=info,
            title="bench",
            filename="bench.mp3",
            metadata={"bench": True},
            timeout_seconds=7200,
            plan=plan,
        )
    seconds = time.perf_counter() - started
    delete_file(db, AUDIO, result.audio_fid)
    return {"seconds": seconds, "audio_bytes": result.size}


def compare(
    source: Path,
    bitrate: str,
    repeat: int,
    *,
    python_case: Callable[..., object],
    interleaved_best: Callable[[int, dict], dict],
) -> tuple[object, object, str]:
    """(plain, normalised, note): the fastest of ``repeat`` interleaved runs of each."""
    best = interleaved_best(
        repeat,
        {
            "d": lambda: python_case("core", str(source), "mp3", bitrate),
            "l": lambda: python_case("core-loudness", str(source), bitrate),
        },
    )
    ratio = best["l"].wall_seconds / best["d"].wall_seconds
    verdict = "met" if ratio <= LIMIT else "NOT met"
    note = f"{ratio:.2f}x the plain mp3 (d) in this run; target <= {LIMIT}x: {verdict}"
    return best["d"], best["l"], note
