"""Process-wide clients, created lazily on first use, one of each per process.

Functions call these getters; domain code receives the clients as keyword arguments.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

import psycopg2
import psycopg2.pool
from pymongo import MongoClient
from pymongo.database import Database

from video2audio.core.errors import TransientError
from video2audio.core.once import once_per_process
from video2audio.core.settings import Settings, get_settings
from video2audio.infra.messaging import RabbitPublisher
from video2audio.infra.topology import Topology

logger = logging.getLogger(__name__)


@once_per_process
def mongo_client() -> MongoClient:
    settings = get_settings()
    return MongoClient(
        settings.mongo_url,
        serverSelectionTimeoutMS=3000,
        connectTimeoutMS=3000,
        socketTimeoutMS=120_000,
        tz_aware=True,
    )


def mongo_database() -> Database:
    return mongo_client()[get_settings().mongo_db]


@once_per_process
def postgres_pool() -> psycopg2.pool.ThreadedConnectionPool:
    settings = get_settings()
    try:
        return psycopg2.pool.ThreadedConnectionPool(
            0, settings.database_pool_size, settings.database_url, connect_timeout=3
        )
    except psycopg2.Error as exc:
        raise TransientError("the user database is unavailable") from exc


@once_per_process
def _postgres_slots() -> threading.BoundedSemaphore:
    """One per pooled connection: psycopg2's pool refuses a request when all are taken, where
    a request should wait its turn (a burst of logins is not an outage)."""
    return threading.BoundedSemaphore(get_settings().database_pool_size)


@contextlib.contextmanager
def postgres_connection() -> Iterator[psycopg2.extensions.connection]:
    """A pooled connection in a transaction: committed on success, rolled back on error.

    Waits up to DATABASE_POOL_WAIT_SECONDS for a free connection. A connection that failed at
    the network level is discarded, so the pool heals by itself after the database comes back.
    """
    pool, slots = postgres_pool(), _postgres_slots()
    if not slots.acquire(timeout=get_settings().database_pool_wait_seconds):
        raise TransientError("the user database is busy; retry shortly")
    try:
        try:
            connection = pool.getconn()
        except psycopg2.Error as exc:
            raise TransientError("the user database is unavailable") from exc
        broken = False
        try:
            with connection:
                yield connection
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            broken = True
            raise TransientError("the user database is unavailable") from exc
        finally:
            pool.putconn(connection, close=broken or bool(connection.closed))
    finally:
        slots.release()


def messaging_topology(settings: Settings | None = None) -> Topology:
    settings = settings or get_settings()
    return Topology(
        exchange=settings.rabbitmq_exchange,
        dead_letter_exchange=settings.rabbitmq_dead_letter_exchange,
        queues=(settings.convert_queue, settings.notify_queue),
    )


@once_per_process
def rabbit_publisher() -> RabbitPublisher:
    settings = get_settings()
    return RabbitPublisher(
        settings.rabbitmq_url, exchange=settings.rabbitmq_exchange, topology=messaging_topology()
    )


def reset_clients() -> None:
    """Forget the settings and every client built from them (tests change the environment)."""
    for getter in (get_settings, mongo_client, postgres_pool, _postgres_slots, rabbit_publisher):
        getter.cache_clear()  # type: ignore[attr-defined]
