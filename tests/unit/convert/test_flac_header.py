"""An encoded FLAC streamed through a pipe gets the sample count a seekable file would have."""

from __future__ import annotations

import subprocess

import pytest

from video2audio.convert.flac_header import HEAD_BYTES, FlacWatcher, total_samples


def flac(seconds: float, *options: str, seekable: bool = False, tmp_path=None) -> bytes:
    command = ["ffmpeg", "-v", "error", "-nostdin", "-f", "lavfi"]
    command += ["-i", f"sine=frequency=300:sample_rate=48000:duration={seconds}", *options]
    command += ["-c:a", "flac", "-f", "flac"]
    if seekable:
        target = tmp_path / "seekable.flac"
        subprocess.run([*command, "-y", str(target)], check=True, timeout=60)
        return target.read_bytes()
    return subprocess.run([*command, "pipe:1"], check=True, capture_output=True, timeout=60).stdout


def streamed(data: bytes, block: int = 65536) -> FlacWatcher:
    written = bytearray()

    class Sink:
        def write(self, chunk: bytes) -> None:
            written.extend(chunk)

    watcher = FlacWatcher(Sink())
    for start in range(0, len(data), block):
        watcher.write(data[start : start + block])
    assert bytes(written) == data  # the watcher passes every byte on unchanged
    return watcher


@pytest.mark.parametrize(
    ("seconds", "options"),
    [
        (0.3, ["-ar", "44100", "-ac", "2"]),
        (7.77, ["-ar", "44100", "-ac", "2"]),
        (61.3, ["-ar", "48000", "-ac", "6", "-sample_fmt", "s32"]),
        (9.1, ["-ar", "8000", "-ac", "1"]),
    ],
)
def test_patched_header_equals_what_ffmpeg_writes_into_a_seekable_file(tmp_path, seconds, options):
    piped = flac(seconds, *options)
    reference = flac(seconds, *options, seekable=True, tmp_path=tmp_path)
    head = streamed(piped).patched_head()
    assert head is not None
    # Rate, channels, sample size and sample count as in the seekable file (the frame sizes and
    # the MD5 stay as the pipe had them: "unknown" is allowed there).
    assert head[18:26] == reference[18:26]
    assert piped[:HEAD_BYTES] != head  # the pipe really lacked it


def test_a_stream_that_does_not_end_with_a_whole_frame_has_no_sample_count():
    piped = flac(2, "-ar", "44100")
    assert total_samples(piped[:HEAD_BYTES], piped[:-7]) is None


def test_something_that_is_not_flac_has_no_sample_count():
    assert total_samples(b"RIFF" + bytes(60), bytes(1000)) is None
