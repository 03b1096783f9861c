"""Recognise audio and video containers from their first bytes.

Uploads are judged by their content, never by the filename or the client's content type, which
anyone can set to anything. Only the head of the file is needed, so the check runs before a single
byte is stored: a rejected upload leaves nothing behind. Recognising the container does not prove
the file is playable — the convert function finds that out — it keeps obvious non-media (text,
images, archives, executables) out of storage and out of ffmpeg.

Media formats that point at other files or URLs (playlists, manifests, concat scripts, session
descriptions) are never media here, even behind a media signature: ffmpeg would follow them and
read whatever they name. The container recognised here also decides the one demuxer ffmpeg may
use on the file (:data:`DEMUXERS`), so its own probing never picks such a format either.
"""

from __future__ import annotations

from collections.abc import Callable

SNIFF_BYTES = 4096  # enough for every signature below, including three MPEG-TS packets

TS_PACKET = 188
M2TS_PACKET = 192  # Blu-ray transport streams: a 4-byte timecode before each TS packet
ASF_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
MXF_KEY = bytes.fromhex("060e2b34020501010d010201")
# ISO base media boxes that may open a file: `ftyp` in MP4/M4A/3GP/modern MOV, `styp` in a
# fragmented segment; older QuickTime files start straight with one of the others.
ISO_FIRST_BOXES = {b"ftyp", b"styp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
MPEG_AUDIO_SAMPLE_RATE_RESERVED = 3
MPEG_AUDIO_BITRATE_BAD = 15


def _iso_bmff(head: bytes) -> bool:
    if len(head) < 8 or head[4:8] not in ISO_FIRST_BOXES:
        return False
    size = int.from_bytes(head[:4], "big")
    # 0 means "to the end of the file" and 1 means a 64-bit size follows; otherwise a box is at
    # least its own 8-byte header.
    return size in (0, 1) or size >= 8


def _riff(head: bytes) -> bool:
    return head[:4] in (b"RIFF", b"RF64") and head[8:12] in (b"AVI ", b"WAVE", b"AVIX")


def _aiff(head: bytes) -> bool:
    return head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC")


def _transport_stream(head: bytes) -> bool:
    for offset, step in ((0, TS_PACKET), (4, M2TS_PACKET)):
        positions = [offset + step * i for i in range(3)]
        available = [p for p in positions if p < len(head)]
        # Two sync bytes one packet apart at least, so one stray 0x47 ('G') is not enough.
        if len(available) >= 2 and all(head[p] == 0x47 for p in available):
            return True
    return False


def _mpeg_program_stream(head: bytes) -> bool:
    # Pack header (PS, VOB) or a sequence header (an MPEG-1/2 video elementary stream).
    return head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")


def _mpeg_audio_frame(head: bytes) -> bool:
    """An MP3 (MPEG-1/2/2.5 layer I-III) frame header with sane bitrate and sample-rate fields."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 0x3, (head[1] >> 1) & 0x3
    bitrate, sample_rate = head[2] >> 4, (head[2] >> 2) & 0x3
    return (
        version != 1
        and layer != 0
        and bitrate != MPEG_AUDIO_BITRATE_BAD
        and sample_rate != MPEG_AUDIO_SAMPLE_RATE_RESERVED
    )


def _adts(head: bytes) -> bool:
    """An AAC ADTS frame header: 12 sync bits, layer 0, a valid sampling-frequency index."""
    if len(head) < 7 or head[0] != 0xFF or head[1] & 0xF6 != 0xF0:
        return False
    return (head[2] >> 2) & 0xF < 13


def _prefix(*signatures: bytes) -> Callable[[bytes], bool]:
    return lambda head: head.startswith(signatures)


# Order matters only where signatures could overlap: structured containers first, then the
# frame-sync formats whose headers are short.
CONTAINERS: tuple[tuple[str, Callable[[bytes], bool]], ...] = (
    ("mp4", _iso_bmff),
    ("matroska", _prefix(b"\x1a\x45\xdf\xa3")),
    ("riff", _riff),
    ("ogg", _prefix(b"OggS")),
    ("flac", _prefix(b"fLaC")),
    ("flv", _prefix(b"FLV\x01")),
    ("asf", _prefix(ASF_GUID)),
    ("aiff", _aiff),
    ("caf", _prefix(b"caff")),
    ("amr", _prefix(b"#!AMR")),
    ("mxf", _prefix(MXF_KEY)),
    ("realmedia", _prefix(b".RMF")),
    ("wavpack", _prefix(b"wvpk")),
    ("ape", _prefix(b"MAC ")),
    ("id3", _prefix(b"ID3")),
    ("mpegts", _transport_stream),
    ("mpegps", _mpeg_program_stream),
    ("aac", _adts),
    ("mp3", _mpeg_audio_frame),
)


# Text that starts a playlist, a manifest, a concat script or a session description.
INDIRECTIONS = (b"#EXTM3U", b"#EXT-X-", b"<MPD", b"ffconcat version", b"<smil", b"[playlist]")
SDP_START = (b"v=0\n", b"v=0\r\n")

# ffmpeg's demuxer for each recognised container: the only one it may use on the file.
DEMUXERS = {
    "mp4": "mov",
    "matroska": "matroska",
    "avi": "avi",
    "wav": "wav",
    "ogg": "ogg",
    "flac": "flac",
    "flv": "flv",
    "asf": "asf",
    "aiff": "aiff",
    "caf": "caf",
    "amr": "amr",
    "mxf": "mxf",
    "realmedia": "rm",
    "wavpack": "wv",
    "ape": "ape",
    "mp3": "mp3",
    "mpegts": "mpegts",
    "mpegps": "mpeg",
    "aac": "aac",
}
ALLOWED_DEMUXERS = tuple(sorted(set(DEMUXERS.values())))


def refers_elsewhere(head: bytes) -> bool:
    """Whether ``head`` holds the start of a format that names other files or URLs."""
    return any(marker in head for marker in INDIRECTIONS) or any(
        start in head[:64] for start in SDP_START
    )


def _after_id3(head: bytes) -> str | None:
    """What follows an ID3v2 tag: MPEG audio (mp3) or ADTS (aac); None for anything else.

    A tag longer than the head hides what follows; the forced mp3 demuxer then decides.
    """
    if len(head) < 10:
        return None
    size = 0
    for byte in head[6:10]:
        if byte & 0x80:
            return None  # not a syncsafe integer: not an ID3v2 header
        size = (size << 7) | byte
    end = 10 + size + (10 if head[5] & 0x10 else 0)
    if end >= len(head):
        return "mp3"
    rest = head[end:].lstrip(b"\x00")
    if _mpeg_audio_frame(rest):
        return "mp3"
    if _adts(rest):
        return "aac"
    return None


def sniff_container(head: bytes) -> str | None:
    """The container's short name (``mp4``, ``matroska``, ...), or None when it is not media."""
    if refers_elsewhere(head):
        return None
    for name, matches in CONTAINERS:
        if matches(head):
            if name == "riff":
                return "avi" if head[8:12] in (b"AVI ", b"AVIX") else "wav"
            if name == "id3":
                return _after_id3(head)
            return name
    return None


def demuxer_for(container: str | None) -> str | None:
    """The ffmpeg demuxer for a container name recorded at upload, or None if it has none."""
    return DEMUXERS.get(container or "")
