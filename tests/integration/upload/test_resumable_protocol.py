"""Resumable uploads (tus 1.0.0) at /files/ on the upload function served for real: the protocol
and every refusal, request by request (the official clients: test_resumable_clients.py)."""

from __future__ import annotations

import os
from datetime import timedelta

import requests

from tests.support.openapi import call_described, described_api
from tests.support.tus import TUS, RawPatch, metadata_header
from tests.support.waiting import wait_until
from video2audio.core import clock
from video2audio.core.settings import get_settings
from video2audio.expire.sweep import expire_files
from video2audio.jobs import repository, resumable

OCTETS = {**TUS, "Content-Type": "application/offset+octet-stream"}


def create(url: str, user, length: int, **fields: str) -> requests.Response:
    headers = {**user.headers, **TUS, "Upload-Length": str(length)}
    if fields:
        headers["Upload-Metadata"] = metadata_header(**fields)
    return requests.post(f"{url}/files/", headers=headers, timeout=10)


def patch(location: str, user, offset: int, data: bytes) -> requests.Response:
    headers = {**user.headers, **OCTETS, "Upload-Offset": str(offset)}
    return requests.patch(location, headers=headers, data=data, timeout=30)


def head(location: str, user) -> requests.Response:
    return requests.head(location, headers={**user.headers, **TUS}, timeout=10)


def test_options_advertises_version_extensions_and_max_size(served_tus):
    response = requests.options(f"{served_tus}/files/", timeout=10)
    assert response.status_code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    assert response.headers["Tus-Extension"] == (
        "creation,creation-with-upload,termination,expiration"
    )
    assert int(response.headers["Tus-Max-Size"]) == get_settings().max_upload_bytes


def test_creation_answers_201_with_location_job_id_and_expiry(served_tus, served_upload_user):
    response = create(served_tus, served_upload_user, 1000, filename="talk.mp4", format="opus")
    assert response.status_code == 201, response.text
    job_id = response.headers["Video2Audio-Job-Id"]
    assert response.headers["Location"] == f"{served_tus}/files/{job_id}"
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert response.headers["Upload-Expires"].endswith("GMT")


def test_a_new_upload_is_a_job_uploading_with_bytes_received(served_tus, served_upload_user):
    created = create(served_tus, served_upload_user, 5000, filename="talk.mp4")
    patch(created.headers["Location"], served_upload_user, 0, b"\x00" * 1500)
    job_id = created.headers["Video2Audio-Job-Id"]
    job = requests.get(
        f"{served_tus}/jobs/{job_id}", headers=served_upload_user.headers, timeout=10
    ).json()
    assert (job["status"], job["bytes_received"], job["video_size"]) == ("uploading", 1500, 5000)
    assert job["filename"] == "talk.mp4"


def test_head_reports_the_offset_across_chunk_boundaries(served_tus, served_upload_user):
    # 1.5 MiB: one whole GridFS chunk and a tail kept with the upload, then continued.
    location = create(served_tus, served_upload_user, 3 * 1024 * 1024).headers["Location"]
    first = patch(location, served_upload_user, 0, os.urandom(1_572_864))
    second = patch(location, served_upload_user, 1_572_864, os.urandom(1_000_000))
    assert (first.status_code, second.status_code) == (204, 204)
    answer = head(location, served_upload_user)
    assert answer.headers["Upload-Offset"] == "2572864"
    assert answer.headers["Upload-Length"] == str(3 * 1024 * 1024)
    assert answer.headers["Cache-Control"] == "no-store"


def test_the_finished_file_is_exactly_the_bytes_sent_in_pieces(
    served_tus, served_upload_user, sample_mp4, db
):
    location = create(served_tus, served_upload_user, len(sample_mp4)).headers["Location"]
    third = len(sample_mp4) // 3
    pieces = [sample_mp4[:third], sample_mp4[third : 2 * third], sample_mp4[2 * third :]]
    offset = 0
    for piece in pieces:
        assert patch(location, served_upload_user, offset, piece).status_code == 204
        offset += len(piece)
    job = repository.load_job(db, location.rsplit("/", 1)[1])
    assert job["status"] == "queued"
    stored = b"".join(
        bytes(chunk["data"])
        for chunk in db["videos.chunks"].find({"files_id": job["video_fid"]}).sort("n", 1)
    )
    assert stored == sample_mp4


