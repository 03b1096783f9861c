"""An MP3 written through a pipe gets its ID3 tag's size back into the tag's header.

ffmpeg's MP3 muxer writes the ID3v2 tag (title, artist, the cover picture) and then seeks back to
write the tag's size into its 10-byte header. Through a pipe that works only while the tag still
sits in the muxer's 32 KiB buffer; with a cover picture it does not, the size stays zero and
players find no tag at all. Staging the audio in a file would put it on the local disk, so the
stream is watched as it passes: the tag's frames are walked to where the audio starts, and the
header's size is patched in GridFS before the file is published, as FLAC's sample count is.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

HEADER_BYTES = 10
MAX_TAG_BYTES = 4 * 1024 * 1024  # a tag longer than this (a cover is at most 1 MiB) is left alone


def _syncsafe(data: bytes) -> int:
    return (data[0] << 21) | (data[1] << 14) | (data[2] << 7) | data[3]


def _as_syncsafe(value: int) -> bytes:
    return bytes((value >> shift) & 0x7F for shift in (21, 14, 7, 0))


def tag_length(head: bytes) -> int | None:
    """Bytes of the ID3v2.4 tag at the start of ``head`` up to the audio; None if not all there.

    Walks the frames (4-byte id, syncsafe size, 2 flag bytes); after the last comes zero padding,
    then the first MPEG frame, whose sync byte is 0xFF.
    """
    at = HEADER_BYTES
    while at + HEADER_BYTES <= len(head) and head[at] not in (0, 0xFF):
        at += HEADER_BYTES + _syncsafe(head[at + 4 : at + 8])
    while at < len(head) and head[at] == 0:
        at += 1
    if at >= len(head) or head[at] != 0xFF:
        return None
    return at


class Id3Watcher:
    """Passes writes on to ``sink`` and keeps the head of the stream until its tag has ended."""

    def __init__(self, sink: object) -> None:
        self._sink = sink
        self._head = bytearray()
        self._length: int | None = None
        self._unsized: bool | None = None  # an ID3v2.4 tag whose size field is zero

    def write(self, block: bytes) -> None:
        self._sink.write(block)  # type: ignore[attr-defined]
        if self._unsized is False or self._length is not None:
            return
        self._head += block
        if self._unsized is None and len(self._head) >= HEADER_BYTES:
            header = self._head[:HEADER_BYTES]
            self._unsized = header[:4] == b"ID3\x04" and header[6:10] == b"\0\0\0\0"
        if self._unsized:
            self._length = tag_length(bytes(self._head))
        if self._length is not None or len(self._head) > MAX_TAG_BYTES or not self._unsized:
            self._head = bytearray(self._head[:HEADER_BYTES])

    def patched_head(self) -> bytes | None:
        """The tag's 10-byte header with its size, or None when nothing needs patching."""
        if not self._unsized:
            return None
        if self._length is None:
            logger.warning("the end of the MP3's ID3 tag was not found; its size stays zero")
            return None
        return bytes(self._head[:6]) + _as_syncsafe(self._length - HEADER_BYTES)


def audio_offset(head: bytes) -> int | None:
    """Where the audio starts after the ID3v2 tag at the start of ``head`` (0 without a tag);
    None while ``head`` is too short to tell. A tag whose size is zero (ffmpeg's through a pipe
    with a cover) is walked frame by frame."""
    if head[:3] != b"ID3"[: len(head)]:
        return 0
    if len(head) < HEADER_BYTES:
        return None
    size = _syncsafe(head[6:10])
    if size == 0 and head[3] == 4:
        return tag_length(head)
    footer = HEADER_BYTES if head[5] & 0x10 else 0
    return HEADER_BYTES + size + footer
