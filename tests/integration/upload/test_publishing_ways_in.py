"""The publishing options on every way in besides /upload: tus Upload-Metadata (with the cover
image attached by PUT /files/{job_id}/cover) and /import's JSON, converted and read back."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest
import requests

from tests.support.convert import post_event, uploaded_event
from tests.support.media_server import Route, media_server
from tests.support.publishing_media import (
    attached_picture,
    decoded_seconds,
    generate_png,
    save_audio,
    tags_of,
)
from tests.support.tus import TUS, metadata_header
from tests.support.uploads import count_files
from video2audio.infra import storage
from video2audio.jobs import repository, resumable

OCTETS = {**TUS, "Content-Type": "application/offset+octet-stream"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
OPTIONS = {"start": "0.5", "end": "00:01.5", "title": "Episode 1", "artist": "Alice"}
OPTIONS |= {"album": "Talks", "year": "2024", "comment": "Recorded live"}
READ_BACK = {"title": "Episode 1", "artist": "Alice", "album": "Talks", "date": "2024"}
READ_BACK["comment"] = "Recorded live"
MP3_FRAME = 1152 / 44100


def create(url: str, user, length: int, **fields: str) -> requests.Response:
    headers = {**user.headers, **TUS, "Upload-Length": str(length)}
    headers["Upload-Metadata"] = metadata_header(filename="talk.mp4", **fields)
    return requests.post(f"{url}/files/", headers=headers, timeout=10)


def upload_all(location: str, user, data: bytes) -> None:
    headers = {**user.headers, **OCTETS, "Upload-Offset": "0"}
    answer = requests.patch(location, headers=headers, data=data, timeout=30)
    assert answer.status_code == 204, answer.text


def put_cover(location: str, user, image: bytes) -> requests.Response:
    headers = {**user.headers, "Content-Type": "image/png"}
    return requests.put(f"{location}/cover", headers=headers, data=image, timeout=10)


def convert(converter, db, job_id: str, target):
    client, _notify = converter
    job = repository.load_job(db, job_id)
    assert post_event(client, uploaded_event(job)).status_code == 200
    return save_audio(db, job_id, target)


def test_tus_metadata_options_trim_and_tag_the_output(
    served_tus, served_upload_user, sample_mp4, converter, db, tmp_path
):
    created = create(served_tus, served_upload_user, len(sample_mp4), **OPTIONS, cover="none")
    assert created.status_code == 201, created.text
    upload_all(created.headers["Location"], served_upload_user, sample_mp4)
    output = convert(converter, db, created.headers["Video2Audio-Job-Id"], tmp_path / "out.mp3")
    assert decoded_seconds(output) == pytest.approx(1.0, abs=MP3_FRAME)
    tags = tags_of(output)
    assert {key: tags.get(key) for key in READ_BACK} == READ_BACK
    assert attached_picture(output) is None


def test_the_job_of_a_tus_upload_shows_its_options(served_tus, served_upload_user, sample_mp4):
    created = create(served_tus, served_upload_user, len(sample_mp4), loudness="-16", end="1")
    job_id = created.headers["Video2Audio-Job-Id"]
    job = requests.get(
        f"{served_tus}/jobs/{job_id}", headers=served_upload_user.headers, timeout=10
    ).json()
    assert job["publish"] == {
        "start": None, "end": 1.0, "loudness": -16.0, "true_peak": -1.0, "tags": {},
        "cover": "auto",
    }  # fmt: skip


def test_a_cover_put_before_the_last_byte_is_embedded(
    served_tus, served_upload_user, sample_mp4, converter, db, tmp_path
):
    image = generate_png(tmp_path / "cover.png", "320x240").read_bytes()
    created = create(served_tus, served_upload_user, len(sample_mp4))
    location = created.headers["Location"]
    assert put_cover(location, served_upload_user, image).status_code == 204
    upload_all(location, served_upload_user, sample_mp4)
    output = convert(converter, db, created.headers["Video2Audio-Job-Id"], tmp_path / "out.mp3")
    picture = attached_picture(output)
    assert picture is not None
    assert (picture["width"], picture["height"]) == (320, 240)


def test_a_second_cover_replaces_the_first(served_tus, served_upload_user, db):
    created = create(served_tus, served_upload_user, 5000)
    location, job_id = created.headers["Location"], created.headers["Video2Audio-Job-Id"]
    assert put_cover(location, served_upload_user, PNG).status_code == 204
    first = repository.load_job(db, job_id)["cover_fid"]
    assert put_cover(location, served_upload_user, PNG + b"\x00").status_code == 204
    job = repository.load_job(db, job_id)
    assert job["cover_fid"] != first and job["publish"]["cover"] == "upload"
    assert storage.find_file(db, storage.VIDEOS, first) is None


def test_a_cover_after_the_last_byte_is_a_409(served_tus, served_upload_user, sample_mp4):
    created = create(served_tus, served_upload_user, len(sample_mp4))
    upload_all(created.headers["Location"], served_upload_user, sample_mp4)
    answer = put_cover(created.headers["Location"], served_upload_user, PNG)
    assert answer.status_code == 409
    assert "before its last byte" in answer.json()["error"]


@pytest.mark.parametrize(
    ("image", "message"),
    [(b"GIF89a not allowed", "JPEG or PNG"), (b"", "empty")],
)
def test_a_bad_cover_is_a_400_and_nothing_is_stored(
    served_tus, served_upload_user, db, image, message
):
    created = create(served_tus, served_upload_user, 5000)
    answer = put_cover(created.headers["Location"], served_upload_user, image)
    assert answer.status_code == 400
    assert message in answer.json()["error"]
    assert repository.load_job(db, created.headers["Video2Audio-Job-Id"])["cover_fid"] is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"start": "ten"}, "start must be seconds"),
        ({"start": "5", "end": "2"}, "end must be after start"),
        ({"loudness": "-60"}, "between -31 and -9"),
        ({"title": "bell\x07"}, "control"),
        ({"comment": "x" * 5000}, "longer than 1000"),
        ({"cover": "sometimes"}, "cover must be"),
        ({"cover_image": "cover.png"}, "PUT the JPEG or PNG to /files/{job_id}/cover"),
    ],
)
def test_a_bad_option_in_tus_metadata_is_a_400_and_nothing_is_stored(
    served_tus, served_upload_user, db, fields, message
):
    jobs_before = db[repository.JOBS].count_documents({"owner": served_upload_user.name})
    uploads_before = db[resumable.UPLOADS].count_documents({"owner": served_upload_user.name})
    answer = create(served_tus, served_upload_user, 5000, **fields)
    assert answer.status_code == 400
    assert message in answer.json()["error"]
    assert db[repository.JOBS].count_documents({"owner": served_upload_user.name}) == jobs_before
    after = db[resumable.UPLOADS].count_documents({"owner": served_upload_user.name})
    assert after == uploads_before


@pytest.fixture
def server():
    with media_server() as served:
        yield served


def test_import_options_trim_and_tag_the_output(
    upload_client, alice, server, sample_mp4, converter, db, tmp_path
):
    server.routes["talk.mp4"] = Route(body=sample_mp4, content_type="video/mp4")
    body = {"url": server.url("talk.mp4"), **OPTIONS, "start": 0.5, "year": 2024, "cover": "none"}
    response = upload_client.post("/import", json=body, headers=alice.headers)
    assert response.status_code == 202, response.get_json()
    output = convert(converter, db, response.get_json()["job_id"], tmp_path / "out.mp3")
    assert decoded_seconds(output) == pytest.approx(1.0, abs=MP3_FRAME)
    tags = tags_of(output)
    assert {key: tags.get(key) for key in READ_BACK} == READ_BACK


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"loudness": -60}, "between -31 and -9"),
        ({"title": "x" * 300}, "longer than 200"),
        ({"cover_image": "x"}, "cannot carry a cover image"),
    ],
)
def test_a_bad_import_option_is_a_400_and_nothing_is_stored(
    upload_client, alice, server, db, fields, message
):
    body = {"url": server.url("talk.mp4"), **fields}
    response = upload_client.post("/import", json=body, headers=alice.headers)
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    assert db[repository.JOBS].count_documents({"owner": alice.name}) == 0
    assert count_files(db, storage.VIDEOS, alice.name) == 0


def test_a_50_mb_cover_is_a_400_before_its_body_is_read(served_tus, served_upload_user, db):
    created = create(served_tus, served_upload_user, 5000)
    parts = urlsplit(created.headers["Location"])
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.putrequest("PUT", f"{parts.path}/cover")
        for name, value in {**served_upload_user.headers, "Content-Type": "image/png"}.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(50 * 1024 * 1024))
        connection.endheaders()  # the body is never sent: the answer must not wait for it
        answer = connection.getresponse()
        body = json.loads(answer.read())
    finally:
        connection.close()
    assert answer.status == 400
    assert "larger than the limit" in body["error"]
    assert repository.load_job(db, created.headers["Video2Audio-Job-Id"])["cover_fid"] is None
