"""Temporary stand-in for the shared ``stack`` fixture, for the web page and CLI tests.

It starts a private services instance (the "ui" ports of /tmp/team/services-instances.md) and the
auth, upload and convert functions under functions-framework on free ports, with Knative's
RabbitmqSource adapter (``local-eventing``) delivering upload events to convert. Import the
fixture into a test module to use it instead of the shared one:
``from tests.e2e.conftest_ui_local import local_stack  # noqa: F401``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pika
import pytest
import requests

from video2audio.messaging import Topology, declare_topology
from video2audio.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / ".run" / "logs" / "e2e-ui"
INSTANCE = {
    "V2A_RUN_DIR": str(ROOT / ".run" / "inst-ui"),
    "V2A_PG_PORT": "56732",
    "V2A_RABBIT_PORT": "56972",
    "V2A_RABBIT_DIST_PORT": "56973",
    "V2A_EPMD_PORT": "56974",
    "V2A_MONGO_PORT": "58317",
    "V2A_RABBIT_NODE": "ui@localhost",
}


@dataclass
class LocalStack:
    auth_url: str
    upload_url: str
    env: dict[str, str]
    processes: list[subprocess.Popen] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _services_env() -> dict[str, str]:
    env = {**os.environ, **INSTANCE}
    subprocess.run(["bash", "scripts/services.sh", "start"], cwd=ROOT, env=env, check=True)
    printed = subprocess.run(
        ["bash", "scripts/services.sh", "env"], cwd=ROOT, env=env, check=True, capture_output=True
    ).stdout.decode()
    for line in printed.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = value
    return env


def _launch(name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
    LOGS.mkdir(parents=True, exist_ok=True)
    log = (LOGS / f"{name}.log").open("ab")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def _function(name: str, port: int, signature: str, env: dict[str, str]) -> subprocess.Popen:
    command = [str(ROOT / ".venv" / "bin" / "functions-framework")]
    command += ["--source", f"functions/{name}/main.py", "--target", name]
    command += ["--signature-type", signature, "--host", "127.0.0.1", "--port", str(port)]
    return _launch(name, command, env)


def _wait_until(check, what: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}; see {LOGS}")
        try:
            if check():
                return
        except (requests.RequestException, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not become ready in {timeout:.0f}s; see {LOGS}")


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session", name="stack")
def local_stack() -> Iterator[LocalStack]:
    # A stack that is already running (e.g. `make up`) can be named instead of started.
    if os.environ.get("V2A_E2E_AUTH_URL") and os.environ.get("V2A_E2E_UPLOAD_URL"):
        yield LocalStack(os.environ["V2A_E2E_AUTH_URL"], os.environ["V2A_E2E_UPLOAD_URL"], {})
        return
    for name in ("auth", "upload", "convert"):
        if not (ROOT / "functions" / name / "main.py").exists():
            pytest.skip(f"functions/{name}/main.py does not exist yet")
    env = _services_env()
    ports = {name: _free_port() for name in ("auth", "upload", "convert")}
    auth_url = f"http://127.0.0.1:{ports['auth']}"
    upload_url = f"http://127.0.0.1:{ports['upload']}"
    env.update(
        APP_ENV="development",
        BCRYPT_ROUNDS="4",
        MONGO_DB="video2audio_e2e_ui",
        LOG_LEVEL="INFO",
        PUBLIC_AUTH_URL=auth_url,
        PUBLIC_UPLOAD_URL=upload_url,
        CORS_ALLOWED_ORIGINS=f"{upload_url},http://localhost:{ports['upload']}",
    )
    # The event source consumes a predeclared queue: declare the topology before it starts.
    settings = Settings.from_env(env)
    connection = pika.BlockingConnection(pika.URLParameters(settings.rabbitmq_url))
    topology = Topology(
        settings.rabbitmq_exchange,
        settings.rabbitmq_dead_letter_exchange,
        (settings.convert_queue, settings.notify_queue),
    )
    declare_topology(connection.channel(), topology)
    connection.close()

    stack = LocalStack(auth_url, upload_url, env)
    try:
        for name, signature in (("auth", "http"), ("upload", "http"), ("convert", "cloudevent")):
            stack.processes.append(_function(name, ports[name], signature, env))
        ready_file = LOGS / "convert-source.ready"
        ready_file.unlink(missing_ok=True)
        source = _launch(
            "convert-source",
            [
                str(ROOT / ".run" / "bin" / "local-eventing"),
                "rabbitmq",
                "--manifest",
                "knative/eventing/convert-source.yaml",
                "--sink-map",
                f"convert=http://127.0.0.1:{ports['convert']}",
                "--rabbit-url",
                env["RABBITMQ_URL"],
                "--ready-file",
                str(ready_file),
            ],
            env,
        )
        stack.processes.append(source)
        auth, upload, convert = stack.processes[:3]
        _wait_until(lambda: requests.get(f"{auth_url}/healthz", timeout=2).ok, "auth", auth)
        _wait_until(lambda: requests.get(f"{upload_url}/healthz", timeout=2).ok, "upload", upload)
        _wait_until(lambda: _port_open(ports["convert"]), "convert", convert)
        _wait_until(ready_file.exists, "convert event source", source)
        yield stack
    finally:
        for process in stack.processes:
            process.terminate()
        for process in stack.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
