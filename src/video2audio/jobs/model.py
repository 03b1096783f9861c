"""What a job is: its statuses, the audio formats it can produce, and its identifiers."""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Mapping
from typing import Any

from video2audio.core.errors import BadRequestError
from video2audio.core.text import filename_stem, parse_decimal

JOB_ID = re.compile(r"[0-9a-f]{32}")


class JobStatus(enum.StrEnum):
    UPLOADING = "uploading"  # a resumable upload whose bytes are still arriving
    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"


FINAL_STATUSES = frozenset({JobStatus.DONE, JobStatus.FAILED, JobStatus.EXPIRED})


class Received(enum.StrEnum):
    """What the upload turned out to hold, judged by probing the stored file (never a client's
    word): only sound (a client extracted the audio track first), or a video."""

    AUDIO_ONLY = "audio_only"
    VIDEO = "video"

    @classmethod
    def judged(cls, *, has_video: bool) -> Received:
        return cls.VIDEO if has_video else cls.AUDIO_ONLY


class AudioFormat(enum.StrEnum):
    MP3 = "mp3"
    M4A = "m4a"
    OPUS = "opus"
    FLAC = "flac"
    WAV = "wav"

    @property
    def is_lossy(self) -> bool:
        return self in {AudioFormat.MP3, AudioFormat.M4A, AudioFormat.OPUS}

    @property
    def media_type(self) -> str:
        return {
            AudioFormat.MP3: "audio/mpeg",
            AudioFormat.M4A: "audio/mp4",
            AudioFormat.OPUS: "audio/ogg",
            AudioFormat.FLAC: "audio/flac",
            AudioFormat.WAV: "audio/wav",
        }[self]

    @property
    def extension(self) -> str:
        return "ogg" if self is AudioFormat.OPUS else self.value


DEFAULT_BITRATE = {AudioFormat.MP3: "192k", AudioFormat.M4A: "192k", AudioFormat.OPUS: "128k"}
MIN_BITRATE_KBPS, MAX_BITRATE_KBPS = 32, 320


def new_job_id() -> str:
    return uuid.uuid4().hex


def is_job_id(value: object) -> bool:
    """Whether ``value`` has the shape of a job id (32 lower-case hexadecimal digits)."""
    return isinstance(value, str) and JOB_ID.fullmatch(value) is not None


def parse_output(format_name: str | None, bitrate: str | None) -> dict[str, Any]:
    """The requested output ``{"format", "bitrate"}``, validated; bitrate is None when lossless.

    ``bitrate_requested`` tells a bitrate the client asked for from the format's default: only
    an asked-for bitrate makes convert re-encode audio that already is in the format.
    """
    try:
        audio_format = AudioFormat((format_name or "mp3").strip().lower())
    except ValueError:
        allowed = ", ".join(f.value for f in AudioFormat)
        raise BadRequestError(f"format must be one of {allowed}") from None
    if not audio_format.is_lossy:
        if bitrate:
            raise BadRequestError(f"bitrate does not apply to lossless {audio_format.value}")
        return {"format": audio_format.value, "bitrate": None}
    raw = (bitrate or DEFAULT_BITRATE[audio_format]).strip().lower()
    kbps = parse_decimal(raw.removesuffix("k"))
    if kbps is None or not MIN_BITRATE_KBPS <= kbps <= MAX_BITRATE_KBPS:
        raise BadRequestError(
            f"bitrate must be between {MIN_BITRATE_KBPS}k and {MAX_BITRATE_KBPS}k, like 192k"
        )
    return {"format": audio_format.value, "bitrate": f"{kbps}k", "bitrate_requested": bool(bitrate)}


def output_format(job: Mapping[str, Any]) -> AudioFormat:
    return AudioFormat((job.get("output") or {}).get("format") or AudioFormat.MP3.value)


def audio_title(job: Mapping[str, Any]) -> str:
    """The audio's title: the uploaded file's name without its extension."""
    return filename_stem(job.get("filename"))


def audio_filename(job: Mapping[str, Any]) -> str:
    """The name the audio is stored and offered under: the title with the format's extension."""
    return f"{audio_title(job)}.{output_format(job).extension}"
