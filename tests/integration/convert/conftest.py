"""Fixtures for the convert function: generated media, jobs stored in the real GridFS, the
function served in-process and as a real functions-framework server, and a reader of the
notify queue.

The tests publish to a notify queue of their own (NOTIFY_QUEUE), so other tests' events never
mix in, and use a short lease so take-overs happen within a test.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pika
import pika.exceptions
import pytest
import requests

from tests.integration.conftest import ROOT, function_app
from video2audio import clients, settings
from video2audio.events import VIDEO_UPLOADED, build_event, to_http_binary
from video2audio.jobs import create_job
from video2audio.messaging import declare_topology
from video2audio.storage import VIDEOS, open_upload

from .media_files import generate, generate_long_audio

LEASE_SECONDS = "3"


def reset_cached_settings() -> None:
    """Settings and the clients built from them are cached per process: rebuild after a change."""
    settings.get_settings.cache_clear()
    clients.rabbit_publisher.cache_clear()


@pytest.fixture(scope="session")
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


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> dict[str, Path]:
    return generate(tmp_path_factory.mktemp("media"))


@pytest.fixture(scope="session")
def long_audio(tmp_path_factory) -> Path:
    return generate_long_audio(tmp_path_factory.mktemp("long") / "long.m4a", 40)


@pytest.fixture(scope="session")
def db(convert_env):
    return clients.mongo_database()


@pytest.fixture(scope="session")
def convert_client(convert_env):
    return function_app("convert", signature_type="cloudevent").test_client()


@pytest.fixture
def store_job(db, unique_name):
    """Store a file as an uploaded video and create its queued job, as upload does."""

    def store(path: Path, audio_format: str = "mp3", bitrate: str | None = None) -> dict[str, Any]:
        if bitrate is None and audio_format in {"mp3", "m4a", "opus"}:
            bitrate = "128k"
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
            output={"format": audio_format, "bitrate": bitrate},
            webhook_url=None,
        )

    return store


def uploaded_event(job: dict[str, Any]):
    data = {
        "job_id": job["_id"],
        "video_fid": str(job["video_fid"]),
        "owner": job["owner"],
        "output": job["output"],
    }
    return build_event(VIDEO_UPLOADED, data, source="/video2audio/upload", subject=job["_id"])


def post_event(client, event) -> Any:
    headers, body = to_http_binary(event)
    return client.post("/", headers=headers, data=body)


class NotifyQueue:
    """Reads the tests' notify queue, keeping every event it saw by job id."""

    def __init__(self, url: str, queue: str) -> None:
        self.queue = queue
        self._url = url
        self._connect()
        self._seen: dict[str, list[tuple[str, dict[str, Any]]]] = {}

    def _connect(self) -> None:
        self._connection = pika.BlockingConnection(pika.URLParameters(self._url))
        self._channel = self._connection.channel()
        declare_topology(self._channel, clients.messaging_topology())

    def events_for(self, job_id: str, *, count: int = 1, timeout: float = 10.0) -> list:
        """The (type, data) events published for ``job_id``, once ``count`` arrived."""
        deadline = time.monotonic() + timeout
        while len(self._seen.get(job_id, [])) < count and time.monotonic() < deadline:
            try:
                method, properties, body = self._channel.basic_get(self.queue, auto_ack=True)
            except pika.exceptions.AMQPError:
                self._connect()  # a test restarted RabbitMQ
                continue
            if method is None:
                time.sleep(0.1)
                continue
            data = json.loads(body)
            event_type = (properties.headers or {}).get("ce-type")
            self._seen.setdefault(data.get("job_id"), []).append((event_type, data))
        return list(self._seen.get(job_id, []))

    def close(self) -> None:
        try:
            self._connection.process_data_events(0)
        except pika.exceptions.AMQPError:
            self._connect()
        topology = clients.messaging_topology()
        for queue in topology.queues:
            if queue == self.queue:
                self._channel.queue_delete(queue)
                self._channel.queue_delete(topology.parked_queue(queue))
        self._connection.close()


@pytest.fixture(scope="session")
def notify_queue(convert_env) -> Iterator[NotifyQueue]:
    reader = NotifyQueue(settings.get_settings().rabbitmq_url, convert_env["NOTIFY_QUEUE"])
    yield reader
    reader.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def convert_server(convert_env) -> Iterator[tuple[str, subprocess.Popen]]:
    """The convert function in a real ``functions-framework`` process; yields (url, process)."""
    port = free_port()
    binary = Path(sys.executable).with_name("functions-framework")
    command = [str(binary), "--target", "convert", "--signature-type", "cloudevent"]
    command += ["--source", str(ROOT / "functions" / "convert" / "main.py"), "--port", str(port)]
    process = subprocess.Popen(command, env={**os.environ}, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(url, timeout=1)
            break
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the convert function did not start") from None
            time.sleep(0.2)
    yield url, process
    process.terminate()
    process.wait(timeout=10)


def post_event_http(url: str, event, timeout: float = 120) -> requests.Response:
    headers, body = to_http_binary(event)
    return requests.post(url, headers=headers, data=body, timeout=timeout)


def ffmpeg_children(pid: int) -> list[int]:
    """ffmpeg processes descended from ``pid`` (a server may fork workers), read from /proc."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        names[int(entry.name)] = stat[stat.index("(") + 1 : stat.rindex(")")]
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])

    def descends(candidate: int) -> bool:
        while candidate in parents and candidate > 1:
            candidate = parents[candidate]
            if candidate == pid:
                return True
        return False

    return [p for p, name in names.items() if name == "ffmpeg" and descends(p)]


def services(command: str) -> None:
    """scripts/services.sh for this instance; without MONGO_URL, which makes it skip FerretDB."""
    env = {k: v for k, v in os.environ.items() if k != "MONGO_URL"}
    subprocess.run(["bash", str(ROOT / "scripts" / "services.sh"), command], check=True, env=env)
