"""Prometheus as `make up` runs it: what it scrapes, the metric contract, the dashboard's queries.

After one conversion (with its completion email) and one expiry sweep that deletes it, the local
Prometheus must answer for every metric family of the contract with non-zero data, and every
query of the Grafana dashboard must return data.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from bson import ObjectId
from pymongo import MongoClient

from tests.support.media import make_video
from tests.support.monitoring import PROMETHEUS_URL, load_dashboard, panel_queries, query
from tests.support.waiting import WaitTimeout, wait_until
from video2audio.infra.events import PING, build_event, to_http_binary

FUNCTIONS = ("auth", "upload", "convert", "notify", "expire")
SCRAPE_WAIT = 60  # seconds: several 5 s scrape intervals, and rule evaluations after them

# Each family of the metric contract, as a series that is non-zero once a job went through
# (histograms by their _count).
CONTRACT_SERIES = (
    "video2audio_http_requests_total",
    "video2audio_http_request_duration_seconds_count",
    "video2audio_uploads_total",
    "video2audio_upload_bytes_total",
    "video2audio_conversions_total",
    "video2audio_conversion_duration_seconds_count",
    "video2audio_conversion_realtime_factor_count",
    "video2audio_conversion_read_bytes_total",
    "video2audio_conversion_written_bytes_total",
    "video2audio_notifications_total",
    "video2audio_expiry_runs_total",
    "video2audio_expiry_last_success_timestamp_seconds",
    "video2audio_expired_files_total",
    "video2audio_expired_bytes_total",
    "video2audio_events_received_total",
    # prometheus_client's default collectors, on the functions' own targets
    'process_resident_memory_bytes{job="video2audio"}',
    'python_info{job="video2audio"}',
)


@pytest.fixture(scope="module")
def one_job_through(stack, tmp_path_factory) -> str:
    """One upload converted and notified, then its files expired: every counter moves."""
    username = f"e2e-metrics-{uuid.uuid4().hex[:8]}"
    headers = {"Authorization": f"Bearer {stack.register_and_login(username)}"}
    source = make_video(tmp_path_factory.mktemp("metrics") / "clip.mp4", seconds=3)
    with source.open("rb") as handle:
        response = requests.post(
            f"{stack.upload_url}/upload",
            files={"file": (source.name, handle, "video/mp4")},
            data={"format": "mp3"},
            headers=headers,
            timeout=60,
        )
    assert response.status_code == 202, response.text
    accepted = response.json()

    def finished() -> dict | None:
        job = requests.get(
            f"{stack.upload_url}/jobs/{accepted['job_id']}", headers=headers, timeout=10
        ).json()
        return job if job["status"] in {"done", "failed"} else None

    done = wait_until(finished, timeout=240, interval=0.5, what="the conversion to finish")
    assert done["status"] == "done", done
    wait_until(
        lambda: any(
            m["Subject"].startswith("Your audio is ready")
            for m in stack.mail_to(f"{username}@example.com")
        ),
        timeout=60,
        what="the completion email",
    )
    # Make this job's files older than the retention, then ping expire as the PingSource does.
    client = MongoClient(stack.mongo_url, serverSelectionTimeoutMS=5000)
    try:
        backdated = datetime.now(UTC) - timedelta(seconds=stack.retention_seconds + 60)
        db = client[stack.mongo_db]
        for bucket, fid in (("videos", accepted["video_fid"]), ("audio", done["audio_fid"])):
            db[f"{bucket}.files"].update_one(
                {"_id": ObjectId(fid)}, {"$set": {"uploadDate": backdated}}
            )
    finally:
        client.close()
    ping_headers, ping_body = to_http_binary(
        build_event(PING, {}, source="/apis/v1/namespaces/e2e/pingsources/metrics")
    )
    expired = requests.post(stack.expire_url, data=ping_body, headers=ping_headers, timeout=60)
    assert expired.status_code == 200, expired.text
    return accepted["job_id"]


def targets_up() -> dict[tuple[str, str], bool]:
    response = requests.get(f"{PROMETHEUS_URL}/api/v1/targets", timeout=10)
    assert response.status_code == 200, response.text
    found = {}
    for target in response.json()["data"]["activeTargets"]:
        labels = target["labels"]
        found[(labels["job"], labels.get("function", ""))] = target["health"] == "up"
    return found


def test_prometheus_scrapes_the_five_functions_rabbitmq_and_itself(stack):
    wanted = {("video2audio", name) for name in FUNCTIONS} | {("rabbitmq", ""), ("prometheus", "")}
    targets = wait_until(
        lambda: (t := targets_up()) and all(t.get(key) for key in wanted) and t,
        timeout=SCRAPE_WAIT,
        what="every scrape target to be up",
    )
    assert set(targets) == wanted


def test_rabbitmq_reports_each_queue_on_its_own(stack):
    queues = {
        series["metric"]["queue"]
        for series in wait_until(
            lambda: query('rabbitmq_queue_messages_ready{job="rabbitmq"}'),
            timeout=SCRAPE_WAIT,
            what="RabbitMQ's per-queue series",
        )
    }
    assert {"video2audio.convert", "video2audio.convert.parked"} <= queues
    assert {"video2audio.notify", "video2audio.notify.parked"} <= queues


@pytest.mark.parametrize("series", CONTRACT_SERIES)
def test_every_metric_family_has_non_zero_data_after_one_job(stack, one_job_through, series):
    wait_until(
        lambda: query(f"sum({series}) > 0"),
        timeout=SCRAPE_WAIT,
        interval=1,
        what=f"a non-zero {series} in Prometheus",
    )


def test_every_dashboard_query_returns_data_after_one_job(stack, one_job_through):
    pending = list(panel_queries(load_dashboard()))

    def all_answered() -> bool:
        pending[:] = [q for q in pending if not query(q.expr)]
        return not pending

    try:
        wait_until(all_answered, timeout=SCRAPE_WAIT, interval=1, what="every dashboard query")
    except WaitTimeout:
        empty = [f"panel {q.panel_id} {q.title!r} {q.ref_id}: {q.expr}" for q in pending]
        pytest.fail("dashboard queries without data:\n" + "\n".join(empty))
