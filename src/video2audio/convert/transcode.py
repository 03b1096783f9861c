"""One ffmpeg run from its input (the loopback server) straight into GridFS, in bounded memory.

The audio is read from ffmpeg's standard output in small blocks and written to the upload stream
as it comes, so memory does not grow with the length of the media. Progress arrives on its own
pipe. A watchdog kills ffmpeg on the time limit, when the caller cancels, or when reading the
input failed; whatever happens, no ffmpeg is left running and a failed upload is aborted (its
chunks deleted).
"""

from __future__ import annotations

import collections
import logging
import os
import queue
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any

from bson import ObjectId
from pymongo.database import Database

from video2audio.convert.ffmpeg_log import drain_stderr, read_progress
from video2audio.convert.flac_header import FlacWatcher
from video2audio.convert.id3_header import Id3Watcher
from video2audio.convert.lame_header import EncoderReport, InfoFrameWriter
from video2audio.convert.media import (
    MediaInfo,
    MediaInput,
    build_command,
    is_stream_copy,
    kill_process_group,
    reports_encoder,
)
from video2audio.convert.mp4_boxes import Mp4LayoutError
from video2audio.convert.mp4_stream import M4aFlattener
from video2audio.convert.publishing import OutputPlan
from video2audio.core.errors import PermanentError, TransientError, is_dependency_failure
from video2audio.core.text import human_size
from video2audio.infra.chunked_upload import ChunkedUpload
from video2audio.infra.storage import AUDIO, open_upload
from video2audio.jobs.model import AudioFormat

logger = logging.getLogger(__name__)

READ_BLOCK = 256 * 1024
READ_AHEAD = 16  # blocks: at most 4 MiB of audio waits for the database
STDERR_LINES = 40
WATCHDOG_TICK = 0.2


@dataclass(frozen=True)
class TranscodeResult:
    audio_fid: ObjectId
    size: int
    seconds: float


class _Watchdog(threading.Thread):
    """Kills ffmpeg on the deadline, ``cancel`` or a failed input read; remembers which it was."""

    def __init__(
        self,
        process: subprocess.Popen,
        timeout: float,
        cancel: threading.Event,
        input_failed: threading.Event,
    ) -> None:
        super().__init__(name="ffmpeg-watchdog", daemon=True)
        self._process = process
        self._deadline = time.monotonic() + timeout
        self._cancel = cancel
        self._input_failed = input_failed
        self._finished = threading.Event()
        self.reason: str | None = None

    def run(self) -> None:
        while not self._finished.wait(WATCHDOG_TICK):
            if self._input_failed.is_set():
                self.reason = "input"
            elif self._cancel.is_set():
                self.reason = "cancelled"
            elif time.monotonic() >= self._deadline:
                self.reason = "timeout"
            else:
                continue
            kill_process_group(self._process)
            return

    def finish(self) -> None:
        self._finished.set()
        self.join()


def _copy_pipe(source: IO[bytes], sink: Any) -> int:
    """Copy ffmpeg's output to ``sink`` with a reader thread in between.

    A GridFS chunk write is a database round trip; reading ahead into a bounded queue lets
    ffmpeg keep encoding meanwhile instead of stalling on a full 64 KiB pipe, while memory stays
    bounded by the queue (READ_AHEAD blocks).
    """
    blocks: queue.Queue[bytes | None] = queue.Queue(maxsize=READ_AHEAD)
    abandoned = threading.Event()

    def offer(item: bytes | None) -> bool:
        """Queue ``item`` once there is room; False if the writer gave up meanwhile."""
        while not abandoned.is_set():
            try:
                blocks.put(item, timeout=WATCHDOG_TICK)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            while block := source.read(READ_BLOCK):
                if not offer(block):
                    return
        except (OSError, ValueError):
            # The writer gave up and the caller closed the pipe under us: nothing left to do.
            return
        finally:
            # The end marker waits for room like any block: without it the writer would wait
            # forever. Once the writer has given up it is not needed.
            offer(None)

    reader = threading.Thread(target=read, name="ffmpeg-stdout", daemon=True)
    reader.start()
    written = 0
    try:
        while (block := blocks.get()) is not None:
            sink.write(block)
            written += len(block)
    finally:
        abandoned.set()
        # The reader ends once ffmpeg's output closes, which the caller's kill guarantees.
    return written


