"""Streaming multipart uploads straight into GridFS, in bounded memory.

``request.files`` would spool the whole file (to memory or a temporary file) before the function
sees a byte; instead the body is decoded incrementally with werkzeug's sans-I/O multipart decoder
and every piece of the file part goes directly into a bounded GridFS writer. Memory stays at a
read buffer plus a couple of GridFS chunks whatever the file size.

The size limit is enforced while streaming, the container is sniffed from the first bytes before
anything is stored, and every failure aborts the GridFS stream, so a rejected upload leaves
nothing behind. Form fields may come before or after the file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from bson import ObjectId
from pymongo.database import Database
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from video2audio.core.containers import SNIFF_BYTES, sniff_container
from video2audio.core.errors import (
    BadRequestError,
    PayloadTooLargeError,
    RequestTimeoutError,
    UnsupportedMediaError,
)
from video2audio.core.text import base_name, human_size
from video2audio.infra.chunked_upload import ChunkedUpload
from video2audio.infra.storage import VIDEOS, delete_file, open_upload
from video2audio.jobs.publishing import COVER_IMAGE_FIELD
from video2audio.upload.cover_part import CoverBuffer, store_cover

logger = logging.getLogger(__name__)

FILE_FIELD = "file"
READ_SIZE = 256 * 1024
MAX_FIELD_BYTES = 8 * 1024
MAX_PARTS = 16
# Room for the multipart framing and the small fields around the file when judging a request by
# its Content-Length alone.
FORM_OVERHEAD_BYTES = MAX_PARTS * (MAX_FIELD_BYTES + 1024)

FieldCheck = Callable[[Mapping[str, str]], None]


@dataclass
class StoredUpload:
    """What arrived: the stored video and the form's other fields."""

    file_id: ObjectId
    filename: str
    size: int
    container: str
    fields: dict[str, str] = field(default_factory=dict)
    cover_fid: ObjectId | None = None


def multipart_boundary(content_type: str | None) -> bytes:
    mimetype, options = parse_options_header(content_type or "")
    boundary = options.get("boundary", "")
    if mimetype != "multipart/form-data" or not boundary:
        raise BadRequestError(
            f"send a multipart/form-data body with the video in a '{FILE_FIELD}' field"
        )
    try:
        return boundary.encode("ascii")
    except UnicodeEncodeError:
        raise BadRequestError("the multipart boundary is not ASCII") from None


def check_declared_length(content_length: int | None, *, max_bytes: int) -> None:
    """Refuse at once a body whose declared length cannot hold a file within the limit."""
    if content_length is not None and content_length > max_bytes + FORM_OVERHEAD_BYTES:
        raise PayloadTooLargeError(f"the file is larger than the limit of {human_size(max_bytes)}")


