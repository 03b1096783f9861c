"""An encoded MP3 streamed through a pipe gets the Info frame ffmpeg writes into a seekable file."""

from __future__ import annotations

import subprocess

import pytest

from video2audio.convert.id3_header import Id3Watcher
from video2audio.convert.info_frame import parse_frame_header
from video2audio.convert.lame_header import EncoderReport, InfoFrameWriter

# What the conversion asks of ffmpeg for an MP3 (convert/media.py): levels in the log, no stats.
LOG = ["-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+verbose"]


def noisy_picture(tmp_path):
    """A PNG of noise: large enough for the ID3 tag to outgrow the muxer's buffer and a chunk."""
    path = tmp_path / "cover.png"
    if not path.exists():
        command = ["ffmpeg", "-v", "error", "-f", "lavfi", "-i"]
        command += ["nullsrc=s=1000x1000,geq=lum=random(1)*255:cb=128:cr=128", "-frames:v", "1"]
        subprocess.run([*command, str(path)], check=True, timeout=60)
    return path


def mp3(tmp_path, seconds: float, *options: str, target: str = "pipe:1", cover: bool = False):
    """(the MP3's bytes, ffmpeg's log) for a sine of ``seconds`` encoded with ``options``."""
    command = ["ffmpeg", *LOG, "-y", "-f", "lavfi"]
    command += ["-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    if cover:
        command += ["-i", str(noisy_picture(tmp_path)), "-map", "0:a", "-map", "1:v"]
        command += ["-c:v", "copy", "-disposition:v", "attached_pic"]
    command += [*options, "-map_metadata", "-1", "-id3v2_version", "4", "-f", "mp3"]
    path = tmp_path / "seekable.mp3"
    completed = subprocess.run(
        [*command, target if target == "pipe:1" else str(path)],
        capture_output=True,
        check=True,
        timeout=120,
    )
    data = completed.stdout if target == "pipe:1" else path.read_bytes()
    return data, completed.stderr.decode("utf-8", "replace")


class Sink:
    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, chunk: bytes) -> None:
        self.data.extend(chunk)


def report_of(log: str) -> EncoderReport:
    report = EncoderReport()
    for line in log.splitlines():
        report.feed(line)
    return report


def streamed(data: bytes, log: str, *, block: int = 65536, with_id3: bool = False) -> bytes:
    """What GridFS holds once the stream has passed and the patches are applied."""
    sink = Sink()
    stored = sink.data
    writer = InfoFrameWriter(sink, report_of(log))
    outer = Id3Watcher(writer) if with_id3 else writer
    for start in range(0, len(data), block):
        outer.write(data[start : start + block])
    patch = writer.patch()
    assert patch is not None
    offset, frame = patch
    assert len(stored) == len(data) + len(frame)
    stored[offset : offset + len(frame)] = frame
    if with_id3 and (head := outer.patched_head()) is not None:
        stored[: len(head)] = head
    return bytes(stored)


def info_fields(data: bytes) -> dict[str, object]:
    """The Info frame's fields, by name, from a whole MP3."""
    start = data.index(b"Info") if b"Info" in data else data.index(b"Xing")
    frame_start = data.rindex(b"\xff", 0, start - 8)
    while parse_frame_header(data[frame_start : frame_start + 4]) is None:
        frame_start = data.rindex(b"\xff", 0, frame_start)
    tag = data[start : start + 156]
    return {
        "frame header": data[frame_start : frame_start + 4],
        "side info": data[frame_start + 4 : start],
        "tag": tag[:4],
        "flags": tag[4:8],
        "frames": int.from_bytes(tag[8:12], "big"),
        "bytes": int.from_bytes(tag[12:16], "big"),
        "toc": tag[16:116],
        "quality": tag[116:120],
        "encoder": tag[120:129],
        "lame fields before the delay": tag[129:141],
        "delay": int.from_bytes(tag[141:144], "big") >> 12,
        "padding": int.from_bytes(tag[141:144], "big") & 0xFFF,
        "lame fields after the padding": tag[144:148],
        "music length": int.from_bytes(tag[148:152], "big"),
        "music crc": tag[152:154],
        "tag crc": tag[154:156],
    }


