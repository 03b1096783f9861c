"""MP4 boxes: parse and build them, and turn ffmpeg's fragmented ``moov`` into a classic one.

Through a pipe ffmpeg's MP4 muxer can only write fragments (``moof`` + ``mdat`` pairs after a
``moov`` that lists no samples). Such a file has no place for what a published M4A needs:
players, ffmpeg's own demuxer among them (5.1), ignore the length of an edit list in a
fragmented file, so a trimmed AAC plays up to a frame and a half of encoder padding; and the
``covr`` picture goes into a ``moov`` written before the picture arrived.
:mod:`video2audio.convert.mp4_stream` therefore rewrites the stream as it passes into a classic
MP4 (``ftyp``, one ``mdat``, ``moov`` at the end); these are its pure parts.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

# Boxes whose payload is only other boxes; ``meta`` has a version/flags word first.
CONTAINERS = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta", b"ilst", b"edts"})
FULL_CONTAINERS = frozenset({b"meta"})
# Sample tables describing fragments' absence (or sample groups counting samples): rebuilt.
SAMPLE_TABLES = frozenset({b"stts", b"stsc", b"stsz", b"stz2", b"stco", b"co64", b"sbgp", b"ctts"})
# The ``data`` box's well-known types (ISO/IEC 14496-12 + Apple's iTunes metadata).
DATA_JPEG, DATA_PNG = 13, 14
BRANDS = (b"M4A ", b"isom", b"iso2", b"mp41")
MAX_U32 = 0xFFFFFFFF
TFHD_BASE_OFFSET, TFHD_DURATION, TFHD_SIZE = 0x01, 0x08, 0x10
TFHD_DESCRIPTION = 0x02
TRUN_DATA_OFFSET, TRUN_FIRST_FLAGS = 0x01, 0x04
TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_CTS = 0x100, 0x200, 0x400, 0x800


class Mp4LayoutError(ValueError):
    """The muxer's output is not laid out as this rewrite expects."""


@dataclass
class Box:
    kind: bytes
    payload: bytes = b""
    children: list[Box] | None = None  # set for containers, then ``payload`` is their prefix
    raw: bytes | None = None  # ready-made boxes, written as they are in the box's place


def box(kind: bytes, *parts: bytes) -> bytes:
    """One box: 32-bit size (64-bit when it must be), type, payload."""
    length = 8 + sum(len(part) for part in parts)
    if length > MAX_U32:
        return struct.pack(">I4sQ", 1, kind, length + 8) + b"".join(parts)
    return struct.pack(">I4s", length, kind) + b"".join(parts)


def full_box(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *parts)


def box_header(data: bytes | memoryview, at: int = 0) -> tuple[int, bytes, int] | None:
    """(size, type, header length) of the box at ``at``; None when the header is not all there.
    A size of 0 (to the end of the file) is returned as 0."""
    if len(data) - at < 8:
        return None
    size, kind = struct.unpack_from(">I4s", data, at)
    if size != 1:
        return size, bytes(kind), 8
    if len(data) - at < 16:
        return None
    return struct.unpack_from(">Q", data, at + 8)[0], bytes(kind), 16


