"""The ffmpeg runs a publishing plan needs before the conversion: measure, picture.

:func:`prepared` turns a job's ``publish`` options into an :class:`OutputPlan` for the one
conversion command: it measures the loudness (loudnorm's first pass, which only decodes), makes
the cover picture (a frame about 10% into the video, or the uploaded image, as a JPEG of at most
1400 px). The picture stays in memory and reaches ffmpeg through ``serve`` (the conversion's
loopback server), as does the uploaded image straight from GridFS: no local file; an M4A's cover
is written into the file by the rewrite of ffmpeg's output (convert/mp4_stream.py).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pymongo.database import Database

from video2audio.convert import publishing
from video2audio.convert.media import (
    FFMPEG,
    FFPROBE,
    MAX_PROBE_OUTPUT,
    MediaInfo,
    MediaInput,
    run_with_deadline,
)
from video2audio.convert.publishing import OutputPlan
from video2audio.core.covers import (
    ONE_FRAME_DECODING,
    cover_frame_time,
    frame_to_jpeg_arguments,
)
from video2audio.core.errors import PermanentError
from video2audio.infra.storage import VIDEOS, find_file
from video2audio.jobs.model import AudioFormat

logger = logging.getLogger(__name__)

QUIET = [FFMPEG, "-hide_banner", "-nostdin", "-nostats", "-y"]
# Serves bytes, or a stored file's document, to ffmpeg as an input read with the named demuxer.
Serve = Callable[[bytes | Mapping[str, Any], str], MediaInput]


@contextlib.contextmanager
def prepared(
    job: Mapping[str, Any],
    info: MediaInfo,
    source_input: MediaInput,
    *,
    db: Database,
    title: str,
    timeout: float,
    serve: Serve | None = None,
) -> Iterator[OutputPlan]:
    """The plan for converting ``job``, for the length of the ``with`` block.

    Without ``serve`` there is no way to hand ffmpeg a picture, so there is no cover.
    A job recorded without a ``publish`` document (before these options existed) gets the title
    tag only, as it always did.
    """
    publish = job.get("publish")
    audio_format = AudioFormat((job.get("output") or {}).get("format") or "mp3")
    plan = OutputPlan()
    trim = publishing.trim_window(publish, info.duration)
    plan.before_input, trim_output = publishing.trim_arguments(trim)
    if trim.length is not None or trim.start:
        plan.seconds = trim.length or (info.duration or 0.0) - trim.start or None
    plan.output += trim_output
    if publish and publish.get("loudness") is not None:
        plan.output += _loudness_arguments(
            publish, info, source_input, plan.before_input, trim_output, audio_format, timeout
        )
    tags = publishing.tag_values(publish, title=title)
    plan.metadata = publishing.metadata_arguments(tags, audio_format)
    choice = (
        publishing.wants_cover(publish, audio_format, has_video=info.video_codec is not None)
        if publish is not None
        else None
    )
    cover = None
    if choice is not None and serve is not None:
        cover = make_cover(choice, job, source_input, info, db=db, serve=serve, timeout=timeout)
    if cover is not None and serve is not None:
        _add_cover(plan, cover, tags, audio_format, serve=serve, timeout=timeout)
    trimmed = bool(plan.before_input or trim_output)
    plan.classic_mp4 = publishing.needs_classic_mp4(
        audio_format, with_cover=cover is not None, trimmed=trimmed
    )
    yield plan


def _add_cover(
    plan: OutputPlan,
    cover: bytes,
    tags: Mapping[str, str],
    audio_format: AudioFormat,
    *,
    serve: Serve,
    timeout: float,
) -> None:
    if audio_format is AudioFormat.M4A:
        plan.cover = cover  # as covr, by the rewrite: the fragmented muxer cannot write it
        return
    picture = serve(cover, "jpeg_pipe")
    if audio_format is AudioFormat.OPUS:
        # The Ogg muxer takes no picture stream: a METADATA_BLOCK_PICTURE comment instead,
        # with the other tags, from a metadata file (the picture is too long for an argument).
        width, height = image_size(picture, timeout=timeout)
        block = publishing.picture_block(cover, mime="image/jpeg", width=width, height=height)
        text = publishing.ffmetadata(tags, picture=block).encode("utf-8")
        plan.extra_inputs += serve(text, "ffmetadata").options()
        # The tags come from the file; the source's stream tags (handler names) are dropped.
        plan.metadata = ["-map_metadata", "1", "-map_metadata:s:a", "-1"]
        return
    plan.extra_inputs += picture.options()
    maps, output = publishing.cover_arguments(audio_format, input_index=1)
    plan.maps += maps
    plan.output += output


def _loudness_arguments(
    publish: Mapping[str, Any],
    info: MediaInfo,
    source_input: MediaInput,
    before_input: list[str],
    trim_output: list[str],
    audio_format: AudioFormat,
    timeout: float,
) -> list[str]:
    """Measure, then the normalising output options. Where the peaks must be limited, a trial
    pass measures where the limiting lands and the aim is corrected once (see
    :func:`publishing.loudness_correction`); plain gain needs no trial."""
    measured = measure_loudness(source_input, before_input, trim_output, timeout)
    facts = {"audio_format": audio_format, "sample_rate": info.sample_rate}
    facts["channels"] = info.channels
    arguments = publishing.normalise_arguments(publish, measured, **facts)
    if not publishing.limits_peaks(arguments):
        return arguments
    reached = measure_loudness(source_input, before_input, trim_output, timeout, arguments)
    correction = publishing.loudness_correction(publish, reached)
    if not correction:
        return arguments
    logger.info("limiting landed %.1f LU short of the target: aiming higher", correction)
    return publishing.normalise_arguments(publish, measured, **facts, correction=correction)


def measure_loudness(
    source_input: MediaInput,
    before_input: list[str],
    trim_output: list[str],
    timeout: float,
    processing: list[str] | None = None,
) -> dict[str, float]:
    """A pass over the (trimmed) audio that writes nothing: decode and measure (ebur128); with
    ``processing`` (``-af`` and its filters, then output options), measure their result."""
    command = [*QUIET, "-loglevel", "info", *before_input, *source_input.options()]
    command += ["-map", "0:a:0", "-vn", "-sn", "-dn", *trim_output]
    if processing:
        chain = f"{processing[1]},{publishing.measure_filter()}"
        command += ["-af", chain, *processing[2:], "-f", "null", "-"]
    else:
        command += ["-af", publishing.measure_filter(), "-f", "null", "-"]
    returncode, _, stderr = run_with_deadline(command, timeout=timeout, what="loudness measurement")
    text = stderr.decode("utf-8", "replace")
    if returncode != 0:
        logger.info("loudness measurement failed (exit %s): %s", returncode, text[-1000:])
        raise PermanentError("the audio could not be decoded to measure its loudness")
    measured = publishing.parse_measurement(text)
    logger.info("measured loudness: %s", measured)
    return measured


def make_cover(
    choice: str,
    job: Mapping[str, Any],
    source_input: MediaInput,
    info: MediaInfo,
    *,
    db: Database,
    serve: Serve,
    timeout: float,
) -> bytes | None:
    """The cover as a JPEG of at most 1400 px, or None when a video frame cannot be had."""
    if choice == "upload":
        uploaded = _uploaded_cover(job, db=db, serve=serve)
        if uploaded is None:
            # Expired with the video it came with (expire removes old files of the bucket).
            logger.warning("the cover image of job %s is gone: no cover", job.get("_id"))
            return None
        inputs = [*ONE_FRAME_DECODING, *uploaded.options()]
    else:
        seek = ["-ss", f"{cover_frame_time(info.duration):.3f}"]
        inputs = [*seek, *ONE_FRAME_DECODING, *source_input.options()]
    command = [*QUIET, "-loglevel", "error", *inputs, *frame_to_jpeg_arguments(to_pipe=True)]
    returncode, picture, stderr = run_with_deadline(command, timeout=timeout, what="cover picture")
    # run_with_deadline keeps MAX_PROBE_OUTPUT bytes: a picture that long may be cut short.
    if returncode != 0 or not picture or len(picture) >= MAX_PROBE_OUTPUT:
        logger.info("no cover picture (exit %s): %s", returncode, stderr.decode("utf-8", "replace"))
        if choice == "upload":
            raise PermanentError("the cover image could not be decoded")
        return None  # a video without a decodable frame still gets its audio, without a cover
    return picture


def _uploaded_cover(job: Mapping[str, Any], *, db: Database, serve: Serve) -> MediaInput | None:
    """The uploaded image, served from GridFS, with the one demuxer that may read it."""
    file_doc = find_file(db, VIDEOS, job.get("cover_fid")) if job.get("cover_fid") else None
    if file_doc is None:
        return None
    content_type = (file_doc.get("metadata") or {}).get("content_type")
    return serve(file_doc, "png_pipe" if content_type == "image/png" else "jpeg_pipe")


def image_size(picture: MediaInput, *, timeout: float) -> tuple[int, int]:
    command = [FFPROBE, "-v", "error", "-of", "json", "-show_entries", "stream=width,height"]
    command += picture.options()
    _, stdout, _ = run_with_deadline(command, timeout=timeout, what="ffprobe (cover)")
    try:
        stream = json.loads(stdout)["streams"][0]
        return int(stream["width"]), int(stream["height"])
    except (ValueError, KeyError, IndexError, TypeError):
        return 0, 0
