"""One benchmark case per process, so each one's memory is measured on its own.

    python -m bench.cases moviepy|pydub|core|gridfs-rw INPUT OUTPUT [FORMAT] [BITRATE]
    python -m bench.cases gridfs-read VIDEO_FID REPEAT
    python -m bench.cases core-loudness INPUT BITRATE

Prints one JSON line: ``seconds`` is the time of the conversion call itself, measured inside
the process after imports and connections are ready (a running function is warm too); the
memory figure comes from the parent, which samples the whole process tree.
"""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path

from bson import ObjectId

from bench import inputs, loudness


def moviepy_case(source: Path, target: Path, bitrate: str) -> dict:
    from moviepy import VideoFileClip

    started = time.perf_counter()
    with VideoFileClip(str(source)) as clip:
        clip.audio.write_audiofile(str(target), bitrate=bitrate, codec="libmp3lame", logger=None)
    return {"seconds": time.perf_counter() - started}


def pydub_case(source: Path, target: Path, bitrate: str) -> dict:
    from pydub import AudioSegment

    started = time.perf_counter()
    AudioSegment.from_file(str(source)).export(str(target), format="mp3", bitrate=bitrate)
    return {"seconds": time.perf_counter() - started}


def core_case(source: Path, audio_format: str, bitrate: str | None) -> dict:
    """This project's core: probe, then local file -> ffmpeg -> GridFS upload stream."""
    from video2audio.convert.media import MediaInput, probe
    from video2audio.convert.transcode import transcode_to_gridfs
    from video2audio.infra.clients import mongo_database
    from video2audio.infra.storage import AUDIO, delete_file, open_upload

    db = mongo_database()
    # Warm up as a running function is: connected, and the bucket's indexes already checked.
    warm = open_upload(db, AUDIO, "warm-up", metadata={})
    warm.write(b"x")
    warm.close()
    delete_file(db, AUDIO, warm.file_id)
    started = time.perf_counter()
    source_input = MediaInput(str(source), inputs.demuxer(source))
    result = transcode_to_gridfs(
        source_input,
        db=db,
        output={"format": audio_format, "bitrate": bitrate},
        source=probe(source_input, size=source.stat().st_size, timeout=600),
        title="bench",
        filename=f"bench.{audio_format}",
        metadata={"bench": True},
        timeout_seconds=7200,
    )
    seconds = time.perf_counter() - started
    delete_file(db, AUDIO, result.audio_fid)
    return {"seconds": seconds, "audio_bytes": result.size}


RAW_READ_BATCH = 4  # chunks per reply: FerretDB v1 cannot answer GridOut's query over 48 MB


def plain_read(db, video: dict) -> int:
    """The stored video's bytes by GridOut's own query (sorted by ``n``), nothing else done.

    Issue 16's (g), the plain sequential read the targets are set against: the fastest single
    query here (2.7 s against 3.4-3.5 s unsorted for the 3-minute input; FerretDB sorts in its
    own memory, which the product avoids but a baseline need not). The product reads faster than
    this, with a few lookups at once (storage.iter_chunks).
    """
    cursor = (
        db["videos.chunks"].find({"files_id": video["_id"]}).sort("n", 1).batch_size(RAW_READ_BATCH)
    )
    return sum(len(chunk["data"]) for chunk in cursor)


def gridfs_rw_case(video_fid: str, audio_file: Path) -> dict:
    """A plain read of the stored video and a plain write of the audio's bytes."""
    from gridfs import GridFSBucket

    from video2audio.infra.chunked_upload import CHUNK_SIZE
    from video2audio.infra.clients import mongo_database
    from video2audio.infra.storage import VIDEOS, find_file

    db = mongo_database()
    bucket = GridFSBucket(db, bucket_name="bench", chunk_size_bytes=CHUNK_SIZE)
    bucket.delete(bucket.upload_from_stream("warm-up", io.BytesIO(b"x")))
    video = find_file(db, VIDEOS, ObjectId(video_fid))
    started = time.perf_counter()
    read = plain_read(db, video)
    read_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with audio_file.open("rb") as source:
        file_id = bucket.upload_from_stream("bench-audio", source)
    write_seconds = time.perf_counter() - started
    bucket.delete(file_id)
    return {"read_bytes": read, "read_seconds": read_seconds, "write_seconds": write_seconds}


def gridfs_read_case(video_fid: str, repeat: int) -> dict:
    """(g): the stored video read sequentially, alone, nothing done with it; the fastest run."""
    from video2audio.infra.clients import mongo_database
    from video2audio.infra.storage import VIDEOS, find_file

    db = mongo_database()
    video = find_file(db, VIDEOS, ObjectId(video_fid))
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        read = plain_read(db, video)
        best = min(best, time.perf_counter() - started)
    return {"seconds": best, "read_bytes": read}


def main(argv: list[str]) -> None:
    case = argv[1]
    if case == "moviepy":
        report = moviepy_case(Path(argv[2]), Path(argv[3]), argv[4])
    elif case == "pydub":
        report = pydub_case(Path(argv[2]), Path(argv[3]), argv[4])
    elif case == "core":
        report = core_case(Path(argv[2]), argv[3], argv[4] if len(argv) > 4 else None)
    elif case == "gridfs-read":
        report = gridfs_read_case(argv[2], int(argv[3]))
    elif case == "core-loudness":
        report = loudness.core_loudness_case(Path(argv[2]), argv[3])
    elif case == "gridfs-rw":
        report = gridfs_rw_case(argv[2], Path(argv[3]))
    else:
        raise SystemExit(f"unknown case {case!r}")
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv)
