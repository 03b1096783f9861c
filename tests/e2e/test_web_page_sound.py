"""The web page takes the sound out of an MP4 or MOV and uploads only it (headless Chromium,
Debian's, against the running stack); other files, and any file when asked, go up whole.

What the page sent is read back where the upload function stored it (GridFS), so the tests see
the bytes that crossed the network, not what the page says about them.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, Request, expect
from pymongo.database import Database

from tests.support.browser import log_in_on_page
from tests.support.media import make_video, probe, remux
from tests.support.waiting import wait_until
from video2audio.infra import storage

PASSWORD = "sound-password-1"
CONVERSION_TIMEOUT_MS = 180_000
SECONDS = 4


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("page-sound-media")


@pytest.fixture(scope="module")
def index_at_end(media) -> Path:
    """H.264 + AAC with the index (moov) after the media data, as ffmpeg and phones write it."""
    return make_video(media / "index-at-end.mp4", seconds=SECONDS, size="320x240")


@pytest.fixture(scope="module")
def index_first(media, index_at_end) -> Path:
    return remux(index_at_end, media / "phone clip.mp4", "-movflags", "+faststart")


@pytest.fixture(scope="module")
def webm(media) -> Path:
    path = media / "clip.webm"
    video = ["-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=25:duration={SECONDS}"]
    tone = ["-f", "lavfi", "-i", f"sine=frequency=440:duration={SECONDS}"]
    codecs = ["-c:v", "libvpx", "-b:v", "300k", "-c:a", "libopus"]
    command = ["ffmpeg", "-v", "error", "-y", *video, *tone, *codecs, str(path)]
    subprocess.run(command, check=True, timeout=120)
    return path


@pytest.fixture(scope="module")
def pcm_mov(media, index_at_end) -> Path:
    """A MOV whose sound is QuickTime PCM, which the page does not take out."""
    return remux(index_at_end, media / "pcm.mov", "-c:a", "pcm_s16le")


@pytest.fixture
def token(page: Page, stack) -> str:
    username = f"sound-{uuid.uuid4().hex[:10]}"
    bearer = stack.register_and_login(username, PASSWORD, verify_email=False)
    log_in_on_page(page, username, PASSWORD)
    return bearer


def upload_on_page(page: Page, path: Path, *, whole_video: bool = False) -> None:
    page.get_by_label("Video file").set_input_files(path)
    page.get_by_label("Output format").select_option("mp3")
    if whole_video:
        page.get_by_label("Send the whole video").check()
    page.get_by_role("button", name="Upload and convert").click()


def jobs(stack, token: str) -> list[dict]:
    response = requests.get(
        f"{stack.upload_url}/jobs", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()["jobs"]


def finished_job(stack, token: str) -> dict:
    def finished() -> dict | None:
        found = [job for job in jobs(stack, token) if job["status"] in {"done", "failed"}]
        return found[0] if found else None

    job = wait_until(finished, timeout=CONVERSION_TIMEOUT_MS / 1000, what="the page's job to end")
    assert job["status"] == "done", job
    return job


def stored_upload(mongo: Database, job_id: str, target: Path) -> Path:
    """The file the upload function stored for the job: the bytes the page sent."""
    video_fid = mongo.jobs.find_one({"_id": job_id})["video_fid"]
    file_doc = storage.find_file(mongo, storage.VIDEOS, video_fid)
    with target.open("wb") as handle:
        for block in storage.iter_file_bytes(mongo, storage.VIDEOS, file_doc):
            handle.write(block)
    return target


def decoded_sound(path: Path) -> bytes:
    """The first audio stream decoded to raw samples, as the convert function reads it."""
    command = ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0", "-f", "s16le", "-"]
    return subprocess.run(command, check=True, capture_output=True, timeout=120).stdout


def downloaded_audio(stack, token: str, job: dict, target: Path) -> Path:
    response = requests.get(
        f"{stack.upload_url}/download",
        params={"fid": job["audio_fid"]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    target.write_bytes(response.content)
    return target


def assert_uploaded_whole(page: Page, stack, token, mongo, path: Path, note: str, tmp_path):
    """The page's note matches ``note``, and what it sent is ``path``, byte for byte."""
    expect(page.locator("#upload-note")).to_have_text(re.compile(note))
    sent = stored_upload(mongo, finished_job(stack, token)["job_id"], tmp_path / "sent")
    assert sent.read_bytes() == path.read_bytes()


def codec_types(path: Path) -> list[str]:
    return [stream["codec_type"] for stream in probe(path)["streams"]]


def format_bytes(size: int) -> str:
    """The page's formatBytes (session.js), for the sizes it shows."""
    value, units = float(size), ["B", "KB", "MB", "GB"]
    unit = 0
    while value >= 1024 and unit < len(units) - 1:
        value /= 1024
        unit += 1
    return f"{value:.{1 if unit else 0}f} {units[unit]}"


