"""The redelivery sweep against the real MongoDB-wire server and RabbitMQ: every job ends.

Each test has a database and a pair of queues of its own, so what the sweep publishes is exactly
what its jobs needed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pika
import pytest
from bson import ObjectId
from pymongo.database import Database

from video2audio.core.clock import now
from video2audio.core.settings import get_settings
from video2audio.expire.redelivery import RedeliveryPolicy, redeliver
from video2audio.infra.messaging import RabbitPublisher
from video2audio.infra.topology import Topology, declare_topology
from video2audio.jobs.model import JobStatus
from video2audio.jobs.repository import JOBS, create_job, load_job

POLICY = RedeliveryPolicy(stall_seconds=120, give_up_seconds=3 * 3600)
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CREATED = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
CONVERTED = f"00-{TRACE_ID}-b7ad6b7169203331-01"


class Queues:
    """A convert and a notify queue of the test's own, read with basic_get."""

    def __init__(self, url: str) -> None:
        suffix = uuid.uuid4().hex[:8]
        self.convert, self.notify = f"test.convert.{suffix}", f"test.notify.{suffix}"
        self.topology = Topology(
            exchange="video2audio",
            dead_letter_exchange="video2audio.dlx",
            queues=(self.convert, self.notify),
        )
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        declare_topology(self.channel, self.topology)

    def traceparents(self, queue: str) -> list[str | None]:
        """The ``traceparent`` of every event waiting in ``queue`` (None: it had none)."""
        taken = []
        while True:
            method, properties, _ = self.channel.basic_get(queue, auto_ack=True)
            if method is None:
                return taken
            taken.append((properties.headers or {}).get("ce-traceparent"))

    def take(self, queue: str) -> list[tuple[str, dict[str, Any]]]:
        """Every (event type, data) waiting in ``queue``."""
        taken = []
        while True:
            method, properties, body = self.channel.basic_get(queue, auto_ack=True)
            if method is None:
                return taken
            taken.append(((properties.headers or {}).get("ce-type"), json.loads(body)))

    def close(self) -> None:
        for queue in (self.convert, self.notify):
            self.channel.queue_delete(queue)
            self.channel.queue_delete(Topology.parked_queue(queue))
        self.connection.close()


@pytest.fixture
def queues() -> Iterator[Queues]:
    made = Queues(get_settings().rabbitmq_url)
    yield made
    made.close()


@pytest.fixture
def publisher(queues) -> RabbitPublisher:
    settings = get_settings()
    return RabbitPublisher(settings.rabbitmq_url, exchange="video2audio", topology=queues.topology)


def sweep(db: Database, publisher: RabbitPublisher, queues: Queues) -> dict[str, Any]:
    return redeliver(
        db, publisher, convert_queue=queues.convert, notify_queue=queues.notify, policy=POLICY
    )


def job(db: Database, *, age: float, **changes: Any) -> dict[str, Any]:
    """A job created ``age`` seconds ago, then changed as given (times are backdated too)."""
    made = create_job(
        db,
        owner="redelivery-tester",
        video_fid=ObjectId(),
        filename="talk.mp4",
        output={"format": "mp3", "bitrate": "192k"},
        webhook_url="https://hooks.example/v2a",
    )
    created = now() - timedelta(seconds=age)
    db[JOBS].update_one(
        {"_id": made["_id"]},
        {"$set": {"created_at": created, "updated_at": created, **changes}},
    )
    return load_job(db, made["_id"])


def test_a_job_whose_upload_event_never_went_out_is_announced(scratch_db, publisher, queues):
    waiting = job(scratch_db, age=60)

    summary = sweep(scratch_db, publisher, queues)

    assert summary["uploads_announced"] == 1
    [(event_type, data)] = queues.take(queues.convert)
    assert (event_type, data["job_id"]) == ("io.video2audio.video.uploaded", waiting["_id"])
    assert load_job(scratch_db, waiting["_id"])["upload_announced"] is True


def test_an_upload_event_from_the_outbox_carries_the_trace_of_the_jobs_creation(
    scratch_db, publisher, queues
):
    job(scratch_db, age=60, trace_id=TRACE_ID, traceparent=CREATED)
    sweep(scratch_db, publisher, queues)
    assert queues.traceparents(queues.convert) == [CREATED]


def test_an_outcome_from_the_outbox_carries_the_trace_of_its_conversion(
    scratch_db, publisher, queues
):
    job(
        scratch_db,
        age=600,
        status=JobStatus.DONE.value,
        audio_fid=ObjectId(),
        notified=False,
        finished_at=now() - timedelta(seconds=60),
        traceparent=CREATED,
        outcome_traceparent=CONVERTED,
    )
    sweep(scratch_db, publisher, queues)
    assert queues.traceparents(queues.notify) == [CONVERTED]


def test_a_job_given_up_tells_its_owner_in_the_jobs_own_trace(scratch_db, publisher, queues):
    job(scratch_db, age=4 * 3600, upload_announced=True, attempts=7, traceparent=CREATED)
    assert sweep(scratch_db, publisher, queues)["jobs_given_up"] == 1
    assert queues.traceparents(queues.notify) == [CREATED]


def test_a_job_just_stored_is_left_to_the_upload_that_is_announcing_it(
    scratch_db, publisher, queues
):
    job(scratch_db, age=1)
    assert sweep(scratch_db, publisher, queues)["uploads_announced"] == 0
    assert queues.take(queues.convert) == []


