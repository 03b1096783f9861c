"""Where a cover picture comes from when it is taken from the video: which frame, what size.

Shared by the convert function and the command-line client, which takes the same frame locally
when it sends only the sound (issue 21), so either way the audio gets the same cover.
"""

from __future__ import annotations

MAX_COVER_PIXELS = 1400
COVER_POSITION = 0.10  # of the video's duration: past titles and fades, still the same scene
# The output formats that carry a cover picture (WAV has no standard place for one).
COVER_FORMATS = frozenset({"mp3", "m4a", "flac", "opus"})
# Input options for decoding the one frame: frame threads gain nothing for a single picture and
# each holds frames of its own (about 10 MB more for a 720p H.264 video, measured).
ONE_FRAME_DECODING = ["-threads", "1"]


def cover_frame_time(duration: float | None) -> float:
    return round((duration or 0.0) * COVER_POSITION, 3)


def cover_scale_filter() -> str:
    """Fit within MAX_COVER_PIXELS on both sides, keeping the aspect ratio; never enlarge."""
    side = MAX_COVER_PIXELS
    return (
        f"scale=w='min({side},iw)':h='min({side},ih)':force_original_aspect_ratio=decrease,"
        "format=yuvj420p"
    )


def frame_to_jpeg_arguments(*, to_pipe: bool = False) -> list[str]:
    """ffmpeg output options turning the input's first video stream into one cover JPEG, for a
    file named next (the CLI) or, with ``to_pipe``, on standard output (convert)."""
    picture = ["-map", "0:v:0", "-frames:v", "1", "-vf", cover_scale_filter()]
    muxer = ["-f", "image2pipe", "pipe:1"] if to_pipe else ["-f", "image2", "-update", "1"]
    return [*picture, "-c:v", "mjpeg", "-q:v", "3", *muxer]
