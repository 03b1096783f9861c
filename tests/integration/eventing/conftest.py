"""Fixtures for the local event sources: the real local-eventing binary, the private RabbitMQ
started by scripts/services.sh, test-unique queues declared as the conventions say, and small
real HTTP servers standing in for the functions."""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.eventing import (
    BINARY,
    DEAD_LETTER_EXCHANGE,
    EXCHANGE,
    Process,
    Queue,
    Request,
    Sink,
    connect,
    source_env,
)
from tests.support.paths import ROOT
from tests.support.services import run_services


@pytest.fixture(scope="session")
def local_eventing() -> Path:
    """Builds the binary as `make` does; Go's build cache makes this quick when up to date."""
    subprocess.run(
        ["go", "build", "-o", str(BINARY), "./cmd/local-eventing"],
        cwd=ROOT / "go",
        check=True,
        timeout=1200,
    )
    return BINARY


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    run_services("start-rabbitmq")
    for line in run_services("env").splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        if key == "RABBITMQ_URL":
            return value.strip().strip("'\"")
    raise AssertionError("scripts/services.sh env printed no RABBITMQ_URL")


@pytest.fixture
def queue(rabbitmq_url: str) -> Iterator[Queue]:
    name = f"test.{uuid.uuid4().hex[:10]}.convert"
    connection = connect(rabbitmq_url)
    channel = connection.channel()
    channel.exchange_declare(EXCHANGE, "direct", durable=True)
    channel.exchange_declare(DEAD_LETTER_EXCHANGE, "direct", durable=True)
    channel.queue_declare(
        name,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": name,
        },
    )
    channel.queue_bind(name, EXCHANGE, routing_key=name)
    channel.queue_declare(f"{name}.parked", durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(f"{name}.parked", DEAD_LETTER_EXCHANGE, routing_key=name)
    connection.close()
    yield Queue(rabbitmq_url, name)
    connection = connect(rabbitmq_url)
    channel = connection.channel()
    channel.queue_delete(name)
    channel.queue_delete(f"{name}.parked")
    connection.close()


@pytest.fixture
def sink() -> Iterator[Sink]:
    state: dict[str, Sink] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            s = state["sink"]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with s.lock:
                headers = {k.lower(): v for k, v in self.headers.items()}
                s.requests.append(Request(time.monotonic(), headers, body))
                status = s.statuses.pop(0) if s.statuses else (s.always or 200)
                s.in_flight += 1
                s.max_in_flight = max(s.max_in_flight, s.in_flight)
            if s.hold is not None:
                s.hold.wait(30)
            with s.lock:
                s.in_flight -= 1
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state["sink"] = Sink(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state["sink"]
    if state["sink"].hold is not None:
        state["sink"].hold.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def start_source(
    local_eventing: Path, rabbitmq_url: str, tmp_path: Path
) -> Iterator[Callable[..., Process]]:
    """Starts `local-eventing rabbitmq` for a manifest text and waits until it consumes."""
    started: list[Process] = []

    def start(manifest: str, sink_url: str) -> Process:
        n = len(started)
        path = tmp_path / f"source-{n}.yaml"
        path.write_text(manifest)
        ready = tmp_path / f"source-{n}.ready"
        log = tmp_path / f"source-{n}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [
                    str(local_eventing),
                    "rabbitmq",
                    "--manifest",
                    str(path),
                    "--sink-map",
                    f"convert={sink_url}",
                    "--rabbit-url",
                    rabbitmq_url,
                    "--ready-file",
                    str(ready),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=source_env(),
            )
        process = Process(popen, ready, log)
        started.append(process)
        process.wait_ready()
        return process

    yield start
    for process in started:
        process.stop()