def decoded_samples(data: bytes, tmp_path) -> int:
    """Samples a player decodes from the file (the demuxer needs a file to find the tag's end)."""
    path = tmp_path / "decoded.mp3"
    path.write_bytes(data)
    completed = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-f", "s16le", "-"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return len(completed.stdout) // 2


CASES = {
    "a trim of 48 kHz stereo": (3, ["-ss", "0.5", "-t", "1.5", "-ac", "2", "-b:a", "192k"]),
    "a start-only trim of 44.1 kHz mono": (3, ["-ss", "0.37", "-ar", "44100", "-b:a", "128k"]),
    "MPEG-2 at 22.05 kHz": (2.1, ["-ar", "22050", "-ac", "2", "-b:a", "64k"]),
    "MPEG-2.5 at 8 kHz, a bitrate too small for the tag": (2, ["-ar", "8000", "-b:a", "8k"]),
    "a minute, past 400 seek positions": (61.3, ["-ac", "2", "-b:a", "128k"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_info_frame_equals_ffmpegs_field_by_field(tmp_path, case):
    seconds, options = CASES[case]
    piped, log = mp3(tmp_path, seconds, *options)
    reference, _ = mp3(tmp_path, seconds, *options, target="file")

    ours = streamed(piped, log, block=4093)

    assert info_fields(ours) == info_fields(reference)
    assert ours == reference


def test_a_trimmed_mp3_decodes_to_exactly_the_samples_asked_for(tmp_path):
    piped, log = mp3(tmp_path, 3, "-ss", "0.5", "-t", "1.234567", "-ar", "44100")
    assert decoded_samples(piped, tmp_path) > round(1.234567 * 44100) + 1152  # runs long
    assert decoded_samples(streamed(piped, log), tmp_path) == round(1.234567 * 44100)


def test_with_a_cover_both_the_id3_size_and_the_info_frame_are_patched(tmp_path):
    piped, log = mp3(tmp_path, 1, "-b:a", "128k", cover=True)
    reference, _ = mp3(tmp_path, 1, "-b:a", "128k", cover=True, target="file")
    assert len(piped) > 1024 * 1024  # the frame lands past the first GridFS chunk

    assert streamed(piped, log, block=256 * 1024, with_id3=True) == reference


def test_the_log_gives_the_encoders_delay_name_and_sample_count(tmp_path):
    _, log = mp3(tmp_path, 1, "-t", "0.5", "-ar", "44100")
    report = report_of(log)
    assert report.initial_padding == 576 + 529
    assert report.samples == 22050
    assert report.encoder is not None and report.encoder.startswith("Lavc")


def test_without_the_encoders_report_the_frame_counts_but_claims_no_delay(tmp_path):
    piped, _ = mp3(tmp_path, 1, "-b:a", "128k")
    fields = info_fields(streamed(piped, ""))
    assert fields["frames"] > 0 and (fields["delay"], fields["padding"]) == (0, 0)


def test_a_stream_that_is_not_an_mp3_passes_unchanged_without_a_patch():
    stream, sink = b"ID3\x04\0\0\0\0\0\x02\0\0" + b"not audio" * 100, Sink()
    writer = InfoFrameWriter(sink, EncoderReport())
    writer.write(stream)
    assert writer.patch() is None
    assert bytes(sink.data) == stream


def test_frames_that_lose_their_sync_leave_the_placeholder_unpatched(tmp_path):
    piped, log = mp3(tmp_path, 1, "-b:a", "128k")
    middle = len(piped) // 2
    writer = InfoFrameWriter(Sink(), report_of(log))
    writer.write(piped[:middle] + b"\0\0\0" + piped[middle:])  # what follows is out of step
    assert writer.patch() is None


def test_a_stream_that_ends_before_its_first_audio_frame_is_passed_on_whole():
    stream, sink = b"ID3\x04\0\0\0\0\0\x0a" + b"\0" * 10, Sink()  # a tag and no audio after it
    writer = InfoFrameWriter(sink, EncoderReport())
    writer.write(stream)
    writer.flush()
    assert bytes(sink.data) == stream
    assert writer.patch() is None
