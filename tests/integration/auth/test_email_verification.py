"""Mail goes only to addresses their owners proved: the verification link and what it unlocks."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.functions import function_app
from tests.support.notify import SmtpSink
from video2audio.accounts.users import find_user_email
from video2audio.infra.clients import postgres_connection, reset_clients

LINK = re.compile(r"http://\S+/verify-email\?\S+")
PASSWORD = "verify-me-please"
RESEND_SECONDS = 0.5


@pytest.fixture(scope="module")
def sink(tmp_path_factory) -> Iterator[SmtpSink]:
    sink = SmtpSink(tmp_path_factory.mktemp("verification-mail"))
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def auth(monkeypatch, sink):
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(sink.port))
    monkeypatch.setenv("EMAIL_VERIFICATION_RESEND_SECONDS", str(RESEND_SECONDS))
    reset_clients()
    yield function_app("auth").test_client()
    monkeypatch.undo()
    reset_clients()


def register(auth, address: str | None = None) -> tuple[str, dict[str, str]]:
    username = f"mail-{uuid.uuid4().hex[:10]}"
    body = {"username": username, "password": PASSWORD}
    if address:
        body["email"] = address
    assert auth.post("/register", json=body).status_code == 201
    token = auth.post("/login", json={"username": username, "password": PASSWORD}).get_json()
    return username, {"Authorization": f"Bearer {token['token']}"}


def link_in(sink: SmtpSink, address: str) -> str:
    [message] = sink.messages_to(address)
    return LINK.search(message.get_body(("plain",)).get_content()).group(0)


def follow(auth, link: str):
    parts = urlsplit(link)
    return auth.get(f"{parts.path}?{parts.query}")


def verified_email(username: str) -> str | None:
    with postgres_connection() as connection:
        return find_user_email(username, connection=connection)


def test_registering_with_an_address_mails_one_link_and_nothing_is_sent_there_before_it(auth, sink):
    address = f"{uuid.uuid4().hex[:8]}@example.test"
    username, headers = register(auth, address)

    account = auth.get("/account", headers=headers).get_json()
    assert account == {
        "username": username,
        "email": None,
        "email_verified": False,
        "pending_email": address,
    }
    assert len(sink.messages_to(address)) == 1
    assert verified_email(username) is None  # notify would send nothing there


def test_following_the_link_verifies_the_address(auth, sink):
    address = f"{uuid.uuid4().hex[:8]}@example.test"
    username, headers = register(auth, address)

    response = follow(auth, link_in(sink, address))

    assert response.status_code == 200
    assert auth.get("/account", headers=headers).get_json()["email_verified"] is True
    assert verified_email(username) == address
    assert follow(auth, link_in(sink, address)).status_code == 409  # used up


@pytest.mark.parametrize("change", [("e", "attacker@example.test"), ("exp", "99999999999"),
                                    ("sig", "0" * 64), ("u", "someone-else")])  # fmt: skip
def test_a_tampered_link_verifies_nothing(auth, sink, change):
    address = f"{uuid.uuid4().hex[:8]}@example.test"
    username, _ = register(auth, address)
    parts = urlsplit(link_in(sink, address))
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query[change[0]] = change[1]
    response = auth.get(parts.path, query_string=query)
    assert response.status_code == 403
    assert verified_email(username) is None


def test_a_verified_address_is_replaced_only_once_the_new_one_is_verified(auth, sink):
    first = f"{uuid.uuid4().hex[:8]}@example.test"
    username, headers = register(auth, first)
    follow(auth, link_in(sink, first))
    second = f"{uuid.uuid4().hex[:8]}@example.test"
    time.sleep(RESEND_SECONDS)  # links are mailed at most this often

    changed = auth.post("/account/email", json={"email": second}, headers=headers)

    assert changed.status_code == 202
    assert verified_email(username) == first  # mail still goes to the proven address
    assert follow(auth, link_in(sink, second)).status_code == 200
    assert verified_email(username) == second


def test_asking_for_links_again_and_again_is_throttled(auth, sink):
    _, headers = register(auth)
    address = f"{uuid.uuid4().hex[:8]}@example.test"
    assert auth.post("/account/email", json={"email": address}, headers=headers).status_code == 202
    again = auth.post("/account/email", json={"email": address}, headers=headers)
    assert again.status_code == 429
    time.sleep(RESEND_SECONDS)
    assert auth.post("/account/email", json={"email": address}, headers=headers).status_code == 202
    assert len(sink.messages_to(address)) == 2


def test_a_user_who_never_verifies_still_registers_and_logs_in_as_before(auth):
    username, headers = register(auth, f"{uuid.uuid4().hex[:8]}@example.test")
    assert auth.get("/verify", headers=headers).get_json()["username"] == username
