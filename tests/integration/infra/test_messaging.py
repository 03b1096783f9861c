"""Topology and confirmed publishing against the real RabbitMQ."""

from __future__ import annotations

import time
import uuid

import pika
import pytest

from video2audio.core.errors import TransientError
from video2audio.core.settings import get_settings
from video2audio.infra.events import VIDEO_UPLOADED, build_event
from video2audio.infra.messaging import RabbitPublisher
from video2audio.infra.topology import Topology, declare_topology


@pytest.fixture
def topology():
    suffix = uuid.uuid4().hex[:8]
    topology = Topology(
        exchange=f"test.{suffix}",
        dead_letter_exchange=f"test.{suffix}.dlx",
        queues=(f"test.{suffix}.work",),
    )
    connection = pika.BlockingConnection(pika.URLParameters(get_settings().rabbitmq_url))
    channel = connection.channel()
    yield topology, channel
    for queue in topology.queues:
        channel.queue_delete(queue)
        channel.queue_delete(Topology.parked_queue(queue))
    channel.exchange_delete(topology.exchange)
    channel.exchange_delete(topology.dead_letter_exchange)
    connection.close()


def get_one(channel, queue: str, *, auto_ack: bool = False):
    """The next message on ``queue``, waiting briefly: a publish is not instantly visible."""
    for _ in range(50):
        method, properties, body = channel.basic_get(queue, auto_ack=auto_ack)
        if method is not None:
            return method, properties, body
        time.sleep(0.1)
    raise AssertionError(f"no message on {queue}")


def test_declaring_the_topology_twice_is_harmless(topology):
    names, channel = topology
    declare_topology(channel, names)
    declare_topology(channel, names)
    assert channel.queue_declare(names.queues[0], passive=True).method.message_count == 0


def test_a_published_event_arrives_persistent_in_binary_mode(topology):
    names, channel = topology
    publisher = RabbitPublisher(
        get_settings().rabbitmq_url, exchange=names.exchange, topology=names
    )
    event = build_event(VIDEO_UPLOADED, {"job_id": "j1"}, source="/tests")
    publisher.publish(event, routing_key=names.queues[0])
    publisher.close()
    _, properties, body = get_one(channel, names.queues[0], auto_ack=True)
    assert properties.delivery_mode == 2
    assert properties.content_type == "application/json"
    assert properties.headers["ce-type"] == VIDEO_UPLOADED
    assert properties.headers["ce-id"] == event["id"]
    assert {"ce-specversion", "ce-source", "ce-time"} <= set(properties.headers)
    assert b'"job_id"' in body


def test_an_unroutable_publish_is_a_transient_error(topology):
    names, _ = topology
    publisher = RabbitPublisher(
        get_settings().rabbitmq_url, exchange=names.exchange, topology=names
    )
    event = build_event(VIDEO_UPLOADED, {"job_id": "j1"}, source="/tests")
    with pytest.raises(TransientError):
        publisher.publish(event, routing_key="no-queue-is-bound-to-this")
    publisher.close()


def test_a_rejected_message_is_parked_not_dropped(topology):
    names, channel = topology
    declare_topology(channel, names)
    queue = names.queues[0]
    channel.basic_publish(names.exchange, queue, b"{}")
    method, _, _ = get_one(channel, queue)
    channel.basic_nack(method.delivery_tag, requeue=False)
    _, _, body = get_one(channel, Topology.parked_queue(queue), auto_ack=True)
    assert body == b"{}"


def test_the_publisher_is_unhealthy_when_the_broker_is_unreachable():
    publisher = RabbitPublisher("amqp://guest:guest@127.0.0.1:1/%2F", exchange="x")
    assert publisher.is_healthy() is False
    with pytest.raises(TransientError):
        publisher.publish(build_event(VIDEO_UPLOADED, {}, source="/t"), routing_key="q")
