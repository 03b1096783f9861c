"""Failed-login throttling that stops guessing without locking the real user out."""

from __future__ import annotations

import uuid

import pytest

from tests.support.functions import function_app
from video2audio.infra.clients import reset_clients

PASSWORD = "the-right-password"
PROXY = "10.244.0.17"  # the trusted proxy in front of the function (Kourier's gateway pod)


@pytest.fixture
def proxied_auth(monkeypatch):
    """The auth function behind one trusted proxy, which appends the client's address."""
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", "1")
    monkeypatch.setenv("LOGIN_MAX_FAILURES_PER_ADDRESS", "50")
    reset_clients()
    yield function_app("auth").test_client()
    monkeypatch.undo()
    reset_clients()


@pytest.fixture
def account(auth_client) -> str:
    username = f"victim-{uuid.uuid4().hex[:10]}"
    response = auth_client.post("/register", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201
    return username


def login(client, username: str, password: str, *, via: str, forwarded: str | None = None) -> int:
    """The status of a login sent from ``via`` (the connection's peer) with X-Forwarded-For."""
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post(
        "/login",
        json={"username": username, "password": password},
        headers=headers,
        environ_base={"REMOTE_ADDR": via},
    ).status_code


def unique_ip() -> str:
    raw = uuid.uuid4().int
    return f"100.{64 + raw % 64}.{(raw >> 8) % 256}.{(raw >> 16) % 254 + 1}"


def test_an_attacker_locks_out_only_their_own_address(proxied_auth, account):
    attacker, victim = unique_ip(), unique_ip()
    for _ in range(10):
        assert login(proxied_auth, account, "guess-123", via=PROXY, forwarded=attacker) == 401
    blocked = proxied_auth.post(
        "/login",
        json={"username": account, "password": PASSWORD},
        headers={"X-Forwarded-For": attacker},
        environ_base={"REMOTE_ADDR": PROXY},
    )
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    # The real user, from their own address, behind the same proxy, is not locked out.
    assert login(proxied_auth, account, PASSWORD, via=PROXY, forwarded=victim) == 200


def test_spraying_many_accounts_from_one_address_is_throttled(proxied_auth, account):
    sprayer = unique_ip()
    answers = [
        login(proxied_auth, f"someone-{n}-{uuid.uuid4().hex[:6]}", "Summer2026!", via=PROXY,
              forwarded=sprayer)
        for n in range(51)
    ]  # fmt: skip
    assert answers[:50] == [401] * 50
    assert answers[50] == 429
    # Even the right password of a real account waits, from that address only.
    assert login(proxied_auth, account, PASSWORD, via=PROXY, forwarded=sprayer) == 429
    assert login(proxied_auth, account, PASSWORD, via=PROXY, forwarded=unique_ip()) == 200


def test_a_forged_forwarded_address_changes_nothing_without_a_trusted_proxy(auth_client, account):
    attacker = unique_ip()
    for _ in range(10):
        # A new made-up X-Forwarded-For each time: the function trusts no proxy, so the
        # connection's own address is what counts.
        assert login(auth_client, account, "guess-123", via=attacker, forwarded=unique_ip()) == 401
    assert login(auth_client, account, PASSWORD, via=attacker, forwarded=unique_ip()) == 429


def test_an_address_a_client_prepends_itself_is_not_believed(proxied_auth, account):
    attacker = unique_ip()
    for _ in range(10):
        # The client writes a random address; the trusted proxy appends the real one after it.
        forged_then_real = f"{unique_ip()}, {attacker}"
        assert (
            login(proxied_auth, account, "guess-123", via=PROXY, forwarded=forged_then_real) == 401
        )
    assert (
        login(proxied_auth, account, PASSWORD, via=PROXY, forwarded=f"{unique_ip()}, {attacker}")
        == 429
    )
