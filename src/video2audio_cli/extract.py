"""Sending only the sound: the audio track copied out of a video locally, before the upload.

For phone and screen recordings the audio track is 2-5% of the file, so with ffmpeg on the
user's PATH the CLI copies that track (no re-encoding, so nothing is lost) into a container that
holds its codec and uploads that instead; the server converts it exactly as it would have
converted the video. When the cover is to be taken from the video, the CLI takes the same frame
the server would (``video2audio.core.covers``) and sends it as the cover image.

Every ffprobe and ffmpeg run has a deadline. Whatever goes wrong here (no ffmpeg, a file ffprobe
cannot read, a failed copy) leaves the upload of the whole video, as before, with one line that
says why; only a file that certainly has no audio track stops the run, before anything is sent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from video2audio.core.covers import (
    COVER_FORMATS,
    ONE_FRAME_DECODING,
    cover_frame_time,
    frame_to_jpeg_arguments,
)
from video2audio.core.text import positive_number
from video2audio_cli.errors import FAILED, CliError

PROBE_SECONDS = 60.0
# Copying packets runs at disk speed (about 0.3 s for 1 GB here); slow disks get plenty more.
COPY_SECONDS_BASE = 60.0
COPY_SECONDS_PER_GB = 60.0
FRAME_SECONDS = 60.0
QUIET = ["-hide_banner", "-nostdin", "-loglevel", "error", "-y"]

# codec -> (file extension, ffmpeg muxer) of a container that holds it as it is.
CONTAINERS = {
    "aac": ("m4a", "mp4"),
    "alac": ("m4a", "mp4"),
    "opus": ("ogg", "ogg"),
    "vorbis": ("ogg", "ogg"),
    "flac": ("flac", "flac"),
}
ANY_CODEC = ("mka", "matroska")


@dataclass(frozen=True)
class Probed:
    """What ffprobe found in the local file: enough to decide what to send."""

    audio_codec: str | None
    has_video: bool
    duration: float | None


@dataclass
class Upload:
    """What goes to the server for one input file."""

    source: Path
    path: Path  # the file to send: the source, or its audio track copied out
    extracted: bool = False
    duration: float | None = None
    # Why the whole video goes although sending only the sound was wanted; None when it is not.
    fallback: str | None = None

    @property
    def filename(self) -> str:
        # The original's name: the server's title, and the names of the audio, come from it.
        return self.source.name


def _tools() -> tuple[str, str] | None:
    ffmpeg, ffprobe = shutil.which("ffmpeg"), shutil.which("ffprobe")
    return (ffmpeg, ffprobe) if ffmpeg and ffprobe else None


def parse_probe(info: Any) -> Probed | None:
    """ffprobe's JSON (``-show_format -show_streams``); None when it found no media at all."""
    if not isinstance(info, dict) or not info.get("streams"):
        return None
    streams = [s for s in info["streams"] if isinstance(s, dict)]
    audios = [s for s in streams if s.get("codec_type") == "audio"]
    # Cover art in an audio file shows up as a one-frame video stream; it is not a video.
    videos = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    audio = audios[0] if audios else {}
    duration = positive_number(audio.get("duration")) or positive_number(
        (info.get("format") or {}).get("duration")
    )
    return Probed(
        audio_codec=str(audios[0].get("codec_name") or "unknown") if audios else None,
        has_video=bool(videos),
        duration=duration,
    )


def container_for(codec: str) -> tuple[str, str]:
    """(extension, muxer) of a container that holds ``codec`` without re-encoding."""
    return CONTAINERS.get(codec, ANY_CODEC)


def _run(command: list[str], *, timeout: float) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        command, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
    )


def _file_url(path: Path) -> str:
    # Never an option or another protocol, whatever the file is called ("-x.mp4", "a:b.mp4").
    return f"file:{os.fspath(path.resolve())}"


def _last_line(stderr: bytes) -> str:
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[-1][:200] if lines else "no message"


