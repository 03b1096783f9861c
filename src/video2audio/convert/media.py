"""Media facts and ffmpeg command lines: probing inputs, choosing encoders, reading progress.

Every ffmpeg and ffprobe run reads its input through :class:`MediaInput`: one forced demuxer
(chosen from the file's own first bytes), a list of allowed demuxers and a list of allowed
protocols, so a file can never make ffmpeg open another file or a URL. Every run has a deadline.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from video2audio.core.containers import ALLOWED_DEMUXERS
from video2audio.core.errors import PermanentError, TransientError
from video2audio.core.text import positive_number
from video2audio.jobs.model import AudioFormat
from video2audio.jobs.publishing import requires_encoding

if TYPE_CHECKING:
    from video2audio.convert.publishing import OutputPlan

logger = logging.getLogger(__name__)

# Codecs whose decoded samples carry no more than 16 bits of real precision.
LOSSY_CODECS = frozenset({"aac", "mp3", "mp2", "opus", "vorbis", "ac3", "eac3", "wmav2", "amr_nb"})
# fMP4 fragments of about a second: a pipe cannot be seeked back to write a classic index, and one
# fragment per AAC packet would bloat the file with headers.
M4A_STREAM_FLAGS = ["-movflags", "+frag_keyframe+empty_moov+default_base_moof"]
M4A_FRAGMENT = ["-frag_duration", "1000000"]
# For the rewrite into a classic MP4 (convert/mp4_stream.py): the moov waits for the first
# fragment, so its edit list carries the encoder's priming; the fragment index is not needed.
M4A_REWRITE_FLAGS = [
    "-movflags",
    "+frag_keyframe+empty_moov+delay_moov+default_base_moof+skip_trailer",
]
MUXERS = {
    AudioFormat.MP3: "mp3",
    AudioFormat.M4A: "mp4",
    AudioFormat.OPUS: "ogg",
    AudioFormat.FLAC: "flac",
    AudioFormat.WAV: "wav",
}


FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"
MAX_PROBE_OUTPUT = 1024 * 1024


@dataclass(frozen=True)
class MediaInput:
    """Where ffmpeg reads the input from, and the only demuxer and protocols it may use."""

    url: str
    demuxer: str
    protocols: tuple[str, ...] = ("file",)
    # The demuxers allowed; by default those of videos (a cover or metadata input: its own).
    demuxers: tuple[str, ...] = ALLOWED_DEMUXERS

    def options(self) -> list[str]:
        """ffmpeg/ffprobe input options, ending with ``-i <url>``."""
        return [
            "-protocol_whitelist",
            ",".join(self.protocols),
            "-format_whitelist",
            ",".join(self.demuxers),
            "-f",
            self.demuxer,
            "-i",
            self.url,
        ]


def kill_process_group(process: subprocess.Popen) -> None:
    """Kill a process started with ``start_new_session=True`` and everything it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def run_with_deadline(command: list[str], *, timeout: float, what: str) -> tuple[int, bytes, bytes]:
    """Run ``command`` to its end or for ``timeout`` seconds; returns (exit code, stdout, stderr).

    On the deadline the process and its children are killed and :class:`TransientError` names
    ``what`` (a stuck probe is worth a later retry, not a failed job).
    """
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise TransientError(f"{what} could not start: {exc}") from exc
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_process_group(process)
        process.communicate()
        raise TransientError(f"{what} did not finish within {timeout:g} s") from None
    finally:
        if process.poll() is None:
            kill_process_group(process)
            process.wait()
    return process.returncode, stdout[:MAX_PROBE_OUTPUT], stderr[-4096:]


@dataclass(frozen=True)
class MediaInfo:
    """What the probe found in an input file, enough to plan and describe a conversion."""

    container: str
    duration: float | None
    size: int
    video_codec: str | None
    audio_codec: str | None
    sample_rate: int | None
    channels: int | None
    bits_per_raw_sample: int | None
    audio_bit_rate: int | None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None

    def as_document(self) -> dict[str, Any]:
        return {
            "container": self.container,
            "duration": self.duration,
            "size": self.size,
            "video_codec": self.video_codec,
            "audio_codec": self.audio_codec,
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "audio_bit_rate": self.audio_bit_rate,
        }