def test_creation_with_upload_stores_the_body_at_once(served_tus, served_upload_user, sample_mp4):
    headers = {**served_upload_user.headers, **OCTETS, "Upload-Length": str(len(sample_mp4))}
    body = sample_mp4[: len(sample_mp4) // 2]
    response = requests.post(f"{served_tus}/files/", headers=headers, data=body, timeout=10)
    assert response.status_code == 201
    assert response.headers["Upload-Offset"] == str(len(body))


def test_an_interrupted_patch_keeps_the_bytes_that_arrived(served_tus, served_upload_user):
    user = served_upload_user
    location = create(served_tus, user, 4_000_000).headers["Location"]
    raw = RawPatch(location, user.token, offset=0, length=4_000_000)
    raw.send(os.urandom(1_600_000))
    raw.drop()
    wait_until(
        lambda: head(location, user).headers["Upload-Offset"] == "1600000",
        timeout=30,
        what="the dropped PATCH's bytes to be recorded",
    )


def test_a_patch_at_the_wrong_offset_is_a_409(served_tus, served_upload_user):
    location = create(served_tus, served_upload_user, 5000).headers["Location"]
    patch(location, served_upload_user, 0, b"\x00" * 100)
    response = patch(location, served_upload_user, 50, b"\x00" * 100)
    assert response.status_code == 409
    assert "100" in response.json()["error"]


def test_a_second_patch_while_one_is_running_is_a_409(served_tus, served_upload_user, db):
    user = served_upload_user
    location = create(served_tus, user, 10_000).headers["Location"]
    upload_id = location.rsplit("/", 1)[1]
    running = RawPatch(location, user.token, offset=0, length=10_000)
    running.send(b"\x00" * 100)
    wait_until(
        lambda: db[resumable.LOCKS].find_one({"_id": upload_id}),
        timeout=10,
        what="the first PATCH to hold the upload's lock",
    )
    try:
        response = patch(location, user, 0, b"\x00" * 100)
    finally:
        running.drop()
    assert response.status_code == 409
    assert "another request" in response.json()["error"]


def test_a_length_over_the_limit_is_a_413_at_creation(served_tus, served_upload_user):
    limit = get_settings().max_upload_bytes
    response = create(served_tus, served_upload_user, limit + 1)
    assert response.status_code == 413
    assert "limit" in response.json()["error"]


def test_bad_metadata_is_a_400_like_a_bad_form_field(served_tus, served_upload_user):
    response = create(served_tus, served_upload_user, 1000, format="mp5")
    assert response.status_code == 400
    assert "format must be one of" in response.json()["error"]


def test_another_users_upload_is_a_404(served_tus, served_upload_user, alice):
    location = create(served_tus, served_upload_user, 1000).headers["Location"]
    assert head(location, alice).status_code == 404
    assert patch(location, alice, 0, b"\x00" * 10).status_code == 404
    deleted = requests.delete(location, headers={**alice.headers, **TUS}, timeout=10)
    assert deleted.status_code == 404


def test_an_unsupported_tus_version_is_a_412_naming_ours(served_tus, served_upload_user):
    headers = {**served_upload_user.headers, "Tus-Resumable": "0.2.2", "Upload-Length": "10"}
    response = requests.post(f"{served_tus}/files/", headers=headers, timeout=10)
    assert response.status_code == 412
    assert response.headers["Tus-Version"] == "1.0.0"


def test_no_token_is_a_401(served_tus):
    response = requests.post(
        f"{served_tus}/files/", headers={**TUS, "Upload-Length": "10"}, timeout=10
    )
    assert response.status_code == 401


def test_a_finished_file_that_is_not_media_is_a_415_and_removed(served_tus, served_upload_user, db):
    body = b"<html><body>not a video</body></html>" * 100
    location = create(served_tus, served_upload_user, len(body)).headers["Location"]
    upload_id = location.rsplit("/", 1)[1]
    job = repository.load_job(db, upload_id)
    response = patch(location, served_upload_user, 0, body)
    assert response.status_code == 415
    assert repository.load_job(db, upload_id) is None
    assert db["videos.chunks"].count_documents({"files_id": job["video_fid"]}) == 0
    assert db[resumable.UPLOADS].find_one({"_id": upload_id}) is None


def test_termination_removes_the_upload_and_its_job(served_tus, served_upload_user, db):
    location = create(served_tus, served_upload_user, 3_000_000).headers["Location"]
    upload_id = location.rsplit("/", 1)[1]
    patch(location, served_upload_user, 0, os.urandom(2_000_000))
    job = repository.load_job(db, upload_id)
    headers = {**served_upload_user.headers, **TUS}
    response = requests.delete(location, headers=headers, timeout=10)
    assert response.status_code == 204
    assert repository.load_job(db, upload_id) is None
    assert db["videos.chunks"].count_documents({"files_id": job["video_fid"]}) == 0
    assert head(location, served_upload_user).status_code == 404


def test_the_expire_sweep_removes_an_upload_past_its_expiry(served_tus, served_upload_user, db):
    location = create(served_tus, served_upload_user, 3_000_000).headers["Location"]
    upload_id = location.rsplit("/", 1)[1]
    patch(location, served_upload_user, 0, os.urandom(1_500_000))
    job = repository.load_job(db, upload_id)
    # As if the client had sent nothing since RESUMABLE_UPLOAD_EXPIRY_SECONDS.
    past = clock.now() - timedelta(seconds=1)
    db[resumable.UPLOADS].update_one({"_id": upload_id}, {"$set": {"expires_at": past}})
    summary = expire_files(db, older_than_seconds=get_settings().retention_seconds)
    assert summary["abandoned_uploads_removed"] >= 1
    assert repository.load_job(db, upload_id) is None
    assert db["videos.chunks"].count_documents({"files_id": job["video_fid"]}) == 0
    assert head(location, served_upload_user).status_code == 404


def test_a_whole_resumable_uploads_answers_keep_to_the_description(
    served_tus, served_upload_user, sample_mp4
):
    api = described_api("video2audio.upload")

    def call(method, path, headers, **parts):
        auth = {**served_upload_user.headers, **TUS}
        return call_described(api, served_tus, method, path, auth=auth, headers=headers, **parts)

    options = call("OPTIONS", "/files/", {})
    assert options.status_code == 204
    length = {
        "Upload-Length": str(len(sample_mp4)),
        "Upload-Metadata": metadata_header(format="opus"),
    }
    created = call("POST", "/files/", length)
    assert created.status_code == 201
    job = {"job_id": created.headers["video2audio-job-id"][0]}
    offset = call("HEAD", "/files/{job_id}", {}, path_parameters=job)
    assert offset.status_code == 200
    octets = {"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    appended = call(
        "PATCH", "/files/{job_id}", octets, path_parameters=job, body=sample_mp4,
        media_type="application/offset+octet-stream",
    )  # fmt: skip
    assert appended.status_code == 204
    again = call("PATCH", "/files/{job_id}", octets, path_parameters=job, body=b"x",
                 media_type="application/offset+octet-stream")  # fmt: skip
    assert again.status_code == 409
