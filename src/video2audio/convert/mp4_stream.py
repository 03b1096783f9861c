"""ffmpeg's fragmented M4A, rewritten on its way into GridFS as a classic MP4 with its index last.

ffmpeg writes ``ftyp``, a ``moov`` that lists no samples, then ``moof`` + ``mdat`` pairs (and an
``mfra`` index of them). The rewrite passes every ``mdat``'s samples through as they come, into
one ``mdat`` after a new ``ftyp``; it keeps only the small boxes (the ``moov``, each ``moof``
until its ``mdat`` starts) and the sample table (4 bytes a frame: 0.7 MB for an hour of 48 kHz
AAC). At the end the ``moov`` is written with the whole sample table, an edit list that plays
exactly the encoded length after the encoder's priming (sample-accurate trims), and the cover as
iTunes' ``covr``; the ``mdat``'s size is then patched into the head, in GridFS, as FLAC's sample
count is (convert/flac_header.py). Nothing touches the local disk.

Sample offsets stay right because every sample's position is recomputed here: the fragments'
offsets count from their own ``moof`` (ffmpeg's ``default_base_moof``), which is checked.
"""

from __future__ import annotations

import logging
import struct
from array import array

from video2audio.convert.mp4_boxes import (
    SAMPLE_TABLES,
    Box,
    Fragment,
    Mp4LayoutError,
    box,
    box_header,
    cover_box,
    edit_list,
    edit_media_time,
    find,
    ftyp,
    full_box,
    parse_moof,
    parse_tree,
    serialise,
    with_duration,
)

logger = logging.getLogger(__name__)

MDAT_HEADER = 16  # always the 64-bit form: the size is only known at the end
MAX_KEPT_BOX = 16 * 1024 * 1024  # a moov or moof longer than this is not ffmpeg's
ITUNES_HANDLER = full_box(b"hdlr", 0, 0, b"\0\0\0\0mdirappl", bytes(9))


class SampleTable:
    """The samples of the ``mdat`` as they pass: sizes, run-length durations, one chunk per
    fragment."""

    def __init__(self) -> None:
        self.sizes = array("I")
        self.durations: list[list[int]] = []  # [count, duration]
        self.chunk_offsets = array("Q")
        self.chunk_runs: list[list[int]] = []  # [first chunk (1-based), samples per chunk]
        self.first_decode_time: int | None = None

    def add_chunk(self, offset: int, fragment: Fragment) -> None:
        if not fragment.sizes:
            return
        if self.first_decode_time is None:
            self.first_decode_time = fragment.decode_time or 0
        self.chunk_offsets.append(offset)
        if not self.chunk_runs or self.chunk_runs[-1][1] != len(fragment.sizes):
            self.chunk_runs.append([len(self.chunk_offsets), len(fragment.sizes)])
        self.sizes.extend(fragment.sizes)
        for duration in fragment.durations:
            if self.durations and self.durations[-1][1] == duration:
                self.durations[-1][0] += 1
            else:
                self.durations.append([1, duration])

    @property
    def total_duration(self) -> int:
        return sum(count * duration for count, duration in self.durations)

    def boxes(self) -> bytes:
        stts = struct.pack(">I", len(self.durations))
        stts += b"".join(struct.pack(">II", count, delta) for count, delta in self.durations)
        stsc = struct.pack(">I", len(self.chunk_runs))
        stsc += b"".join(struct.pack(">III", first, n, 1) for first, n in self.chunk_runs)
        sizes = array("I", self.sizes)
        sizes.byteswap()  # the host is little-endian; MP4 is big-endian
        stsz = struct.pack(">II", 0, len(self.sizes)) + sizes.tobytes()
        wide = bool(self.chunk_offsets) and self.chunk_offsets[-1] > 0xFFFFFFFF
        offsets = array("Q" if wide else "I", self.chunk_offsets)
        offsets.byteswap()
        chunks = struct.pack(">I", len(self.chunk_offsets)) + offsets.tobytes()
        return b"".join(
            [
                full_box(b"stts", 0, 0, stts),
                full_box(b"stsc", 0, 0, stsc),
                full_box(b"stsz", 0, 0, stsz),
                full_box(b"co64" if wide else b"stco", 0, 0, chunks),
            ]
        )


