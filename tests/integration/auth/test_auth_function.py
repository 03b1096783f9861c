"""The auth function over HTTP against the real PostgreSQL."""

import base64
import time

import jwt
import pytest

from tests.support.services import run_services
from video2audio.core.settings import get_settings


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_register_answers_201_with_the_seed_message(auth_client, unique_name):
    response = auth_client.post("/register", json={"username": unique_name, "password": "pass1234"})
    assert response.status_code == 201
    assert response.get_json() == {"message": "Registered successfully"}


def test_register_with_basic_credentials_works(auth_client, unique_name):
    response = auth_client.post("/register", headers=basic(unique_name, "pass1234"))
    assert response.status_code == 201


def test_a_taken_username_is_a_conflict_whatever_its_case(auth_client, registered_user):
    username, password = registered_user
    response = auth_client.post(
        "/register", json={"username": username.upper(), "password": password}
    )
    assert response.status_code == 409
    assert "taken" in response.get_json()["error"]


def test_malformed_json_is_a_400_with_an_error(auth_client):
    response = auth_client.post(
        "/register", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"]


def test_a_missing_password_is_a_400(auth_client, unique_name):
    response = auth_client.post("/register", json={"username": unique_name})
    assert response.status_code == 400
    assert "password" in response.get_json()["error"]


def test_a_password_over_72_bytes_is_a_400_that_says_so(auth_client, unique_name):
    response = auth_client.post("/register", json={"username": unique_name, "password": "x" * 73})
    assert response.status_code == 400
    assert "72 bytes" in response.get_json()["error"]


def test_a_body_over_64_kib_is_a_413_sent_without_reading_the_body(auth_client, unique_name):
    body = {"username": unique_name, "password": "pass1234", "padding": "x" * 70_000}
    response = auth_client.post("/register", json=body)
    assert (response.status_code, response.headers["Connection"]) == (413, "close")
    assert "larger than" in response.get_json()["error"]


def test_login_returns_a_bearer_token_that_verifies(auth_client, registered_user):
    username, password = registered_user
    response = auth_client.post("/login", json={"username": username, "password": password})
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    verified = auth_client.get("/verify", headers={"Authorization": f"Bearer {body['token']}"})
    assert verified.status_code == 200
    assert verified.get_json()["username"] == username


def test_basic_credentials_with_non_ascii_characters_are_a_400(auth_client):
    response = auth_client.post("/login", headers={"Authorization": "Basic \u00e9\u00e9"})
    assert response.status_code == 400
    assert "Authorization" in response.get_json()["error"]


def test_login_with_basic_credentials_works(auth_client, registered_user):
    response = auth_client.post("/login", headers=basic(*registered_user))
    assert response.status_code == 200
    assert response.get_json()["token"]


def test_protected_is_the_seed_alias_of_verify(auth_client, registered_user):
    token = auth_client.post("/login", headers=basic(*registered_user)).get_json()["token"]
    response = auth_client.get("/protected", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_unknown_user_and_wrong_password_get_the_same_401(auth_client, registered_user):
    username, _ = registered_user
    wrong = auth_client.post("/login", json={"username": username, "password": "wrong-pass"})
    unknown = auth_client.post("/login", json={"username": username + "x", "password": "whatever1"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()


@pytest.mark.parametrize(
    "header",
    [None, "Bearer not-a-token", "Token abc"],
)
def test_verify_refuses_bad_tokens_with_www_authenticate(auth_client, header):
    headers = {"Authorization": header} if header else {}
    response = auth_client.get("/verify", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"]


def test_verify_refuses_an_expired_token(auth_client):
    settings = get_settings()
    past = int(time.time()) - 7200
    token = jwt.encode(
        {"sub": "a", "iat": past, "exp": past + 3600, "iss": settings.jwt_issuer},
        settings.jwt_secret,
    )
    response = auth_client.get("/verify", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "expired" in response.get_json()["error"]


def test_repeated_failed_logins_are_throttled_with_retry_after(auth_client, registered_user):
    username, password = registered_user
    settings = get_settings()
    for _ in range(settings.login_max_failures):
        response = auth_client.post("/login", json={"username": username, "password": "bad-pass1"})
        assert response.status_code == 401
    throttled = auth_client.post("/login", json={"username": username, "password": password})
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0


def test_unknown_routes_and_methods_answer_json(auth_client):
    assert auth_client.get("/nope").status_code == 404
    response = auth_client.get("/login")
    assert response.status_code == 405
    assert response.get_json()["error"]


def test_cors_preflight_is_answered_for_an_allowed_origin_only(auth_client):
    allowed = get_settings().cors_allowed_origins[0]
    ok = auth_client.options("/login", headers={"Origin": allowed})
    assert ok.status_code == 204
    assert ok.headers["Access-Control-Allow-Origin"] == allowed
    other = auth_client.options("/login", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_healthz_is_503_while_postgres_is_down_and_recovers(auth_client, registered_user):
    assert auth_client.get("/healthz").status_code == 200
    run_services("stop-postgres")
    try:
        down = auth_client.get("/healthz")
        assert down.status_code == 503
        assert "unavailable" in down.get_json()["error"]
        login = auth_client.post("/login", headers=basic(*registered_user))
        assert login.status_code == 503
    finally:
        run_services("start-postgres")
    assert auth_client.get("/healthz").status_code == 200
