"""Publishing CloudEvents to RabbitMQ with publisher confirms."""

from __future__ import annotations

import logging
import threading

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from video2audio.core.errors import TransientError
from video2audio.infra.events import CloudEvent, to_amqp
from video2audio.infra.topology import Topology, declare_topology

logger = logging.getLogger(__name__)


class RabbitPublisher:
    """Publishes CloudEvents with publisher confirms over one lazily opened connection.

    pika's blocking connection is not thread-safe, so publishing is serialised by a lock; a broken
    connection is dropped and reopened on the next publish, so the publisher heals by itself.
    """

    def __init__(self, url: str, *, exchange: str, topology: Topology | None = None) -> None:
        self._parameters = pika.URLParameters(url)
        self._parameters.connection_attempts = 1
        self._parameters.socket_timeout = 3
        self._parameters.blocked_connection_timeout = 10
        self._exchange = exchange
        self._topology = topology
        self._lock = threading.Lock()
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    def _open_channel(self) -> BlockingChannel:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self._close()
        self._connection = pika.BlockingConnection(self._parameters)
        channel = self._connection.channel()
        if self._topology is not None:
            declare_topology(channel, self._topology)
        channel.confirm_delivery()
        self._channel = channel
        return channel

    def _close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except pika.exceptions.AMQPError:
                logger.debug("ignoring error while closing a broken connection", exc_info=True)

    def publish(self, event: CloudEvent, *, routing_key: str) -> None:
        """Publish ``event`` persistently; return only once the broker confirmed it.

        Raises :class:`TransientError` when the broker is unreachable, refuses the message,
        or cannot route it to a queue.
        """
        headers, body, content_type = to_amqp(event)
        properties = pika.BasicProperties(
            content_type=content_type,
            delivery_mode=pika.DeliveryMode.Persistent,
            headers=headers,
            message_id=event["id"],
        )
        with self._lock:
            for attempt in (1, 2):
                try:
                    channel = self._open_channel()
                    channel.basic_publish(
                        self._exchange, routing_key, body, properties, mandatory=True
                    )
                    return
                except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as exc:
                    self._close()
                    raise TransientError("the message broker did not accept the event") from exc
                except (pika.exceptions.AMQPError, OSError) as exc:
                    self._close()
                    if attempt == 2:
                        raise TransientError("the message broker is unavailable") from exc
                    logger.info("reconnecting to RabbitMQ after %s", type(exc).__name__)

    def is_healthy(self) -> bool:
        with self._lock:
            try:
                self._open_channel()
                self._connection.process_data_events(0)  # type: ignore[union-attr]
            except (pika.exceptions.AMQPError, OSError):
                self._close()
                return False
            return True

    def close(self) -> None:
        with self._lock:
            self._close()
