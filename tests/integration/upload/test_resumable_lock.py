"""The PATCH lock of a resumable upload lasts as long as its request, however the request ends:
a client killed mid-body, or one gone silent, frees it for the rerun within seconds (the lock's
own time is 60 s here), and a PATCH while another is really receiving is still refused."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests

from tests.support.tus import CLIENTS, SILENT_CLIENT_SECONDS, TUS, metadata_header
from tests.support.waiting import wait_until

OCTETS = {**TUS, "Content-Type": "application/offset+octet-stream"}
LENGTH = 200 * 1024 * 1024
# Bytes already in the socket buffers when a client dies are still received and stored first.
DRAIN_SECONDS = 15


def create(url: str, user) -> str:
    headers = {**user.headers, **TUS, "Upload-Length": str(LENGTH)}
    headers["Upload-Metadata"] = metadata_header(filename="big.mp4")
    response = requests.post(f"{url}/files/", headers=headers, timeout=10)
    assert response.status_code == 201, response.text
    return response.headers["Location"]


def paced_patch(location: str, user, *, pause: float) -> subprocess.Popen:
    """A client process sending one PATCH body (``pause`` s between 64 KiB pieces)."""
    command = [sys.executable, str(CLIENTS / "paced_patch.py"), location, user.token]
    command += ["0", str(LENGTH), str(pause)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def wait_sent(process: subprocess.Popen, count: int) -> None:
    assert process.stdout is not None

    def enough() -> bool:
        line = process.stdout.readline()
        if not line:
            raise AssertionError(f"the client exited early (code {process.poll()})")
        return line.startswith("SENT ") and int(line.split()[1]) >= count

    wait_until(enough, timeout=60, what=f"the client to send {count} bytes", interval=0)


def patch(location: str, user, offset: int, data: bytes) -> requests.Response:
    headers = {**user.headers, **OCTETS, "Upload-Offset": str(offset)}
    return requests.patch(location, headers=headers, data=data, timeout=30)


def offset_of(location: str, user) -> int:
    answer = requests.head(location, headers={**user.headers, **TUS}, timeout=10)
    assert answer.status_code == 200, answer.status_code
    return int(answer.headers["Upload-Offset"])


def resumed_within(location: str, user, seconds: float) -> requests.Response:
    def resumed() -> requests.Response | None:
        answer = patch(location, user, offset_of(location, user), b"\x00" * 1000)
        return answer if answer.status_code == 204 else None

    return wait_until(resumed, timeout=seconds, what="a PATCH to be accepted", interval=0.2)


@contextmanager
def sending(url: str, user, *, pause: float, sent: int) -> Iterator[tuple[str, subprocess.Popen]]:
    """A new upload and its client process, once it has sent ``sent`` bytes of its PATCH; the
    process is killed when the block ends."""
    location = create(url, user)
    client = paced_patch(location, user, pause=pause)
    try:
        wait_sent(client, sent)
        yield location, client
    finally:
        client.kill()
        client.wait(timeout=10)


def killed_part_way(url: str, user, *, pause: float, sent: int) -> str:
    with sending(url, user, pause=pause, sent=sent) as (location, _client):
        return location


def test_a_patch_after_a_slow_client_is_killed_is_accepted_at_once(
    served_tus_long_lock, served_upload_user
):
    user = served_upload_user
    location = killed_part_way(served_tus_long_lock, user, pause=0.02, sent=2 * 1024 * 1024)
    answer = resumed_within(location, user, 5)
    assert int(answer.headers["Upload-Offset"]) >= 1000


def test_a_patch_after_a_fast_client_is_killed_is_accepted_once_its_sent_bytes_are_stored(
    served_tus_long_lock, served_upload_user
):
    user = served_upload_user
    location = killed_part_way(served_tus_long_lock, user, pause=0, sent=30 * 1024 * 1024)
    answer = resumed_within(location, user, DRAIN_SECONDS)
    assert int(answer.headers["Upload-Offset"]) >= 1000


def test_a_patch_after_a_client_went_silent_is_accepted_after_the_idle_timeout(
    served_tus_long_lock, served_upload_user
):
    user = served_upload_user
    with sending(served_tus_long_lock, user, pause=0.02, sent=1024 * 1024) as (location, client):
        # Stopped, its connection stays open and sends nothing: a closed laptop, a dead link.
        client.send_signal(signal.SIGSTOP)
        began = time.monotonic()
        answer = resumed_within(location, user, SILENT_CLIENT_SECONDS + 10)
    assert time.monotonic() - began >= SILENT_CLIENT_SECONDS - 1
    assert int(answer.headers["Upload-Offset"]) >= 1000


def test_a_patch_while_another_is_receiving_is_a_409_with_retry_after(
    served_tus_long_lock, served_upload_user
):
    user = served_upload_user
    with sending(served_tus_long_lock, user, pause=0.02, sent=512 * 1024) as (location, _client):
        second = patch(location, user, offset_of(location, user), b"\x00" * 1000)
    assert second.status_code == 409
    assert "retry shortly" in second.json()["error"]
    assert second.headers["Retry-After"] == "1"