def trex_defaults(moov: bytes) -> tuple[int, int]:
    """(default sample duration, default sample size) of the track's fragments."""
    mvex = next((b for b in parse_tree(moov) if b.kind == b"mvex"), None)
    trex = next((p for k, p in _children(mvex) if k == b"trex"), None) if mvex else None
    if trex is None or len(trex) < 20:
        return 0, 0
    return struct.unpack_from(">II", trex, 12)


def _children(container: Box) -> list[tuple[bytes, bytes]]:
    return [(b.kind, b.payload) for b in parse_tree(container.payload)]


def flat_moov(moov: bytes, table: SampleTable, *, cover: bytes | None = None) -> bytes:
    """The ``moov`` (its payload: ffmpeg's, listing no samples) for the classic layout.

    The movie timescale becomes the track's, so the edit list is exact to the sample.
    """
    tree = [b for b in parse_tree(moov) if b.kind != b"mvex"]
    traks = [b for b in tree if b.kind == b"trak"]
    if len(traks) != 1 or any(b.children is None for b in traks):
        raise Mp4LayoutError("the M4A must hold exactly one track")
    trak = traks[0].children or []
    mdia = find(trak, b"mdia")
    mdhd = find(mdia.children or [], b"mdhd") if mdia else None
    stbl = _path(mdia, b"minf", b"stbl")
    if mdia is None or mdhd is None or stbl is None:
        raise Mp4LayoutError("the track has no media header or sample table")
    timescale = struct.unpack_from(">I", mdhd.payload, 20 if mdhd.payload[0] == 1 else 12)[0]
    # The edit starts after the priming, in a media timeline that starts at the first fragment.
    media_time = max(edit_media_time(find(trak, b"edts")) - (table.first_decode_time or 0), 0)
    total = table.total_duration
    length = max(total - media_time, 0)
    for node in tree:
        if node.kind == b"mvhd":
            node.payload = with_duration(node.payload, length, at_v0=16, timescale=timescale)
    mdhd.payload = with_duration(mdhd.payload, total, at_v0=16)
    stbl.children = [b for b in stbl.children or [] if b.kind not in SAMPLE_TABLES]
    stbl.children.insert(1, Box(b"stts", raw=table.boxes()))
    rebuilt = []
    for node in trak:
        if node.kind == b"tkhd":
            node.payload = with_duration(node.payload, length, at_v0=20)
            rebuilt += [node, Box(b"edts", raw=edit_list(length, media_time))]
        elif node.kind != b"edts":
            rebuilt.append(node)
    traks[0].children = rebuilt
    if cover is not None:
        _add_cover(tree, cover)
    return box(b"moov", serialise(tree))


def _path(node: Box | None, *kinds: bytes) -> Box | None:
    for kind in kinds:
        node = find(node.children or [], kind) if node is not None else None
    return node


def _add_cover(tree: list[Box], cover: bytes) -> None:
    """``covr`` into ``udta/meta/ilst``, made where ffmpeg wrote no tags at all."""
    udta = find(tree, b"udta")
    if udta is None:
        udta = Box(b"udta", b"", [])
        tree.append(udta)
    meta = find(udta.children or [], b"meta")
    if meta is None:
        meta = Box(b"meta", bytes(4), [Box(b"hdlr", ITUNES_HANDLER[8:])])
        udta.children = [*(udta.children or []), meta]
    ilst = find(meta.children or [], b"ilst")
    if ilst is None:
        ilst = Box(b"ilst", b"", [])
        meta.children = [*(meta.children or []), ilst]
    covers = [b for b in ilst.children or [] if b.kind != b"covr"]
    ilst.children = [*covers, Box(b"covr", raw=cover_box(cover))]


