"""The expire function as the PingSource calls it, and what users see afterwards."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.support.expire import file_exists, make_job, status_of
from tests.support.functions import function_app
from video2audio.core.settings import get_settings
from video2audio.core.tokens import issue_token
from video2audio.infra.clients import mongo_database
from video2audio.infra.events import PING, build_event, to_http_binary
from video2audio.infra.storage import AUDIO, VIDEOS
from video2audio.jobs.links import signed_download_url
from video2audio.jobs.model import JobStatus

# These tests share the session's database with other suites, whose files are all younger than
# the retention; these tests' own files are made older (retention 0 is tested on a database of
# its own, in test_expiry.py, through the sweep itself).
RETENTION = get_settings().retention_seconds
SAFE_AGE = RETENTION
AGE = 2 * RETENTION


@pytest.fixture(scope="module")
def expire_client():
    return function_app("expire").test_client()


@pytest.fixture(scope="module")
def upload_client():
    return function_app("upload").test_client()


def ping(client, data=None):
    event = build_event(PING, data if data is not None else {}, source="/tests/ping")
    headers, body = to_http_binary(event)
    if data is None:
        body = b""  # a PingSource without data sends an empty body
    return client.post("/", headers=headers, data=body)


def test_a_ping_expires_old_files_and_answers_a_json_summary(expire_client):
    db = mongo_database()
    job = make_job(db, status=JobStatus.DONE, video_age=AGE, audio_age=AGE, owner="expire-fn")

    response = ping(expire_client, {"older_than_seconds": SAFE_AGE})

    assert response.status_code == 200
    summary = response.get_json()
    assert summary["buckets"]["videos"]["files_deleted"] >= 1
    assert summary["buckets"]["audio"]["bytes_deleted"] >= 1000
    assert summary["jobs_expired"] >= 1
    assert {"orphan_chunks_removed", "duration_seconds", "dry_run"} <= summary.keys()
    assert status_of(db, job) == "expired"
    assert not file_exists(db, AUDIO, job["audio_fid"])


def test_after_expiry_status_says_expired_and_the_download_link_answers_410(
    expire_client, upload_client
):
    db = mongo_database()
    settings = get_settings()
    job = make_job(db, status=JobStatus.DONE, video_age=AGE, audio_age=AGE, owner="expire-fn")
    # The link as notify mailed it, still within its own validity.
    link = urlsplit(
        signed_download_url(
            settings.public_upload_url,
            str(job["audio_fid"]),
            job["owner"],
            2_000_000_000,
            secret=settings.link_secret,
        )
    )
    assert upload_client.get(f"{link.path}?{link.query}").status_code == 200

    assert ping(expire_client, {"older_than_seconds": SAFE_AGE}).status_code == 200

    download = upload_client.get(f"{link.path}?{link.query}")
    assert download.status_code == 410
    assert "expired" in download.get_json()["error"]
    token = issue_token(
        job["owner"], secret=settings.jwt_secret, issuer=settings.jwt_issuer, ttl_seconds=60
    )
    status = upload_client.get(
        f"/status?fid={job['video_fid']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert status.status_code == 200
    assert status.get_json()["status"] == "expired"


def test_a_dry_run_ping_deletes_nothing(expire_client):
    db = mongo_database()
    job = make_job(db, status=JobStatus.FAILED, video_age=AGE)

    response = ping(expire_client, {"older_than_seconds": SAFE_AGE, "dry_run": True})

    assert response.status_code == 200
    assert response.get_json()["dry_run"] is True
    assert response.get_json()["files_deleted"] >= 1
    assert file_exists(db, VIDEOS, job["video_fid"])
    assert status_of(db, job) == "failed"


def test_a_ping_without_data_sweeps_with_the_configured_retention(expire_client):
    response = ping(expire_client)
    assert response.status_code == 200
    assert response.get_json()["older_than_seconds"] == get_settings().retention_seconds


@pytest.mark.parametrize(
    "data",
    [
        {"older_than_seconds": -1},
        {"older_than_seconds": 0},
        {"older_than_seconds": RETENTION - 1},
        {"orphan_grace_seconds": 0},
        {"older_than_seconds": "0"},
        {"older_than_seconds": 1e300},
        {"dry_run": "yes"},
        {"max_files": 0},
        {"batch_size": 2**64},
    ],
)
def test_invalid_options_are_a_400_and_delete_nothing(expire_client, data):
    assert ping(expire_client, data).status_code == 400


def test_a_forged_ping_cannot_delete_files_younger_than_the_retention(expire_client):
    db = mongo_database()
    job = make_job(db, status=JobStatus.DONE, video_age=60, audio_age=60, owner="expire-victim")

    response = ping(expire_client, {"older_than_seconds": 0})

    assert response.status_code == 400
    assert "RETENTION_SECONDS" in response.get_json()["error"]
    assert file_exists(db, AUDIO, job["audio_fid"])
    assert status_of(db, job) == "done"
