"""A 300 MB upload to the function served for real, measuring the serving process's memory.

The function runs under `functions-framework` (gunicorn) as a subprocess, exactly as `make up`
serves it; the request body is generated on the fly, so neither side needs the file in memory.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from bson import ObjectId

from tests.support.functions import Served, serve_function
from tests.support.uploads import BOUNDARY, User
from video2audio.infra import storage

logger = logging.getLogger(__name__)

UPLOAD_BYTES = 300 * 1024 * 1024
MAX_GROWTH_BYTES = 64 * 1024 * 1024


def worker_pid(served: Served) -> int:
    """gunicorn's worker: the serving process is its arbiter, which forks one worker."""
    pid = served.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return int(children[0]) if children else pid


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise KeyError(field)


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    log = tmp_path_factory.mktemp("served") / "upload.log"
    with serve_function("upload", log=log, ready_path="/healthz") as served:
        yield served


def multipart_stream(head: bytes, total: int, fields: dict[str, str]) -> Iterator[bytes]:
    """A multipart body whose file is ``head`` followed by filler up to ``total`` bytes."""
    for name, value in fields.items():
        yield (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    yield head
    block = os.urandom(1024 * 1024)
    remaining = total - len(head)
    while remaining > 0:
        piece = block[: min(remaining, len(block))]
        remaining -= len(piece)
        yield piece
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


class PeakSampler(threading.Thread):
    """Samples a process's resident memory until stopped, keeping the highest value."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kib = pid, 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.peak_kib = max(self.peak_kib, memory_kib(self.pid, "VmRSS"))
            self.stopped.wait(0.05)


def post_stream(served: Served, user: User, body: Iterator[bytes]) -> requests.Response:
    return requests.post(
        f"{served.url}/upload",
        data=body,  # a generator: sent chunked, never held whole
        headers={**user.headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        timeout=300,
    )


@pytest.mark.slow
def test_a_300_mb_upload_grows_the_function_by_less_than_64_mb(served, alice, sample_mp4, db):
    # Warm up: imports, connections and the first GridFS chunk buffers are part of the baseline.
    warm = post_stream(served, alice, multipart_stream(sample_mp4, 3 * 1024 * 1024, {}))
    assert warm.status_code == 202, warm.text
    worker = worker_pid(served)
    baseline_kib = memory_kib(worker, "VmRSS")
    sampler = PeakSampler(worker)
    sampler.start()
    started = time.monotonic()
    response = post_stream(
        served, alice, multipart_stream(sample_mp4, UPLOAD_BYTES, {"format": "m4a"})
    )
    elapsed = time.monotonic() - started
    sampler.stopped.set()
    sampler.join()
    high_water_kib = memory_kib(worker, "VmHWM")

    assert response.status_code == 202, response.text
    growth = max(sampler.peak_kib, high_water_kib) * 1024 - baseline_kib * 1024
    logger.warning(
        "300 MB upload: %.1f s (%.0f MB/s); worker RSS baseline %.1f MiB, peak %.1f MiB, "
        "VmHWM %.1f MiB, growth %.1f MiB",
        elapsed,
        UPLOAD_BYTES / elapsed / 1e6,
        baseline_kib / 1024,
        sampler.peak_kib / 1024,
        high_water_kib / 1024,
        growth / 1024 / 1024,
    )
    assert growth < MAX_GROWTH_BYTES

    body = response.json()
    file_doc = storage.find_file(db, storage.VIDEOS, ObjectId(body["video_fid"]))
    assert file_doc["length"] == UPLOAD_BYTES
    for uploaded in (warm.json(), body):
        deleted = requests.delete(
            f"{served.url}/jobs/{uploaded['job_id']}", headers=alice.headers, timeout=120
        )
        assert deleted.status_code == 204
