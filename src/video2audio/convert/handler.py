"""Converting one job: GridFS video -> loopback HTTP -> ffmpeg -> GridFS audio, then notify.

Safe under redelivery and crashes: the job is claimed with a lease that a heartbeat renews while
ffmpeg runs, so a second delivery never converts a job twice, and a dead worker's job is taken
over by the event source's retry once its short lease ran out. A finished job is announced on the
notify queue; the ``notified`` flag makes a redelivery repeat an announcement that failed.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pymongo.database import Database

from video2audio.convert import loopback, metrics, publishing_runs
from video2audio.convert.heartbeat import Heartbeat
from video2audio.convert.imports import fetch_import, needs_fetch
from video2audio.convert.job_records import (
    delete_audio,
    discard_pending_upload,
    record_failure,
    record_outcome,
    record_pending_upload,
    record_received,
    release,
)
from video2audio.convert.media import MediaInfo, probe
from video2audio.convert.transcode import TranscodeResult, transcode_to_gridfs
from video2audio.core.containers import SNIFF_BYTES, demuxer_for, sniff_container
from video2audio.core.errors import (
    BadRequestError,
    PermanentError,
    TransientError,
    is_dependency_failure,
)
from video2audio.infra.messaging import RabbitPublisher
from video2audio.infra.remote_fetch import FetchPolicy
from video2audio.infra.storage import VIDEOS, find_file
from video2audio.jobs.announcements import announce_outcome as announce
from video2audio.jobs.leases import claim_job
from video2audio.jobs.model import (
    FINAL_STATUSES,
    AudioFormat,
    JobStatus,
    Received,
    audio_filename,
    audio_title,
    is_job_id,
)
from video2audio.jobs.repository import load_job

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConvertConfig:
    lease_seconds: float
    timeout_seconds: float
    notify_queue: str
    probe_timeout_seconds: float = 60.0
    max_duration_seconds: float | None = None
    max_output_bytes: int | None = None
    # How an imported job's video is fetched (POST /import); None: imports fail.
    import_policy: FetchPolicy | None = None


def new_worker_id() -> str:
    """One identity per delivery, so two deliveries in one process never share a lease."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _job_id(data: Mapping[str, Any]) -> str:
    job_id = data.get("job_id")
    if not is_job_id(job_id):
        raise BadRequestError("event data has no valid job_id (32 hexadecimal digits)")
    return job_id


def handle_video_uploaded(
    data: Mapping[str, Any],
    *,
    db: Database,
    publisher: RabbitPublisher,
    config: ConvertConfig,
    worker: str | None = None,
    traceparent: str | None = None,
) -> dict[str, Any]:
    """Convert the job named by a ``video.uploaded`` event; returns a summary for the response.

    ``traceparent`` is this conversion's span: the outcome it records carries it on to notify.

    Raises TransientError when the delivery should be retried later (a dependency is down, the
    time limit passed, or another worker holds a live lease on the job).
    """
    job_id = _job_id(data)
    worker = worker or new_worker_id()
    job = load_job(db, job_id)
    if job is None:
        logger.info("job %s does not exist (deleted?); nothing to convert", job_id)
        return {"job_id": job_id, "action": "none", "reason": "unknown job"}
    if job["status"] in FINAL_STATUSES:
        return _already_final(job, db=db, publisher=publisher, config=config)
    claimed = claim_job(db, job_id, worker=worker, lease_seconds=config.lease_seconds)
    if claimed is None:
        current = load_job(db, job_id)
        if current is None:
            return {"job_id": job_id, "action": "none", "reason": "unknown job"}
        if current["status"] not in FINAL_STATUSES:
            # Processing under another worker's lease, or still queued behind a claim that was
            # not recorded (yet, or ever: its worker died). Acknowledging now would lose the job
            # if nobody finishes it: retry until it is final.
            raise TransientError("the job is being converted by another worker; retry later")
        return _already_final(current, db=db, publisher=publisher, config=config)
    logger.info("converting job %s (attempt %s) as %s", job_id, claimed.get("attempts"), worker)
    audio_format = metrics.format_label(claimed)
    try:
        ended = _convert_claimed(
            claimed, db=db, config=config, worker=worker, traceparent=traceparent
        )
    except Exception:
        metrics.count_attempt(audio_format, "retried")
        raise
    # Counted once recorded on the job: if announcing fails, the retry only announces again.
    metrics.count_attempt(audio_format, ended["status"])
    announce(ended, db=db, publisher=publisher, notify_queue=config.notify_queue)
    return _summary(ended)