def transcode_to_gridfs(
    source_input: MediaInput,
    *,
    db: Database,
    output: Mapping[str, Any],
    source: MediaInfo,
    title: str,
    filename: str,
    metadata: Mapping[str, Any],
    timeout_seconds: float,
    on_progress: Callable[[float], None] | None = None,
    on_upload_opened: Callable[[ObjectId], None] | None = None,
    cancel: threading.Event | None = None,
    input_failed: threading.Event | None = None,
    max_output_bytes: int | None = None,
    plan: OutputPlan | None = None,
) -> TranscodeResult:
    """Convert ``source_input`` and store the audio in the ``audio`` bucket; returns its file id.

    ``input_failed`` is set by whoever feeds ffmpeg when reading the input failed: ffmpeg may
    take a cut-short input for a short file, so that is checked here, never ffmpeg's verdict.

    Raises PermanentError when ffmpeg rejects the input, TransientError on the time limit, a
    cancel, a failed input read, ffmpeg being killed from outside, or an unreachable database.
    """
    started = time.monotonic()
    cancel = cancel or threading.Event()
    input_failed = input_failed or threading.Event()
    audio_format = AudioFormat(output["format"])
    # Headers the muxer completes by seeking back, patched in GridFS instead: an encoded FLAC's
    # sample count (a copy keeps the source's), an MP3's ID3 size (a cover outgrows its buffer)
    # and an encoded MP3's Info frame (which the muxer writes only into a seekable file).
    watch_flac = audio_format is AudioFormat.FLAC and not is_stream_copy(output, source)
    watch_id3 = audio_format is AudioFormat.MP3
    # An encoded MP3 gets the Info frame (frame count, encoder delay and padding) a file would;
    # an M4A with a cover or a trim is rewritten as it passes (convert/mp4_stream.py).
    report = EncoderReport() if reports_encoder(output, source) else None
    progress_read, progress_write = os.pipe()
    command = build_command(
        source_input,
        output=output,
        source=source,
        title=title,
        target="pipe:1",
        progress_target=f"pipe:{progress_write}",
        max_output_bytes=max_output_bytes,
        plan=plan,
    )
    logger.debug("running %s", command)
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(progress_write,),
            start_new_session=True,
            env=_ffmpeg_environment(),
        )
    except OSError:
        os.close(progress_read)
        raise
    finally:
        # Only ffmpeg writes progress; our copy must close so the reader sees end-of-file.
        os.close(progress_write)
    tail: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
    helpers = [
        threading.Thread(
            target=drain_stderr,
            args=(process.stderr, tail, report.feed if report is not None else None),
            daemon=True,
        ),
        threading.Thread(target=read_progress, args=(progress_read, on_progress), daemon=True),
    ]
    for helper in helpers:
        helper.start()
    watchdog = _Watchdog(process, timeout_seconds, cancel, input_failed)
    watchdog.start()
    upload: ChunkedUpload | None = None
    sink: Any = None
    info_frame: InfoFrameWriter | None = None

    def open_audio() -> ChunkedUpload:
        opened = open_upload(db, AUDIO, filename, metadata=metadata)
        if on_upload_opened is not None:
            on_upload_opened(opened.file_id)
        return opened

    try:
        upload = open_audio()
        if report is not None:
            info_frame = InfoFrameWriter(upload, report)
        sink = _sink(info_frame or upload, plan, watch_flac=watch_flac, watch_id3=watch_id3)
        size = _copy_pipe(process.stdout, sink)  # type: ignore[arg-type]
        if info_frame is not None:
            info_frame.flush()  # an output too short to show its first frame is still stored
        returncode = process.wait()
        watchdog.finish()
        for helper in helpers:
            helper.join()
        _check_exit(returncode, watchdog.reason, tail, timeout_seconds, input_failed)
        if size == 0:
            raise PermanentError("the conversion produced no audio (the file is corrupt)")
        if max_output_bytes and size >= max_output_bytes:
            # ffmpeg stopped at -fs: what was written is not the whole audio.
            raise PermanentError(
                f"the audio would be larger than the limit of {human_size(max_output_bytes)}"
            )
        if isinstance(sink, M4aFlattener):
            sink.finish()
            if max_output_bytes and upload.length > max_output_bytes:
                # The cover goes in after ffmpeg, so its -fs limit did not count it.
                raise PermanentError(
                    f"the audio would be larger than the limit of {human_size(max_output_bytes)}"
                )
        if sink not in (upload, info_frame) and (head := sink.patched_head()) is not None:
            upload.rewrite(0, head)
        if info_frame is not None and (patch := info_frame.patch()) is not None:
            upload.rewrite(*patch)
        upload.close()
    except Mp4LayoutError as exc:
        _abort(upload)
        logger.warning("ffmpeg's M4A could not be rewritten: %s", exc)
        raise PermanentError("the audio could not be converted (unexpected M4A layout)") from exc
    except BaseException as exc:
        _abort(upload)
        if is_dependency_failure(exc):
            raise TransientError("the file store became unavailable during conversion") from exc
        raise
    finally:
        _stop(process, helpers)
        watchdog.finish()
    return TranscodeResult(upload.file_id, upload.length, time.monotonic() - started)


