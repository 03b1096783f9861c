"""Resumable uploads end to end: the web page and the CLI each continue an interrupted upload.

The stack runs with the default RESUMABLE_UPLOAD_THRESHOLD_BYTES (64 MiB; ``make up`` passes no
override), so the video is made just above it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, Request, expect

from tests.support.browser import log_in_on_page
from tests.support.media import probe
from tests.support.tus import RESUMABLE_THRESHOLD
from tests.support.waiting import wait_until

CLI = str(Path(sys.executable).with_name("video2audio"))
PASSWORD = "resume-password-1"
CONVERSION_TIMEOUT_MS = 240_000


def login_token(stack, username: str) -> str:
    response = requests.post(
        f"{stack.auth_url}/login", json={"username": username, "password": PASSWORD}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


def jobs_of(stack, token: str) -> list[dict]:
    response = requests.get(
        f"{stack.upload_url}/jobs", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()["jobs"]


def job(stack, token: str, job_id: str) -> dict:
    response = requests.get(
        f"{stack.upload_url}/jobs/{job_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def received_past(stack, token: str, job_id: str, fraction: float, size: int) -> int | None:
    received = job(stack, token, job_id).get("bytes_received") or 0
    return received if received >= fraction * size else None


# ---- the web page ---------------------------------------------------------------------------
@pytest.fixture
def page(browser: Browser, stack) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{stack.upload_url}/")
    yield page
    context.close()


def throttle_uploads(page: Page, bytes_per_second: int) -> None:
    # Loopback is far too fast to interrupt an upload by hand; Chromium's emulation slows it.
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": bytes_per_second,
        },
    )


def test_page_reload_resumes_a_large_upload_into_the_same_job(page: Page, stack, big_video):
    username = f"resume-{uuid.uuid4().hex[:10]}"
    response = requests.post(
        f"{stack.auth_url}/register", json={"username": username, "password": PASSWORD}, timeout=10
    )
    assert response.status_code == 201, response.text
    token = login_token(stack, username)
    size = big_video.stat().st_size

    tus_requests: list[tuple[str, str | None]] = []

    def record(request: Request) -> None:
        if "/files/" in request.url and request.method in {"POST", "PATCH"}:
            tus_requests.append((request.method, request.headers.get("upload-offset")))

    page.on("request", record)
    # Events reach the test only while it calls Playwright, so the reload is marked in the same
    # stream rather than by counting requests at some moment.
    page.on("load", lambda _: tus_requests.append(("LOAD", None)))
    log_in_on_page(page, username, PASSWORD)
    throttle_uploads(page, bytes_per_second=4 * 1024 * 1024)
    page.get_by_label("Video file").set_input_files(big_video)
    page.get_by_label("Output format").select_option("mp3")
    # The video itself, not the few kilobytes of its sound the page would take out of it.
    page.get_by_label("Send the whole video").check()
    page.get_by_role("button", name="Upload and convert").click()

    uploading = wait_until(
        lambda: [j for j in jobs_of(stack, token) if j["status"] == "uploading"] or None,
        timeout=60,
        what="the page's resumable upload to create its job",
    )
    job_id = uploading[0]["job_id"]
    before = wait_until(
        lambda: received_past(stack, token, job_id, 0.3, size),
        timeout=120,
        what="the upload to pass 30%",
    )
    assert before < size

    page.reload()
    # The session lives in sessionStorage, so the reloaded page is still signed in (after it
    # has read its config, threshold included).
    expect(page.locator("#session-user")).to_have_text(username)
    page.get_by_label("Video file").set_input_files(big_video)
    page.get_by_label("Output format").select_option("mp3")
    page.get_by_label("Send the whole video").check()
    page.get_by_role("button", name="Upload and convert").click()

    expect(page.locator("#result")).to_be_visible(timeout=CONVERSION_TIMEOUT_MS)
    assert ("LOAD", None) in tus_requests, tus_requests
    after_reload = tus_requests[tus_requests.index(("LOAD", None)) + 1 :]
    assert ("PATCH", "0") in tus_requests[: tus_requests.index(("LOAD", None))], tus_requests
    assert after_reload, tus_requests
    # No new upload was created: the first request after the reload continues at a stored offset.
    assert all(method == "PATCH" for method, _ in after_reload), after_reload
    assert int(after_reload[0][1]) > 0, after_reload
    finished = job(stack, token, job_id)
    assert finished["status"] == "done", finished
    assert finished["bytes_received"] == size
    assert [j["job_id"] for j in jobs_of(stack, token)] == [job_id]


# ---- the CLI --------------------------------------------------------------------------------
def remembered_upload(config: Path) -> str | None:
    try:
        state = json.loads((config / "video2audio" / "uploads.json").read_text())
    except (OSError, ValueError):
        return None
    urls = list(state.values())
    return urls[0].rstrip("/").rsplit("/", 1)[-1] if urls else None


def cli_in(cli_env: dict[str, str], cwd: Path):
    def cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(
            [CLI, *args],
            env={**cli_env, "VIDEO2AUDIO_PASSWORD": PASSWORD},
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            **kwargs,
        )

    return cli


def kill_and_run_again(
    stack, cli_env, tmp_path, source: Path, *, sent_bytes_at_least: int, extra: tuple[str, ...] = ()
):
    """Start ``convert`` of ``source``, kill it past 40% of its upload, run it again.

    Returns the user's token, the interrupted upload's job id and the second run.
    """
    cli = cli_in(cli_env, tmp_path)
    username = f"resume-{uuid.uuid4().hex[:10]}"
    assert cli("register", "-u", username, timeout=60).returncode == 0
    assert cli("login", "-u", username, timeout=60).returncode == 0
    token = login_token(stack, username)
    out = tmp_path / "out"
    out.mkdir()
    command = [CLI, "convert", str(source), "--format", "mp3", "-o", str(out), *extra]

    first = subprocess.Popen(
        command,
        env={**cli_env, "VIDEO2AUDIO_PASSWORD": PASSWORD},
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        job_id = wait_until(
            lambda: remembered_upload(tmp_path / "config"),
            timeout=60,
            what="the CLI to remember its resumable upload",
            interval=0.02,
        )
        before = wait_until(
            lambda: received_past(stack, token, job_id, 0.4, sent_bytes_at_least),
            timeout=120,
            what="the CLI's upload to pass 40%",
            interval=0.02,
        )
    finally:
        first.kill()
        first.wait(timeout=10)
    interrupted = job(stack, token, job_id)
    assert interrupted["status"] == "uploading", interrupted
    assert before <= interrupted["bytes_received"] < interrupted["video_size"]

    # At once: while the server still stores the bytes the killed run had sent, the upload is
    # busy (409 with Retry-After) and the CLI waits for it by itself.
    second = cli(*command[1:], timeout=300)
    assert second.returncode == 0, second.stderr
    written = Path(second.stdout.strip())
    assert written == out / f"{source.stem}.mp3"
    assert probe(written)["streams"][0]["codec_name"] == "mp3"
    # The second run continued the first's upload: one job, the same one, all bytes in.
    assert [j["job_id"] for j in jobs_of(stack, token)] == [job_id]
    return token, job_id, second


def test_cli_convert_run_again_after_a_kill_resumes_the_same_upload(
    stack, cli_env, big_video, tmp_path
):
    size = big_video.stat().st_size
    # The whole video: this test is about resuming the video's own upload.
    token, job_id, _ = kill_and_run_again(
        stack, cli_env, tmp_path, big_video, sent_bytes_at_least=size, extra=("--send-video",)
    )
    finished = job(stack, token, job_id)
    assert finished["status"] == "done", finished
    assert finished["bytes_received"] == size


@pytest.fixture(scope="module")
def video_with_big_sound(tmp_path_factory) -> Path:
    """A tiny picture with long uncompressed sound: its audio track alone is above the threshold
    (400 s of 48 kHz 16-bit stereo PCM, 77 MB)."""
    path = tmp_path_factory.mktemp("big-sound") / "lecture.mov"
    seconds = "400"
    video = ["-f", "lavfi", "-i", f"testsrc2=size=160x120:rate=1:duration={seconds}"]
    tone = ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "pcm_s16le", "-ac", "2"]
    subprocess.run(["ffmpeg", "-v", "error", "-y", *video, *tone, *codecs, str(path)], check=True)
    return path


def test_cli_convert_run_again_resumes_the_upload_of_the_sound_alone(
    stack, cli_env, video_with_big_sound, tmp_path
):
    sound_bytes = 400 * 48_000 * 2 * 2
    assert sound_bytes > RESUMABLE_THRESHOLD
    token, job_id, _ = kill_and_run_again(
        stack, cli_env, tmp_path, video_with_big_sound, sent_bytes_at_least=sound_bytes
    )
    finished = job(stack, token, job_id)
    assert finished["status"] == "done", finished
    assert finished["received"] == "audio_only"
    assert finished["bytes_received"] == finished["video_size"]
    assert finished["video_size"] < video_with_big_sound.stat().st_size
    assert finished["filename"] == "lecture.mov"
