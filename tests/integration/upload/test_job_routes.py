"""Job status, listing, deletion and ownership through the upload function."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from bson import ObjectId

from tests.support.uploads import upload
from video2audio.core.settings import get_settings
from video2audio.infra import storage
from video2audio.jobs import repository

VIEW_KEYS = {"job_id", "video_fid", "status", "progress", "format", "created_at", "updated_at"}


def test_status_by_video_fid_shows_the_queued_job(upload_client, alice, sample_mp4):
    uploaded = upload(upload_client, alice, sample_mp4).get_json()
    response = upload_client.get(f"/status?fid={uploaded['video_fid']}", headers=alice.headers)
    assert response.status_code == 200
    view = response.get_json()
    assert set(view) >= VIEW_KEYS
    assert view["job_id"] == uploaded["job_id"]
    assert (view["status"], view["progress"], view["format"]) == ("queued", 0, "mp3")
    assert "audio_fid" not in view and "error" not in view


def test_job_by_id_shows_the_same_view(upload_client, alice, sample_mp4):
    uploaded = upload(upload_client, alice, sample_mp4).get_json()
    response = upload_client.get(f"/jobs/{uploaded['job_id']}", headers=alice.headers)
    assert response.status_code == 200
    assert response.get_json()["video_fid"] == uploaded["video_fid"]


def test_a_done_mp3_job_shows_audio_fid_mp3_fid_and_expiry(upload_client, alice, make_done_job):
    done = make_done_job(alice)
    view = upload_client.get(f"/jobs/{done.job_id}", headers=alice.headers).get_json()
    assert view["status"] == "done"
    assert view["audio_fid"] == view["mp3_fid"] == done.audio_fid
    expected = done.job["finished_at"] + timedelta(seconds=get_settings().retention_seconds)
    assert datetime.fromisoformat(view["expires_at"]) == expected


def test_a_done_m4a_job_has_no_mp3_fid(upload_client, alice, make_done_job):
    done = make_done_job(alice, audio_format="m4a")
    view = upload_client.get(f"/jobs/{done.job_id}", headers=alice.headers).get_json()
    assert view["audio_fid"] == done.audio_fid
    assert "mp3_fid" not in view


def test_a_failed_job_shows_its_error(upload_client, alice, sample_mp4, db):
    job_id = upload(upload_client, alice, sample_mp4).get_json()["job_id"]
    repository.update_job(db, job_id, {"status": "failed", "error": "the video has no audio track"})
    view = upload_client.get(f"/jobs/{job_id}", headers=alice.headers).get_json()
    assert (view["status"], view["error"]) == ("failed", "the video has no audio track")


def test_another_users_job_and_fid_are_404(upload_client, alice, bob, sample_mp4):
    uploaded = upload(upload_client, alice, sample_mp4).get_json()
    assert upload_client.get(f"/jobs/{uploaded['job_id']}", headers=bob.headers).status_code == 404
    response = upload_client.get(f"/status?fid={uploaded['video_fid']}", headers=bob.headers)
    assert response.status_code == 404


def test_another_users_audio_fid_is_404(upload_client, alice, bob, make_done_job):
    done = make_done_job(alice)
    response = upload_client.get(f"/download?fid={done.audio_fid}", headers=bob.headers)
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/jobs/not-a-job-id",
        f"/jobs/{'0' * 32}",
        "/status?fid=zzz",
        f"/status?fid={ObjectId()}",
        "/status?fid[$ne]=x&fid=%7B%22%24ne%22%3A%22%22%7D",
        "/download?fid=%7B%22%24ne%22%3A%22%22%7D",
    ],
)
def test_unknown_malformed_and_operator_ids_are_404(upload_client, alice, path):
    response = upload_client.get(path, headers=alice.headers)
    assert response.status_code == 404
    assert "not found" in response.get_json()["error"]


@pytest.mark.parametrize("path", ["/status?fid[$ne]=", "/download?fid[$ne]=", "/status"])
def test_an_operator_parameter_is_not_a_fid(upload_client, alice, path):
    response = upload_client.get(path, headers=alice.headers)
    assert response.status_code == 400
    assert "fid" in response.get_json()["error"]


def test_the_job_list_is_newest_first_and_pages_by_cursor(upload_client, alice, sample_mp4):
    made = [upload(upload_client, alice, sample_mp4).get_json()["job_id"] for _ in range(5)]
    seen, cursor = [], None
    for _ in range(3):
        query = "/jobs?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = upload_client.get(query, headers=alice.headers).get_json()
        seen += [job["job_id"] for job in body["jobs"]]
        cursor = body["next_cursor"]
    assert seen == list(reversed(made))
    assert cursor is None


def test_the_job_list_holds_only_the_callers_jobs(upload_client, alice, bob, sample_mp4):
    upload(upload_client, alice, sample_mp4)
    body = upload_client.get("/jobs", headers=bob.headers).get_json()
    assert body == {"jobs": [], "next_cursor": None}


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "cursor=%%%", "cursor=e30"])
def test_a_bad_limit_or_cursor_is_a_400(upload_client, alice, query):
    response = upload_client.get(f"/jobs?{query}", headers=alice.headers)
    assert response.status_code == 400


def test_delete_removes_the_video_the_audio_and_the_job(upload_client, alice, make_done_job, db):
    done = make_done_job(alice)
    response = upload_client.delete(f"/jobs/{done.job_id}", headers=alice.headers)
    assert response.status_code == 204
    assert storage.find_file(db, storage.VIDEOS, done.job["video_fid"]) is None
    assert storage.find_file(db, storage.AUDIO, done.job["audio_fid"]) is None
    assert db[f"{storage.AUDIO}.chunks"].count_documents({"files_id": done.job["audio_fid"]}) == 0
    assert upload_client.get(f"/jobs/{done.job_id}", headers=alice.headers).status_code == 404


def test_deleting_another_users_job_is_404_and_keeps_it(upload_client, alice, bob, make_done_job):
    done = make_done_job(alice)
    assert upload_client.delete(f"/jobs/{done.job_id}", headers=bob.headers).status_code == 404
    assert upload_client.get(f"/jobs/{done.job_id}", headers=alice.headers).status_code == 200


def test_an_expired_job_shows_expired_and_its_download_is_410(
    upload_client, alice, make_done_job, db
):
    done = make_done_job(alice)
    storage.delete_file(db, storage.AUDIO, done.job["audio_fid"])
    repository.update_job(db, done.job_id, {"status": "expired"})
    view = upload_client.get(f"/jobs/{done.job_id}", headers=alice.headers).get_json()
    assert view["status"] == "expired"
    response = upload_client.get(f"/download?fid={done.audio_fid}", headers=alice.headers)
    assert response.status_code == 410
    assert "expired" in response.get_json()["error"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/jobs"),
        ("GET", f"/jobs/{'a' * 32}"),
        ("DELETE", f"/jobs/{'a' * 32}"),
        ("POST", f"/jobs/{'a' * 32}/link"),
        ("GET", f"/status?fid={ObjectId()}"),
        ("GET", f"/download?fid={ObjectId()}"),
        ("GET", "/download"),
        ("GET", "/status"),
    ],
)
def test_every_job_route_needs_a_bearer_token(upload_client, method, path):
    response = upload_client.open(path, method=method)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_from_another_issuer_is_a_401(upload_client):
    import jwt

    settings = get_settings()
    claims = {"sub": "mallory", "iat": 0, "exp": 2**31, "iss": "someone-else"}
    token = jwt.encode(claims, settings.jwt_secret, algorithm="HS256")
    response = upload_client.get("/jobs", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_a_queued_job_expires_a_retention_after_its_upload(upload_client, alice, sample_mp4, db):
    job_id = upload(upload_client, alice, sample_mp4).get_json()["job_id"]
    view = upload_client.get(f"/jobs/{job_id}", headers=alice.headers).get_json()
    created = repository.get_job(db, job_id, owner=alice.name)["created_at"]
    expected = created + timedelta(seconds=get_settings().retention_seconds)
    assert datetime.fromisoformat(view["expires_at"]) == expected


def test_a_large_body_to_a_route_other_than_upload_is_a_413_sent_without_reading_it(
    upload_client, alice
):
    response = upload_client.post(
        f"/jobs/{'0' * 32}/link", headers=alice.headers, data=b"x" * (1024 * 1024)
    )
    assert (response.status_code, response.headers["Connection"]) == (413, "close")
