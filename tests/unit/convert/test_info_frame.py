"""The Info frame's layout: frame headers, the frame's size, the CRCs and the seek table."""

from __future__ import annotations

import pytest

from video2audio.convert.info_frame import (
    LameFacts,
    MusicCrc,
    SeekTable,
    crc16,
    info_frame,
    info_frame_header,
    parse_frame_header,
)


def test_a_small_frame_moves_up_to_the_first_bitrate_that_holds_the_tag():
    first = parse_frame_header(bytes((0xFF, 0xF3, 0x10 | 0x08, 0xC0)))  # MPEG-2, 8 kbps, mono
    assert first is not None and first.size < 4 + first.side_info + 156
    header = info_frame_header(first)
    assert header is not None and header.size >= 4 + header.side_info + 156
    smaller = header.bitrate_index - 1
    assert parse_frame_header(bytes((0xFF, 0xF3, smaller << 4 | 0x08, 0xC0))).size < 169  # type: ignore[union-attr]


@pytest.mark.parametrize("length", [0, 1, 2, 32766, 32767, 32768, 100_001])
def test_the_folded_music_crc_equals_the_byte_by_byte_crc(length):
    data = bytes((i * 7 + i // 251) & 0xFF for i in range(length))
    crc = MusicCrc()
    for start in range(0, length, 4093):
        crc.update(data[start : start + 4093])
    assert crc.digest() == crc16(data)


def test_the_seek_table_keeps_every_second_position_each_time_it_fills_up():
    table = SeekTable()
    for frame in range(1, 1001):
        table.add(frame * 10)
    toc = table.toc(10_000)
    assert toc[0] == 0 and list(toc) == sorted(toc) and toc[50] == pytest.approx(128, abs=2)


def test_a_placeholder_has_the_completed_frames_size_and_says_info():
    header = info_frame_header(parse_frame_header(b"\xff\xfb\xb4\x64"))  # type: ignore[arg-type]
    assert header is not None
    facts = LameFacts(3, 1000, bytes(100), False, 576, 1000, 0x1234)
    placeholder, complete = info_frame(header), info_frame(header, facts)
    assert len(placeholder) == len(complete) == header.size == 576
    assert placeholder[36:40] == complete[36:40] == b"Info"


def test_a_frame_header_that_is_not_layer_3_or_has_a_reserved_field_is_refused():
    assert parse_frame_header(b"\xff\xfb\xb4\x64") is not None
    assert parse_frame_header(b"\xff\xfd\xb4\x64") is None  # layer II
    assert parse_frame_header(b"\xff\xfb\xf4\x64") is None  # bitrate index 15
    assert parse_frame_header(b"\xff\xfb\xbc\x64") is None  # sample rate index 3
    assert parse_frame_header(b"ID3\x04") is None