def test_a_stalled_queued_job_is_announced_again_each_time_after_twice_as_long(
    scratch_db, publisher, queues
):
    stalled = job(scratch_db, age=600, upload_announced=True)

    assert sweep(scratch_db, publisher, queues)["stalled_reannounced"] == 1
    assert [data["job_id"] for _, data in queues.take(queues.convert)] == [stalled["_id"]]
    # Announced just now: not again at the next pass, nor two stall periods later.
    assert sweep(scratch_db, publisher, queues)["stalled_reannounced"] == 0
    scratch_db[JOBS].update_one(
        {"_id": stalled["_id"]}, {"$set": {"announced_at": now() - timedelta(seconds=150)}}
    )
    assert sweep(scratch_db, publisher, queues)["stalled_reannounced"] == 0
    scratch_db[JOBS].update_one(
        {"_id": stalled["_id"]}, {"$set": {"announced_at": now() - timedelta(seconds=250)}}
    )
    assert sweep(scratch_db, publisher, queues)["stalled_reannounced"] == 1


def test_a_conversion_under_a_live_lease_is_left_alone(scratch_db, publisher, queues):
    job(
        scratch_db,
        age=600,
        upload_announced=True,
        status=JobStatus.PROCESSING.value,
        lease_owner="worker-1",
        lease_until=now() + timedelta(seconds=30),
    )
    assert sweep(scratch_db, publisher, queues)["stalled_reannounced"] == 0


def test_a_conversion_whose_worker_died_is_announced_again(scratch_db, publisher, queues):
    orphan = job(
        scratch_db,
        age=600,
        upload_announced=True,
        status=JobStatus.PROCESSING.value,
        lease_owner="worker-that-died",
        lease_until=now() - timedelta(seconds=300),
    )
    assert sweep(scratch_db, publisher, queues)["stalled_reannounced"] == 1
    assert [data["job_id"] for _, data in queues.take(queues.convert)] == [orphan["_id"]]


def test_a_job_that_never_ends_is_given_up_with_its_last_error_and_its_owner_told(
    scratch_db, publisher, queues
):
    stuck = job(
        scratch_db,
        age=4 * 3600,
        upload_announced=True,
        attempts=7,
        last_error="a backing service became unavailable during conversion",
    )

    assert sweep(scratch_db, publisher, queues)["jobs_given_up"] == 1

    failed = load_job(scratch_db, stuck["_id"])
    assert failed["status"] == "failed"
    assert failed["error"] == (
        "gave up after 7 attempts over 240 minutes: "
        "a backing service became unavailable during conversion"
    )
    assert failed["notified"] is True
    [(event_type, data)] = queues.take(queues.notify)
    assert (event_type, data["job_id"]) == ("io.video2audio.conversion.failed", stuck["_id"])


def test_an_outcome_that_never_went_out_is_announced(scratch_db, publisher, queues):
    ended = job(
        scratch_db,
        age=600,
        status=JobStatus.DONE.value,
        audio_fid=ObjectId(),
        notified=False,
        finished_at=now() - timedelta(seconds=60),
    )
    assert sweep(scratch_db, publisher, queues)["outcomes_announced"] == 1
    [(event_type, data)] = queues.take(queues.notify)
    assert (event_type, data["job_id"]) == ("io.video2audio.audio.ready", ended["_id"])


def test_a_notification_still_not_sent_is_announced_again_then_given_up(
    scratch_db, publisher, queues
):
    key_of = "{}-done".format
    ended = job(
        scratch_db,
        age=600,
        status=JobStatus.DONE.value,
        audio_fid=ObjectId(),
        notified=True,
        notifications_pending=True,
        finished_at=now() - timedelta(seconds=300),
    )
    key = key_of(ended["_id"])
    scratch_db[JOBS].update_one(
        {"_id": ended["_id"]}, {"$set": {f"notifications.{key}.email": {"state": "sent"}}}
    )

    assert sweep(scratch_db, publisher, queues)["notifications_reannounced"] == 1
    assert [data["job_id"] for _, data in queues.take(queues.notify)] == [ended["_id"]]

    scratch_db[JOBS].update_one(
        {"_id": ended["_id"]}, {"$set": {"finished_at": now() - timedelta(hours=4)}}
    )
    assert sweep(scratch_db, publisher, queues)["notifications_given_up"] == 1
    recorded = load_job(scratch_db, ended["_id"])
    assert recorded["notifications"][key]["webhook"]["state"] == "gave up"
    assert recorded["notifications"][key]["email"]["state"] == "sent"
    assert recorded["notifications_pending"] is False


def test_a_notification_sent_on_both_channels_is_settled_and_never_announced_again(
    scratch_db, publisher, queues
):
    ended = job(
        scratch_db,
        age=600,
        status=JobStatus.FAILED.value,
        notified=True,
        notifications_pending=True,
        finished_at=now() - timedelta(seconds=300),
    )
    key = f"{ended['_id']}-failed"
    sent = {"email": {"state": "sent"}, "webhook": {"state": "skipped"}}
    scratch_db[JOBS].update_one({"_id": ended["_id"]}, {"$set": {f"notifications.{key}": sent}})

    sweep(scratch_db, publisher, queues)

    assert load_job(scratch_db, ended["_id"])["notifications_pending"] is False
    assert queues.take(queues.notify) == []


def test_with_the_broker_down_nothing_is_marked_announced(scratch_db, queues):
    unreachable = RabbitPublisher(
        "amqp://guest:guest@127.0.0.1:1/%2F", exchange="video2audio", topology=queues.topology
    )
    waiting = job(scratch_db, age=60)

    summary = sweep(scratch_db, unreachable, queues)

    assert summary["broker_unavailable"] is True
    assert load_job(scratch_db, waiting["_id"])["upload_announced"] is False
