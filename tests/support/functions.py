"""The functions under test: in-process through functions-framework's app, or as real servers."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import functions_framework
import requests

from tests.support.network import free_port
from tests.support.paths import FUNCTIONS, ROOT, SERVE
from tests.support.waiting import wait_until

SIGNATURES = {
    "auth": "http",
    "upload": "http",
    "convert": "cloudevent",
    "notify": "cloudevent",
    "expire": "cloudevent",
}


def function_app(name: str):
    """The function's Flask app as functions-framework builds it (settings read from os.environ)."""
    return functions_framework.create_app(
        target=name, source=str(FUNCTIONS / name / "main.py"), signature_type=SIGNATURES[name]
    )


@dataclass(frozen=True)
class Served:
    url: str
    process: subprocess.Popen


@contextmanager
def serve_function(
    name: str,
    *,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    ready_path: str | None = None,
    timeout: float = 30.0,
    port: int | None = None,
) -> Iterator[Served]:
    """Run the function as `make up` does (video2audio-serve) on a free port.

    Ready when ``ready_path`` answers 200 (HTTP functions) or when the port answers at all.
    ``port`` is chosen by the caller when the function must know its own URL (its settings).
    """
    port = port or free_port()
    command = [str(SERVE), "--source", str(FUNCTIONS / name / "main.py")]
    command += ["--target", name, "--signature-type", SIGNATURES[name]]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    output = log.open("a") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        command,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the {name} function exited at start (code {process.returncode})")
        try:
            response = requests.get(f"{url}{ready_path or '/'}", timeout=2)
        except requests.ConnectionError:
            return False
        return ready_path is None or response.status_code == 200

    try:
        wait_until(ready, timeout=timeout, what=f"the {name} function to answer", interval=0.2)
        yield Served(url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log:
            output.close()  # type: ignore[union-attr]
