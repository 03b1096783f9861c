"""MP4 boxes built and parsed: the pieces of the fragmented-to-classic M4A rewrite."""

from __future__ import annotations

import struct

import pytest

from video2audio.convert.mp4_boxes import (
    Mp4LayoutError,
    box,
    box_header,
    cover_box,
    edit_list,
    full_box,
    iter_boxes,
    parse_moof,
    parse_tree,
    serialise,
    with_duration,
)


def moof(tfhd_flags: int, tfhd_fields: bytes, trun_flags: int, samples: list[tuple]) -> bytes:
    tfhd = full_box(b"tfhd", 0, tfhd_flags, struct.pack(">I", 1), tfhd_fields)
    tfdt = full_box(b"tfdt", 1, 0, struct.pack(">Q", 2048))
    rows = b"".join(struct.pack(f">{len(row)}I", *row) for row in samples)
    trun = full_box(b"trun", 0, trun_flags, struct.pack(">Ii", len(samples), 100), rows)
    return box(
        b"moof", full_box(b"mfhd", 0, 0, struct.pack(">I", 1)), box(b"traf", tfhd, tfdt, trun)
    )


def test_a_box_is_its_size_its_type_and_its_payload():
    assert box(b"free", b"abc") == b"\0\0\0\x0bfreeabc"
    assert full_box(b"elst", 1, 2, b"x") == b"\0\0\0\x0delst\x01\0\0\x02x"


def test_a_64_bit_box_size_is_read_from_after_the_type():
    header = struct.pack(">I4sQ", 1, b"mdat", 5_000_000_000)
    assert box_header(header) == (5_000_000_000, b"mdat", 16)
    assert box_header(header[:12]) is None


def test_a_box_running_past_its_parent_is_refused():
    with pytest.raises(Mp4LayoutError):
        list(iter_boxes(box(b"free", b"abc")[:-1]))


def test_ffmpegs_moov_is_written_back_byte_for_byte(fragmented_m4a):
    moov = dict(iter_boxes(fragmented_m4a))[b"moov"]
    tree = parse_tree(moov)
    assert serialise(tree) == moov
    udta = next(b for b in tree if b.kind == b"udta")
    assert [b.kind for b in udta.children[0].children] == [b"hdlr", b"ilst"]  # meta opened


def test_the_cover_is_a_data_box_typed_jpeg_or_png():
    ((kind, payload),) = iter_boxes(cover_box(b"\xff\xd8JPEG"))
    assert kind == b"covr" and payload[4:8] == b"data"
    assert struct.unpack(">II", payload[8:16]) == (13, 0) and payload[16:] == b"\xff\xd8JPEG"
    assert struct.unpack(">I", cover_box(b"\x89PNG....")[16:20]) == (14,)


def test_an_edit_list_plays_its_duration_from_the_media_time():
    ((_, edts),) = iter_boxes(edit_list(72000, 1024))
    ((kind, elst),) = iter_boxes(edts)
    assert kind == b"elst" and elst[:4] == bytes(4)
    assert struct.unpack(">IIiHH", elst[4:]) == (1, 72000, 1024, 1, 0)


def test_an_edit_longer_than_32_bits_uses_version_1():
    ((_, edts),) = iter_boxes(edit_list(2**33, 1024))
    ((_, elst),) = iter_boxes(edts)
    assert elst[0] == 1 and struct.unpack(">IQqHH", elst[4:]) == (1, 2**33, 1024, 1, 0)


def test_a_movie_header_gets_its_timescale_and_duration():
    mvhd = struct.pack(">IIIII", 0, 11, 22, 1000, 0) + b"rest"
    patched = with_duration(mvhd, 72000, at_v0=16, timescale=48000)
    assert patched == struct.pack(">IIIII", 0, 11, 22, 48000, 72000) + b"rest"


def test_a_duration_past_32_bits_widens_the_header_to_version_1():
    tkhd = struct.pack(">IIIIII", 3, 11, 22, 1, 0, 0) + b"rest"  # track 1, reserved, duration
    patched = with_duration(tkhd, 2**33, at_v0=20)
    assert patched == struct.pack(">IQQIIQ", 0x01000003, 11, 22, 1, 0, 2**33) + b"rest"


def test_a_fragment_lists_its_samples_with_the_defaults_of_its_header():
    data = moof(0x20008, struct.pack(">I", 1024), 0x201, [(10,), (20,), (30,)])
    fragment = parse_moof(data)
    assert (fragment.sizes, fragment.durations) == ([10, 20, 30], [1024] * 3)
    assert (fragment.decode_time, fragment.data_offset) == (2048, 100)


def test_a_fragment_without_durations_takes_the_track_default():
    fragment = parse_moof(moof(0x20000, b"", 0x201, [(10,)]), default_duration=960)
    assert fragment.durations == [960]


def test_per_sample_durations_win_over_the_default():
    data = moof(0x20008, struct.pack(">I", 1024), 0x301, [(1024, 10), (320, 20)])
    assert parse_moof(data).durations == [1024, 320]


def test_a_fragment_with_an_absolute_base_offset_is_refused():
    with pytest.raises(Mp4LayoutError):
        parse_moof(moof(0x1, struct.pack(">Q", 0), 0x201, [(10,)]))