def test_an_mp4_is_uploaded_as_its_sound_only_and_the_result_plays(
    page: Page, stack, token, mongo, index_first, tmp_path
):
    upload_on_page(page, index_first)
    expect(page.locator("#result")).to_be_visible(timeout=CONVERSION_TIMEOUT_MS)

    job = finished_job(stack, token)
    sent = stored_upload(mongo, job["job_id"], tmp_path / "sent")
    assert codec_types(sent) == ["audio"]
    assert sent.stat().st_size < index_first.stat().st_size / 10
    player = page.locator("#player")
    wait_until(
        lambda: player.evaluate("audio => audio.readyState >= 1"),
        timeout=20,
        what="the player to load the audio",
    )
    assert player.evaluate("audio => audio.duration") == pytest.approx(SECONDS, abs=0.1)
    mp3 = downloaded_audio(stack, token, job, tmp_path / "result.mp3")
    assert probe(mp3)["streams"][0]["codec_name"] == "mp3"


def test_an_mp4_with_its_index_at_the_end_gives_the_videos_sound_sample_for_sample(
    page: Page, stack, token, mongo, index_at_end, tmp_path
):
    upload_on_page(page, index_at_end)
    expect(page.locator("#result")).to_be_visible(timeout=CONVERSION_TIMEOUT_MS)

    sent = stored_upload(mongo, finished_job(stack, token)["job_id"], tmp_path / "sent")
    assert codec_types(sent) == ["audio"]
    # Not re-encoded, and the encoder's priming (the edit list) is kept: the very same samples.
    assert decoded_sound(sent) == decoded_sound(index_at_end)


def test_the_page_says_how_many_bytes_only_the_sound_takes(
    page: Page, stack, token, mongo, index_first, tmp_path
):
    upload_on_page(page, index_first)
    note = page.locator("#upload-note")
    expect(note).to_have_text(re.compile("^Only the sound is uploaded: "))

    sent = stored_upload(mongo, finished_job(stack, token)["job_id"], tmp_path / "sent")
    # The sound and the page's form part differ by nothing: the note names the bytes stored.
    expected = (
        f"Only the sound is uploaded: {format_bytes(sent.stat().st_size)} "
        f"instead of {format_bytes(index_first.stat().st_size)}."
    )
    expect(note).to_have_text(expected)


def test_the_cover_is_a_frame_of_the_video_and_the_title_the_video_name(
    page: Page, stack, token, index_first, tmp_path
):
    upload_on_page(page, index_first)
    expect(page.locator("#result")).to_be_visible(timeout=CONVERSION_TIMEOUT_MS)

    mp3 = probe(downloaded_audio(stack, token, finished_job(stack, token), tmp_path / "a.mp3"))
    # As when the video itself is uploaded: its frame, at its size (under 1400 px), and its name.
    picture = [stream for stream in mp3["streams"] if stream["codec_type"] == "video"]
    assert [(s["codec_name"], s["width"], s["height"]) for s in picture] == [("mjpeg", 320, 240)]
    assert mp3["format"]["tags"]["title"] == "phone clip"


def test_a_webm_is_uploaded_whole(page: Page, stack, token, mongo, webm, tmp_path):
    upload_on_page(page, webm)
    note = r"^The whole file is uploaded \(.*\): the sound is taken out here only from MP4"
    assert_uploaded_whole(page, stack, token, mongo, webm, note, tmp_path)


def test_send_the_whole_video_uploads_the_mp4_as_it_is(
    page: Page, stack, token, mongo, index_first, tmp_path
):
    upload_on_page(page, index_first, whole_video=True)
    note = r"^The whole video is uploaded \(.*\): you chose to send it\.$"
    assert_uploaded_whole(page, stack, token, mongo, index_first, note, tmp_path)


def test_a_sound_the_page_cannot_take_out_goes_up_with_the_whole_video_and_says_why(
    page: Page, stack, token, mongo, pcm_mov, tmp_path
):
    upload_on_page(page, pcm_mov)
    note = r"^The whole video is uploaded \(.*\): its sound \(sowt\) cannot be taken out here\.$"
    assert_uploaded_whole(page, stack, token, mongo, pcm_mov, note, tmp_path)


def test_a_video_without_sound_is_refused_before_anything_is_uploaded(
    page: Page, stack, token, tmp_path
):
    silent = make_video(tmp_path / "silent.mp4", seconds=2, size="160x120", audio=False)
    uploads: list[str] = []

    def record(request: Request) -> None:
        if request.method in {"POST", "PATCH"} and re.search(r"/(upload|files/)", request.url):
            uploads.append(request.url)

    page.on("request", record)
    upload_on_page(page, silent)
    expect(page.get_by_role("alert")).to_have_text(
        "This video has no sound track, so there is nothing to convert. Nothing was uploaded."
    )
    expect(page.get_by_role("button", name="Upload and convert")).to_be_enabled()
    assert uploads == []
    assert jobs(stack, token) == []