class _UploadReceiver:
    """Turns multipart events into fields and one stored file; one instance per request."""

    def __init__(
        self,
        *,
        db: Database,
        owner: str,
        job_id: str,
        max_bytes: int,
        check_fields: FieldCheck,
        max_cover_bytes: int,
    ) -> None:
        self.db, self.owner, self.job_id = db, owner, job_id
        self.max_bytes = max_bytes
        self.cover = CoverBuffer(max_cover_bytes)
        self.cover_fid: ObjectId | None = None
        self.check_fields = check_fields
        self.fields: dict[str, str] = {}
        self.current: Field | File | None = None
        self.field_buffer = bytearray()
        self.head = bytearray()  # the file's first bytes, held until the container is known
        self.writer: ChunkedUpload | None = None
        self.filename: str | None = None
        self.container: str | None = None
        self.size = 0
        self.file_done = False

    def on_event(self, event: Any) -> None:
        if isinstance(event, File):
            self._start_file(event)
        elif isinstance(event, Field):
            self.current = event
            self.field_buffer.clear()
        elif isinstance(event, Data):
            self._on_data(event.data, more=event.more_data)

    def _start_file(self, event: File) -> None:
        if event.name == COVER_IMAGE_FIELD:
            # ISSUE 18: the cover art part, buffered (bounded) wherever it comes in the form.
            self.cover.start()
            self.current = event
            return
        if event.name != FILE_FIELD:
            raise BadRequestError(f"unexpected file field {event.name!r}; use '{FILE_FIELD}'")
        if self.filename is not None:
            raise BadRequestError("send exactly one file")
        # Fields sent before the file are checked now, so a bad format fails before the upload.
        self.check_fields(self.fields)
        self.current = event
        self.filename = base_name(event.filename)

    def _on_data(self, data: bytes, *, more: bool) -> None:
        if isinstance(self.current, File) and self.current.name == COVER_IMAGE_FIELD:
            self.cover.feed(data)
            if not more:
                self.cover.finish()
                self.current = None
        elif isinstance(self.current, File):
            self._file_data(data)
            if not more:
                self._finish_file()
        elif isinstance(self.current, Field):
            self.field_buffer.extend(data)
            if len(self.field_buffer) > MAX_FIELD_BYTES:
                raise BadRequestError(f"form field {self.current.name!r} is too long")
            if not more:
                self._finish_field(self.current.name)

    def _finish_field(self, name: str) -> None:
        try:
            value = self.field_buffer.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequestError(f"form field {name!r} is not UTF-8 text") from None
        if name in self.fields:
            raise BadRequestError(f"form field {name!r} was sent twice")
        self.fields[name] = value
        self.current = None

    def _file_data(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise PayloadTooLargeError(
                f"the file is larger than the limit of {human_size(self.max_bytes)}"
            )
        if self.writer is not None:
            self.writer.write(data)
            return
        self.head.extend(data)
        if len(self.head) >= SNIFF_BYTES:
            self._open_storage()

    def _open_storage(self) -> None:
        """Judge the head; only recognised media opens a GridFS stream."""
        container = sniff_container(bytes(self.head))
        if container is None:
            raise UnsupportedMediaError(
                "the file is not a video or audio file this service recognises"
            )
        self.container = container
        self.writer = open_upload(
            self.db,
            VIDEOS,
            self.filename or "video",
            metadata={"owner": self.owner, "job_id": self.job_id, "container": container},
        )
        self.writer.write(bytes(self.head))
        self.head.clear()

    def _finish_file(self) -> None:
        if self.size == 0:
            raise BadRequestError("the file is empty")
        if self.writer is None:
            self._open_storage()  # a file shorter than the sniffing window
        self.file_done = True
        self.current = None

    def store_cover(self) -> None:
        if self.cover.received:
            self.cover_fid = store_cover(self.db, self.cover, owner=self.owner, job_id=self.job_id)

    def abort(self) -> None:
        if self.cover_fid is not None:
            cover_fid, self.cover_fid = self.cover_fid, None
            try:
                delete_file(self.db, VIDEOS, cover_fid)
            except Exception:
                logger.warning("could not remove the cover %s", cover_fid, exc_info=True)
        if self.writer is None:
            return
        writer, self.writer = self.writer, None
        try:
            writer.abort()
        except Exception:
            # MongoDB itself may be what failed; the expire function removes orphan chunks.
            logger.warning(
                "could not remove the chunks of aborted upload %s",
                writer.file_id,
                exc_info=True,
                extra={"file_id": str(writer.file_id)},
            )
        else:
            logger.info(
                "aborted upload %s: its chunks were removed",
                writer.file_id,
                extra={"file_id": str(writer.file_id)},
            )


def receive_upload(
    stream: IO[bytes],
    *,
    boundary: bytes,
    db: Database,
    owner: str,
    job_id: str,
    max_bytes: int,
    check_fields: FieldCheck,
    max_cover_bytes: int = 5 * 1024**2,
) -> StoredUpload:
    """Decode the multipart ``stream`` and store its ``file`` part in the videos bucket.

    ``check_fields`` validates the other fields; it runs when the file starts (with the fields
    seen so far) and again at the end with all of them. On any error nothing stays stored.
    """
    decoder = MultipartDecoder(
        boundary, max_form_memory_size=2 * READ_SIZE + MAX_FIELD_BYTES, max_parts=MAX_PARTS
    )
    receiver = _UploadReceiver(
        db=db,
        owner=owner,
        job_id=job_id,
        max_bytes=max_bytes,
        check_fields=check_fields,
        max_cover_bytes=max_cover_bytes,
    )
    try:
        _pump(stream, decoder, receiver)
        if not receiver.file_done or receiver.writer is None:
            raise BadRequestError(f"no file: send the video in a '{FILE_FIELD}' form field")
        # The cover part, present or not, is judged with the fields (a 'cover' choice of its own
        # and an image part contradict each other).
        receiver.check_fields({**receiver.fields, COVER_IMAGE_FIELD: str(receiver.cover.received)})
        receiver.store_cover()
        receiver.writer.close()
    except RequestEntityTooLarge:
        receiver.abort()
        raise PayloadTooLargeError("a form part is too large") from None
    except (ClientDisconnected, ConnectionError):
        # The client went away, or sent nothing for HTTP_IDLE_TIMEOUT_SECONDS.
        receiver.abort()
        raise RequestTimeoutError("the upload stopped before it was complete") from None
    except ValueError as exc:
        receiver.abort()
        logger.info("malformed multipart body: %s", exc)
        raise BadRequestError("the multipart body is malformed or incomplete") from None
    except BaseException:
        receiver.abort()
        raise
    return StoredUpload(
        file_id=receiver.writer.file_id,
        filename=receiver.filename or "video",
        size=receiver.size,
        container=receiver.container or "unknown",
        fields=receiver.fields,
        cover_fid=receiver.cover_fid,
    )


def _pump(stream: IO[bytes], decoder: MultipartDecoder, receiver: _UploadReceiver) -> None:
    finished = False
    while not finished:
        chunk = stream.read(READ_SIZE)
        decoder.receive_data(chunk or None)
        finished = not chunk
        while True:
            event = decoder.next_event()
            if isinstance(event, NeedData | Epilogue):
                break
            receiver.on_event(event)


def drain(stream: IO[bytes], *, limit: int) -> bool:
    """Read and discard up to ``limit`` bytes; True when the body was read to its end.

    Answering before the client has sent its whole body can reset the connection before the
    client reads the answer; draining a little first avoids that for small bodies.
    """
    remaining = limit
    try:
        while remaining > 0:
            chunk = stream.read(min(READ_SIZE, remaining))
            if not chunk:
                return True
            remaining -= len(chunk)
    except (ClientDisconnected, OSError):
        return True
    return False
