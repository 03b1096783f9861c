"""Fixtures for the upload function: generated media, tokens, stored audio, custom-settings apps.

Tokens are minted with the shared secret (the upload function verifies them locally, exactly as
it does for the auth function's tokens), so these tests need MongoDB and RabbitMQ but not auth.
"""

from __future__ import annotations

import io
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask
import pytest
from bson import ObjectId

from tests.integration.conftest import ROOT, function_app
from video2audio import jobs, storage
from video2audio.clients import mongo_database
from video2audio.settings import Settings, get_settings
from video2audio.tokens import issue_token
from video2audio.upload_api import build_router

STATIC_DIR = ROOT / "functions" / "upload" / "static"


@dataclass(frozen=True)
class User:
    name: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_user() -> User:
    settings = get_settings()
    name = f"user-{uuid.uuid4().hex[:12]}"
    token = issue_token(
        name, secret=settings.jwt_secret, issuer=settings.jwt_issuer, ttl_seconds=600
    )
    return User(name, token)


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


def settings_app(
    static_dir: Path = STATIC_DIR, database: Callable[[], Any] = mongo_database, **overrides: str
) -> flask.Flask:
    """An app serving the upload routes with settings that differ from the environment's."""
    env = {**os.environ, **{key.upper(): value for key, value in overrides.items()}}
    routes = build_router(Settings.from_env(env), static_dir=static_dir, database=database)
    app = flask.Flask(f"upload-{uuid.uuid4().hex[:6]}", static_folder=None)

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST", "DELETE"])
    @app.route("/<path:path>", methods=["GET", "POST", "DELETE"])
    def dispatch(path: str) -> flask.Response:
        return routes.dispatch(flask.request)

    return app


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


def ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True, timeout=60
    )


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


def upload(
    client,
    user: User,
    content: bytes,
    *,
    filename: str = "talk.mp4",
    fields: Mapping[str, str] | None = None,
):
    data: dict[str, Any] = dict(fields or {})
    data["file"] = (io.BytesIO(content), filename, "video/mp4")
    return client.post("/upload", data=data, headers=user.headers)


BOUNDARY = "----v2a-test-boundary-7d1f"


def multipart(parts: list[tuple[str, bytes | str, str | None]]) -> tuple[bytes, str]:
    """A multipart body with parts in exactly the given order: (name, value, filename)."""
    body = bytearray()
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename is not None:
            body += b"Content-Type: application/octet-stream\r\n"
        body += b"\r\n" + (value.encode() if isinstance(value, str) else value) + b"\r\n"
    body += f"--{BOUNDARY}--\r\n".encode()
    return bytes(body), f"multipart/form-data; boundary={BOUNDARY}"


def post_multipart(client, user: User, parts: list[tuple[str, bytes | str, str | None]]):
    body, content_type = multipart(parts)
    return client.post("/upload", data=body, headers={**user.headers, "Content-Type": content_type})


def count_files(db, bucket: str, owner: str) -> int:
    return db[f"{bucket}.files"].count_documents({"metadata.owner": owner})


def chunks_of(db, bucket: str, file_id) -> int:
    return db[f"{bucket}.chunks"].count_documents({"files_id": file_id})


def removed_file_ids(caplog) -> list[ObjectId]:
    """Ids of the videos the upload code reports having removed after a failure.

    Counting every chunk would be slow on FerretDB (no index for that); these ids let a test
    check exactly the chunks that were written and then removed.
    """
    return [ObjectId(record.file_id) for record in caplog.records if hasattr(record, "file_id")]


def forget_user(db, user: User) -> None:
    """Remove what a test user left, so the test database stays small and fast."""
    for bucket in (storage.VIDEOS, storage.AUDIO):
        for doc in db[f"{bucket}.files"].find({"metadata.owner": user.name}, {"_id": 1}):
            storage.delete_file(db, bucket, doc["_id"])
    db[jobs.JOBS].delete_many({"owner": user.name})


@dataclass
class DoneJob:
    job: dict[str, Any]
    audio: bytes

    @property
    def job_id(self) -> str:
        return self.job["_id"]

    @property
    def audio_fid(self) -> str:
        return str(self.job["audio_fid"])


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
        output = jobs.parse_output(audio_format, None)
        job = jobs.create_job(
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
        finished = jobs.now()
        changes = {"status": "done", "audio_fid": sink.file_id, "progress": 100}
        db[jobs.JOBS].update_one(
            {"_id": job["_id"]}, {"$set": {**changes, "finished_at": finished}}
        )
        done = DoneJob(jobs.load_job(db, job["_id"]), audio)
        created.append(done)
        return done

    yield make
    for done in created:
        storage.delete_file(db, storage.VIDEOS, done.job["video_fid"])
        storage.delete_file(db, storage.AUDIO, done.job["audio_fid"])
        db[jobs.JOBS].delete_one({"_id": done.job_id})
