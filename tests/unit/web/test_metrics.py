"""GET /metrics and the HTTP request metrics, on the functions' apps as functions-framework
builds them (no backing service is reached: the requests stop before any is needed)."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.functions import function_app
from tests.support.metrics import sample
from video2audio.infra import clients
from video2audio.infra.events import AUDIO_READY, build_event, to_http_binary

TOKEN = "t" * 40
REQUESTS = "video2audio_http_requests_total"


@pytest.fixture
def with_token(monkeypatch):
    monkeypatch.setenv("METRICS_TOKEN", TOKEN)
    clients.reset_clients()
    yield
    monkeypatch.undo()
    clients.reset_clients()


@pytest.fixture
def upload():
    return function_app("upload").test_client()


@pytest.fixture
def convert():
    return function_app("convert").test_client()


def family_names(text: str) -> set[str]:
    return {family.name for family in text_string_to_metric_families(text)}


def test_an_http_function_answers_metrics_in_the_prometheus_text_format(upload):
    response = upload.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    names = family_names(response.get_data(as_text=True))
    assert {"video2audio_http_requests", "video2audio_uploads", "process_cpu_seconds"} <= names


def test_a_cloudevent_function_answers_metrics_on_get(convert):
    response = convert.get("/metrics")
    assert response.status_code == 200
    assert "video2audio_conversions" in family_names(response.get_data(as_text=True))


def test_metrics_without_a_token_are_refused_when_one_is_set(with_token, upload):
    response = upload.get("/metrics")
    assert response.status_code == 401
    assert "error" in response.get_json()


def test_metrics_with_a_wrong_token_are_refused(with_token, convert):
    response = convert.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"})
    assert response.status_code == 401


def test_metrics_with_the_token_are_served(with_token, convert):
    response = convert.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200


def test_a_request_is_labelled_by_its_route_template_not_its_path(upload):
    labels = {"function": "upload", "route": "/jobs/<job_id>", "method": "GET", "status": "401"}
    before = sample(REQUESTS, labels)
    assert upload.get("/jobs/0123456789abcdef0123456789abcdef").status_code == 401
    assert sample(REQUESTS, labels) - before == 1
    raw = {**labels, "route": "/jobs/0123456789abcdef0123456789abcdef"}
    assert sample(REQUESTS, raw) == 0


def test_a_request_no_route_matches_is_labelled_unmatched(upload):
    labels = {"function": "upload", "route": "unmatched", "method": "GET", "status": "404"}
    before = sample(REQUESTS, labels)
    assert upload.get("/no/such/page").status_code == 404
    assert sample(REQUESTS, labels) - before == 1


def test_request_durations_are_observed_per_route(upload):
    labels = {"function": "upload", "route": "/metrics", "method": "GET"}
    before = sample("video2audio_http_request_duration_seconds_count", labels)
    upload.get("/metrics")
    assert sample("video2audio_http_request_duration_seconds_count", labels) - before == 1


def test_a_get_to_a_cloudevent_function_is_labelled_unmatched(convert):
    labels = {"function": "convert", "route": "unmatched", "method": "GET", "status": "405"}
    before = sample(REQUESTS, labels)
    assert convert.get("/").status_code == 405
    assert sample(REQUESTS, labels) - before == 1


def test_an_event_answered_400_is_counted_as_4xx_under_its_type(convert):
    # convert takes video.uploaded events only: audio.ready is refused with 400.
    event = build_event(AUDIO_READY, {"job_id": "0" * 32}, source="tests")
    headers, body = to_http_binary(event)
    events = {"function": "convert", "type": AUDIO_READY, "answer": "4xx"}
    requests = {"function": "convert", "route": "/", "method": "POST", "status": "400"}
    before = sample("video2audio_events_received_total", events), sample(REQUESTS, requests)
    assert convert.post("/", headers=headers, data=body).status_code == 400
    after = sample("video2audio_events_received_total", events), sample(REQUESTS, requests)
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)


def test_an_unknown_event_type_is_counted_as_other(convert):
    event = build_event("com.example.unknown", {"job_id": "0" * 32}, source="tests")
    headers, body = to_http_binary(event)
    labels = {"function": "convert", "type": "other", "answer": "4xx"}
    before = sample("video2audio_events_received_total", labels)
    assert convert.post("/", headers=headers, data=body).status_code == 400
    assert sample("video2audio_events_received_total", labels) - before == 1
