"""POST /import's answers that come before any database: what a request must look like."""

from __future__ import annotations

import json
from pathlib import Path

import flask
import pytest

from video2audio.core.settings import Settings
from video2audio.core.tokens import issue_token
from video2audio.upload.routes import build_router

SETTINGS = Settings()
app = flask.Flask(__name__)


def no_database():
    raise AssertionError("answered before any database access, so none is given")


def post_import(body):
    token = issue_token(
        "alice", secret=SETTINGS.jwt_secret, issuer=SETTINGS.jwt_issuer, ttl_seconds=60
    )
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    router = build_router(SETTINGS, static_dir=Path("/nonexistent"), database=no_database)
    with app.test_request_context("/import", method="POST", data=json.dumps(body), headers=headers):
        return router.dispatch(flask.request)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "JSON object"),
        ({}, "url is required"),
        ({"url": "ftp://example.org/a.mp4"}, "http:// or https://"),
        ({"url": "https://user:pw@example.org/a.mp4"}, "credentials"),
        ({"url": "https://example.org/a.mp4", "format": "mp5"}, "format must be one of"),
        ({"url": "https://example.org/a.mp4", "bitrate": 192}, "bitrate must be a string"),
        ({"url": "https://example.org/a.mp4", "webhook_url": "x"}, "webhook_url"),
        ({"url": "https://example.org/a.mp4", "colour": "red"}, "unknown field"),
        ({"url": "https://example.org/a.mp4", "loudness": -40}, "loudness must be between"),
        ({"url": "https://example.org/a.mp4", "loudness": "loud"}, "loudness must be a number"),
        ({"url": "https://example.org/a.mp4", "start": 20, "end": "10"}, "end must be after"),
        ({"url": "https://example.org/a.mp4", "title": "a\x07b"}, "control"),
        ({"url": "https://example.org/a.mp4", "comment": "x" * 10_000}, "longer than"),
        ({"url": "https://example.org/a.mp4", "year": True}, "year must be a string"),
        ({"url": "https://example.org/a.mp4", "cover": "sometimes"}, "cover must be"),
        ({"url": "https://example.org/a.mp4", "cover_image": "x.jpg"}, "cannot carry a cover"),
        ({"url": "https://example.org/a.mp4", "cover": "upload"}, "cannot carry a cover"),
    ],
)
def test_a_bad_import_request_is_a_400_before_anything_is_stored(body, message):
    response = post_import(body)
    assert response.status_code == 400
    assert message in response.get_json()["error"]
