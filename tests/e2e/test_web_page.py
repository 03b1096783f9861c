"""The web page in headless Chromium (Debian's, driven by Playwright) against the running stack."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.support.media import make_video, probe
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".run" / "artifacts"
PASSWORD = "page-password-1"
CONVERSION_TIMEOUT_MS = 180_000

# Records every value the two progress bars take (progress.value reflects to its attribute).
RECORD_BARS = """() => {
  window.barValues = {upload: [], convert: []};
  for (const name of ["upload", "convert"]) {
    const bar = document.getElementById(name + "-progress");
    new MutationObserver(() => window.barValues[name].push(bar.value))
      .observe(bar, {attributes: true, attributeFilter: ["value"]});
  }
}"""


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return make_video(tmp_path_factory.mktemp("page-media") / "clip.mp4")


def new_username() -> str:
    return f"page-{uuid.uuid4().hex[:10]}"


def register(stack, username: str) -> None:
    response = requests.post(
        f"{stack.auth_url}/register", json={"username": username, "password": PASSWORD}, timeout=10
    )
    assert response.status_code == 201, response.text


def log_in(page: Page, username: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#session-user")).to_have_text(username)


def signed_in(page: Page, stack) -> str:
    username = new_username()
    register(stack, username)
    log_in(page, username)
    return username


def throttle_uploads(page: Page, bytes_per_second: int) -> None:
    # Localhost is too fast to see a bar move; Chromium's network emulation slows the upload.
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


def test_register_log_in_convert_play_download_and_delete(page: Page, stack, video, tmp_path):
    username = new_username()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    expect(page.locator("#message")).to_have_text(re.compile("Account created"))
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#session-user")).to_have_text(username)

    page.evaluate(RECORD_BARS)
    # The page sends only the sound (about 100 KB, and the cover): a few seconds at this rate.
    throttle_uploads(page, bytes_per_second=40_000)
    page.get_by_label("Video file").set_input_files(video)
    page.get_by_label("Output format").select_option("mp3")
    page.get_by_role("button", name="Upload and convert").click()
    expect(page.locator("#result")).to_be_visible(timeout=CONVERSION_TIMEOUT_MS)

    bars = page.evaluate("window.barValues")
    assert any(0 < value < 100 for value in bars["upload"]), bars
    assert bars["upload"][-1] == 100
    assert bars["convert"][0] == 0
    assert bars["convert"][-1] == 100

    player = page.locator("#player")
    # Polled from outside the page: wait_for_function compiles a string in the page, which the
    # page's Content-Security-Policy rightly forbids.
    wait_until(
        lambda: player.evaluate("audio => audio.readyState >= 1"),
        timeout=20,
        what="the player to load the audio",
    )
    assert player.evaluate("audio => audio.duration") == pytest.approx(6, abs=0.5)
    player.evaluate("audio => { audio.muted = true; return audio.play(); }")
    wait_until(
        lambda: player.evaluate("audio => audio.currentTime > 0.3"),
        timeout=20,
        what="the audio to play",
    )

    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Download clip.mp3")).click()
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    assert saved.name == "clip.mp3"
    assert probe(saved)["streams"][0]["codec_name"] == "mp3"

    item = page.locator("#jobs li").first
    expect(item).to_contain_text("clip.mp4")
    expect(item).to_contain_text("done")
    expect(item).to_contain_text("MP3")
    expect(item).to_contain_text(re.compile(r"\d+(\.\d)? KB"))
    expect(item).to_contain_text("expires")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / "web-page.png", full_page=True)

    item.get_by_role("button", name="Delete clip.mp4").click()
    expect(page.locator("#message")).to_have_text("Deleted clip.mp4.")
    expect(page.locator("#jobs li")).to_have_count(0)


def test_a_text_file_shows_the_not_a_video_message(page: Page, stack, tmp_path):
    signed_in(page, stack)
    notes = tmp_path / "notes.mp4"
    notes.write_text("just some text, not a video\n" * 200)
    page.get_by_label("Video file").set_input_files(notes)
    page.get_by_role("button", name="Upload and convert").click()
    expect(page.locator("#message")).to_have_text(re.compile("not a video we can read"))
    expect(page.get_by_role("alert")).to_be_visible()


def test_a_file_over_the_size_limit_shows_the_too_large_message(page: Page, stack, video):
    # The server publishes its limit in /config.json; lower it on the way so a small file is over.
    def smaller_limit(route):
        answer = route.fetch()
        route.fulfill(response=answer, json={**answer.json(), "max_upload_bytes": 1000})

    page.route("**/config.json", smaller_limit)
    page.reload()
    signed_in(page, stack)
    page.get_by_label("Video file").set_input_files(video)
    page.get_by_role("button", name="Upload and convert").click()
    expect(page.locator("#message")).to_have_text(re.compile("too large to upload"))


def test_a_failed_conversion_shows_its_reason(page: Page, stack, tmp_path):
    signed_in(page, stack)
    silent = make_video(tmp_path / "silent.mp4", seconds=2, size="160x120", audio=False)
    page.get_by_label("Video file").set_input_files(silent)
    # Whole, so the server finds out; the page itself refuses a video it sees has no sound.
    page.get_by_label("Send the whole video").check()
    page.get_by_role("button", name="Upload and convert").click()
    expect(page.locator("#message")).to_have_text(
        re.compile("The conversion failed: .*no audio"), timeout=CONVERSION_TIMEOUT_MS
    )
    expect(page.locator("#jobs li").first).to_contain_text("failed")


def test_wrong_password_shows_a_message(page: Page, stack):
    username = new_username()
    register(stack, username)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#message")).to_have_text("Wrong username or password.")


def test_an_expired_session_asks_to_log_in_again(page: Page, stack):
    signed_in(page, stack)
    page.evaluate("sessionStorage.setItem('v2a.expires', String(Date.now() - 1000))")
    page.reload()
    expect(page.locator("#message")).to_have_text(re.compile("session has expired"))
    expect(page.get_by_label("Username")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('v2a.token')") is None


def test_a_token_the_server_refuses_ends_the_session(page: Page, stack):
    signed_in(page, stack)
    page.evaluate("sessionStorage.setItem('v2a.token', 'not-a-valid-token')")
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator("#message")).to_have_text(re.compile("session has expired"))


def test_logging_in_works_with_the_keyboard_only(page: Page, stack):
    username = new_username()
    register(stack, username)
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("#session-user")).to_have_text(username)
    expect(page.get_by_label("Video file")).to_be_focused()


def test_filenames_are_shown_as_text_never_as_html(page: Page, stack, video):
    token = _login_token(stack, signed_in(page, stack))
    # No slash in the name: the server keeps only the part after the last one.
    _upload(stack, token, video, "<img id=injected src=x>.mp4")
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator("#jobs li").first).to_contain_text("<img id=injected src=x>.mp4")
    assert page.locator("#injected").count() == 0


def test_the_page_fits_a_375_px_wide_screen(browser: Browser, stack, video):
    context = browser.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    try:
        page.goto(f"{stack.upload_url}/")
        username = signed_in(page, stack)
        _upload(stack, _login_token(stack, username), video, f"{'long-name-' * 8}.mp4")
        page.get_by_role("button", name="Refresh").click()
        # The list refreshes by itself while a job converts.
        expect(page.locator("#jobs li").first).to_contain_text("done", timeout=60_000)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / "web-page-375.png", full_page=True)
    finally:
        context.close()


def _login_token(stack, username: str) -> str:
    response = requests.post(
        f"{stack.auth_url}/login", json={"username": username, "password": PASSWORD}, timeout=10
    )
    return response.json()["token"]


def _upload(stack, token: str, video: Path, filename: str) -> None:
    with video.open("rb") as handle:
        response = requests.post(
            f"{stack.upload_url}/upload",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": (filename, handle, "video/mp4")},
            timeout=60,
        )
    assert response.status_code == 202, response.text
