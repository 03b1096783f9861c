"""Parked messages go back to their queue, once, with nothing lost."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pika
import pytest

from video2audio.core.settings import get_settings
from video2audio.infra.replay import replay
from video2audio.infra.topology import Topology, declare_topology


@pytest.fixture
def parked_queue() -> Iterator[tuple[Topology, str, Any]]:
    """A queue of the test's own, its parked queue, and a channel with publisher confirms."""
    queue = f"test.replay.{uuid.uuid4().hex[:8]}"
    topology = Topology(
        exchange="video2audio", dead_letter_exchange="video2audio.dlx", queues=(queue,)
    )
    connection = pika.BlockingConnection(pika.URLParameters(get_settings().rabbitmq_url))
    channel = connection.channel()
    declare_topology(channel, topology)
    channel.confirm_delivery()
    yield topology, queue, channel
    channel.queue_delete(queue)
    channel.queue_delete(Topology.parked_queue(queue))
    connection.close()


def park(channel, topology: Topology, queue: str, body: bytes) -> None:
    """What the dead-letter exchange does with a message the event source gave up on."""
    properties = pika.BasicProperties(
        delivery_mode=2, headers={"ce-id": body.decode(), "x-death": [{"reason": "rejected"}]}
    )
    channel.basic_publish(topology.dead_letter_exchange, queue, body, properties, mandatory=True)


def depth(channel, queue: str) -> int:
    return channel.queue_declare(queue, passive=True).method.message_count


def test_parked_messages_move_back_with_their_cloudevent_headers(parked_queue):
    topology, queue, channel = parked_queue
    for n in range(3):
        park(channel, topology, queue, f"job-{n}".encode())
    assert depth(channel, Topology.parked_queue(queue)) == 3

    moved = replay(get_settings().rabbitmq_url, topology, queue)

    assert moved == 3
    assert depth(channel, Topology.parked_queue(queue)) == 0
    bodies = []
    for _ in range(3):
        _, properties, body = channel.basic_get(queue, auto_ack=True)
        bodies.append(body)
        # The death records of the parking are gone (the queue adds its own delivery count).
        assert properties.headers["ce-id"] == body.decode()
        assert "x-death" not in properties.headers
    assert sorted(bodies) == [b"job-0", b"job-1", b"job-2"]


def test_running_it_again_moves_nothing(parked_queue):
    topology, queue, channel = parked_queue
    park(channel, topology, queue, b"job-once")
    assert replay(get_settings().rabbitmq_url, topology, queue) == 1
    assert replay(get_settings().rabbitmq_url, topology, queue) == 0
    assert depth(channel, queue) == 1
