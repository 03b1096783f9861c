"""ffmpeg arguments that make the audio ready to publish: trim, loudness, tags, cover art.

Pure functions from the job's ``publish`` document (video2audio/jobs/publishing.py) to argument
lists; the ffmpeg runs they need first (the loudness measurement, the cover picture) are in
:mod:`video2audio.convert.publishing_runs`. Each format carries tags its own way:

- MP3: ID3v2.4 frames (TIT2, TPE1, TALB, TDRC, COMM), the cover as an APIC front cover;
- M4A: MP4 atoms (©nam, ©ART, ©alb, ©day, ©cmt), the cover as ``covr``;
- Opus (Ogg) and FLAC: Vorbis comments (TITLE, ARTIST, ALBUM, DATE, COMMENT); FLAC's cover is a
  PICTURE metadata block; ffmpeg 5.1's Ogg muxer cannot write attached pictures, so Opus gets the
  same picture block as a base64 METADATA_BLOCK_PICTURE comment (what opus-tools write);
- WAV: a LIST/INFO chunk (INAM, IART, IPRD, ICRD, ICMT); WAV has no standard place for a cover.
"""

from __future__ import annotations

import base64
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from video2audio.core.covers import COVER_FORMATS
from video2audio.core.errors import PermanentError
from video2audio.jobs.model import AudioFormat

LOUDNESS_RANGE = 11.0  # LU, loudnorm's default LRA target; linear mode keeps the source's own
# A trial of the limited path that lands within this of the target is kept as it is (LU).
LOUDNESS_TOLERANCE = 0.5
MAX_LOUDNESS_CORRECTION = 6.0  # LU
MAX_LOUDNORM_TARGET = -5.0  # loudnorm's highest accepted I
# Lossy encoders overshoot the decoded true peak a little; the filter aims this far below.
LOSSY_PEAK_MARGIN = 0.5
# ffmpeg's metadata keys; each muxer maps them to its own (ID3 frames, MP4 atoms, INFO chunks).
TAG_KEYS = {"title": "title", "artist": "artist", "album": "album", "year": "date"}
TAG_KEYS["comment"] = "comment"
PICTURE_FRONT_COVER = 3  # ID3/FLAC picture type
FORMATS_WITH_COVER = frozenset(AudioFormat(name) for name in COVER_FORMATS)
# The ebur128 summary: integrated loudness, its relative gate, loudness range, true peak.
SUMMARY_PATTERNS = {
    "input_i": r"Integrated loudness:\s+I:\s+(-?[\d.]+) LUFS",
    "input_thresh": r"Integrated loudness:\s+I:\s+-?[\d.]+ LUFS\s+Threshold:\s+(-?[\d.]+) LUFS",
    "input_lra": r"LRA:\s+(-?[\d.]+) LU\b",
    "input_tp": r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS",
}


@dataclass(frozen=True)
class Trim:
    """Where the audio starts in the input, and how long it lasts (None: to the end)."""

    start: float = 0.0
    length: float | None = None


@dataclass
class OutputPlan:
    """The arguments one conversion adds around the input and the encoder.

    ``classic_mp4``: ffmpeg's fragmented M4A is rewritten on its way into GridFS as a classic MP4
    (convert/mp4_stream.py), the only layout whose edit list players honour to the sample and
    where ``cover`` goes as ``covr``. No output needs a file: every header a muxer would finish
    by seeking back is written or patched in GridFS instead.
    """

    before_input: list[str] = field(default_factory=list)
    extra_inputs: list[str] = field(default_factory=list)
    maps: list[str] = field(default_factory=list)
    metadata: list[str] = field(default_factory=list)
    output: list[str] = field(default_factory=list)
    classic_mp4: bool = False
    cover: bytes | None = None  # the picture the M4A rewrite embeds (ffmpeg never sees it)
    seconds: float | None = None  # the output's length, when the trim shortens it


def trim_window(publish: Mapping[str, Any] | None, duration: float | None) -> Trim:
    """The trim asked for, against the input's duration; PermanentError when it is empty."""
    publish = publish or {}
    start = float(publish.get("start") or 0.0)
    end = publish.get("end")
    if duration is not None and start >= duration:
        raise PermanentError(
            f"start ({start:g} s) is at or after the end of the recording ({duration:.3f} s)"
        )
    if end is not None and float(end) <= start:
        raise PermanentError("end must be after start")
    if end is not None and (duration is None or float(end) < duration):
        return Trim(start, float(end) - start)
    return Trim(start, None)


