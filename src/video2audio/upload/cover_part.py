"""The optional ``cover_image`` part of an upload: a small JPEG or PNG, held in bounded memory.

It may come before or after the video, so it is buffered (up to MAX_COVER_BYTES) rather than
streamed, recognised by its magic bytes, and stored in the videos bucket next to the video once
the whole form has arrived, with the job id in its metadata (deleted with the job's files).
"""

from __future__ import annotations

from bson import ObjectId
from pymongo.database import Database

from video2audio.core.errors import BadRequestError
from video2audio.core.text import human_size
from video2audio.infra.storage import VIDEOS, open_upload

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def sniff_image(head: bytes) -> str | None:
    """The image's media type from its first bytes (JPEG or PNG), or None."""
    if head.startswith(JPEG_MAGIC):
        return "image/jpeg"
    if head.startswith(PNG_MAGIC):
        return "image/png"
    return None


class CoverBuffer:
    """Collects the cover image part; refuses it once it passes ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.data = bytearray()
        self.started = False
        self.content_type: str | None = None

    def start(self) -> None:
        if self.started:
            raise BadRequestError("send at most one cover_image")
        self.started = True

    def feed(self, data: bytes) -> None:
        self.data.extend(data)
        if len(self.data) > self.max_bytes:
            raise BadRequestError(
                f"the cover image is larger than the limit of {human_size(self.max_bytes)}"
            )

    def finish(self) -> None:
        if not self.data:
            raise BadRequestError("the cover image is empty")
        self.content_type = sniff_image(bytes(self.data[:16]))
        if self.content_type is None:
            raise BadRequestError("the cover image must be a JPEG or PNG image")

    @property
    def received(self) -> bool:
        return self.content_type is not None


def store_cover(db: Database, cover: CoverBuffer, *, owner: str, job_id: str) -> ObjectId:
    """Store the received image in the videos bucket; returns its file id."""
    writer = open_upload(
        db,
        VIDEOS,
        "cover",
        metadata={
            "owner": owner,
            "job_id": job_id,
            "kind": "cover",
            "content_type": cover.content_type,
        },
    )
    try:
        writer.write(bytes(cover.data))
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return writer.file_id
