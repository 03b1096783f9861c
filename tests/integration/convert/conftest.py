"""Fixtures for the convert function: generated media, jobs stored in the real GridFS, the
function served in-process and as a real functions-framework server, and a reader of the
notify queue.

The tests publish to a notify queue of their own (NOTIFY_QUEUE), so other tests' events never
mix in, and use a short lease so take-overs happen within a test. Both settings hold for this
package only: they are restored when its last test ends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.convert import (
    LEASE_SECONDS,
    NotifyQueue,
    reset_cached_settings,
)
from tests.support.convert_media import generate, generate_long_audio
from tests.support.functions import Served, function_app, serve_function
from tests.support.publishing_media import generate_levels
from video2audio.core.settings import get_settings
from video2audio.infra import clients
from video2audio.infra.storage import VIDEOS, open_upload
from video2audio.jobs.publishing import parse_publishing
from video2audio.jobs.repository import create_job


@pytest.fixture(scope="package")
def convert_env() -> Iterator[dict[str, str]]:
    changes = {
        "NOTIFY_QUEUE": f"video2audio.notify.test-{uuid.uuid4().hex[:8]}",
        "CONVERT_LEASE_SECONDS": LEASE_SECONDS,
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in changes.items():
            patch.setenv(key, value)
        reset_cached_settings()
        yield changes
    reset_cached_settings()


@pytest.fixture(scope="package")
def media(tmp_path_factory) -> dict[str, Path]:
    return generate(tmp_path_factory.mktemp("media"))


@pytest.fixture(scope="package")
def long_audio(tmp_path_factory) -> Path:
    return generate_long_audio(tmp_path_factory.mktemp("long") / "long.m4a", 40)


@pytest.fixture(scope="package")
def db(convert_env):
    return clients.mongo_database()


@pytest.fixture(scope="package")
def convert_client(convert_env):
    return function_app("convert").test_client()


@pytest.fixture
def converter_with(convert_env, monkeypatch):
    """Start the convert function with some settings of the test's own; they end with the test."""

    def start(**settings: str):
        for name, value in settings.items():
            monkeypatch.setenv(name.upper(), value)
        clients.reset_clients()
        return function_app("convert").test_client()

    yield start
    monkeypatch.undo()
    clients.reset_clients()


@pytest.fixture
def store_job(db, unique_name):
    """Store a file as an uploaded video and create its queued job, as upload does."""

    def store(
        path: Path,
        audio_format: str = "mp3",
        bitrate: str | None = None,
        *,
        bitrate_requested: bool = False,
    ) -> dict[str, Any]:
        """``bitrate_requested``: the client asked for the bitrate (else it is upload's default)."""
        if bitrate is None and audio_format in {"mp3", "m4a", "opus"}:
            bitrate = "128k"
        output: dict[str, Any] = {"format": audio_format, "bitrate": bitrate}
        if bitrate_requested:
            output["bitrate_requested"] = True
        upload = open_upload(db, VIDEOS, path.name, metadata={"owner": unique_name})
        with path.open("rb") as source:
            while block := source.read(1024 * 1024):
                upload.write(block)
        upload.close()
        return create_job(
            db,
            owner=unique_name,
            video_fid=upload.file_id,
            filename=f"Holiday {path.name}",
            output=output,
            webhook_url=None,
        )

    return store


@pytest.fixture(scope="package")
def notify_queue(convert_env) -> Iterator[NotifyQueue]:
    reader = NotifyQueue(get_settings().rabbitmq_url, convert_env["NOTIFY_QUEUE"])
    yield reader
    reader.close()


@pytest.fixture(scope="package")
def convert_server(convert_env, tmp_path_factory) -> Iterator[Served]:
    """The convert function served as `make up` serves it; its log is kept for a failure."""
    log = tmp_path_factory.mktemp("convert-server") / "convert.log"
    with serve_function("convert", log=log) as served:
        yield served


@pytest.fixture(scope="package")
def levels(tmp_path_factory) -> dict[str, Path]:
    """Quiet speech, loud music and a clip with silence, for the loudness tests."""
    return generate_levels(tmp_path_factory.mktemp("levels"))


@pytest.fixture
def store_published_job(db, unique_name, store_job):
    """A stored job with publishing options given as upload's form fields, and a cover image."""

    def store(
        path: Path, audio_format: str, fields: dict[str, str], cover: Path | None = None
    ) -> dict[str, Any]:
        job = store_job(path, audio_format)
        changes: dict[str, Any] = {"publish": parse_publishing(fields, cover_image=bool(cover))}
        if cover is not None:
            upload = open_upload(
                db,
                VIDEOS,
                "cover",
                metadata={
                    "owner": unique_name,
                    "job_id": job["_id"],
                    "kind": "cover",
                    "content_type": "image/png",
                },
            )
            upload.write(cover.read_bytes())
            upload.close()
            changes["cover_fid"] = upload.file_id
        db["jobs"].update_one({"_id": job["_id"]}, {"$set": changes})
        return {**job, **changes}

    return store
