"""Audio ready to publish, end to end: the options chosen on the web page and given to the CLI,
read back from the audio they download (ffprobe and the EBU R128 meter).

Small files go through /upload, files above the resumable threshold through tus (their options
as Upload-Metadata, a cover image by PUT /files/{job_id}/cover).
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.support.media import make_video
from tests.support.publishing_media import (
    attached_picture,
    decoded_seconds,
    generate_png,
    loudness,
    tags_of,
)

CLI = str(Path(sys.executable).with_name("video2audio"))
PASSWORD = "publish-password-1"
CONVERSION_TIMEOUT_MS = 240_000
MP3_FRAME = 1152 / 44100  # one audio frame of the MP3 output (the videos' tone is 44.1 kHz)


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return make_video(tmp_path_factory.mktemp("publish-media") / "talk.mp4", seconds=6)


@pytest.fixture(scope="module")
def cover_png(tmp_path_factory) -> Path:
    return generate_png(tmp_path_factory.mktemp("publish-cover") / "cover.png", "300x300")


def register(stack, username: str) -> None:
    response = requests.post(
        f"{stack.auth_url}/register", json={"username": username, "password": PASSWORD}, timeout=10
    )
    assert response.status_code == 201, response.text


# ---- the web page ---------------------------------------------------------------------------
@pytest.fixture
def page(browser: Browser, stack) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{stack.upload_url}/")
    username = f"publish-{uuid.uuid4().hex[:10]}"
    register(stack, username)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#session-user")).to_have_text(username)
    yield page
    context.close()


def convert_on_page(
    page: Page,
    video: Path,
    tmp_path: Path,
    cover: Path | None,
    *,
    whole_video: bool = False,
    **fields: str,
) -> Path:
    """Fill in the form, convert, and download the MP3; the saved file's path."""
    page.get_by_label("Video file").set_input_files(video)
    if whole_video:
        page.get_by_label("Send the whole video").check()
    page.get_by_label("Output format").select_option("mp3")
    page.locator("#publish summary").click()
    for name, value in fields.items():
        page.locator(f"#{name}").fill(value)
    if cover is None:
        page.get_by_label("Cover art").select_option("none")
    else:
        page.get_by_label("Cover art").select_option("upload")
        page.get_by_label("Cover image").set_input_files(cover)
    page.get_by_role("button", name="Upload and convert").click()
    expect(page.locator("#result")).to_be_visible(timeout=CONVERSION_TIMEOUT_MS)
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile(r"Download .*\.mp3")).click()
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    return saved


PAGE_TAGS = {"title": "Episode 1", "artist": "Alice", "album": "Talks"}


def test_the_page_trims_and_tags_a_small_file_without_a_cover(page: Page, video, tmp_path):
    saved = convert_on_page(page, video, tmp_path, None, start="1", end="00:03.5", **PAGE_TAGS)
    assert decoded_seconds(saved) == pytest.approx(2.5, abs=MP3_FRAME)
    tags = tags_of(saved)
    assert {key: tags.get(key) for key in PAGE_TAGS} == PAGE_TAGS
    assert attached_picture(saved) is None


def test_the_page_sends_a_large_file_through_tus_with_its_options_and_cover(
    page: Page, big_video, cover_png, tmp_path
):
    methods: list[str] = []
    page.on("request", lambda request: methods.append(f"{request.method} {request.url}"))
    trim = {"start": "5", "end": "12.5"}
    saved = convert_on_page(
        page, big_video, tmp_path, cover_png, whole_video=True, **trim, **PAGE_TAGS
    )
    assert any(entry.startswith("POST") and "/files/" in entry for entry in methods), methods
    assert any(entry.startswith("PUT") and entry.endswith("/cover") for entry in methods)
    assert decoded_seconds(saved) == pytest.approx(7.5, abs=MP3_FRAME)
    tags = tags_of(saved)
    assert {key: tags.get(key) for key in PAGE_TAGS} == PAGE_TAGS
    picture = attached_picture(saved)
    assert picture is not None and (picture["width"], picture["height"]) == (300, 300)


# ---- the CLI --------------------------------------------------------------------------------
@pytest.fixture
def cli(cli_env, tmp_path):
    env = {**cli_env, "VIDEO2AUDIO_PASSWORD": PASSWORD}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [CLI, *args],
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
        )

    username = f"publish-cli-{uuid.uuid4().hex[:8]}"
    assert run("register", "-u", username).returncode == 0
    assert run("login", "-u", username).returncode == 0
    return run


CLI_TAGS = ["--title", "Episode 2", "--artist", "Bob", "--album", "Lectures"]
CLI_READ_BACK = {"title": "Episode 2", "artist": "Bob", "album": "Lectures"}


def convert_with_cli(cli, source: Path, out: Path, *options: str) -> Path:
    out.mkdir()
    result = cli("convert", str(source), "--format", "mp3", "-o", str(out), *options)
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip())


def test_the_cli_trims_normalises_tags_and_embeds_a_cover_image(cli, video, cover_png, tmp_path):
    options = ["--start", "0.5", "--end", "4", "--loudness", "-16", *CLI_TAGS]
    saved = convert_with_cli(cli, video, tmp_path / "out", *options, "--cover", str(cover_png))
    assert decoded_seconds(saved) == pytest.approx(3.5, abs=MP3_FRAME)
    integrated, peak = loudness(saved)
    assert integrated == pytest.approx(-16, abs=1.0)
    assert peak <= -1.0
    tags = tags_of(saved)
    assert {key: tags.get(key) for key in CLI_READ_BACK} == CLI_READ_BACK
    picture = attached_picture(saved)
    assert picture is not None and (picture["width"], picture["height"]) == (300, 300)


def test_the_cli_cover_none_leaves_the_picture_out(cli, video, tmp_path):
    saved = convert_with_cli(cli, video, tmp_path / "out", "--cover", "none")
    assert attached_picture(saved) is None


def test_the_cli_sends_a_large_file_resumably_with_its_options(cli, big_video, tmp_path):
    options = ["--start", "10", "--end", "00:20", *CLI_TAGS, "--cover", "auto", "--send-video"]
    saved = convert_with_cli(cli, big_video, tmp_path / "out", *options)
    assert decoded_seconds(saved) == pytest.approx(10, abs=MP3_FRAME)
    tags = tags_of(saved)
    assert {key: tags.get(key) for key in CLI_READ_BACK} == CLI_READ_BACK
    assert attached_picture(saved) is not None  # a frame of the video


def test_the_cli_sends_a_cover_image_with_a_large_file(cli, big_video, cover_png, tmp_path):
    options = ["--cover", str(cover_png), "--send-video"]
    saved = convert_with_cli(cli, big_video, tmp_path / "out", *options)
    picture = attached_picture(saved)
    assert picture is not None and (picture["width"], picture["height"]) == (300, 300)
