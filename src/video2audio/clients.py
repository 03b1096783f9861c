"""Process-wide clients, created lazily on first use, one of each per process.

Functions call these getters; domain code receives the clients as keyword arguments.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterator

import pika.exceptions
import psycopg2
import psycopg2.pool
import pymongo.errors
from pymongo import MongoClient
from pymongo.database import Database

from video2audio.errors import TransientError
from video2audio.messaging import RabbitPublisher, Topology
from video2audio.settings import get_settings

logger = logging.getLogger(__name__)

# Library errors that mean "a dependency is unreachable right now": worth a retry, never a 500.
DEPENDENCY_ERRORS: tuple[type[BaseException], ...] = (
    pymongo.errors.ConnectionFailure,
    pymongo.errors.ServerSelectionTimeoutError,
    pymongo.errors.NetworkTimeout,
    psycopg2.OperationalError,
    psycopg2.InterfaceError,
    pika.exceptions.AMQPError,
    ConnectionError,
)


@functools.cache
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


@functools.cache
def postgres_pool() -> psycopg2.pool.ThreadedConnectionPool:
    try:
        return psycopg2.pool.ThreadedConnectionPool(
            0, 8, get_settings().database_url, connect_timeout=3
        )
    except psycopg2.Error as exc:
        raise TransientError("the user database is unavailable") from exc


@contextlib.contextmanager
def postgres_connection() -> Iterator[psycopg2.extensions.connection]:
    """A pooled connection in a transaction: committed on success, rolled back on error.

    A connection that failed at the network level is discarded, so the pool heals by itself
    after the database comes back.
    """
    pool = postgres_pool()
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


def messaging_topology() -> Topology:
    settings = get_settings()
    return Topology(
        exchange=settings.rabbitmq_exchange,
        dead_letter_exchange=settings.rabbitmq_dead_letter_exchange,
        queues=(settings.convert_queue, settings.notify_queue),
    )


@functools.cache
def rabbit_publisher() -> RabbitPublisher:
    settings = get_settings()
    return RabbitPublisher(
        settings.rabbitmq_url, exchange=settings.rabbitmq_exchange, topology=messaging_topology()
    )
