"""The tus routes' answers that come before any database: discovery, version, limits, CORS."""

from __future__ import annotations

from pathlib import Path

import flask
import pytest

from video2audio.core.settings import Settings
from video2audio.core.tokens import issue_token
from video2audio.upload.routes import build_router

SETTINGS = Settings(max_upload_bytes=1000, cors_allowed_origins=("https://page.example",))
app = flask.Flask(__name__)


def no_database():
    raise AssertionError("answered before any database access, so none is given")


@pytest.fixture
def call():
    router = build_router(SETTINGS, static_dir=Path("/nonexistent"), database=no_database)

    def call(method: str, path: str, headers: dict[str, str] | None = None) -> flask.Response:
        with app.test_request_context(path, method=method, headers=headers or {}):
            return router.dispatch(flask.request)

    return call


def auth() -> dict[str, str]:
    token = issue_token(
        "alice", secret=SETTINGS.jwt_secret, issuer=SETTINGS.jwt_issuer, ttl_seconds=60
    )
    return {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}


def test_options_needs_no_token_and_advertises_tus(call):
    response = call("OPTIONS", "/files/")
    assert response.status_code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    assert response.headers["Tus-Max-Size"] == "1000"


def test_a_request_without_tus_resumable_is_a_412_with_tus_version(call):
    response = call("POST", "/files/", {**auth(), "Tus-Resumable": "", "Upload-Length": "10"})
    assert response.status_code == 412
    assert response.headers["Tus-Version"] == "1.0.0"
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert "error" in response.get_json()


def test_a_length_over_max_upload_bytes_is_a_413_before_anything_is_stored(call):
    response = call("POST", "/files/", {**auth(), "Upload-Length": "1001"})
    assert response.status_code == 413
    assert response.headers["Tus-Resumable"] == "1.0.0"


def test_creation_without_upload_length_is_a_400(call):
    response = call("POST", "/files/", auth())
    assert response.status_code == 400
    assert "Upload-Length" in response.get_json()["error"]


def test_an_empty_upload_is_a_400(call):
    response = call("POST", "/files/", {**auth(), "Upload-Length": "0"})
    assert (response.status_code, response.get_json()["error"]) == (400, "the file is empty")


def test_creation_without_a_token_is_a_401(call):
    response = call("POST", "/files/", {"Tus-Resumable": "1.0.0", "Upload-Length": "10"})
    assert response.status_code == 401


def test_a_patch_that_is_not_offset_octet_stream_is_a_415(call):
    headers = {**auth(), "Upload-Offset": "0", "Content-Type": "application/octet-stream"}
    response = call("PATCH", "/files/" + "a" * 32, headers)
    assert response.status_code == 415


def test_the_cors_preflight_allows_the_tus_methods_and_headers(call):
    headers = {"Origin": "https://page.example", "Access-Control-Request-Method": "PATCH"}
    response = call("OPTIONS", "/files/" + "a" * 32, headers)
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    assert "Upload-Offset" in response.headers["Access-Control-Allow-Headers"]
    assert "Tus-Resumable" in response.headers["Access-Control-Allow-Headers"]


def test_pages_on_an_allowed_origin_may_read_the_tus_answers(call):
    response = call("OPTIONS", "/files/", {"Origin": "https://page.example"})
    exposed = response.headers["Access-Control-Expose-Headers"]
    for name in ("Location", "Upload-Offset", "Upload-Expires", "Video2Audio-Job-Id"):
        assert name in exposed
