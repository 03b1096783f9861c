"""Users: registration, password checks and failed-login throttling, in PostgreSQL."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import bcrypt

from video2audio.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    TooManyRequestsError,
)

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9._@-]{3,64}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MIN_PASSWORD_BYTES = 8
MAX_PASSWORD_BYTES = 72  # bcrypt ignores everything past 72 bytes: refuse rather than truncate
INVALID_CREDENTIALS = "invalid username or password"

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
CREATE TABLE IF NOT EXISTS login_failures (
    id BIGSERIAL PRIMARY KEY,
    username_key TEXT NOT NULL,
    client_address TEXT NOT NULL,
    failed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS login_failures_lookup
    ON login_failures (username_key, client_address, failed_at);
"""


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    email: str | None = None


@dataclass(frozen=True)
class User:
    username: str
    email: str | None


def ensure_schema(connection: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_ID,))
        cursor.execute(SCHEMA)


def validate_credentials(credentials: Credentials, *, registering: bool) -> Credentials:
    username = credentials.username.strip()
    if not USERNAME_PATTERN.fullmatch(username):
        raise BadRequestError(
            "username must be 3-64 characters of letters, digits, '.', '_', '-' or '@'"
        )
    password_bytes = len(credentials.password.encode("utf-8"))
    if registering and password_bytes < MIN_PASSWORD_BYTES:
        raise BadRequestError(f"password must be at least {MIN_PASSWORD_BYTES} characters")
    if password_bytes > MAX_PASSWORD_BYTES:
        raise BadRequestError(
            f"password must be at most {MAX_PASSWORD_BYTES} bytes of UTF-8 (a bcrypt limit)"
        )
    email = credentials.email.strip() if credentials.email else None
    if registering:
        if email is None and EMAIL_PATTERN.fullmatch(username):
            email = username
        if email is not None and (len(email) > 254 or not EMAIL_PATTERN.fullmatch(email)):
            raise BadRequestError("email is not a valid address")
    return Credentials(username=username, password=credentials.password, email=email)


def register_user(credentials: Credentials, *, connection: Any, bcrypt_rounds: int) -> User:
    valid = validate_credentials(credentials, registering=True)
    password_hash = bcrypt.hashpw(
        valid.password.encode("utf-8"), bcrypt.gensalt(rounds=bcrypt_rounds)
    ).decode("ascii")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO users (username, email, password_hash) VALUES (%s, %s, %s) "
            "ON CONFLICT (lower(username)) DO NOTHING RETURNING id",
            (valid.username, valid.email, password_hash),
        )
        if cursor.fetchone() is None:
            raise ConflictError("username is already taken")
    return User(username=valid.username, email=valid.email)


@functools.cache
def _dummy_hash(rounds: int) -> bytes:
    return bcrypt.hashpw(b"no such user: equalise timing", bcrypt.gensalt(rounds=rounds))


def authenticate_user(
    credentials: Credentials,
    *,
    connection: Any,
    client_address: str,
    bcrypt_rounds: int,
    max_failures: int,
    window_seconds: int,
) -> User:
    """Check a password, with per-username-and-address throttling of failures.

    Unknown users are checked against a dummy hash so that both failures take the same time.
    """
    valid = validate_credentials(credentials, registering=False)
    username_key = valid.username.lower()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), min(failed_at) FROM login_failures "
            "WHERE username_key = %s AND client_address = %s "
            "AND failed_at > now() - make_interval(secs => %s)",
            (username_key, client_address, window_seconds),
        )
        failures, _ = cursor.fetchone()
        if failures >= max_failures:
            cursor.execute(
                "SELECT ceil(extract(epoch FROM min(failed_at) "
                "+ make_interval(secs => %s) - now())) FROM login_failures "
                "WHERE username_key = %s AND client_address = %s "
                "AND failed_at > now() - make_interval(secs => %s)",
                (window_seconds, username_key, client_address, window_seconds),
            )
            retry_after = max(1, int(cursor.fetchone()[0] or 1))
            raise TooManyRequestsError("too many failed logins, try again later", retry_after)
        cursor.execute(
            "SELECT username, email, password_hash FROM users WHERE lower(username) = %s",
            (username_key,),
        )
        row = cursor.fetchone()
    stored_hash = row[2].encode("ascii") if row else _dummy_hash(bcrypt_rounds)
    password_ok = bcrypt.checkpw(valid.password.encode("utf-8"), stored_hash)
    with connection.cursor() as cursor:
        if row is None or not password_ok:
            cursor.execute(
                "INSERT INTO login_failures (username_key, client_address) VALUES (%s, %s)",
                (username_key, client_address),
            )
            cursor.execute(
                "DELETE FROM login_failures WHERE failed_at < now() - make_interval(secs => %s)",
                (window_seconds,),
            )
            # The failure must be recorded even though the caller gets an error.
            connection.commit()
            raise AuthenticationError(INVALID_CREDENTIALS)
        cursor.execute(
            "DELETE FROM login_failures WHERE username_key = %s AND client_address = %s",
            (username_key, client_address),
        )
    return User(username=row[0], email=row[1])


def find_user_email(username: str, *, connection: Any) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT email FROM users WHERE lower(username) = %s", (username.lower(),))
        row = cursor.fetchone()
    return row[0] if row else None
