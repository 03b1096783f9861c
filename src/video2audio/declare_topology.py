"""Declare the RabbitMQ topology from settings: ``python -m video2audio.declare_topology``.

The event sources consume predeclared queues (``predeclared: true``), so the stack declares the
topology before it starts them; the same code runs in the publisher on first connect.
"""

from __future__ import annotations

import logging

import pika

from video2audio.clients import messaging_topology
from video2audio.logs import configure_logging
from video2audio.messaging import declare_topology
from video2audio.settings import get_settings

logger = logging.getLogger(__name__)


def main() -> None:
    configure_logging()
    topology = messaging_topology()
    connection = pika.BlockingConnection(pika.URLParameters(get_settings().rabbitmq_url))
    try:
        declare_topology(connection.channel(), topology)
    finally:
        connection.close()
    logger.info("declared exchange %s and queues %s", topology.exchange, ", ".join(topology.queues))


if __name__ == "__main__":
    main()
