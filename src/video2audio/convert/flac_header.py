"""An encoded FLAC written through a pipe gets its sample count back into its header.

ffmpeg's FLAC muxer writes the STREAMINFO header first and, on a seekable output, goes back at the
end to fill in the total number of samples (which players use for the duration and for seeking).
Through a pipe it cannot, and staging the audio in a file would put it on the local disk. So the
stream is watched as it passes: its head (the header) and its tail (the last frame) are kept, the
last frame's header says where the stream ends, and the header's count is patched in GridFS
before the file is published. The MD5 of the samples stays zero, which FLAC defines as unknown.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

HEAD_BYTES = 42  # "fLaC", a metadata block header, and the 34-byte STREAMINFO
TAIL_BYTES = 512 * 1024  # more than the largest frame ffmpeg writes (8 channels, 32 bits)
TOTAL_BITS = 36
SAMPLES_FIELD = slice(18, 26)  # the 64 bits of rate, channels, sample size and total samples


def _crc8(data: bytes | memoryview) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _crc16(data: bytes | memoryview) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def _coded_number(data: bytes, at: int) -> tuple[int, int] | None:
    """FLAC's UTF-8-like coded frame or sample number at ``at``: (value, bytes used)."""
    first = data[at]
    if first < 0x80:
        return first, 1
    length = 0
    while length < 8 and first & (0x80 >> length):
        length += 1
    if length < 2 or length > 7 or at + length > len(data):
        return None
    value = first & (0xFF >> (length + 1))
    for byte in data[at + 1 : at + length]:
        if byte & 0xC0 != 0x80:
            return None
        value = (value << 6) | (byte & 0x3F)
    return value, length


def _block_size(code: int, data: bytes, at: int) -> tuple[int, int] | None:
    """Samples in the frame and the bytes its optional size field takes after the number."""
    if code == 1:
        return 192, 0
    if 2 <= code <= 5:
        return 576 << (code - 2), 0
    if code == 6:
        return (data[at] + 1, 1) if at < len(data) else None
    if code == 7:
        return (int.from_bytes(data[at : at + 2], "big") + 1, 2) if at + 2 <= len(data) else None
    if code >= 8:
        return 256 << (code - 8), 0
    return None


def _frame_end(data: bytes, at: int, nominal_block: int) -> int | None:
    """Samples up to the end of a valid frame that starts at ``at`` and ends the data, or None."""
    if data[at] != 0xFF or data[at + 1] & 0xFE != 0xF8 or at + 6 > len(data):
        return None
    variable = data[at + 1] & 1
    size_code, rate_code = data[at + 2] >> 4, data[at + 2] & 0x0F
    number = _coded_number(data, at + 4)
    if number is None:
        return None
    value, used = number
    cursor = at + 4 + used
    size = _block_size(size_code, data, cursor)
    if size is None:
        return None
    block, extra = size
    cursor += extra + (1 if rate_code == 12 else 2 if rate_code in (13, 14) else 0)
    if cursor >= len(data) or _crc8(memoryview(data)[at:cursor]) != data[cursor]:
        return None
    # The frame runs to the end of the stream: its CRC-16 covers all of it, so a sync pattern
    # met inside compressed audio does not pass for the last frame.
    if _crc16(memoryview(data)[at:-2]) != int.from_bytes(data[-2:], "big"):
        return None
    return (value if variable else value * nominal_block) + block


def total_samples(head: bytes, tail: bytes) -> int | None:
    """The stream's sample count from its STREAMINFO and its last bytes; None if not found."""
    if len(head) < HEAD_BYTES or head[:4] != b"fLaC":
        return None
    nominal_block = int.from_bytes(head[10:12], "big")  # STREAMINFO's largest block size
    position = len(tail) - 8
    while position >= 0:
        position = tail.rfind(b"\xff", 0, position + 1)
        if position < 0:
            return None
        if position + 1 < len(tail) and tail[position + 1] & 0xFE == 0xF8:
            found = _frame_end(tail, position, nominal_block)
            if found is not None:
                return found
        position -= 1
    return None


def with_total_samples(head: bytes, total: int) -> bytes:
    """``head`` (the first HEAD_BYTES of the stream) with STREAMINFO's sample count set."""
    packed = int.from_bytes(head[SAMPLES_FIELD], "big")
    packed = (packed & ~((1 << TOTAL_BITS) - 1)) | (total & ((1 << TOTAL_BITS) - 1))
    return head[: SAMPLES_FIELD.start] + packed.to_bytes(8, "big") + head[SAMPLES_FIELD.stop :]


class FlacWatcher:
    """Passes writes on to ``sink`` and keeps the head and the tail of the stream."""

    def __init__(self, sink: object) -> None:
        self._sink = sink
        self.head = b""
        self._tail = bytearray()

    def write(self, block: bytes) -> None:
        self._sink.write(block)  # type: ignore[attr-defined]
        if len(self.head) < HEAD_BYTES:
            self.head += block[: HEAD_BYTES - len(self.head)]
        self._tail += block
        if len(self._tail) > 2 * TAIL_BYTES:
            del self._tail[:-TAIL_BYTES]

    def patched_head(self) -> bytes | None:
        """The head with the true sample count, or None when the stream's end was not found."""
        total = total_samples(self.head, bytes(self._tail[-TAIL_BYTES:]))
        if total is None:
            logger.warning("the end of the FLAC stream was not found; its length stays unknown")
            return None
        return with_total_samples(self.head, total)
