"""RabbitMQ or MongoDB down: 503s with nothing half-written, and recovery without a restart.

Each service is stopped once for the tests that need it down (a restart costs seconds) with the
project's script, so the instance variables of whoever runs the tests apply.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pymongo.errors
import pytest

from tests.support.services import run_services
from tests.support.uploads import (
    User,
    count_files,
    forget_user,
    make_user,
    upload,
)
from video2audio.infra import storage
from video2audio.infra.clients import mongo_client
from video2audio.jobs import repository


def start_mongo() -> None:
    run_services("start-mongo")


def eventually(check, *, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


@pytest.fixture(scope="module")
def carol(db) -> Iterator[User]:
    """One user across the MongoDB tests (which cannot clean up per test while it is down)."""
    user = make_user()
    yield user
    forget_user(db, user)


@pytest.fixture(scope="module")
def rabbitmq_stopped():
    run_services("stop-rabbitmq")
    yield
    run_services("start-rabbitmq")


@pytest.fixture(scope="module")
def mongo_stopped():
    run_services("stop-mongo")
    try:
        mongo_client().admin.command("ping")
    except pymongo.errors.PyMongoError:
        pass
    else:
        pytest.skip("MongoDB still answers: it is not one that scripts/services.sh manages")
    yield
    start_mongo()


def test_an_upload_while_rabbitmq_is_down_is_accepted_and_waits_in_the_outbox(
    rabbitmq_stopped, upload_client, alice, sample_mp4, db
):
    response = upload(upload_client, alice, sample_mp4)

    assert response.status_code == 202
    job = repository.load_job(db, response.get_json()["job_id"])
    assert (job["status"], job["upload_announced"]) == ("queued", False)
    assert storage.find_file(db, storage.VIDEOS, job["video_fid"]) is not None


def test_healthz_is_200_naming_rabbitmq_while_it_is_down(rabbitmq_stopped, upload_client):
    # Uploads are still accepted (the outbox), so the function stays ready.
    response = upload_client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["checks"] == {"mongodb": True, "rabbitmq": False}


def test_uploads_are_announced_at_once_again_when_rabbitmq_is_back(
    upload_client, alice, sample_mp4, db
):
    run_services("start-rabbitmq")
    assert eventually(lambda: upload_client.get("/healthz").get_json()["status"] == "ok")
    response = upload(upload_client, alice, sample_mp4)
    assert response.status_code == 202
    assert repository.load_job(db, response.get_json()["job_id"])["upload_announced"] is True


def test_requests_while_mongodb_is_down_are_503_not_500(mongo_stopped, upload_client, carol):
    response = upload_client.get("/jobs", headers=carol.headers)
    assert response.status_code == 503
    assert "unavailable" in response.get_json()["error"]


def test_an_upload_while_mongodb_is_down_is_a_503(mongo_stopped, upload_client, carol, sample_mp4):
    assert upload(upload_client, carol, sample_mp4).status_code == 503


def test_healthz_is_503_naming_mongodb_while_it_is_down(mongo_stopped, upload_client):
    response = upload_client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["mongodb"] is False


def test_requests_work_again_once_mongodb_is_back(upload_client, carol, db):
    start_mongo()
    assert eventually(lambda: upload_client.get("/jobs", headers=carol.headers).status_code == 200)
    assert upload_client.get("/healthz").status_code == 200
    # The upload refused while MongoDB was down left nothing behind.
    assert count_files(db, storage.VIDEOS, carol.name) == 0
    assert db[repository.JOBS].count_documents({"owner": carol.name}) == 0
