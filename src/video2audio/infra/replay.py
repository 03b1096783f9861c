"""Move parked messages back to their work queue: ``python -m video2audio.infra.replay QUEUE``.

A message the event source gave up on is dead-lettered into ``<queue>.parked``. This moves every
one of them back to ``<queue>`` (each republished with publisher confirms before it is removed
from the parked queue, so none is lost if this stops halfway) and prints how many. Running it
again moves nothing more. QUEUE is ``convert``, ``notify`` or a full queue name.
"""

from __future__ import annotations

import argparse
import sys

import pika
import pika.exceptions

from video2audio.core.settings import get_settings
from video2audio.infra.clients import messaging_topology
from video2audio.infra.topology import Topology, declare_topology


def replay(url: str, topology: Topology, queue: str) -> int:
    """Move the messages of ``<queue>.parked`` back to ``queue``; returns how many."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        declare_topology(channel, topology)
        channel.confirm_delivery()
        parked = Topology.parked_queue(queue)
        # Only what is parked now: a message parked again meanwhile waits for the next run.
        waiting = channel.queue_declare(parked, passive=True).method.message_count
        moved = 0
        for _ in range(waiting):
            method, properties, body = channel.basic_get(parked, auto_ack=False)
            if method is None:
                break
            headers = {
                key: value
                for key, value in (properties.headers or {}).items()
                if not key.startswith("x-")  # the death records of its parking
            }
            properties.headers = headers
            channel.basic_publish(topology.exchange, queue, body, properties, mandatory=True)
            channel.basic_ack(method.delivery_tag)
            moved += 1
        return moved
    finally:
        connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("queue", help="convert, notify, or a queue name")
    args = parser.parse_args(argv)
    settings = get_settings()
    topology = messaging_topology(settings)
    queue = {"convert": settings.convert_queue, "notify": settings.notify_queue}.get(
        args.queue, args.queue
    )
    if queue not in topology.queues:
        print(
            f"unknown queue {args.queue!r}; one of: {', '.join(topology.queues)}", file=sys.stderr
        )
        return 2
    try:
        moved = replay(settings.rabbitmq_url, topology, queue)
    except pika.exceptions.AMQPError as exc:
        print(f"RabbitMQ at {settings.rabbitmq_url} is unavailable: {exc!r}", file=sys.stderr)
        return 1
    print(f"moved {moved} message(s) from {Topology.parked_queue(queue)} back to {queue}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