def _sink(inner: Any, plan: OutputPlan | None, *, watch_flac: bool, watch_id3: bool) -> Any:
    """Where ffmpeg's output goes: the upload, through whatever completes its header."""
    if plan is not None and plan.classic_mp4:
        return M4aFlattener(inner, cover=plan.cover)
    if watch_flac:
        return FlacWatcher(inner)
    return Id3Watcher(inner) if watch_id3 else inner


def _ffmpeg_environment() -> dict[str, str]:
    """Our environment without proxy settings: ffmpeg would send its loopback reads to a proxy."""
    proxies = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    return {k: v for k, v in os.environ.items() if k.lower() not in proxies}


def _check_exit(
    returncode: int,
    killed_for: str | None,
    tail: collections.deque[str],
    timeout: float,
    input_failed: threading.Event,
) -> None:
    # First: a read failure makes ffmpeg fail or end early, which is not the file's fault.
    if killed_for == "input" or input_failed.is_set():
        raise TransientError("the video could not be read from the file store during conversion")
    if killed_for == "timeout":
        raise TransientError(f"the conversion took longer than the {timeout:g} s limit")
    if killed_for == "cancelled":
        raise TransientError("the conversion was cancelled")
    if returncode < 0:
        raise TransientError(f"ffmpeg was stopped by signal {-returncode}")
    if returncode != 0:
        logger.info("ffmpeg failed (exit %s): %s", returncode, " | ".join(tail))
        raise PermanentError(
            "the audio could not be converted (the file is corrupt or unsupported)"
        )


def _abort(upload: ChunkedUpload | None) -> None:
    if upload is None:
        return
    try:
        upload.abort()
    except Exception as exc:
        if not is_dependency_failure(exc):
            raise
        # The database is gone: the caller records the upload id and deletes the chunks later.
        logger.warning("could not abort GridFS upload %s: %r", upload.file_id, exc)


def _stop(process: subprocess.Popen, helpers: list[threading.Thread]) -> None:
    if process.poll() is None:
        kill_process_group(process)
    process.wait()
    # The readers end at end-of-file, which the exit of ffmpeg guarantees.
    for helper in helpers:
        helper.join()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
