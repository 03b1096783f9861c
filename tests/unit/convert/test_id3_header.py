"""The ID3 size of an MP3 streamed through a pipe is found from its frames and patched."""

from __future__ import annotations

from video2audio.convert.id3_header import Id3Watcher, audio_offset, tag_length


def frame(frame_id: bytes, body: bytes) -> bytes:
    size = len(body)
    syncsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return frame_id + syncsafe + b"\0\0" + body


def unsized_mp3(picture_bytes: int) -> bytes:
    """What ffmpeg pipes out with a cover: an ID3v2.4 tag of size 0, padding, MPEG frames."""
    frames = frame(b"TIT2", b"\x03Talk\0") + frame(b"APIC", b"\x03" + b"\x11" * picture_bytes)
    return b"ID3\x04\0\0\0\0\0\0" + frames + b"\0" * 10 + b"\xff\xfb\x90\x64" + b"\x55" * 5000


class Sink:
    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, block: bytes) -> None:
        self.data += block


def test_the_tag_ends_where_the_first_mpeg_frame_starts_after_the_padding():
    stream = unsized_mp3(300)
    assert stream[tag_length(stream)] == 0xFF
    assert tag_length(stream) == stream.index(b"\xff\xfb")


def test_a_tag_cut_short_has_no_length_yet():
    assert tag_length(unsized_mp3(300)[:200]) is None


def test_the_watcher_passes_every_byte_on_and_patches_the_size_across_small_blocks():
    stream, sink = unsized_mp3(100_000), Sink()
    watcher = Id3Watcher(sink)
    for at in range(0, len(stream), 4096):
        watcher.write(stream[at : at + 4096])
    head = watcher.patched_head()
    assert bytes(sink.data) == stream
    size = stream.index(b"\xff\xfb") - 10
    assert head == b"ID3\x04\0\0" + bytes((size >> s) & 0x7F for s in (21, 14, 7, 0))


def test_a_tag_that_already_has_its_size_or_no_tag_is_left_alone():
    sized, sink = bytearray(unsized_mp3(10)), Sink()
    sized[9] = 5
    for stream in (bytes(sized), b"\xff\xfb\x90\x64" + b"\0" * 100):
        watcher = Id3Watcher(sink)
        watcher.write(stream)
        assert watcher.patched_head() is None


def test_the_audio_starts_after_a_sized_tag_a_walked_unsized_one_or_at_once_without_a_tag():
    sized = bytearray(unsized_mp3(10))
    sized[6:10] = bytes((0, 0, 0, len(sized) - 10 - 5004))
    assert audio_offset(bytes(sized)) == bytes(sized).index(b"\xff\xfb")
    assert audio_offset(unsized_mp3(300)) == unsized_mp3(300).index(b"\xff\xfb")
    assert audio_offset(b"\xff\xfb\x90\x64") == 0


def test_where_the_audio_starts_is_unknown_while_the_tag_is_cut_short():
    assert audio_offset(b"ID3\x04\0") is None
    assert audio_offset(unsized_mp3(300)[:200]) is None
