"""ffmpeg's fragmented M4A, rewritten as it passes: a classic MP4 with edit list and cover."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

import pytest

from video2audio.convert.mp4_boxes import (
    Fragment,
    Mp4LayoutError,
    box,
    iter_boxes,
    parse_tree,
    serialise,
)
from video2audio.convert.mp4_stream import M4aFlattener, SampleTable


class Sink:
    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, chunk: bytes) -> None:
        self.data += chunk


def rewritten(data: bytes, *, cover: bytes | None = None, block: int = 65536) -> bytes:
    sink = Sink()
    flattener = M4aFlattener(sink, cover=cover)
    for start in range(0, len(data), block):
        flattener.write(data[start : start + block])
    flattener.finish()
    head = flattener.patched_head()
    sink.data[: len(head)] = head
    return bytes(sink.data)


def saved(data: bytes, tmp_path: Path) -> Path:
    path = tmp_path / "out.m4a"
    path.write_bytes(data)
    return path


def ffprobe(path: Path) -> dict:
    command = ["ffprobe", "-v", "error", "-of", "json", "-show_streams", "-show_format", str(path)]
    return json.loads(subprocess.run(command, check=True, capture_output=True, timeout=60).stdout)


def packets_md5(path: Path) -> str:
    command = ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a", "-c", "copy", "-f", "md5"]
    return subprocess.run([*command, "-"], check=True, capture_output=True, timeout=60).stdout


def moov_of(data: bytes) -> list:
    return parse_tree(dict(iter_boxes(data))[b"moov"])


def test_the_rewrite_is_one_mdat_then_the_moov_and_no_fragment(fragmented_m4a):
    data = rewritten(fragmented_m4a)
    assert [kind for kind, _ in iter_boxes(data)] == [b"ftyp", b"mdat", b"moov"]
    assert b"mvex" not in [node.kind for node in moov_of(data)]


def test_the_audio_packets_are_ffmpegs_own(fragmented_m4a, tmp_path):
    original = packets_md5(saved(fragmented_m4a, tmp_path))
    assert packets_md5(saved(rewritten(fragmented_m4a), tmp_path)) == original


def test_the_edit_list_plays_the_encoded_length_after_the_priming(fragmented_m4a):
    trak = next(node for node in moov_of(rewritten(fragmented_m4a)) if node.kind == b"trak")
    edts = next(node for node in trak.children if node.kind == b"edts")
    elst = edts.children[0].payload
    # 1.5 s at 48 kHz after the AAC encoder's 1024 samples of priming; movie timescale = 48 kHz
    assert struct.unpack(">IIiHH", elst[4:]) == (1, 72000, 1024, 1, 0)


def test_players_see_the_trimmed_length_and_decode_without_error(fragmented_m4a, tmp_path):
    path = saved(rewritten(fragmented_m4a), tmp_path)
    assert float(ffprobe(path)["streams"][0]["duration"]) == 1.5
    command = ["ffmpeg", "-v", "error", "-i", str(path), "-f", "null", "-"]
    assert subprocess.run(command, capture_output=True, timeout=60, check=True).stderr == b""


def test_the_cover_is_read_back_as_an_attached_picture(fragmented_m4a, jpeg_cover, tmp_path):
    probed = ffprobe(saved(rewritten(fragmented_m4a, cover=jpeg_cover), tmp_path))
    (picture,) = [s for s in probed["streams"] if s["codec_type"] == "video"]
    assert picture["disposition"]["attached_pic"] == 1
    assert (picture["codec_name"], picture["width"], picture["height"]) == ("mjpeg", 320, 240)


def test_ffmpegs_tags_are_kept_beside_the_cover(fragmented_m4a, jpeg_cover, tmp_path):
    probed = ffprobe(saved(rewritten(fragmented_m4a, cover=jpeg_cover), tmp_path))
    assert probed["format"]["tags"]["title"] == "Hello"


def test_the_result_does_not_depend_on_how_the_stream_is_cut(fragmented_m4a, jpeg_cover):
    whole = rewritten(fragmented_m4a, cover=jpeg_cover, block=len(fragmented_m4a))
    assert rewritten(fragmented_m4a, cover=jpeg_cover, block=7) == whole


def test_a_stream_that_ends_inside_a_box_is_refused(fragmented_m4a):
    flattener = M4aFlattener(Sink())
    flattener.write(fragmented_m4a[:-10])
    with pytest.raises(Mp4LayoutError):
        flattener.finish()


def test_samples_that_are_not_their_fragments_whole_mdat_are_refused(fragmented_m4a):
    moov_end = sum(8 + len(p) for _, p in list(iter_boxes(fragmented_m4a))[:2])
    size = int.from_bytes(fragmented_m4a[moov_end : moov_end + 4], "big")  # the first moof
    mdat = moov_end + size
    broken = bytearray(fragmented_m4a)
    broken[mdat : mdat + 4] = (int.from_bytes(broken[mdat : mdat + 4], "big") - 1).to_bytes(4)
    with pytest.raises(Mp4LayoutError):
        M4aFlattener(Sink()).write(bytes(broken))


def test_chunk_offsets_past_4_gib_are_64_bit():
    table = SampleTable()
    table.add_chunk(2**32 + 5, Fragment([10, 20], [1024, 1024], 0, 0))
    boxes = dict(iter_boxes(table.boxes()))
    assert struct.unpack(">IIQ", boxes[b"co64"]) == (0, 1, 2**32 + 5)
    assert struct.unpack(">IIII", boxes[b"stts"]) == (0, 1, 2, 1024)


def test_a_cover_gets_an_itunes_metadata_box_where_ffmpeg_wrote_no_tags(
    fragmented_m4a, jpeg_cover, tmp_path
):
    boxes = list(iter_boxes(fragmented_m4a))
    moov = parse_tree(dict(boxes)[b"moov"])
    untagged = box(b"moov", serialise([node for node in moov if node.kind != b"udta"]))
    rest = fragmented_m4a[sum(8 + len(payload) for _, payload in boxes[:2]) :]
    stream = box(b"ftyp", dict(boxes)[b"ftyp"]) + untagged + rest

    probed = ffprobe(saved(rewritten(stream, cover=jpeg_cover), tmp_path))

    (picture,) = [s for s in probed["streams"] if s["codec_type"] == "video"]
    assert picture["disposition"]["attached_pic"] == 1 and picture["width"] == 320
