"""POST /upload against the real MongoDB (FerretDB) and RabbitMQ."""

from __future__ import annotations

import json
import logging
import os

import pika
import pytest
from bson import ObjectId

from tests.support.hostile_media import POLYGLOTS
from tests.support.uploads import (
    chunks_of,
    count_files,
    multipart,
    post_multipart,
    removed_file_ids,
    settings_app,
    upload,
)
from video2audio.core.settings import get_settings
from video2audio.infra import storage
from video2audio.jobs import repository


@pytest.fixture
def published_copies():
    """A private queue bound like the convert queue, so the test sees each event published."""
    settings = get_settings()
    connection = pika.BlockingConnection(pika.URLParameters(settings.rabbitmq_url))
    channel = connection.channel()
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, settings.rabbitmq_exchange, routing_key=settings.convert_queue)
    yield channel, queue
    connection.close()


def test_upload_answers_202_with_the_job_and_its_status_url(upload_client, alice, sample_mp4):
    response = upload(upload_client, alice, sample_mp4)
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "queued"
    assert ObjectId.is_valid(body["video_fid"])
    assert body["status_url"].endswith(f"/jobs/{body['job_id']}")
    assert response.headers["Location"] == body["status_url"]


def test_the_stored_video_is_the_uploaded_bytes(upload_client, alice, sample_mp4, db):
    fid = ObjectId(upload(upload_client, alice, sample_mp4).get_json()["video_fid"])
    file_doc = storage.find_file(db, storage.VIDEOS, fid)
    assert b"".join(storage.iter_file_bytes(db, storage.VIDEOS, file_doc)) == sample_mp4


def test_the_job_records_owner_filename_output_and_container(upload_client, alice, sample_mp4, db):
    fields = {"format": "opus", "bitrate": "96k", "webhook_url": "https://example.com/hook"}
    body = upload(upload_client, alice, sample_mp4, filename="My Talk.mp4", fields=fields)
    job = repository.get_job(db, body.get_json()["job_id"], owner=alice.name)
    assert job["filename"] == "My Talk.mp4"
    assert job["output"] == {"format": "opus", "bitrate": "96k", "bitrate_requested": True}
    assert job["webhook_url"] == "https://example.com/hook"
    assert job["media"]["container"] == "mp4"
    assert job["video_size"] == len(sample_mp4)
    assert job["status"] == "queued"


def test_upload_publishes_a_binary_mode_cloudevent(
    upload_client, alice, sample_mp4, published_copies
):
    channel, queue = published_copies
    body = upload(upload_client, alice, sample_mp4).get_json()
    method, properties, payload = channel.basic_get(queue, auto_ack=True)
    assert method is not None
    headers = properties.headers
    assert headers["ce-type"] == "io.video2audio.video.uploaded"
    assert {"ce-specversion", "ce-source", "ce-id", "ce-time"} <= set(headers)
    assert properties.content_type == "application/json"
    assert properties.delivery_mode == 2
    data = json.loads(payload)
    assert data["job_id"] == body["job_id"]
    assert data["video_fid"] == body["video_fid"]
    assert data["owner"] == alice.name
    assert data["output"] == {"format": "mp3", "bitrate": "192k", "bitrate_requested": False}


def test_fields_sent_after_the_file_are_used(upload_client, alice, sample_mp4, db):
    response = post_multipart(
        upload_client, alice, [("file", sample_mp4, "clip.mp4"), ("format", "flac", None)]
    )
    assert response.status_code == 202
    job = repository.get_job(db, response.get_json()["job_id"], owner=alice.name)
    assert job["output"] == {"format": "flac", "bitrate": None}


def test_a_missing_file_is_a_400_that_stores_nothing(upload_client, alice, db):
    response = post_multipart(upload_client, alice, [("format", "mp3", None)])
    assert response.status_code == 400
    assert "file" in response.get_json()["error"]
    assert count_files(db, storage.VIDEOS, alice.name) == 0


def test_an_empty_file_is_a_400(upload_client, alice, db):
    response = upload(upload_client, alice, b"")
    assert response.status_code == 400
    assert "empty" in response.get_json()["error"]
    assert count_files(db, storage.VIDEOS, alice.name) == 0


def test_text_named_mp4_is_a_415_that_stores_nothing(upload_client, alice, db):
    response = upload(upload_client, alice, b"just some text, not a video\n" * 400)
    assert response.status_code == 415
    assert "not a video or audio" in response.get_json()["error"]
    assert count_files(db, storage.VIDEOS, alice.name) == 0
    assert db[repository.JOBS].count_documents({"owner": alice.name}) == 0


