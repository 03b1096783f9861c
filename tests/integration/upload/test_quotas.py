"""Per-user limits: conversions at once, bytes stored, uploads per hour — and GET /quota."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.support.uploads import count_files, settings_app, upload
from video2audio.infra import storage


def test_an_upload_beyond_the_conversions_at_once_is_a_429_that_stores_nothing(
    alice, sample_mp4, db
):
    client = settings_app(max_active_jobs_per_user="2").test_client()
    assert [upload(client, alice, sample_mp4).status_code for _ in range(2)] == [202, 202]

    refused = upload(client, alice, sample_mp4)

    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    body = refused.get_json()
    assert (body["limit"], body["value"]) == ("max_active_jobs", 2)
    assert "2 conversions" in body["error"]
    assert count_files(db, storage.VIDEOS, alice.name) == 2


def test_twenty_parallel_uploads_of_one_user_take_only_the_allowed_slots(alice, sample_mp4):
    app = settings_app(max_active_jobs_per_user="4", max_uploads_per_hour="100")

    def send(_: int) -> int:
        return upload(app.test_client(), alice, sample_mp4).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(send, range(20)))

    assert answers.count(202) == 4
    assert answers.count(429) == 16


def test_deleting_a_queued_job_frees_its_slot_at_once(alice, sample_mp4):
    client = settings_app(max_active_jobs_per_user="1").test_client()
    job_id = upload(client, alice, sample_mp4).get_json()["job_id"]
    assert upload(client, alice, sample_mp4).status_code == 429

    assert client.delete(f"/jobs/{job_id}", headers=alice.headers).status_code == 204

    assert upload(client, alice, sample_mp4).status_code == 202


def test_uploads_per_hour_are_counted_even_when_their_jobs_are_deleted(alice, sample_mp4):
    client = settings_app(max_uploads_per_hour="2").test_client()
    for _ in range(2):
        job_id = upload(client, alice, sample_mp4).get_json()["job_id"]
        client.delete(f"/jobs/{job_id}", headers=alice.headers)

    refused = upload(client, alice, sample_mp4)

    assert refused.status_code == 429
    assert refused.get_json()["limit"] == "max_uploads_per_hour"
    assert 0 < int(refused.headers["Retry-After"]) <= 3600


def test_an_upload_larger_than_the_whole_storage_is_a_413(alice, sample_mp4, db):
    client = settings_app(max_stored_bytes_per_user=str(len(sample_mp4) // 2)).test_client()

    refused = upload(client, alice, sample_mp4)

    assert refused.status_code == 413
    assert refused.get_json()["limit"] == "max_stored_bytes"
    assert count_files(db, storage.VIDEOS, alice.name) == 0


def test_a_full_storage_is_a_429_until_files_are_deleted(alice, sample_mp4):
    quota = len(sample_mp4) * 5 // 2  # room for two uploads, not for three
    client = settings_app(max_stored_bytes_per_user=str(quota)).test_client()
    job_id = upload(client, alice, sample_mp4).get_json()["job_id"]
    assert upload(client, alice, sample_mp4).status_code == 202

    refused = upload(client, alice, sample_mp4)
    assert refused.status_code == 429
    assert refused.get_json()["limit"] == "max_stored_bytes"

    client.delete(f"/jobs/{job_id}", headers=alice.headers)  # counts no more, at once
    assert upload(client, alice, sample_mp4).status_code == 202


def test_quota_shows_use_and_limits(alice, sample_mp4):
    client = settings_app(
        max_active_jobs_per_user="3", max_uploads_per_hour="9", max_stored_bytes_per_user="999999"
    ).test_client()
    upload(client, alice, sample_mp4)

    quota = client.get("/quota", headers=alice.headers).get_json()

    assert quota == {
        "active_jobs": {"used": 1, "limit": 3},
        "stored_bytes": {"used": len(sample_mp4), "limit": 999999},
        "uploads_last_hour": {"used": 1, "limit": 9},
    }
