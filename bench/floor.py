"""(a), the floor every case is compared with: ffmpeg alone, the same settings, a local file."""

from __future__ import annotations

from pathlib import Path

from bench import inputs
from bench.measure import Measurement, run_measured
from video2audio.convert import media

BITRATE = "192k"


def raw_ffmpeg(source: Path, info: media.MediaInfo, audio_format: str, target: Path) -> Measurement:
    output = {"format": audio_format, "bitrate": BITRATE}
    command = media.build_command(
        media.MediaInput(str(source), inputs.demuxer(source)),
        output=output,
        source=info,
        title="bench",
    )
    command[-1] = str(target)  # the same settings, into a local file instead of a pipe
    return run_measured(command)