def _already_final(
    job: Mapping[str, Any], *, db: Database, publisher: RabbitPublisher, config: ConvertConfig
) -> dict[str, Any]:
    if job.get("notified") is False:
        announce(job, db=db, publisher=publisher, notify_queue=config.notify_queue)
    return {"job_id": job["_id"], "status": job["status"], "action": "none"}


def _summary(job: Mapping[str, Any]) -> dict[str, Any]:
    """What the event's answer says about a job that ended."""
    if job["status"] == JobStatus.DONE.value:
        return {"job_id": job["_id"], "status": job["status"], "audio_fid": str(job["audio_fid"])}
    return {"job_id": job["_id"], "status": job["status"], "error": job["error"]}


def _convert_claimed(
    job: dict[str, Any],
    *,
    db: Database,
    config: ConvertConfig,
    worker: str,
    traceparent: str | None,
) -> dict[str, Any]:
    """Convert a claimed job and record how it ended; returns the job as recorded."""
    job_id = job["_id"]
    started = time.monotonic()
    heartbeat = Heartbeat(db, job_id, worker=worker, lease_seconds=config.lease_seconds)
    heartbeat.start()
    try:
        try:
            # Inside the try: if MongoDB fails here, the job is released for the retry rather
            # than left under our lease until it runs out.
            discard_pending_upload(db, job)
            if needs_fetch(db, job):
                if config.import_policy is None:
                    raise PermanentError("imports from a URL are not enabled here")
                job = fetch_import(db, job, policy=config.import_policy)
            info, result, timings = _run(
                job, db=db, config=config, worker=worker, heartbeat=heartbeat
            )
        finally:
            # Never leave a beat running: it would hold the lease of a job nobody converts.
            heartbeat.stop()
    except PermanentError as exc:
        return record_failure(job, str(exc.message), db=db, worker=worker, traceparent=traceparent)
    except Exception as exc:
        if isinstance(exc, TransientError):
            release(db, job_id, worker, exc.message)
            raise
        if is_dependency_failure(exc):
            failure = TransientError("a backing service became unavailable during conversion")
            release(db, job_id, worker, failure.message)
            raise failure from exc
        # A bug or a broken installation: give the job back so the retry can claim it at once.
        release(db, job_id, worker)
        raise
    output = job.get("output") or {}
    wall_seconds = time.monotonic() - started
    timings["total_seconds"] = round(wall_seconds, 3)
    changes = {
        "audio_fid": result.audio_fid,
        "pending_audio_fid": None,
        "progress": 100,
        "media": {**(job.get("media") or {}), **info.as_document()},
        "audio": {
            "format": output.get("format"),
            "bitrate": output.get("bitrate"),
            "size": result.size,
            "filename": audio_filename(job),
        },
        "timings": timings,
        "notified": False,
        "notifications_pending": True,
        # The outcome event continues the trace from this conversion, also from the outbox.
        "outcome_traceparent": traceparent,
    }
    # If this fails, the audio is not deleted here: the write may have landed. If it did not,
    # the job still names the file as pending and the next attempt deletes it.
    if not record_outcome(db, job_id, worker=worker, status=JobStatus.DONE, changes=changes):
        # Another worker took the job over; its audio file is the one that counts.
        delete_audio(db, result.audio_fid)
        raise TransientError("the job was taken over by another worker")
    metrics.observe_done(
        metrics.format_label(job), wall_seconds=wall_seconds, media_seconds=info.duration
    )
    logger.info("job %s done: %s bytes in %.2f s", job_id, result.size, timings["total_seconds"])
    return {**job, **changes, "status": JobStatus.DONE.value}