def trim_arguments(trim: Trim) -> tuple[list[str], list[str]]:
    """(input options, output options). ``-ss`` on the input seeks, then ffmpeg decodes from
    the key frame before and drops samples up to the exact time (accurate_seek, the default
    when decoding); ``-t`` on the output cuts at the exact sample count."""
    before = ["-ss", f"{trim.start:.6f}"] if trim.start > 0 else []
    after = ["-t", f"{trim.length:.6f}"] if trim.length is not None else []
    return before, after


def measure_filter() -> str:
    """The first pass: ffmpeg's EBU R128 meter (BS.1770 gating, true peak by 4x oversampling).

    loudnorm could measure too, but it resamples everything to 192 kHz first: its measuring
    pass alone costs about three plain MP3 encodes, the ebur128 meter about half of one.
    Per-frame lines go to the verbose log level; the summary comes at info.
    """
    return "ebur128=peak=true:framelog=verbose"


def parse_measurement(stderr: str) -> dict[str, float]:
    """The meter's summary (integrated loudness, its gate threshold, LRA, true peak) as numbers;
    PermanentError when there is none, or the audio is silent."""
    summary = stderr.rsplit("Summary:", 1)
    found = {
        key: re.search(pattern, summary[-1]) if len(summary) == 2 else None
        for key, pattern in SUMMARY_PATTERNS.items()
    }
    if any(match is None for match in found.values()):
        raise PermanentError("the loudness of the audio could not be measured")
    values = {key: float(match[1]) for key, match in found.items() if match is not None}
    if values["input_i"] <= -70:  # the meter's floor: nothing above the absolute gate
        raise PermanentError("the audio is silent: there is no loudness to normalise")
    return values


def normalise_arguments(
    publish: Mapping[str, Any],
    measured: Mapping[str, float],
    *,
    audio_format: AudioFormat,
    sample_rate: int | None,
    channels: int | None,
    correction: float = 0.0,
) -> list[str]:
    """The second pass as output options: one gain over the whole audio.

    When the gain keeps the true peak under the ceiling this is a plain ``volume`` (what
    loudnorm's linear mode does, without its 192 kHz detour). Otherwise loudnorm applies the
    measured values and limits the peaks (it leaves linear mode by itself when it must); it works
    at 192 kHz, so the audio is resampled back to the source's rate (at most 48 kHz), and the
    channel count is stated (ffmpeg 5.1 cannot pick a layout after the resampler otherwise).
    ``correction`` (LU) raises loudnorm's aim where its limiting alone fell short of the target
    (:func:`loudness_correction`).
    """
    ceiling = _ceiling(publish, audio_format)
    gain = float(publish["loudness"]) - measured["input_i"]
    if measured["input_tp"] + gain <= ceiling:
        return ["-af", f"volume={gain:.2f}dB"]
    rate = 48000 if audio_format is AudioFormat.OPUS else min(sample_rate or 48000, 48000)
    aim = min(float(publish["loudness"]) + correction, MAX_LOUDNORM_TARGET)
    loudnorm = (
        f"loudnorm=I={aim:.1f}:TP={ceiling:.1f}:LRA={LOUDNESS_RANGE:g}"
        f":measured_I={measured['input_i']:.2f}:measured_TP={measured['input_tp']:.2f}"
        f":measured_LRA={measured['input_lra']:.2f}:measured_thresh={measured['input_thresh']:.2f}"
        ":linear=true"
    )
    return ["-af", f"{loudnorm},aresample={rate}", "-ac", str(channels or 2)]


def limits_peaks(arguments: list[str]) -> bool:
    """Whether :func:`normalise_arguments` chose loudnorm (the gain alone would clip)."""
    return any(argument.startswith("loudnorm=") for argument in arguments)


def loudness_correction(publish: Mapping[str, Any], reached: Mapping[str, float]) -> float:
    """How far (LU) to raise loudnorm's aim after a trial pass reached ``reached['input_i']``.

    Where loudnorm must hold the peaks down, the limited peaks no longer count towards the
    integrated loudness, so on peaky audio (a click, a slammed door) it lands short of the
    target, by 2.5 LU on the tests' clip. The shortfall barely depends on the aim, so aiming
    that much higher once lands within a few tenths. Overshoot is left alone (loudnorm does not
    overshoot); the raise is bounded so that a pathological input cannot be pumped up by it.
    """
    shortfall = float(publish["loudness"]) - reached["input_i"]
    return min(shortfall, MAX_LOUDNESS_CORRECTION) if shortfall > LOUDNESS_TOLERANCE else 0.0


