"""Slow and stalled clients against the functions served as `make up` serves them.

Each test is bounded in time: the attack lasts a fixed number of seconds, and every request made
meanwhile must be answered within a second.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from tests.support.functions import Served, serve_function
from tests.support.media import make_video
from tests.support.uploads import make_user
from tests.support.waiting import wait_until
from video2audio.infra.clients import mongo_database

ATTACK_SECONDS = 20
# Well under the 2 s idle timeout a held-up answer would wait for; a 2-core machine running the
# whole suite answered a small upload in 1.02 s once while the slow clients dripped.
ANSWER_WITHIN = 1.5
PASSWORD = "slow-client-password"


@pytest.fixture(scope="module")
def upload_server(tmp_path_factory) -> Iterator[Served]:
    log = tmp_path_factory.mktemp("slow") / "upload.log"
    with serve_function("upload", log=log, ready_path="/healthz") as served:
        yield served


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory) -> Iterator[Served]:
    log = tmp_path_factory.mktemp("slow") / "auth.log"
    with serve_function("auth", log=log, ready_path="/healthz") as served:
        yield served


@pytest.fixture(scope="module")
def quick_server(tmp_path_factory) -> Iterator[Served]:
    """The upload function with short deadlines, to watch them act within a test."""
    env = {"HTTP_HEADER_TIMEOUT_SECONDS": "2", "HTTP_IDLE_TIMEOUT_SECONDS": "2"}
    log = tmp_path_factory.mktemp("slow") / "quick.log"
    with serve_function("upload", env=env, log=log, ready_path="/healthz") as served:
        yield served


def address(served: Served) -> tuple[str, int]:
    host, port = served.url.removeprefix("http://").split(":")
    return host, int(port)


def stalled_head(served: Served) -> socket.socket:
    sock = socket.create_connection(address(served), timeout=5)
    sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\n")
    return sock


def drip_body(served: Served, path: str, stop: threading.Event, headers: dict[str, str]) -> None:
    """A complete head, then a body at one byte per second until ``stop``."""
    with socket.create_connection(address(served), timeout=5) as sock:
        fields = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\n{fields}Content-Length: 100000\r\n\r\n"
        sock.sendall(head.encode())
        while not stop.wait(1.0):
            try:
                sock.sendall(b" ")
            except OSError:
                return


def timed(call) -> tuple[float, requests.Response]:
    started = time.monotonic()
    response = call()
    return time.monotonic() - started, response


def test_stalled_and_dripping_clients_do_not_delay_anyone_else(
    upload_server, auth_server, tmp_path
):
    username = f"slow-{uuid.uuid4().hex[:8]}"
    credentials = {"username": username, "password": PASSWORD}
    assert requests.post(f"{auth_server.url}/register", json=credentials, timeout=5).ok
    video = make_video(tmp_path / "small.mp4", seconds=1, size="160x120")
    stop = threading.Event()
    stalled = [stalled_head(server) for server in (upload_server, auth_server) for _ in range(50)]
    uploaders = [make_user() for _ in range(10)]
    upload_drips = [
        (
            upload_server,
            "/upload",
            {**user.headers, "Content-Type": "multipart/form-data; boundary=b"},
        )
        for user in uploaders
    ]
    login_drips = [(auth_server, "/login", {"Content-Type": "application/json"})] * 10
    drips = [
        threading.Thread(target=drip_body, args=(server, path, stop, headers), daemon=True)
        for server, path, headers in upload_drips + login_drips
    ]
    for drip in drips:
        drip.start()
    slowest: dict[str, float] = {}
    try:
        deadline = time.monotonic() + ATTACK_SECONDS
        while time.monotonic() < deadline:
            for name, call in {
                "upload /healthz": lambda: requests.get(f"{upload_server.url}/healthz", timeout=5),
                "auth /healthz": lambda: requests.get(f"{auth_server.url}/healthz", timeout=5),
                "login": lambda: requests.post(
                    f"{auth_server.url}/login", json=credentials, timeout=5
                ),
                "upload": lambda: requests.post(
                    f"{upload_server.url}/upload",
                    files={"file": ("small.mp4", video.read_bytes(), "video/mp4")},
                    headers=make_user().headers,  # each its own: nothing converts them here
                    timeout=5,
                ),
            }.items():
                seconds, response = timed(call)
                assert response.status_code in {200, 202}, (name, response.text)
                slowest[name] = max(slowest.get(name, 0.0), seconds)
            time.sleep(1)
    finally:
        stop.set()
        for sock in stalled:
            sock.close()
        for drip in drips:
            drip.join(timeout=5)
    assert all(seconds < ANSWER_WITHIN for seconds in slowest.values()), slowest
    # The dripped uploads left nothing: no job, no stored file, no slot held.
    db = mongo_database()
    names = [user.name for user in uploaders]
    assert db["jobs"].count_documents({"owner": {"$in": names}}) == 0
    assert db["videos.files"].count_documents({"metadata.owner": {"$in": names}}) == 0
    wait_until(
        lambda: db["active_job_slots"].count_documents({"owner": {"$in": names}}) == 0,
        timeout=10,
        what="the cut uploads to give back their conversion slots",
    )


def test_an_upload_declaring_more_than_the_limit_gets_its_413_at_once(upload_server):
    user = make_user()
    with socket.create_connection(address(upload_server), timeout=5) as sock:
        sock.sendall(
            b"POST /upload HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: Bearer {user.token}\r\n".encode()
            + b"Content-Type: multipart/form-data; boundary=b\r\n"
            + b"Content-Length: 3221225472\r\n\r\n"
        )
        started = time.monotonic()
        answer = sock.recv(4096)
    assert time.monotonic() - started < ANSWER_WITHIN
    assert answer.startswith(b"HTTP/1.1 413")


def test_a_request_line_over_8_kib_is_refused_without_reading_it_all(upload_server):
    started = time.monotonic()
    with socket.create_connection(address(upload_server), timeout=5) as sock:
        line = b"GET /" + b"a" * (5 * 1024 * 1024) + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        try:
            sock.sendall(line)
            answer = sock.recv(4096)
        except ConnectionError:
            answer = b"reset"  # refused before the 5 MB were sent
    assert time.monotonic() - started < 5
    assert answer == b"reset" or answer.split(b" ")[1] in {b"400", b"414"}


def test_a_client_that_stops_mid_head_is_dropped_after_the_head_deadline(quick_server):
    with stalled_head(quick_server) as sock:
        started = time.monotonic()
        sock.settimeout(10)
        assert sock.recv(4096) == b""  # closed by the server
    assert 1.5 < time.monotonic() - started < 5


def test_a_client_that_drips_its_head_is_dropped_after_the_head_deadline(quick_server):
    with socket.create_connection(address(quick_server), timeout=10) as sock:
        started = time.monotonic()
        closed = False
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.5)
            if time.monotonic() - started > 6:
                break
        if not closed:
            sock.settimeout(5)
            closed = sock.recv(4096) == b""
    assert closed
    assert time.monotonic() - started < 6


def test_an_upload_that_stops_sending_is_dropped_and_leaves_nothing(quick_server, tmp_path):
    user = make_user()
    video = make_video(tmp_path / "cut.mp4", seconds=2).read_bytes()
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="cut.mp4"\r\n'
        b"Content-Type: video/mp4\r\n\r\n" + video[: len(video) // 2]
    )
    with socket.create_connection(address(quick_server), timeout=10) as sock:
        sock.sendall(
            b"POST /upload HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: Bearer {user.token}\r\n".encode()
            + b"Content-Type: multipart/form-data; boundary=b\r\n"
            + f"Content-Length: {len(body) + 1000}\r\n\r\n".encode()
            + body
        )
        sock.settimeout(10)
        started = time.monotonic()
        while sock.recv(4096):
            pass
    assert time.monotonic() - started < 6
    db = mongo_database()
    assert db["jobs"].count_documents({"owner": user.name}) == 0
    assert db["videos.files"].count_documents({"metadata.owner": user.name}) == 0