def _run(
    job: Mapping[str, Any],
    *,
    db: Database,
    config: ConvertConfig,
    worker: str,
    heartbeat: Heartbeat,
) -> tuple[MediaInfo, TranscodeResult, dict[str, float]]:
    job_id = job["_id"]
    video_fid = job["video_fid"]
    file_doc = find_file(db, VIDEOS, video_fid)
    if file_doc is None:
        raise PermanentError("the video is no longer available (it was deleted or has expired)")
    audio_format = metrics.format_label(job)
    began = time.monotonic()
    # ffprobe and ffmpeg read the video from GridFS over loopback HTTP: no copy on local disk.
    with loopback.serving(db, VIDEOS, file_doc) as served:
        try:
            source_input = served.media_input(_demuxer(served.head(SNIFF_BYTES)))
            info = probe(
                source_input, size=int(file_doc["length"]), timeout=config.probe_timeout_seconds
            )
            if served.failed.is_set():
                raise TransientError("the video could not be read from the file store")
            received = Received.judged(has_video=info.video_codec is not None)
            record_received(db, job_id, worker, received.value)
            if not info.has_audio:
                raise PermanentError(
                    "the video has no audio track, so there is no audio to extract"
                )
            _check_duration(info, config.max_duration_seconds)
            heartbeat.total_seconds = info.duration
            probed = time.monotonic()
            output = job.get("output") or {"format": AudioFormat.MP3.value, "bitrate": "192k"}
            # Issue 18: trim, loudness, tags and cover art; the options also decide the copy.
            output = {**output, "publish": job.get("publish") or {}}
            # The loudness pass and the cover frame read the video over the loopback too.
            publishing = publishing_runs.prepared(
                job, info, source_input, db=db, title=audio_title(job),
                timeout=config.timeout_seconds,
                serve=served.serve_extra,
            )  # fmt: skip
            with publishing as plan:
                if served.failed.is_set():
                    raise TransientError("the video could not be read from the file store")
                heartbeat.total_seconds = plan.seconds or info.duration  # the trimmed length
                prepared = time.monotonic()
                result = transcode_to_gridfs(
                    source_input,
                    db=db,
                    output=output,
                    source=info,
                    title=audio_title(job),
                    filename=audio_filename(job),
                    metadata={
                        "job_id": job_id,
                        "video_fid": video_fid,
                        "owner": job.get("owner"),
                        "format": output.get("format"),
                        "content_type": AudioFormat(output["format"]).media_type,
                    },
                    timeout_seconds=config.timeout_seconds,
                    on_progress=heartbeat.report,
                    on_upload_opened=lambda fid: record_pending_upload(db, job_id, worker, fid),
                    cancel=heartbeat.lost,
                    input_failed=served.failed,
                    max_output_bytes=config.max_output_bytes,
                    plan=plan,
                )
        except (TransientError, PermanentError) as exc:
            if not served.failed.is_set():
                raise
            # A read that failed half-way makes ffprobe/ffmpeg fail too: not the file's fault.
            if _video_deleted(db, video_fid):
                raise PermanentError("the video was deleted during conversion") from exc
            if isinstance(exc, PermanentError):
                raise TransientError("the video could not be read from the file store") from exc
            raise
        finally:
            # The video's bytes, once each: ffprobe and ffmpeg's seeks read some of them again.
            metrics.count_read(audio_format, min(served.bytes_served, int(file_doc["length"])))
            logger.info(
                "job %s: the loopback served %d requests, %d bytes of a %d-byte video",
                job_id, served.requests, served.bytes_served, int(file_doc["length"]),
            )  # fmt: skip
        metrics.count_written(audio_format, result.size)
    timings = {
        "probe_seconds": round(probed - began, 3),
        # The loudness pass and the cover frame, before the conversion itself.
        "prepare_seconds": round(prepared - probed, 3),
        "convert_seconds": round(result.seconds, 3),
    }
    return info, result, timings


def _video_deleted(db: Database, video_fid: Any) -> bool:
    """Whether a failed read was the video being deleted; False when that cannot be told now."""
    try:
        return find_file(db, VIDEOS, video_fid) is None
    except Exception as exc:
        if not is_dependency_failure(exc):
            raise
        return False  # the database is gone: the retry finds out


def _check_duration(info: MediaInfo, limit: float | None) -> None:
    if limit and info.duration and info.duration > limit:
        raise PermanentError(
            f"the recording is {_clock(info.duration)} long; the longest this service converts "
            f"is {_clock(limit)}"
        )


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _demuxer(head: bytes) -> str:
    """The one demuxer ffmpeg may use: judged from the stored file's own first bytes."""
    demuxer = demuxer_for(sniff_container(head))
    if demuxer is None:
        raise PermanentError("the file is not a video or audio file this service can read")
    return demuxer
