"""The users table: who exists, their password hash, email address and webhook signing secret."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from video2audio.core.once import once_per_process

ConnectionFactory = Callable[[], contextlib.AbstractContextManager[Any]]

SCHEMA_LOCK_ID = 7_202_611  # any fixed number: serialises concurrent schema creation

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL,
    email TEXT,
    password_hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS users_username_lower_key ON users (lower(username));
ALTER TABLE users ADD COLUMN IF NOT EXISTS webhook_secret TEXT;
"""
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 - a label, not a secret


@dataclass(frozen=True)
class User:
    username: str
    email: str | None


@dataclass(frozen=True)
class StoredUser:
    user: User
    password_hash: bytes


def ensure_schema(connection: Any, *extra_schemas: str) -> None:
    """Create the users table (and ``extra_schemas``) if missing, one process at a time."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_ID,))
        cursor.execute(SCHEMA)
        for schema in extra_schemas:
            cursor.execute(schema)


@once_per_process
def ensure_tables(connection: ConnectionFactory, *extra_schemas: str) -> None:
    """Create the tables once per process, in a transaction of their own.

    Inside a request's transaction, a refused request (a 400, a 409) would roll the new tables back
    after they were marked as created.
    """
    with connection() as conn:
        ensure_schema(conn, *extra_schemas)


def insert_user(username: str, email: str | None, password_hash: bytes, *, connection: Any) -> bool:
    """Add a user; False when the name is taken (names are unique without regard to case)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO users (username, email, password_hash) VALUES (%s, %s, %s) "
            "ON CONFLICT (lower(username)) DO NOTHING RETURNING id",
            (username, email, password_hash.decode("ascii")),
        )
        return cursor.fetchone() is not None


def find_user(username: str, *, connection: Any) -> StoredUser | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT username, email, password_hash FROM users WHERE lower(username) = %s",
            (username.lower(),),
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return StoredUser(User(username=row[0], email=row[1]), row[2].encode("ascii"))


def find_user_email(username: str, *, connection: Any) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT email FROM users WHERE lower(username) = %s", (username.lower(),))
        row = cursor.fetchone()
    return row[0] if row else None


def new_webhook_secret() -> str:
    return WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(32)


def webhook_secret(username: str, *, connection: Any) -> str | None:
    """The user's webhook signing secret, made on first use; None for an unknown user."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE users SET webhook_secret = %s "
            "WHERE lower(username) = %s AND webhook_secret IS NULL",
            (new_webhook_secret(), username.lower()),
        )
        cursor.execute(
            "SELECT webhook_secret FROM users WHERE lower(username) = %s", (username.lower(),)
        )
        row = cursor.fetchone()
    return row[0] if row else None


def rotate_webhook_secret(username: str, *, connection: Any) -> str | None:
    """Replace the user's webhook signing secret; None for an unknown user."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE users SET webhook_secret = %s WHERE lower(username) = %s "
            "RETURNING webhook_secret",
            (new_webhook_secret(), username.lower()),
        )
        row = cursor.fetchone()
    return row[0] if row else None