def iter_boxes(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(type, payload) of each box in ``data``; Mp4LayoutError on a truncated or bad size."""
    at = 0
    while at < len(data):
        header = box_header(data, at)
        if header is None:
            raise Mp4LayoutError("a truncated box header")
        size, kind, header_length = header
        size = size or len(data) - at
        if size < header_length or at + size > len(data):
            raise Mp4LayoutError(f"box {kind!r} runs past its parent")
        yield kind, data[at + header_length : at + size]
        at += size


def parse_tree(data: bytes) -> list[Box]:
    """The boxes of ``data``, with the known containers parsed into children."""
    boxes = []
    for kind, payload in iter_boxes(data):
        if kind in CONTAINERS:
            boxes.append(Box(kind, b"", parse_tree(payload)))
        elif kind in FULL_CONTAINERS and len(payload) >= 4:
            boxes.append(Box(kind, payload[:4], parse_tree(payload[4:])))
        else:
            boxes.append(Box(kind, payload))
    return boxes


def serialise(boxes: Sequence[Box]) -> bytes:
    parts = []
    for node in boxes:
        if node.raw is not None:
            parts.append(node.raw)
        elif node.children is not None:
            parts.append(box(node.kind, node.payload, serialise(node.children)))
        else:
            parts.append(box(node.kind, node.payload))
    return b"".join(parts)


def find(boxes: Sequence[Box], kind: bytes) -> Box | None:
    return next((b for b in boxes if b.kind == kind), None)


@dataclass
class Fragment:
    """What one ``moof`` says about the samples of its ``mdat``."""

    sizes: list[int]
    durations: list[int]
    decode_time: int | None  # tfdt's base media decode time
    data_offset: int  # where the first sample starts, from the start of the moof


def parse_moof(moof: bytes, *, default_duration: int = 0, default_size: int = 0) -> Fragment:
    """The samples of a ``moof`` (the whole box) holding one ``traf`` whose offsets count from
    the moof itself (default-base-is-moof: no base data offset in ``tfhd``)."""
    (_, kind, payload) = _only(moof)
    trafs = [b for b in parse_tree(payload) if b.kind == b"traf"]
    if kind != b"moof" or len(trafs) != 1:
        raise Mp4LayoutError("a fragment must hold exactly one track")
    traf = dict(iter_boxes(trafs[0].payload))
    tfhd = traf.get(b"tfhd")
    trun = traf.get(b"trun")
    if tfhd is None or trun is None:
        raise Mp4LayoutError("a fragment without tfhd or trun")
    flags = int.from_bytes(tfhd[1:4], "big")
    if flags & TFHD_BASE_OFFSET:
        raise Mp4LayoutError("a fragment with an absolute base data offset")
    at = 8 + (4 if flags & TFHD_DESCRIPTION else 0)
    if flags & TFHD_DURATION:
        default_duration = int.from_bytes(tfhd[at : at + 4], "big")
        at += 4
    if flags & TFHD_SIZE:
        default_size = int.from_bytes(tfhd[at : at + 4], "big")
    tfdt = traf.get(b"tfdt")
    decode_time = None
    if tfdt is not None:
        decode_time = int.from_bytes(tfdt[4:12] if tfdt[0] == 1 else tfdt[4:8], "big")
    fragment = Fragment([], [], decode_time, 0)
    _read_trun(trun, fragment, default_duration, default_size)
    return fragment


def _read_trun(trun: bytes, fragment: Fragment, default_duration: int, default_size: int) -> None:
    flags = int.from_bytes(trun[1:4], "big")
    count = int.from_bytes(trun[4:8], "big")
    at = 8
    if not flags & TRUN_DATA_OFFSET:
        raise Mp4LayoutError("a fragment's samples without a data offset")
    fragment.data_offset = struct.unpack_from(">i", trun, at)[0]
    at += 4 + (4 if flags & TRUN_FIRST_FLAGS else 0)
    fields = [flag for flag in (TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_CTS) if flags & flag]
    if len(trun) < at + 4 * len(fields) * count:
        raise Mp4LayoutError("a truncated trun")
    for _ in range(count):
        values = dict(zip(fields, struct.unpack_from(f">{len(fields)}I", trun, at), strict=True))
        at += 4 * len(fields)
        fragment.durations.append(values.get(TRUN_DURATION, default_duration))
        fragment.sizes.append(values.get(TRUN_SIZE, default_size))


def _only(data: bytes) -> tuple[int, bytes, bytes]:
    (kind, payload), *rest = list(iter_boxes(data)) or [(b"", b"")]
    if rest:
        raise Mp4LayoutError("expected one box")
    return len(data), kind, payload


def ftyp() -> bytes:
    """An M4A's file type: Apple's brand first, then the ISO ones ffmpeg's muxer names."""
    return box(b"ftyp", BRANDS[0], struct.pack(">I", 0x200), *BRANDS)


def cover_box(image: bytes) -> bytes:
    """iTunes' ``covr``: one ``data`` box typed JPEG or PNG (by the image's own signature)."""
    kind = DATA_PNG if image.startswith(b"\x89PNG") else DATA_JPEG
    return box(b"covr", box(b"data", struct.pack(">II", kind, 0), image))


def edit_list(duration: int, media_time: int) -> bytes:
    """``edts`` with one edit: play ``duration`` (movie timescale) from ``media_time``."""
    if max(duration, media_time) > 0x7FFFFFFF:
        entry = struct.pack(">QqHH", duration, media_time, 1, 0)
        return box(b"edts", full_box(b"elst", 1, 0, struct.pack(">I", 1), entry))
    entry = struct.pack(">IiHH", duration, media_time, 1, 0)
    return box(b"edts", full_box(b"elst", 0, 0, struct.pack(">I", 1), entry))


def edit_media_time(edts: Box | None) -> int:
    """Where the first edit starts in the media (the codec's priming), 0 without edits."""
    elst = find(edts.children or [], b"elst") if edts is not None else None
    if elst is None or len(elst.payload) < 8 or int.from_bytes(elst.payload[4:8], "big") == 0:
        return 0
    if elst.payload[0] == 1:
        return struct.unpack_from(">q", elst.payload, 16)[0]
    return struct.unpack_from(">i", elst.payload, 12)[0]


def with_duration(payload: bytes, duration: int, *, at_v0: int, timescale: int | None = None):
    """An mvhd/tkhd/mdhd payload with its duration (and, for mvhd, timescale) replaced.

    ``at_v0``: the duration's offset in version 0 (mvhd/mdhd: 16, tkhd: 20); version 1 widens
    the two dates before it (and the duration) to 64 bits. A duration past 32 bits turns a
    version 0 box into version 1.
    """
    version = payload[0]
    if version == 0 and duration > MAX_U32:
        creation, modification = struct.unpack_from(">II", payload, 4)
        widened = b"\x01" + payload[1:4] + struct.pack(">QQ", creation, modification)
        payload = widened + payload[12:at_v0] + struct.pack(">Q", 0) + payload[at_v0 + 4 :]
        version = 1
    at, width = (at_v0 + 8, 8) if version == 1 else (at_v0, 4)
    patched = bytearray(payload)
    patched[at : at + width] = duration.to_bytes(width, "big")
    if timescale is not None:
        patched[at - 4 : at] = timescale.to_bytes(4, "big")
    return bytes(patched)
