"""The users table: who exists, their password hash, email addresses and webhook signing secret.

An address is ``email`` only once its owner proved it is theirs by following a signed link;
until then it waits in ``pending_email``, and no mail but that link's goes to it.
"""

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
ALTER TABLE users ADD COLUMN IF NOT EXISTS pending_email TEXT;
ALTER TABLE users ADD COLUMN IF NOT EXISTS email_verified_at TIMESTAMPTZ;
ALTER TABLE users ADD COLUMN IF NOT EXISTS verification_sent_at TIMESTAMPTZ;
-- Addresses stored before verification existed were never proven: they wait for it too.
UPDATE users SET pending_email = email, email = NULL
    WHERE email IS NOT NULL AND email_verified_at IS NULL;
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


def insert_user(
    username: str, pending_email: str | None, password_hash: bytes, *, connection: Any
) -> bool:
    """Add a user, with an address still to verify; False when the name is taken (names are
    unique without regard to case)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO users (username, pending_email, password_hash) VALUES (%s, %s, %s) "
            "ON CONFLICT (lower(username)) DO NOTHING RETURNING id",
            (username, pending_email, password_hash.decode("ascii")),
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
    """The user's verified address, the only one mail goes to; None without one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT email FROM users WHERE lower(username) = %s AND email_verified_at IS NOT NULL",
            (username.lower(),),
        )
        row = cursor.fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class EmailStatus:
    email: str | None  # verified
    pending_email: str | None
    verification_sent_at: Any


def email_status(username: str, *, connection: Any) -> EmailStatus | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN email_verified_at IS NOT NULL THEN email END, pending_email, "
            "verification_sent_at FROM users WHERE lower(username) = %s",
            (username.lower(),),
        )
        row = cursor.fetchone()
    return EmailStatus(*row) if row else None


def set_pending_email(username: str, address: str, *, connection: Any) -> None:
    """Ask to change (or first set) the address; the verified one stays until this is proven."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE users SET pending_email = %s WHERE lower(username) = %s",
            (address, username.lower()),
        )


def mark_verification_sent(username: str, *, connection: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE users SET verification_sent_at = now() WHERE lower(username) = %s",
            (username.lower(),),
        )


def confirm_email(username: str, address: str, *, connection: Any) -> bool:
    """Make ``address`` the user's verified one if it is the one waiting; False otherwise."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE users SET email = pending_email, pending_email = NULL, "
            "email_verified_at = now() WHERE lower(username) = %s AND pending_email = %s "
            "RETURNING id",
            (username.lower(), address),
        )
        return cursor.fetchone() is not None


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
