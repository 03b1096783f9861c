"""Fixtures for the upload function: generated media, tokens, stored audio, custom-settings apps.

Tokens are minted with the shared secret (the upload function verifies them locally, exactly as
it does for the auth function's tokens), so these tests need MongoDB and RabbitMQ but not auth."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pika
import pytest

from tests.support.convert import NotifyQueue, reset_cached_settings
from tests.support.functions import function_app, serve_function
from tests.support.network import free_port
from tests.support.tus import SILENT_CLIENT_SECONDS
from tests.support.uploads import (
    DoneJob,
    User,
    ffmpeg,
    forget_user,
    make_user,
)
from video2audio.core import clock
from video2audio.core.settings import get_settings
from video2audio.infra import storage
from video2audio.infra.clients import mongo_database
from video2audio.jobs import model, repository


@pytest.fixture
def alice(db) -> Iterator[User]:
    user = make_user()
    yield user
    forget_user(db, user)


@pytest.fixture
def bob(db) -> Iterator[User]:
    user = make_user()
    yield user
    forget_user(db, user)


@pytest.fixture(scope="session")
def upload_client():
    return function_app("upload").test_client()


@pytest.fixture(scope="session")
def db():
    return mongo_database()


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def sample_mp4(media_dir) -> bytes:
    """A 2 s H.264/AAC MP4 with ffmpeg's default layout: the index (moov) after the media data."""
    path = media_dir / "talk.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=160x120:rate=15",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
        "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "64k",
        str(path),
    )  # fmt: skip
    return path.read_bytes()


@pytest.fixture
def make_done_job(db) -> Iterator[Callable[..., DoneJob]]:
    """A finished job with its audio stored, made directly through the storage and job code."""
    created: list[DoneJob] = []

    def make(
        user: User, *, filename: str = "talk.mp4", audio_format: str = "mp3", size: int = 300_000
    ) -> DoneJob:
        audio = os.urandom(size)
        video = storage.open_upload(db, storage.VIDEOS, filename, metadata={"owner": user.name})
        video.write(b"\x00\x00\x00\x18ftypisom" + os.urandom(1000))
        video.close()
        output = model.parse_output(audio_format, None)
        job = repository.create_job(
            db,
            owner=user.name,
            video_fid=video.file_id,
            filename=filename,
            output=output,
            webhook_url=None,
        )
        sink = storage.open_upload(
            db, storage.AUDIO, filename, metadata={"owner": user.name, "job_id": job["_id"]}
        )
        sink.write(audio)
        sink.close()
        finished = clock.now()
        changes = {"status": "done", "audio_fid": sink.file_id, "progress": 100}
        db[repository.JOBS].update_one(
            {"_id": job["_id"]}, {"$set": {**changes, "finished_at": finished}}
        )
        done = DoneJob(repository.load_job(db, job["_id"]), audio)
        created.append(done)
        return done

    yield make
    for done in created:
        storage.delete_file(db, storage.VIDEOS, done.job["video_fid"])
        storage.delete_file(db, storage.AUDIO, done.job["audio_fid"])
        db[repository.JOBS].delete_one({"_id": done.job_id})


@pytest.fixture(scope="module")
def served_upload(tmp_path_factory) -> Iterator[str]:
    """The upload function as a real server (video2audio-serve) with the tests' settings."""
    log = tmp_path_factory.mktemp("upload-served") / "upload.log"
    with serve_function("upload", log=log, ready_path="/healthz") as served:
        yield served.url


@pytest.fixture(scope="module")
def served_upload_user(db) -> Iterator[User]:
    """A user of the served function, whose jobs and files are removed afterwards."""
    user = make_user()
    yield user
    forget_user(db, user)


@pytest.fixture(scope="module")
def served_tus(tmp_path_factory) -> Iterator[str]:
    """The upload function served for real, knowing its own URL (the uploads' Location)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("tus-served") / "upload.log"
    env = {"PUBLIC_UPLOAD_URL": url, "RESUMABLE_UPLOAD_LOCK_SECONDS": "5"}
    with serve_function("upload", env=env, log=log, ready_path="/healthz", port=port):
        yield url


@pytest.fixture(scope="module")
def served_tus_long_lock(tmp_path_factory) -> Iterator[str]:
    """As ``served_tus``, with a PATCH lock that outlives any test's patience (60 s): a lock
    still held after its request ended shows as a 409, not as a short wait. Clients that go
    silent are dropped after 3 s."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("tus-long-lock") / "upload.log"
    env = {
        "PUBLIC_UPLOAD_URL": url,
        "RESUMABLE_UPLOAD_LOCK_SECONDS": "60",
        "HTTP_IDLE_TIMEOUT_SECONDS": str(SILENT_CLIENT_SECONDS),
    }
    with serve_function("upload", env=env, log=log, ready_path="/healthz", port=port):
        yield url


@pytest.fixture(scope="session")
def noisy_mp4(media_dir) -> Path:
    """A 3 s MP4 of noise, about 10 MB: large enough to stop a client part-way."""
    path = media_dir / "noise.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
        "-vf", "noise=alls=100:allf=t", "-t", "3",
        "-c:v", "mpeg4", "-q:v", "2", "-c:a", "aac", "-b:a", "64k", str(path),
    )  # fmt: skip
    return path


@pytest.fixture
def convert_queue_copies() -> Iterator[tuple]:
    """A private queue bound like the convert queue: every video.uploaded published, in order."""
    settings = get_settings()
    connection = pika.BlockingConnection(pika.URLParameters(settings.rabbitmq_url))
    channel = connection.channel()
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, settings.rabbitmq_exchange, routing_key=settings.convert_queue)
    yield channel, queue
    connection.close()


@pytest.fixture
def converter(monkeypatch) -> Iterator[tuple]:
    """The convert function in this process, announcing to a queue of this test's own."""
    notify_queue = f"video2audio.notify.test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("NOTIFY_QUEUE", notify_queue)
    reset_cached_settings()
    reader = NotifyQueue(get_settings().rabbitmq_url, notify_queue)
    yield function_app("convert").test_client(), reader
    reader.close()
    monkeypatch.undo()
    reset_cached_settings()
