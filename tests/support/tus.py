"""Helpers of the resumable-upload tests: the official tus clients as processes, raw requests.

The clients run unmodified in their own processes (tests/support/tus_clients/), so a test can
kill one part-way, as a crash or a closed laptop would, and resume with a new one.
"""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.paths import ROOT
from tests.support.waiting import wait_until

# The stack runs with the default RESUMABLE_UPLOAD_THRESHOLD_BYTES (``make up`` passes none).
RESUMABLE_THRESHOLD = 64 * 1024 * 1024

CLIENTS = Path(__file__).resolve().parent / "tus_clients"
TUS = {"Tus-Resumable": "1.0.0"}
# HTTP_IDLE_TIMEOUT_SECONDS of the served function in the PATCH lock tests.
SILENT_CLIENT_SECONDS = 3


def metadata_header(**fields: str) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in fields.items()
    )


def client_command(kind: str) -> list[str]:
    if kind == "tuspy":
        return [sys.executable, str(CLIENTS / "tuspy_upload.py")]
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "tus-js-client").is_dir():
        raise AssertionError("node and tus-js-client are needed: run scripts/install.sh")
    return [node, str(CLIENTS / "tus_js_upload.mjs")]


@dataclass
class ClientRun:
    """One client process and what it printed so far (read by a thread, line by line)."""

    process: subprocess.Popen
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.strip())

    @property
    def url(self) -> str | None:
        return next((line[4:] for line in self.lines if line.startswith("URL http")), None)

    @property
    def offset(self) -> int:
        offsets = [int(line.split()[1]) for line in self.lines if line.startswith("OFFSET ")]
        return max(offsets, default=0)

    @property
    def done(self) -> bool:
        return "DONE" in self.lines

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


def start_client(
    kind: str,
    endpoint: str,
    token: str,
    path: Path,
    *,
    chunk_size: int,
    url: str | None = None,
    **metadata: str,
) -> ClientRun:
    args = [endpoint, token, str(path), str(chunk_size)]
    args += [url] if url else []
    args += [f"{key}={value}" for key, value in metadata.items()]
    process = subprocess.Popen(
        [*client_command(kind), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    return ClientRun(process)


class RawPatch:
    """A PATCH sent by hand over a socket, so a test can stop part-way or hold it open."""

    def __init__(self, url: str, token: str, *, offset: int, length: int) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
        head = (
            f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Authorization: Bearer {token}\r\nTus-Resumable: 1.0.0\r\n"
            f"Upload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\n"
            f"Content-Length: {length}\r\n\r\n"
        )
        self.sock.sendall(head.encode())

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def drop(self) -> None:
        """Close the connection as a crashed client would, the body unfinished."""
        self.sock.close()


def wait_for(run: ClientRun, condition, *, what: str, timeout: float = 60):
    def check():
        if condition(run):
            return True
        if run.process.poll() is not None and not condition(run):
            raise AssertionError(f"the client exited early: {run.lines[-5:]}")
        return False

    return wait_until(check, timeout=timeout, what=what, interval=0.05)
