"""Schemathesis against the running auth function: no server error, nothing undescribed."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from hypothesis import HealthCheck, settings

from tests.support.openapi import CHECKS, bearer, call_described, described_api
from video2audio.auth.email_verification import verification_url
from video2audio.core.settings import get_settings
from video2audio.web.openapi import api_description

api = described_api("video2audio.auth")


def test_the_running_function_serves_the_packaged_description(served_auth):
    served = requests.get(f"{served_auth}/openapi.json", timeout=10).json()
    assert served == api_description("video2audio.auth")


@pytest.mark.timeout(90)
@api.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_keeps_to_the_description(case, served_auth, served_auth_token):
    case.call_and_validate(base_url=served_auth, headers=bearer(served_auth_token), checks=CHECKS)


def test_an_accounts_answers_keep_to_the_description(served_auth):
    def call(method, path, **parts):
        return call_described(api, served_auth, method, path, **parts)

    username = f"conf-{uuid.uuid4().hex[:12]}"
    credentials = {"username": username, "password": "conformance-pass"}
    body = {**credentials, "email": f"{username}@example.com"}
    assert call("POST", "/register", body=body, media_type="application/json").status_code == 201
    login = call("POST", "/login", body=credentials, media_type="application/json")
    token = bearer(login.json()["token"])
    for path in ("/verify", "/protected", "/account", "/webhook-secret"):
        assert call("GET", path, auth=token).status_code == 200
    assert call("POST", "/webhook-secret", auth=token).status_code == 200
    new_address = {"email": f"new-{username}@example.com"}
    changed = call("POST", "/account/email", auth=token, body=new_address)
    assert changed.status_code == 202
    not_an_address = call("POST", "/account/email", auth=token, body={"email": "nobody"})
    assert not_an_address.status_code == 400


def test_a_verification_links_answers_keep_to_the_description(served_auth):
    username = f"conf-{uuid.uuid4().hex[:12]}"
    address = f"{username}@example.com"
    body = {"username": username, "password": "conformance-pass", "email": address}
    assert requests.post(f"{served_auth}/register", json=body, timeout=10).status_code == 201
    link = urlsplit(verification_url(get_settings(), username, address))
    query = dict(parse_qsl(link.query))
    first = call_described(api, served_auth, "GET", "/verify-email", query=query)
    assert first.status_code == 200
    second = call_described(api, served_auth, "GET", "/verify-email", query=query)
    assert second.status_code == 409


def test_throttled_logins_keep_to_the_description(served_auth):
    wrong = {"username": f"conf-{uuid.uuid4().hex[:12]}", "password": "not-the-password"}
    for _ in range(get_settings().login_max_failures):
        failed = call_described(
            api, served_auth, "POST", "/login", body=wrong, media_type="application/json"
        )
        assert failed.status_code == 401
    throttled = call_described(
        api, served_auth, "POST", "/login", body=wrong, media_type="application/json"
    )
    assert throttled.status_code == 429
