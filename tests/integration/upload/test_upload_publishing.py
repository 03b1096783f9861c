"""POST /upload with publishing options (trim, loudness, tags, cover) against the real services."""

from __future__ import annotations

import pytest

from tests.support.uploads import count_files, post_multipart, settings_app
from video2audio.infra import storage

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_the_options_are_stored_on_the_job_and_shown_by_its_status(
    upload_client, alice, sample_mp4
):
    parts = [
        ("start", "00:00.5", None),
        ("end", "1.5", None),
        ("loudness", "-16", None),
        ("title", "Episode 1", None),
        ("artist", "Alice", None),
        ("cover", "none", None),
        ("file", sample_mp4, "talk.mp4"),
    ]
    response = post_multipart(upload_client, alice, parts)
    assert response.status_code == 202, response.get_json()
    job = upload_client.get(f"/jobs/{response.get_json()['job_id']}", headers=alice.headers)
    assert job.get_json()["publish"] == {
        "start": 0.5,
        "end": 1.5,
        "loudness": -16.0,
        "true_peak": -1.0,
        "tags": {"title": "Episode 1", "artist": "Alice"},
        "cover": "none",
    }


@pytest.mark.parametrize("cover_first", [True, False])
def test_a_cover_image_part_is_stored_with_the_job_before_or_after_the_video(
    upload_client, alice, sample_mp4, db, cover_first
):
    cover = ("cover_image", PNG, "cover.png")
    video = ("file", sample_mp4, "talk.mp4")
    response = post_multipart(
        upload_client, alice, [cover, video] if cover_first else [video, cover]
    )
    assert response.status_code == 202, response.get_json()
    job = db["jobs"].find_one({"_id": response.get_json()["job_id"]})
    assert job["publish"]["cover"] == "upload"
    stored = storage.find_file(db, storage.VIDEOS, job["cover_fid"])
    assert stored["metadata"]["content_type"] == "image/png" and stored["length"] == len(PNG)


def test_deleting_the_job_deletes_its_cover(upload_client, alice, sample_mp4, db):
    parts = [("cover_image", PNG, "cover.png"), ("file", sample_mp4, "talk.mp4")]
    job_id = post_multipart(upload_client, alice, parts).get_json()["job_id"]
    cover_fid = db["jobs"].find_one({"_id": job_id})["cover_fid"]
    assert upload_client.delete(f"/jobs/{job_id}", headers=alice.headers).status_code == 204
    assert storage.find_file(db, storage.VIDEOS, cover_fid) is None


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([("start", "ten", None)], "start must be seconds"),
        ([("start", "-3", None)], "must not be negative"),
        ([("start", "5", None), ("end", "2", None)], "end must be after start"),
        ([("loudness", "-60", None)], "between -31 and -9"),
        ([("title", "bell\x07", None)], "control"),
        ([("comment", "x" * 5000, None)], "longer than 1000"),
        ([("cover", "upload", None)], "cover_image"),
        ([("cover_image", b"GIF89a not allowed", "c.gif")], "JPEG or PNG"),
        ([("cover", "none", None), ("cover_image", PNG, "c.png")], "leave one out"),
    ],
)
def test_a_bad_option_is_a_400_and_nothing_is_stored(
    upload_client, alice, sample_mp4, db, parts, message
):
    response = post_multipart(upload_client, alice, [*parts, ("file", sample_mp4, "talk.mp4")])
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    assert count_files(db, storage.VIDEOS, alice.name) == 0
    assert db["jobs"].count_documents({"owner": alice.name}) == 0


def test_a_cover_larger_than_the_setting_is_a_400_and_nothing_is_stored(alice, sample_mp4, db):
    client = settings_app(max_cover_bytes="1024").test_client()
    big = PNG + b"\x00" * 2048
    parts = [("file", sample_mp4, "talk.mp4"), ("cover_image", big, "big.png")]
    response = post_multipart(client, alice, parts)
    assert response.status_code == 400
    assert "1 KiB" in response.get_json()["error"]
    assert count_files(db, storage.VIDEOS, alice.name) == 0