class M4aFlattener:
    """Writes the classic MP4 to ``sink`` while ffmpeg's fragmented one is written here.

    ``finish`` once the stream has ended (writes the ``moov``), then ``patched_head`` gives the
    head to write over the first bytes (the ``mdat``'s size)."""

    def __init__(self, sink: object, *, cover: bytes | None = None) -> None:
        self._sink = sink
        self._cover = cover
        self._head = ftyp()
        self._header = bytearray()
        self._kind: bytes | None = None
        self._remaining: int | None = 0
        self._kept = bytearray()
        self._moov: bytes | None = None
        self._defaults = (0, 0)
        self._fragment: Fragment | None = None
        self._moof_size = 0
        self._table = SampleTable()
        self._offset = len(self._head) + MDAT_HEADER
        self._started = False
        self._finished = False

    def write(self, block: bytes) -> None:
        if not self._started:
            self._sink.write(self._mdat_head(0))  # type: ignore[attr-defined]
            self._started = True
        data = memoryview(block)
        while len(data):
            if self._kind is None:
                data = self._read_header(data)
                continue
            take = len(data) if self._remaining is None else min(self._remaining, len(data))
            self._take(data[:take])
            data = data[take:]
            if self._remaining is not None:
                self._remaining -= take
                if self._remaining == 0:
                    self._end_box()

    def _read_header(self, data: memoryview) -> memoryview:
        large = len(self._header) >= 8 and self._header[:4] == b"\0\0\0\1"
        want = (16 if large else 8) - len(self._header)
        self._header += data[:want]
        header = box_header(self._header)
        if header is not None:
            size, self._kind, length = header
            self._remaining = size - length if size else None
            if size and size < length:
                raise Mp4LayoutError("a box shorter than its header")
            self._start_box(bytes(self._header), length)
            self._header.clear()
            if self._remaining == 0:
                self._end_box()
        return data[want:]

    def _start_box(self, header: bytes, length: int) -> None:
        self._kept = bytearray(header) if self._kind in (b"moov", b"moof") else bytearray()
        if self._kind != b"mdat":
            return
        fragment, self._fragment = self._fragment, None
        payload = self._remaining
        if fragment is None:
            if payload:
                raise Mp4LayoutError("samples outside any fragment")
            return
        if payload != sum(fragment.sizes) or fragment.data_offset != self._moof_size + length:
            raise Mp4LayoutError("a fragment's samples are not its mdat's whole payload")
        self._table.add_chunk(self._offset, fragment)

    def _take(self, piece: memoryview) -> None:
        if self._kind == b"mdat":
            self._sink.write(piece)  # type: ignore[attr-defined]
            self._offset += len(piece)
        elif self._kind in (b"moov", b"moof"):
            self._kept += piece
            if len(self._kept) > MAX_KEPT_BOX:
                raise Mp4LayoutError(f"an unexpectedly long {self._kind!r} box")

    def _end_box(self) -> None:
        if self._kind == b"moov":
            self._moov = bytes(self._kept)
            self._defaults = trex_defaults(self._moov[8:])
        elif self._kind == b"moof":
            self._moof_size = len(self._kept)
            duration, size = self._defaults
            self._fragment = parse_moof(
                bytes(self._kept), default_duration=duration, default_size=size
            )
        self._kind, self._kept = None, bytearray()

    def finish(self) -> None:
        """Write the ``moov``; Mp4LayoutError if the stream ended inside a box or had none."""
        if self._kind is not None and self._remaining is not None:
            raise Mp4LayoutError("the M4A stream ended inside a box")
        if self._moov is None:
            raise Mp4LayoutError("the M4A stream has no moov")
        _, _, length = box_header(self._moov) or (0, b"", 8)
        moov = flat_moov(self._moov[length:], self._table, cover=self._cover)
        self._sink.write(moov)  # type: ignore[attr-defined]
        self._finished = True

    def patched_head(self) -> bytes | None:
        """``ftyp`` and the ``mdat`` header with its size, once :meth:`finish` has run."""
        if not self._finished:
            return None
        return self._mdat_head(self._offset - len(self._head))

    def _mdat_head(self, mdat_size: int) -> bytes:
        return self._head + struct.pack(">I4sQ", 1, b"mdat", mdat_size)