def _ceiling(publish: Mapping[str, Any], audio_format: AudioFormat) -> float:
    peak = publish.get("true_peak")
    ceiling = float(peak) if peak is not None else -1.0
    return ceiling - LOSSY_PEAK_MARGIN if audio_format.is_lossy else ceiling


def tag_values(publish: Mapping[str, Any] | None, *, title: str) -> dict[str, str]:
    """ffmpeg metadata key -> value; the title defaults to the uploaded file's stem."""
    tags = dict((publish or {}).get("tags") or {})
    tags.setdefault("title", title)
    return {TAG_KEYS[name]: value for name, value in tags.items() if name in TAG_KEYS and value}


def metadata_arguments(tags: Mapping[str, str], audio_format: AudioFormat) -> list[str]:
    """The tags as ffmpeg options; the source's own tags (encoder, dates) are dropped."""
    arguments = ["-map_metadata", "-1"]
    for key, value in tags.items():
        arguments += ["-metadata", f"{key}={value}"]
    if audio_format is AudioFormat.MP3:
        arguments += ["-id3v2_version", "4", "-write_id3v1", "0"]
    return arguments


def cover_arguments(audio_format: AudioFormat, *, input_index: int) -> tuple[list[str], list[str]]:
    """(maps, output options) embedding input ``input_index`` (a JPEG) as the front cover."""
    maps = ["-map", f"{input_index}:v:0"]
    output = ["-c:v", "copy", "-disposition:v:0", "attached_pic"]
    if audio_format is AudioFormat.MP3:
        # ID3's APIC: the picture type is read from the comment, the description from the title.
        output += ["-metadata:s:v:0", "title=Cover", "-metadata:s:v:0", "comment=Cover (front)"]
    elif audio_format is AudioFormat.FLAC:
        output += ["-metadata:s:v:0", "comment=Cover (front)"]
    return maps, output


def picture_block(image: bytes, *, mime: str, width: int, height: int) -> bytes:
    """A FLAC PICTURE block body (also the content of Vorbis' METADATA_BLOCK_PICTURE)."""
    mime_bytes, description = mime.encode("ascii"), b""
    return b"".join(
        [
            struct.pack(">II", PICTURE_FRONT_COVER, len(mime_bytes)),
            mime_bytes,
            struct.pack(">I", len(description)),
            description,
            struct.pack(">IIIII", width, height, 24, 0, len(image)),
            image,
        ]
    )


def ffmetadata(tags: Mapping[str, str], *, picture: bytes | None = None) -> str:
    """An ffmetadata file: how a base64 picture far larger than a command-line argument may be
    (Linux refuses single arguments over 128 KiB) reaches the Ogg muxer."""
    lines = [";FFMETADATA1"]
    values = dict(tags)
    if picture is not None:
        values["METADATA_BLOCK_PICTURE"] = base64.b64encode(picture).decode("ascii")
    for key, value in values.items():
        lines.append(f"{_escape(key)}={_escape(value)}")
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return "".join("\\" + ch if ch in "=;#\\\n" else ch for ch in text)


def wants_cover(publish: Mapping[str, Any] | None, audio_format: AudioFormat, *, has_video: bool):
    """'auto' (a frame of the video), 'upload' (the user's image) or None (no cover)."""
    choice = (publish or {}).get("cover") or "auto"
    if audio_format not in FORMATS_WITH_COVER or choice == "none":
        return None
    if choice == "auto" and not has_video:
        return None
    return choice


def needs_classic_mp4(audio_format: AudioFormat, *, with_cover: bool, trimmed: bool) -> bool:
    """Whether ffmpeg's fragmented M4A is rewritten as a classic MP4 on its way into GridFS.

    In a fragmented file players (ffmpeg 5.1's demuxer among them) ignore the length of the edit
    list, so a trim would play the encoder's padding, and the ``moov`` is written before a
    cover picture could be put into it.
    """
    return audio_format is AudioFormat.M4A and (with_cover or trimmed)