def probe(ffprobe: str, source: Path) -> Probed | None:
    command = [ffprobe, "-v", "error", "-of", "json", "-show_format", "-show_streams"]
    completed = _run([*command, _file_url(source)], timeout=PROBE_SECONDS)
    if completed.returncode != 0:
        return None
    try:
        return parse_probe(json.loads(completed.stdout or b"{}"))
    except ValueError:
        return None


def copy_audio(ffmpeg: str, source: Path, codec: str, work_dir: Path) -> Path:
    """The first audio track of ``source``, copied as it is into a file in ``work_dir``.

    The same source always gives the same bytes (no dates, no encoder version), so a resumed
    upload finds its earlier part again (video2audio_cli.resumable).
    """
    extension, muxer = container_for(codec)
    target = work_dir / f"sound.{extension}"
    command = [ffmpeg, *QUIET, "-i", _file_url(source), "-map", "0:a:0", "-c", "copy"]
    command += ["-map_metadata", "-1", "-map_chapters", "-1", "-fflags", "+bitexact"]
    command += ["-f", muxer, os.fspath(target)]
    gigabytes = source.stat().st_size / 1e9
    completed = _run(command, timeout=COPY_SECONDS_BASE + COPY_SECONDS_PER_GB * gigabytes)
    if completed.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
        raise OSError(_last_line(completed.stderr))
    return target


def cover_frame(upload: Upload, work_dir: Path) -> Path | None:
    """The frame the server takes for ``cover=auto`` (about 10% in, at most 1400 px), as a JPEG;
    None when the video has no frame ffmpeg can decode there (the server then gives no cover)."""
    tools = _tools()
    if tools is None or not upload.extracted:
        return None
    target = work_dir / "cover.jpg"
    seek = ["-ss", f"{cover_frame_time(upload.duration):.3f}"]
    command = [tools[0], *QUIET, *seek, *ONE_FRAME_DECODING, "-i", _file_url(upload.source)]
    command += [*frame_to_jpeg_arguments(), os.fspath(target)]
    try:
        completed = _run(command, timeout=FRAME_SECONDS)
    except subprocess.TimeoutExpired:
        return None
    if completed.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
        return None
    return target


def wants_frame(output_format: str, fields: dict[str, str], cover: Path | None) -> bool:
    """Whether the server would have taken a frame of the video as the cover."""
    choice = fields.get("cover", "auto")
    return cover is None and choice == "auto" and output_format in COVER_FORMATS


def prepare(source: Path, work_dir: Path, *, send_video: bool) -> Upload:
    """What to send for ``source``: its audio track copied into ``work_dir``, or the source.

    A :class:`CliError` (exit 1) when the file has no audio track: nothing is uploaded then.
    """
    whole = Upload(source=source, path=source)
    if send_video:
        return whole
    tools = _tools()
    if tools is None:
        whole.fallback = "ffmpeg is not on PATH (install it to send only the sound)"
        return whole
    ffmpeg, ffprobe = tools
    try:
        probed = probe(ffprobe, source)
    except subprocess.TimeoutExpired:
        whole.fallback = f"ffprobe did not finish within {PROBE_SECONDS:g} s"
        return whole
    if probed is None:
        return whole  # not media ffprobe knows: the server judges it and says what it is
    if probed.audio_codec is None:
        raise CliError(f"{source.name} has no audio track, so there is nothing to convert", FAILED)
    if not probed.has_video:
        return Upload(source=source, path=source, duration=probed.duration)  # already only sound
    try:
        extracted = copy_audio(ffmpeg, source, probed.audio_codec, work_dir)
    except subprocess.TimeoutExpired:
        whole.fallback = "copying the audio track out took too long"
        return whole
    except OSError as error:
        whole.fallback = f"the audio track could not be copied out ({error})"
        return whole
    return Upload(source=source, path=extracted, extracted=True, duration=probed.duration)
