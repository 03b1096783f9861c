"""Process-wide clients, created lazily on first use, one of each per process.

Functions call these getters; domain code receives the clients as keyword arguments.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

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

T = TypeVar("T")

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


def _one_per_process(factory: Callable[[], T]) -> Callable[[], T]:
    """``functools.cache`` that also holds when two threads ask first at once.

    Plain ``functools.cache`` lets both threads build one, and the extra client is never closed
    (a MongoClient keeps its monitor threads and pool for the life of the process).
    ``cache_clear`` works as usual.
    """
    cached = functools.cache(factory)
    lock = threading.Lock()

    @functools.wraps(factory)
    def get() -> T:
        with lock:
            return cached()

    get.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    return get


@_one_per_process
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


@_one_per_process
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


@_one_per_process
def rabbit_publisher() -> RabbitPublisher:
    settings = get_settings()
    return RabbitPublisher(
        settings.rabbitmq_url, exchange=settings.rabbitmq_exchange, topology=messaging_topology()
    )
