"""Fixtures of the auth function's integration tests that serve it as `make up` does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests

from tests.support.functions import serve_function


@pytest.fixture(scope="module")
def served_auth(tmp_path_factory) -> Iterator[str]:
    """The auth function as a real server (video2audio-serve) with the tests' settings.

    No mail server: registrations answer "not sent" at once rather than trying to mail.
    """
    log = tmp_path_factory.mktemp("auth-served") / "auth.log"
    with serve_function("auth", env={"SMTP_HOST": ""}, log=log, ready_path="/healthz") as served:
        yield served.url


@pytest.fixture(scope="module")
def served_auth_token(served_auth) -> str:
    """A token of a user registered and logged in on the served function."""
    credentials = {"username": f"conf-{uuid.uuid4().hex[:12]}", "password": "conformance-pass"}
    registered = requests.post(f"{served_auth}/register", json=credentials, timeout=10)
    assert registered.status_code == 201, registered.text
    login = requests.post(f"{served_auth}/login", json=credentials, timeout=10)
    assert login.status_code == 200, login.text
    return login.json()["token"]
