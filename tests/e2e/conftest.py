"""The whole stack as `make up` starts it, shared by every end-to-end test."""

from __future__ import annotations

import email
import email.policy
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, sync_playwright
from pymongo import MongoClient
from pymongo.database import Database

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, RECORD_CSP_VIOLATIONS
from tests.support.tus import RESUMABLE_THRESHOLD
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "scripts" / "stack.sh"
VERIFY_LINK = re.compile(r"https?://\S+/verify-email\?\S+")


@dataclass(frozen=True)
class Stack:
    auth_url: str = "http://127.0.0.1:8081"
    upload_url: str = "http://127.0.0.1:8082"
    expire_url: str = "http://127.0.0.1:8085"
    mongo_url: str = "mongodb://127.0.0.1:57017/"
    mongo_db: str = "video2audio"
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:55672/%2F"
    mail_dir: Path = ROOT / ".run" / "mail"
    retention_seconds: int = 3600  # RETENTION_SECONDS under `make up` (the default)
    secrets_file: Path = ROOT / ".run" / "secrets.env"

    def run(self, *args: str) -> str:
        """Run ``scripts/stack.sh`` with the stack's own environment (not the tests')."""
        env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
        completed = subprocess.run(
            ["bash", str(STACK), *args], check=True, env=env, capture_output=True, text=True
        )
        return completed.stdout

    def mail_to(self, address: str) -> list[email.message.EmailMessage]:
        messages = []
        for path in sorted(self.mail_dir.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if address in str(message["To"]):
                messages.append(message)
        return messages

    def verification_link(self, address: str) -> str | None:
        for message in self.mail_to(address):
            found = VERIFY_LINK.search(message.get_body(("plain",)).get_content())
            if found:
                return found.group(0)
        return None

    def pid(self, component: str) -> int:
        return int(self.run("pid", component).strip())

    def register_and_login(
        self, username: str, password: str = "e2e-password-1", *, verify_email: bool = True
    ) -> str:
        email = f"{username}@example.com"
        response = requests.post(
            f"{self.auth_url}/register",
            json={"username": username, "password": password, "email": email},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        assert response.json()["email"]["verification"] == "sent"
        if verify_email:
            # As its owner would: open the link of the verification mail.
            link = wait_until(
                lambda: self.verification_link(email),
                timeout=30,
                what=f"the verification mail to {email}",
            )
            assert requests.get(link, timeout=10).status_code == 200
        response = requests.post(
            f"{self.auth_url}/login", json={"username": username, "password": password}, timeout=10
        )
        assert response.status_code == 200, response.text
        return response.json()["token"]


@pytest.fixture(scope="session")
def stack() -> Stack:
    stack = Stack()
    stack.run("up")
    return stack


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    """The web page, signed out, in a fresh context; it must cause no CSP violation."""
    context = browser.new_context(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    context.add_init_script(RECORD_CSP_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(20_000)
    response = page.goto(f"{stack.upload_url}/")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    yield page
    # The page works under its policy: nothing it does was blocked.
    assert page.evaluate("window.cspViolations") == []
    context.close()


@pytest.fixture(scope="module")
def mongo(stack: Stack) -> Iterator[Database]:
    client = MongoClient(stack.mongo_url, serverSelectionTimeoutMS=5000)
    yield client[stack.mongo_db]
    client.close()


@pytest.fixture(scope="module")
def big_video(tmp_path_factory) -> Path:
    """A valid MP4 just above the resumable threshold: lossless H.264 of a test pattern, 40 s."""
    path = tmp_path_factory.mktemp("resumable-media") / "big.mp4"
    seconds = "40"
    video = ["-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=25:duration={seconds}"]
    tone = ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}"]
    codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-c:a", "aac", "-shortest"]
    command = ["ffmpeg", "-v", "error", "-y", *video, *tone, *codecs, str(path)]
    subprocess.run(command, check=True, timeout=300)
    assert path.stat().st_size > RESUMABLE_THRESHOLD
    return path


@pytest.fixture
def cli_env(stack, tmp_path) -> dict[str, str]:
    """The CLI's environment: its own config directory, the stack's URLs (add the password)."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "VIDEO2AUDIO_AUTH_URL": stack.auth_url,
        "VIDEO2AUDIO_UPLOAD_URL": stack.upload_url,
    }
