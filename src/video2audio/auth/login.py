"""Registration and login: bcrypt password hashes and the throttling of failed logins."""

from __future__ import annotations

import functools
from typing import Any

import bcrypt

from video2audio.accounts.users import User, find_user, insert_user
from video2audio.auth.credentials import Credentials, validate_credentials
from video2audio.core.errors import AuthenticationError, ConflictError, TooManyRequestsError

INVALID_CREDENTIALS = "invalid username or password"

THROTTLE_SCHEMA = """
CREATE TABLE IF NOT EXISTS login_failures (
    id BIGSERIAL PRIMARY KEY,
    username_key TEXT NOT NULL,
    client_address TEXT NOT NULL,
    failed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS login_failures_lookup
    ON login_failures (username_key, client_address, failed_at);
"""


def register_user(credentials: Credentials, *, connection: Any, bcrypt_rounds: int) -> User:
    valid = validate_credentials(credentials, registering=True)
    password_hash = bcrypt.hashpw(valid.password.encode("utf-8"), bcrypt.gensalt(bcrypt_rounds))
    if not insert_user(valid.username, valid.email, password_hash, connection=connection):
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
    stored = find_user(username_key, connection=connection)
    stored_hash = stored.password_hash if stored else _dummy_hash(bcrypt_rounds)
    password_ok = bcrypt.checkpw(valid.password.encode("utf-8"), stored_hash)
    with connection.cursor() as cursor:
        if stored is None or not password_ok:
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
    return stored.user