def _int_or_none(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def media_info_from_probe(info: Mapping[str, Any], *, size: int) -> MediaInfo:
    """Interpret ffprobe's JSON (``-show_format -show_streams``); raises PermanentError if empty."""
    fmt = info.get("format") or {}
    streams = info.get("streams") or []
    if not fmt or not streams:
        raise PermanentError(
            "the file could not be read as video or audio (corrupt or unsupported)"
        )
    # Cover art in audio files shows up as a one-frame video stream; it is not a video.
    videos = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    audios = [s for s in streams if s.get("codec_type") == "audio"]
    audio = audios[0] if audios else {}
    duration = positive_number(audio.get("duration")) or positive_number(fmt.get("duration"))
    return MediaInfo(
        container=str(fmt.get("format_name") or "unknown"),
        duration=duration,
        size=size,
        video_codec=videos[0].get("codec_name") if videos else None,
        audio_codec=audio.get("codec_name"),
        sample_rate=_int_or_none(audio.get("sample_rate")),
        channels=_int_or_none(audio.get("channels")),
        bits_per_raw_sample=_int_or_none(audio.get("bits_per_raw_sample")),
        audio_bit_rate=_int_or_none(audio.get("bit_rate")),
    )


def probe(source: MediaInput, *, size: int, timeout: float) -> MediaInfo:
    """Probe ``source`` with ffprobe; PermanentError when it is not readable media."""
    command = [FFPROBE, "-v", "error", "-of", "json", "-show_format", "-show_streams"]
    command += source.options()
    returncode, stdout, stderr = run_with_deadline(command, timeout=timeout, what="ffprobe")
    info: Any = {}
    if returncode == 0:
        try:
            info = json.loads(stdout or b"{}")
        except ValueError:
            info = {}
    else:
        logger.info("ffprobe failed (exit %s): %s", returncode, stderr.decode("utf-8", "replace"))
    return media_info_from_probe(info if isinstance(info, dict) else {}, size=size)


# PCM layouts the WAV muxer stores as they are: such audio is copied into a WAV, not re-encoded.
WAV_PCM_CODECS = frozenset({"pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le"})
# The codec each output format holds when the source's audio can be copied into it unchanged.
COPYABLE = {
    AudioFormat.MP3: frozenset({"mp3"}),
    AudioFormat.M4A: frozenset({"aac"}),
    AudioFormat.OPUS: frozenset({"opus"}),
    AudioFormat.FLAC: frozenset({"flac"}),
    AudioFormat.WAV: WAV_PCM_CODECS,
}
BITRATE_TOLERANCE = 0.05  # a probed bitrate this close to the requested one counts as the same


def _kbps(bitrate: object) -> float | None:
    text = str(bitrate or "").strip().lower().removesuffix("k")
    try:
        return float(text)
    except ValueError:
        return None


def is_stream_copy(output: Mapping[str, Any], source: MediaInfo) -> bool:
    """Whether the source's audio already is what was asked, so its packets are copied as-is.

    The codec must be the one the format holds. A bitrate the client asked for (the job says
    ``bitrate_requested``; a default filled in by upload does not count) forces an encode unless
    the source's own bitrate is known and the same, within a few percent.
    """
    audio_format = AudioFormat(output["format"])
    # A trim or a loudness target (output["publish"], issue 18) changes the samples.
    if source.audio_codec not in COPYABLE[audio_format] or requires_encoding(output.get("publish")):
        return False
    if not audio_format.is_lossy or not output.get("bitrate_requested"):
        return True
    wanted = _kbps(output.get("bitrate"))
    if wanted is None or not source.audio_bit_rate:
        return False
    return abs(source.audio_bit_rate / 1000 - wanted) <= wanted * BITRATE_TOLERANCE


def codec_arguments(output: Mapping[str, Any], source: MediaInfo) -> list[str]:
    """Encoder options for the requested ``{"format", "bitrate"}``; a copy when it is one."""
    audio_format = AudioFormat(output["format"])
    bitrate = output.get("bitrate") or "192k"
    m4a_flags = [*M4A_STREAM_FLAGS, *M4A_FRAGMENT] if audio_format is AudioFormat.M4A else []
    if is_stream_copy(output, source):
        # The audio already is what was asked: copying the packets is lossless and about free.
        return ["-c:a", "copy", *m4a_flags]
    if audio_format is AudioFormat.MP3:
        # libmp3lame encodes constant bitrate when given -b:a alone.
        return ["-c:a", "libmp3lame", "-b:a", bitrate]
    if audio_format is AudioFormat.M4A:
        return ["-c:a", "aac", "-b:a", bitrate, *m4a_flags]
    if audio_format is AudioFormat.OPUS:
        return ["-c:a", "libopus", "-b:a", bitrate]
    wide = (source.bits_per_raw_sample or 0) > 16 and source.audio_codec not in LOSSY_CODECS
    if audio_format is AudioFormat.FLAC:
        return ["-c:a", "flac", "-sample_fmt", "s32" if wide else "s16"]
    return ["-c:a", "pcm_s24le" if wide else "pcm_s16le"]


def reports_encoder(output: Mapping[str, Any], source: MediaInfo) -> bool:
    """Whether the conversion encodes an MP3, whose encoder facts are read from ffmpeg's log."""
    return AudioFormat(output["format"]) is AudioFormat.MP3 and not is_stream_copy(output, source)


def build_command(
    source_input: MediaInput,
    *,
    output: Mapping[str, Any],
    source: MediaInfo,
    title: str,
    target: str = "pipe:1",
    progress_target: str | None = None,
    max_output_bytes: int | None = None,
    plan: OutputPlan | None = None,
) -> list[str]:
    """The ffmpeg command converting the first audio stream of the input into ``target``.

    ``target`` defaults to standard output, so the caller can stream the result; progress goes to
    ``progress_target`` (for example ``pipe:3``), away from the audio bytes and the error log.
    ``plan`` adds trim, loudness, tags and cover art (convert/publishing.py).
    """
    audio_format = AudioFormat(output["format"])
    command = [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    if reports_encoder(output, source):
        # The MP3's Info frame needs the encoder's delay and sample count, which ffmpeg prints at
        # the info and verbose levels; each line is tagged with its level so that only errors
        # are kept for a failure's message (convert/lame_header.py).
        command[4:5] = ["level+verbose", "-nostats"]
    if progress_target:
        command += ["-progress", progress_target, "-stats_period", "0.5"]
    # ISSUE 18: the publishing plan's call site (seek, extra inputs, maps, tags, filters).
    if plan is not None:
        command += [*plan.before_input, *source_input.options(), *plan.extra_inputs]
        command += ["-map", "0:a:0", *plan.maps, *([] if plan.maps else ["-vn"]), "-sn", "-dn"]
        command += plan.metadata
    else:
        command += [*source_input.options(), "-map", "0:a:0", "-vn", "-sn", "-dn"]
        # The source's tags (encoder names, dates) mean nothing for the audio; the title does.
        command += ["-map_metadata", "-1", "-metadata", f"title={title}"]
    codec = codec_arguments(output, source)
    if plan is not None and plan.classic_mp4:
        codec = [M4A_REWRITE_FLAGS[1] if a == M4A_STREAM_FLAGS[1] else a for a in codec]
    command += codec
    if plan is not None:
        command += plan.output
    if max_output_bytes:
        # ffmpeg stops writing at the limit; the caller then fails the job (output reached it).
        command += ["-fs", str(max_output_bytes)]
    command += ["-f", MUXERS[audio_format], target]
    return command


class ProgressParser:
    """Reads ffmpeg's ``-progress`` key=value lines; reports the time converted so far."""

    def __init__(self) -> None:
        self.out_seconds = 0.0

    def feed(self, line: str) -> bool:
        """Take one line; True when a block ended, so ``out_seconds`` is fresh."""
        key, _, value = line.strip().partition("=")
        if key in {"out_time_us", "out_time_ms"}:
            # ffmpeg writes microseconds under both names (out_time_ms is a historical misnomer).
            micros = _int_or_none(value)
            if micros is not None and micros >= 0:
                self.out_seconds = micros / 1_000_000
        elif key == "progress":
            return True
        return False


def percent(done_seconds: float, total_seconds: float | None) -> int:
    """Progress 0-100; 99 at most until the caller knows the result is stored."""
    if not total_seconds:
        return 0
    return max(0, min(99, int(done_seconds * 100 / total_seconds)))
