"""POST /import: the job is recorded and announced like an upload, and convert fetches the file
from a local HTTP server before converting it; a failing fetch fails the job with the reason."""

from __future__ import annotations

import pytest

from tests.support.media_server import Route, media_server
from tests.support.uploads import deliver, published_events
from tests.support.waiting import wait_until
from video2audio.jobs import repository


@pytest.fixture
def server():
    with media_server() as served:
        yield served


def import_and_convert(upload_client, user, url, convert_queue_copies, converter, db, **fields):
    response = upload_client.post("/import", json={"url": url, **fields}, headers=user.headers)
    assert response.status_code == 202, response.get_json()
    job_id = response.get_json()["job_id"]
    channel, queue = convert_queue_copies
    events = wait_until(
        lambda: published_events(channel, queue), timeout=10, what="the import's event"
    )
    assert [event["headers"]["ce-subject"] for event in events] == [job_id]
    client, _notify = converter
    assert deliver(client, events[0]).status_code < 300
    return repository.load_job(db, job_id)


def test_an_import_answers_202_with_a_queued_job(upload_client, alice, server, db):
    server.routes["talk.mp4"] = Route(body=b"unused")
    response = upload_client.post(
        "/import", json={"url": server.url("talk.mp4")}, headers=alice.headers
    )
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "queued"
    assert response.headers["Location"] == body["status_url"]
    job = repository.load_job(db, body["job_id"])
    assert (job["filename"], job["import"]["url"]) == ("talk.mp4", server.url("talk.mp4"))


def test_an_imported_video_is_fetched_and_converted(
    upload_client, alice, server, sample_mp4, convert_queue_copies, converter, db
):
    server.routes["old-link"] = Route(status=302, location="/talk.mp4")
    server.routes["talk.mp4"] = Route(body=sample_mp4, content_type="video/mp4")
    job = import_and_convert(
        upload_client, alice, server.url("old-link"), convert_queue_copies, converter, db,
        format="mp3",
    )  # fmt: skip
    assert job["status"] == "done", job.get("error")
    assert job["video_size"] == len(sample_mp4)
    assert job["import"]["final_url"] == server.url("talk.mp4")


def test_an_html_page_fails_the_job_saying_it_is_not_a_video(
    upload_client, alice, server, convert_queue_copies, converter, db
):
    server.routes["page"] = Route(body=b"<!doctype html><p>hi</p>" * 400, content_type="text/html")
    job = import_and_convert(
        upload_client, alice, server.url("page"), convert_queue_copies, converter, db
    )
    assert job["status"] == "failed"
    assert "not a video or audio file" in job["error"]


def test_an_unreachable_url_fails_the_job_saying_so(
    upload_client, alice, convert_queue_copies, converter, db
):
    with media_server() as gone:
        url = gone.url("talk.mp4")
    job = import_and_convert(upload_client, alice, url, convert_queue_copies, converter, db)
    assert job["status"] == "failed"
    assert "unreachable" in job["error"]
