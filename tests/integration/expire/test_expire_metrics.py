"""What a run of the expire function adds to its metrics."""

from __future__ import annotations

import time

from tests.support.expire import make_job
from tests.support.functions import function_app
from tests.support.metrics import sample
from video2audio.core.settings import get_settings
from video2audio.infra.clients import mongo_database
from video2audio.infra.events import PING, build_event, to_http_binary
from video2audio.jobs.model import JobStatus

# Older than the retention, so the shared database's younger files are left alone.
RETENTION = get_settings().retention_seconds
AGE = 2 * RETENTION
LAST_SUCCESS = "video2audio_expiry_last_success_timestamp_seconds"


def ping(data: dict):
    headers, body = to_http_binary(build_event(PING, data, source="/tests/ping"))
    return function_app("expire").test_client().post("/", headers=headers, data=body)


def test_an_expiry_run_counts_ok_and_the_files_and_bytes_it_deleted():
    make_job(mongo_database(), status=JobStatus.DONE, video_age=AGE, audio_age=AGE)
    names = [
        ("video2audio_expiry_runs_total", {"outcome": "ok"}),
        ("video2audio_expired_files_total", {}),
        ("video2audio_expired_bytes_total", {}),
    ]
    before = [sample(name, labels) for name, labels in names]
    started = time.time()

    response = ping({"older_than_seconds": RETENTION})

    assert response.status_code == 200
    summary = response.get_json()
    added = [sample(name, labels) - was for (name, labels), was in zip(names, before, strict=True)]
    assert added == [1, summary["files_deleted"], summary["bytes_deleted"]]
    assert summary["files_deleted"] >= 2
    assert started <= sample(LAST_SUCCESS) <= time.time()


def test_a_dry_run_is_not_counted_as_an_expiry_run():
    runs = ("video2audio_expiry_runs_total", {"outcome": "ok"})
    before = sample(*runs), sample("video2audio_expired_files_total")
    make_job(mongo_database(), status=JobStatus.DONE, video_age=AGE, audio_age=AGE)

    response = ping({"older_than_seconds": RETENTION, "dry_run": True})

    assert response.status_code == 200
    assert response.get_json()["files_deleted"] >= 2
    assert (sample(*runs), sample("video2audio_expired_files_total")) == before
