"""An encoded MP3 written through a pipe gets the Xing/Info frame with LAME's tag a file would have.

Without that frame (convert/info_frame.py) players decode the encoder's delay and up to a frame
and a half of padding as if it were audio, so a trimmed MP3 lasts longer than asked, and they
guess the duration from the bitrate. ffmpeg's muxer fills the frame in by seeking back at the
end, which a pipe cannot do, and staging the audio in a file would put it on the local disk.

So the frame is written here, into the stream on its way to GridFS: right after the ID3 tag, a
placeholder of the same size; the audio frames are counted as they pass; the exact number of
samples the encoder was given, and its delay, come from ffmpeg's own log
(:class:`EncoderReport`); at the end the complete frame replaces the placeholder in GridFS, as
the ID3 size is (convert/id3_header.py).
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from video2audio.convert.ffmpeg_log import without_level
from video2audio.convert.id3_header import MAX_TAG_BYTES, audio_offset
from video2audio.convert.info_frame import (
    MAX_PADDING,
    FrameHeader,
    LameFacts,
    MusicCrc,
    SeekTable,
    frame_size,
    info_frame,
    info_frame_header,
    parse_frame_header,
)

logger = logging.getLogger(__name__)

# The decoder's own delay (the MDCT overlap plus one), which ffmpeg counts in the encoder's
# initial padding but LAME's tag leaves out.
DECODER_DELAY = 528 + 1

OUTPUT_START = re.compile(r"^Output #\d+, ")
OUTPUT_MP3 = re.compile(r"^\s*Stream #\d+:\d+.*: Audio: mp3\b.*\bdelay (\d+)")
ENCODER_LINE = re.compile(r"^\s*encoder\s*: (\S+)")
ENCODED_SAMPLES = re.compile(
    r"Output stream #\d+:\d+ \(audio\): \d+ frames encoded \((\d+) samples\)"
)


class EncoderReport:
    """What ffmpeg's log says about the MP3 encoder: its delay, its name, the samples it got.

    ffmpeg prints the output stream's initial padding (the encoder delay plus the decoder's) at
    the info level and, at the verbose level, the number of samples sent to the encoder: after
    a trim, exactly the samples wanted.
    """

    def __init__(self) -> None:
        self.initial_padding: int | None = None
        self.encoder: str | None = None
        self.samples: int | None = None
        self._in_output = False
        self._in_audio = False

    def feed(self, line: str) -> None:
        line = without_level(line)[1]
        if OUTPUT_START.match(line):
            self._in_output = True
        elif self._in_output and (found := OUTPUT_MP3.match(line)):
            self.initial_padding, self._in_audio = int(found[1]), True
        elif self._in_audio and self.encoder is None and (found := ENCODER_LINE.match(line)):
            self.encoder = found[1]
        elif found := ENCODED_SAMPLES.search(line):
            self.samples = int(found[1])


class InfoFrameWriter:
    """Passes writes on to ``sink`` with a placeholder Info frame put in after the ID3 tag, and
    counts the audio frames that follow; :meth:`patch` is the completed frame and its offset.

    The head of the stream is held back until the first audio frame's header is in (a cover
    makes that up to MAX_TAG_BYTES); a stream that does not look like ffmpeg's MP3 passes
    unchanged.
    """

    def __init__(self, sink: object, report: EncoderReport) -> None:
        self._sink = sink
        self._report = report
        self._head: bytearray | None = bytearray()
        self.offset: int | None = None
        self.inserted = 0
        self._header: FrameHeader | None = None
        self._first_bitrate = 0
        self._variable = False
        self._frames = 0
        self._audio_bytes = 0
        self._next_frame = 0  # where the next frame header starts, counted in audio bytes
        self._carry = b""  # the start of a frame header cut by the end of a block
        self._lost = False
        self._toc = SeekTable()
        self._crc = MusicCrc()

    def write(self, block: bytes) -> None:
        if self._head is None:
            self._sink.write(block)  # type: ignore[attr-defined]
            if self._header is not None:
                self._count(block)
            return
        self._head += block
        start = audio_offset(bytes(self._head))
        if start is None and len(self._head) <= MAX_TAG_BYTES:
            return
        if start is not None and len(self._head) < start + 4:
            return
        first = parse_frame_header(self._head[start : start + 4]) if start is not None else None
        header = info_frame_header(first) if first is not None else None
        head, self._head = bytes(self._head), None
        if start is None or first is None or header is None:
            logger.warning("the MP3's first audio frame was not found: no Info frame")
            self._sink.write(head)  # type: ignore[attr-defined]
            return
        placeholder = info_frame(header)
        self._sink.write(head[:start])  # type: ignore[attr-defined]
        self._sink.write(placeholder)  # type: ignore[attr-defined]
        self._sink.write(head[start:])  # type: ignore[attr-defined]
        self.offset, self.inserted, self._header = start, len(placeholder), header
        self._first_bitrate = first.bitrate_index
        self._count(head[start:])

    def flush(self) -> None:
        """Pass on what is still held: the stream ended before its first audio frame was found."""
        if self._head:
            logger.warning("the MP3 ended before its first audio frame: no Info frame")
            self._sink.write(bytes(self._head))  # type: ignore[attr-defined]
        self._head = None

    def _count(self, block: bytes) -> None:
        self._crc.update(block)
        data = self._carry + block if self._carry else block
        base = self._audio_bytes - len(self._carry)  # audio offset of data[0]
        self._audio_bytes += len(block)
        at = self._next_frame - base
        while not self._lost and at + 4 <= len(data):
            size = frame_size(data[at + 1] << 8 | data[at + 2]) if data[at] == 0xFF else 0
            if not size:
                self._lost = True
                break
            self._frames += 1
            self._variable |= data[at + 2] >> 4 != self._first_bitrate
            self._next_frame += size
            self._toc.add(self.inserted + self._next_frame)
            at += size
        self._carry = bytes(data[at:]) if 0 <= at < len(data) else b""

    def patch(self) -> tuple[int, bytes] | None:
        """(offset, the completed Info frame), or None when no placeholder was written."""
        if self._header is None or self.offset is None:
            return None
        if self._lost or self._next_frame != self._audio_bytes:
            logger.warning("the MP3's frames could not be followed to its end: no frame count")
            return None
        total = self.inserted + self._audio_bytes
        facts = LameFacts(
            frames=self._frames,
            total_bytes=total,
            toc=self._toc.toc(total),
            variable=self._variable,
            delay=0,
            padding=0,
            music_crc=self._crc.digest(),
            encoder=self._report.encoder or "Lavc",
        )
        report = self._report
        if report.initial_padding is not None and report.samples is not None:
            delay = max(report.initial_padding - DECODER_DELAY, 0)
            padding = self._frames * self._header.samples - delay - report.samples
            if 0 <= padding <= MAX_PADDING:
                facts = replace(facts, delay=delay, padding=padding)
            else:
                logger.warning("the MP3's end padding (%s samples) is out of range", padding)
        else:
            logger.warning("ffmpeg did not report the encoder's delay and samples")
        return self.offset, info_frame(self._header, facts)