def test_a_file_over_the_limit_is_a_413_that_leaves_no_chunks(alice, sample_mp4, db, caplog):
    caplog.set_level(logging.INFO, logger="video2audio")
    client = settings_app(max_upload_bytes="2200000").test_client()
    # Within the declared-length allowance, so the limit is found while streaming, after the
    # first two 1 MiB GridFS chunks are already stored.
    content = sample_mp4 + os.urandom(2_300_000 - len(sample_mp4))
    response = upload(client, alice, content, filename="big.mp4")
    assert response.status_code == 413
    assert "limit" in response.get_json()["error"]
    assert count_files(db, storage.VIDEOS, alice.name) == 0
    assert no_chunks_left(db, caplog)
    assert db[repository.JOBS].count_documents({"owner": alice.name}) == 0


def test_a_declared_length_over_the_limit_is_a_413_at_once(alice, sample_mp4):
    client = settings_app(max_upload_bytes="1000").test_client()
    response = client.post(
        "/upload",
        data=multipart([("file", sample_mp4 + os.urandom(300_000), "big.mp4")])[0],
        headers={**alice.headers, "Content-Type": multipart([])[1]},
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("fields", "word"),
    [
        ({"format": "aiff"}, "format"),
        ({"bitrate": "999k"}, "bitrate"),
        ({"bitrate": "loud"}, "bitrate"),
        ({"format": "wav", "bitrate": "128k"}, "bitrate"),
        ({"webhook_url": "ftp://example.com/x"}, "webhook_url"),
        ({"webhook_url": "not a url"}, "webhook_url"),
    ],
)
def test_bad_fields_are_a_400_that_stores_nothing(
    upload_client, alice, sample_mp4, db, fields, word
):
    response = upload(upload_client, alice, sample_mp4, fields=fields)
    assert response.status_code == 400
    assert word in response.get_json()["error"]
    assert count_files(db, storage.VIDEOS, alice.name) == 0


def test_a_bad_field_after_the_file_removes_the_stored_video(
    upload_client, alice, sample_mp4, db, caplog
):
    caplog.set_level(logging.INFO, logger="video2audio")
    response = post_multipart(
        upload_client, alice, [("file", sample_mp4, "clip.mp4"), ("format", "aiff", None)]
    )
    assert response.status_code == 400
    assert count_files(db, storage.VIDEOS, alice.name) == 0
    assert no_chunks_left(db, caplog)


def test_a_body_that_is_not_multipart_is_a_400(upload_client, alice, sample_mp4):
    response = upload_client.post(
        "/upload", data=sample_mp4, headers={**alice.headers, "Content-Type": "video/mp4"}
    )
    assert response.status_code == 400
    assert "multipart/form-data" in response.get_json()["error"]


def test_a_truncated_multipart_body_is_a_400_that_stores_nothing(
    upload_client, alice, sample_mp4, db
):
    body, content_type = multipart([("file", sample_mp4, "clip.mp4")])
    response = upload_client.post(
        "/upload",
        data=body[: len(body) // 2],
        headers={**alice.headers, "Content-Type": content_type},
    )
    assert response.status_code == 400
    assert count_files(db, storage.VIDEOS, alice.name) == 0


def test_upload_without_a_token_is_a_401_with_www_authenticate(upload_client, sample_mp4):
    body, content_type = multipart([("file", sample_mp4, "clip.mp4")])
    response = upload_client.post("/upload", data=body, headers={"Content-Type": content_type})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_event_the_broker_cannot_route_leaves_the_job_in_the_outbox(alice, sample_mp4, db):
    # The broker confirms nothing it cannot route (mandatory flag): the upload stays accepted,
    # and its event waits in the outbox for the redelivery sweep.
    client = settings_app(convert_queue="video2audio.no-such-queue").test_client()
    response = upload(client, alice, sample_mp4)
    assert response.status_code == 202
    job = repository.load_job(db, response.get_json()["job_id"])
    assert (job["status"], job["upload_announced"]) == ("queued", False)
    assert count_files(db, storage.VIDEOS, alice.name) == 1


def no_chunks_left(db, caplog) -> bool:
    removed = removed_file_ids(caplog)
    assert removed, "the upload code did not report removing a stored video"
    return all(chunks_of(db, storage.VIDEOS, file_id) == 0 for file_id in removed)


@pytest.mark.parametrize("kind", sorted(POLYGLOTS))
def test_a_playlist_disguised_as_an_mp3_is_a_415_that_stores_nothing(
    upload_client, alice, db, tmp_path, kind
):
    disguised = POLYGLOTS[kind](tmp_path / "secret.ts")
    response = upload(upload_client, alice, disguised, filename="song.mp3")
    assert response.status_code == 415
    assert "error" in response.get_json()
    assert count_files(db, "videos", alice.name) == 0
