"""The RabbitMQ topology, declared in one place: ``python -m video2audio.infra.topology``.

The event sources consume predeclared queues (``predeclared: true``), so the stack declares the
topology before it starts them; the publisher declares the same on its first connect.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pika
from pika.adapters.blocking_connection import BlockingChannel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Topology:
    """Names of the exchanges and queues; every component uses these same names."""

    exchange: str
    dead_letter_exchange: str
    queues: tuple[str, ...]

    @staticmethod
    def parked_queue(queue: str) -> str:
        return f"{queue}.parked"


def declare_topology(channel: BlockingChannel, topology: Topology) -> None:
    """Declare exchanges, work queues and their parked-message queues, idempotently.

    A message that the event source rejects (it nacks without requeue once its retries run out)
    is dead-lettered into ``<queue>.parked`` instead of being dropped.
    """
    channel.exchange_declare(topology.exchange, exchange_type="direct", durable=True)
    channel.exchange_declare(topology.dead_letter_exchange, exchange_type="direct", durable=True)
    for queue in topology.queues:
        parked = Topology.parked_queue(queue)
        channel.queue_declare(parked, durable=True, arguments={"x-queue-type": "quorum"})
        channel.queue_bind(parked, topology.dead_letter_exchange, routing_key=queue)
        channel.queue_declare(
            queue,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-dead-letter-exchange": topology.dead_letter_exchange,
                "x-dead-letter-routing-key": queue,
            },
        )
        channel.queue_bind(queue, topology.exchange, routing_key=queue)


def main() -> None:
    from video2audio.core.logs import configure_logging
    from video2audio.core.settings import get_settings
    from video2audio.infra.clients import messaging_topology

    settings = get_settings()
    configure_logging(settings)
    topology = messaging_topology(settings)
    connection = pika.BlockingConnection(pika.URLParameters(settings.rabbitmq_url))
    try:
        declare_topology(connection.channel(), topology)
    finally:
        connection.close()
    logger.info("declared exchange %s and queues %s", topology.exchange, ", ".join(topology.queues))


if __name__ == "__main__":
    main()
