"""The local RabbitmqSource: Knative's receive adapter run by `local-eventing rabbitmq` against the
private RabbitMQ, delivering to a real HTTP server."""

from __future__ import annotations

import subprocess
import threading
import time
import uuid

import pytest

from tests.support.eventing import cloudevent_headers, json_body, rabbitmq_source_manifest
from tests.support.services import run_services


def wait_counts(queue, expected: tuple[int, int], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    counts = queue.counts()
    while counts != expected and time.monotonic() < deadline:
        time.sleep(0.1)
        counts = queue.counts()
    assert counts == expected, f"(ready, parked) = {counts}, expected {expected}"


def test_message_with_ce_headers_arrives_as_that_cloudevent_in_binary_mode(
    queue, sink, start_source
):
    start_source(rabbitmq_source_manifest(queue.name), sink.url)
    event_id = str(uuid.uuid4())
    queue.publish(
        json_body({"job_id": "j-1"}),
        headers=cloudevent_headers("io.video2audio.video.uploaded", event_id),
        content_type="application/json",
    )

    (request,) = sink.wait_for(1)
    assert request.headers["ce-specversion"] == "1.0"
    assert request.headers["ce-type"] == "io.video2audio.video.uploaded"
    assert request.headers["ce-source"] == "/video2audio/upload"
    assert request.headers["ce-id"] == event_id
    assert request.headers["content-type"] == "application/json"
    assert request.body == json_body({"job_id": "j-1"})
    wait_counts(queue, (0, 0))


def test_plain_message_arrives_as_rabbitmq_event_with_body_as_data(queue, sink, start_source):
    start_source(rabbitmq_source_manifest(queue.name), sink.url)
    queue.publish(b'{"plain": true}', content_type="application/json", message_id="m-42")

    (request,) = sink.wait_for(1)
    assert request.headers["ce-type"] == "dev.knative.rabbitmq.event"
    assert request.headers["ce-source"] == (
        f"/apis/v1/namespaces/video2audio/rabbitmqsources/test-source#{queue.name}"
    )
    assert request.headers["ce-id"] == "m-42"
    assert request.headers["content-type"] == "application/json"
    assert request.body == b'{"plain": true}'


def test_5xx_from_sink_is_retried_with_the_manifests_exponential_backoff(queue, sink, start_source):
    sink.statuses = [503, 503]
    start_source(rabbitmq_source_manifest(queue.name, retry=3, backoff_delay="PT0.2S"), sink.url)
    queue.publish(json_body({"n": 1}), headers=cloudevent_headers("t", "e-1"))

    first, second, third = sink.wait_for(3)
    # Waits are backoffDelay * 2^n: 0.4 s, then 0.8 s.
    assert 0.35 <= second.at - first.at < 2.0
    assert 0.7 <= third.at - second.at < 3.0
    assert first.body == second.body == third.body == json_body({"n": 1})
    wait_counts(queue, (0, 0))  # acknowledged after the 200, nothing parked


def test_message_is_parked_via_dead_letter_exchange_when_retries_run_out(queue, sink, start_source):
    sink.always = 503
    start_source(rabbitmq_source_manifest(queue.name, retry=2), sink.url)
    queue.publish(json_body({"n": 2}), headers=cloudevent_headers("t", "e-2"))

    sink.wait_for(3)  # the first try and two retries
    wait_counts(queue, (0, 1))
    properties, body = queue.get_parked()
    assert body == json_body({"n": 2})
    assert properties.headers["ce-id"] == "e-2"
    assert properties.headers["x-death"][0]["reason"] == "rejected"
    # Parked means rejected: the source holds the message no longer and cannot send it again.
    assert len(sink.requests) == 3


def test_500_from_sink_is_not_retried_and_parks_at_once(queue, sink, start_source):
    # The CloudEvents HTTP client retries only 404, 413, 425, 429, 502, 503 and 504
    # (and connection errors): a function must answer 503 for a transient failure.
    sink.always = 500
    start_source(rabbitmq_source_manifest(queue.name, retry=3), sink.url)
    queue.publish(json_body({"n": 3}), headers=cloudevent_headers("t", "e-3"))

    wait_counts(queue, (0, 1))
    assert len(sink.requests) == 1


def test_sends_at_most_parallelism_messages_at_once(queue, sink, start_source):
    sink.hold = threading.Event()
    start_source(rabbitmq_source_manifest(queue.name, parallelism=2), sink.url)
    for n in range(3):
        queue.publish(json_body({"n": n}), headers=cloudevent_headers("t", f"p-{n}"))

    sink.wait_for(2)
    assert sink.max_in_flight == 2
    sink.hold.set()
    sink.wait_for(3)
    assert sink.max_in_flight == 2
    wait_counts(queue, (0, 0))


def test_backoff_delay_below_the_adapters_resolution_is_rejected_at_start(
    queue, sink, local_eventing, rabbitmq_url, tmp_path
):
    # The adapter reads backoffDelay in tenths of a second; PT0.05S would become 0 and make its
    # retry ticker panic on the first failed send.
    manifest = tmp_path / "source.yaml"
    manifest.write_text(rabbitmq_source_manifest(queue.name, backoff_delay="PT0.05S"))

    result = subprocess.run(
        [
            str(local_eventing),
            "rabbitmq",
            "--manifest",
            str(manifest),
            "--sink-map",
            f"convert={sink.url}",
            "--rabbit-url",
            rabbitmq_url,
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 2
    assert "backoffDelay" in result.stderr


def test_ready_file_is_removed_when_the_source_stops(queue, sink, start_source):
    process = start_source(rabbitmq_source_manifest(queue.name), sink.url)
    assert process.ready_file.exists()

    assert process.stop() == 0
    assert not process.ready_file.exists()


@pytest.mark.slow
def test_source_reconnects_after_rabbitmq_restarts_without_losing_messages(
    queue, sink, start_source
):
    process = start_source(rabbitmq_source_manifest(queue.name), sink.url)
    pid = process.popen.pid

    run_services("restart-rabbitmq")
    # Published while the source may still be reconnecting: it waits in the durable queue.
    queue.publish(json_body({"after": "restart"}), headers=cloudevent_headers("t", "r-1"))

    (request,) = sink.wait_for(1, timeout=60)
    assert request.headers["ce-id"] == "r-1"
    process.wait_ready(timeout=60)
    # A reconnect that outlasts the adapter's own retries restarts it in place, same pid.
    assert process.popen.poll() is None
    assert process.popen.pid == pid
    wait_counts(queue, (0, 0))
