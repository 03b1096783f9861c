"""The Xing/Info frame with LAME's tag, as LAME and ffmpeg's MP3 muxer lay it out.

The first MPEG frame of an MP3 made by LAME (or by ffmpeg into a seekable file) is a silent frame
carrying an "Info" (constant bitrate) or "Xing" (variable) tag: the number of frames and bytes, a
100-entry seek table, and LAME's extension with the encoder delay and the end padding in samples.
Players use it for the exact duration and for gapless playback. Pure functions and small
accumulators; :mod:`video2audio.convert.lame_header` puts the frame into a stream.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

# kbit/s by bitrate index, for MPEG-1 and for MPEG-2/2.5 Layer III.
BITRATES = {
    True: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    False: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
MONO = 3  # the channel mode of a one-channel frame
TOC_ENTRIES = 100
TOC_BAGS = 400  # byte positions kept for the seek table, halved whenever they fill up
TAG_BYTES = 156  # "Info", flags, frames, bytes, TOC, quality, then LAME's 36 bytes
FLAGS = 0x0F  # frames, bytes, TOC and quality are present
# Offsets within the tag (from "Info"/"Xing").
FRAMES_AT, TOC_AT, ENCODER_AT, DELAY_AT, LENGTH_AT, MUSIC_CRC_AT = 8, 16, 120, 141, 148, 152
TAG_CRC_AT = 154
TAG_CRC_SPAN = 190
ENCODER_BYTES = 9
MAX_PADDING = (1 << 12) - 1
CRC_PERIOD = 32767  # bytes after which a byte's share in the CRC-16 repeats


@dataclass(frozen=True)
class FrameHeader:
    """The fields of an MPEG audio Layer III frame header this module needs."""

    version: int  # 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    bitrate_index: int
    rate_index: int
    padded: bool
    channel_mode: int

    @property
    def mpeg1(self) -> bool:
        return self.version == 3

    @property
    def sample_rate(self) -> int:
        return SAMPLE_RATES[self.version][self.rate_index]

    @property
    def samples(self) -> int:
        return 1152 if self.mpeg1 else 576

    @property
    def size(self) -> int:
        kbps = BITRATES[self.mpeg1][self.bitrate_index]
        return (144_000 if self.mpeg1 else 72_000) * kbps // self.sample_rate + self.padded

    @property
    def side_info(self) -> int:
        """Bytes between the header and where a Xing/Info tag starts."""
        if self.mpeg1:
            return 17 if self.channel_mode == MONO else 32
        return 9 if self.channel_mode == MONO else 17


def parse_frame_header(data: bytes | memoryview) -> FrameHeader | None:
    """The Layer III frame header in the first 4 bytes of ``data``, or None if there is none."""
    if len(data) < 4 or data[0] != 0xFF or data[1] & 0xE0 != 0xE0:
        return None
    version, layer = (data[1] >> 3) & 3, (data[1] >> 1) & 3
    bitrate_index, rate_index = data[2] >> 4, (data[2] >> 2) & 3
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    return FrameHeader(version, bitrate_index, rate_index, bool(data[2] & 2), data[3] >> 6)


@functools.cache
def frame_size(second_and_third: int) -> int:
    """The size of a frame from its header's second and third bytes (0: not a Layer III
    header); cached, as the frames of one stream share a few header values."""
    header = parse_frame_header(bytes((0xFF, second_and_third >> 8, second_and_third & 0xFF, 0)))
    return header.size if header is not None else 0


def _crc_table() -> list[int]:
    """CRC-16 (polynomial 0x8005, bits reflected, as LAME's tag uses) of each byte value."""
    table = []
    for value in range(256):
        for _ in range(8):
            value = (value >> 1) ^ 0xA001 if value & 1 else value >> 1
        table.append(value)
    return table


CRC_TABLE = _crc_table()


def crc16(data: bytes | memoryview, crc: int = 0) -> int:
    for byte in data:
        crc = CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


class MusicCrc:
    """The CRC-16 of all the audio frames, fed in blocks as they pass, at C speed.

    A byte's share in this CRC (no initial value, no final XOR: linear in the bits) depends on
    how many bytes follow it only modulo CRC_PERIOD, the order of x modulo the polynomial
    (x + 1)(x^15 + x + 1). So the stream is folded by XOR into one CRC_PERIOD-long block, with
    big integers, and only that block goes through the byte-wise loop at the end: the loop
    alone costs about 35 ns a byte, some seconds of a long recording's conversion.
    """

    def __init__(self) -> None:
        self._folded = 0
        self._partial = bytearray()
        self._length = 0

    def update(self, block: bytes | memoryview) -> None:
        self._length += len(block)
        self._partial += block
        whole = len(self._partial) - len(self._partial) % CRC_PERIOD
        view = memoryview(self._partial)
        for start in range(0, whole, CRC_PERIOD):
            self._folded ^= int.from_bytes(view[start : start + CRC_PERIOD], "big")
        view.release()
        del self._partial[:whole]

    def digest(self) -> int:
        last = bytes(self._partial).ljust(CRC_PERIOD, b"\0")
        folded = (self._folded ^ int.from_bytes(last, "big")).to_bytes(CRC_PERIOD, "big")
        # The block's byte j stands for the bytes at j + length (mod CRC_PERIOD) of the stream.
        turn = self._length % CRC_PERIOD
        return crc16(folded[turn:] + folded[:turn])


class SeekTable:
    """The byte position of every n-th frame, as LAME's and ffmpeg's writers keep it: the step
    doubles (and half the positions are dropped) each time TOC_BAGS positions are full."""

    def __init__(self) -> None:
        self._positions: list[int] = []
        self._every = 1
        self._seen = 0

    def add(self, end: int) -> None:
        """One more frame, which ends ``end`` bytes after the start of the Info frame."""
        self._seen += 1
        if self._seen < self._every:
            return
        self._seen = 0
        self._positions.append(end)
        if len(self._positions) == TOC_BAGS:
            self._positions = self._positions[1::2]
            self._every *= 2

    def toc(self, total: int) -> bytes:
        """100 entries: where each percent of the frames starts, in 1/256 of ``total`` bytes."""
        entries = [0]
        kept = len(self._positions)
        for percent in range(1, TOC_ENTRIES):
            position = self._positions[percent * kept // TOC_ENTRIES] if kept else 0
            entries.append(min(256 * position // total, 255))
        return bytes(entries)


@dataclass(frozen=True)
class LameFacts:
    """What the tag says beyond the stream's own frames."""

    frames: int
    total_bytes: int  # from the start of the Info frame to the end of the audio
    toc: bytes
    variable: bool
    delay: int  # samples the encoder put before the audio
    padding: int  # samples it put after
    music_crc: int
    encoder: str = "Lavc"


def info_frame_header(first: FrameHeader) -> FrameHeader | None:
    """The header of an Info frame for a stream starting with ``first``: the same MPEG version,
    rate and channels, no CRC, the stream's bitrate or the next that holds the tag."""
    mode = MONO if first.channel_mode == MONO else 0
    for index in range(first.bitrate_index, 15):
        header = FrameHeader(first.version, index, first.rate_index, False, mode)
        if 4 + header.side_info + TAG_BYTES <= header.size:
            return header
    return None


def info_frame(header: FrameHeader, facts: LameFacts | None = None) -> bytes:
    """The whole frame; without ``facts`` a placeholder of the same size."""
    frame = bytearray(header.size)
    frame[0:4] = bytes(
        (
            0xFF,
            0xE0 | header.version << 3 | 1 << 1 | 1,
            header.bitrate_index << 4 | header.rate_index << 2,
            header.channel_mode << 6,
        )
    )
    at = 4 + header.side_info
    frame[at : at + 4] = b"Xing" if facts is not None and facts.variable else b"Info"
    frame[at + 4 : at + 8] = FLAGS.to_bytes(4, "big")
    if facts is None:
        return bytes(frame)
    frame[at + FRAMES_AT : at + FRAMES_AT + 4] = facts.frames.to_bytes(4, "big")
    frame[at + FRAMES_AT + 4 : at + FRAMES_AT + 8] = facts.total_bytes.to_bytes(4, "big")
    frame[at + TOC_AT : at + TOC_AT + TOC_ENTRIES] = facts.toc
    encoder = facts.encoder.encode("ascii", "replace")[:ENCODER_BYTES]
    frame[at + ENCODER_AT : at + ENCODER_AT + len(encoder)] = encoder
    delay_padding = min(facts.delay, MAX_PADDING) << 12 | min(facts.padding, MAX_PADDING)
    frame[at + DELAY_AT : at + DELAY_AT + 3] = delay_padding.to_bytes(3, "big")
    frame[at + LENGTH_AT : at + LENGTH_AT + 4] = facts.total_bytes.to_bytes(4, "big")
    frame[at + MUSIC_CRC_AT : at + MUSIC_CRC_AT + 2] = facts.music_crc.to_bytes(2, "big")
    # Of the frame's first 190 bytes, as ffmpeg's muxer computes it (read as zeros past the end
    # of a short frame); LAME stops at the field itself, which is the same for MPEG-1 stereo.
    tag_crc = crc16(bytes(frame[:TAG_CRC_SPAN]).ljust(TAG_CRC_SPAN, b"\0"))
    frame[at + TAG_CRC_AT : at + TAG_CRC_AT + 2] = tag_crc.to_bytes(2, "big")
    return bytes(frame)
