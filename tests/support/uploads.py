"""Helpers of the uploads tests (fixtures stay in their conftest.py)."""

from __future__ import annotations

import io
import os
import subprocess
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask
from bson import ObjectId

from tests.support.paths import STATIC_DIR
from video2audio.core.settings import Settings, get_settings
from video2audio.core.tokens import issue_token
from video2audio.infra import storage
from video2audio.infra.clients import mongo_database
from video2audio.jobs import repository, resumable
from video2audio.upload.routes import build_router


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


def ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True, timeout=60
    )


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
    for record in db[resumable.UPLOADS].find({"owner": user.name}, {"tail": 0}):
        storage.delete_file(db, storage.VIDEOS, record["file_id"])
        resumable.delete_record(db, record["_id"])
    db[repository.JOBS].delete_many({"owner": user.name})


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


def published_events(channel, queue: str) -> list[dict[str, Any]]:
    """Every message waiting in ``queue``: its headers (the CloudEvent attributes) and body."""
    events = []
    while True:
        method, properties, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            return events
        events.append({"headers": properties.headers or {}, "body": body})


def deliver(convert_client, event: dict[str, Any]):
    """A published event, delivered to the convert function as the broker's event source would."""
    headers = {k: str(v) for k, v in event["headers"].items() if k.startswith("ce-")}
    return convert_client.post(
        "/", headers={**headers, "Content-Type": "application/json"}, data=event["body"]
    )
