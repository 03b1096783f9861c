"""Registration and login: bcrypt password hashes and the throttling of failed logins."""

from __future__ import annotations

import functools
from dataclasses import dataclass
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
CREATE INDEX IF NOT EXISTS login_failures_by_address
    ON login_failures (client_address, failed_at);
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


@dataclass(frozen=True)
class LoginLimits:
    """How many failed logins a window allows: per account and address, and per address."""

    per_account_and_address: int
    per_address: int
    window_seconds: int


def _retry_after(cursor: Any, username_key: str | None, address: str, window: int) -> int:
    """Seconds until the oldest counted failure (of the account at the address, or of the
    address) leaves the window."""
    cursor.execute(
        "SELECT ceil(extract(epoch FROM min(failed_at) + make_interval(secs => %s) - now())) "
        "FROM login_failures WHERE client_address = %s "
        "AND (%s::text IS NULL OR username_key = %s) "
        "AND failed_at > now() - make_interval(secs => %s)",
        (window, address, username_key, username_key, window),
    )
    return max(1, int(cursor.fetchone()[0] or 1))


def _check_throttle(cursor: Any, username_key: str, address: str, limits: LoginLimits) -> None:
    """429 when this address failed too often for this account, or for accounts in general.

    Failures are counted per (account, address), so someone guessing another person's password
    locks out only their own address, and per address across accounts, which stops one address
    from trying a few passwords on many accounts (password spraying).
    """
    window = limits.window_seconds
    cursor.execute(
        "SELECT count(*) FILTER (WHERE username_key = %s), count(*) FROM login_failures "
        "WHERE client_address = %s AND failed_at > now() - make_interval(secs => %s)",
        (username_key, address, window),
    )
    for_account, for_address = cursor.fetchone()
    if for_account >= limits.per_account_and_address:
        counted: str | None = username_key
    elif for_address >= limits.per_address:
        counted = None
    else:
        return
    raise TooManyRequestsError(
        "too many failed logins from this address, try again later",
        _retry_after(cursor, counted, address, window),
    )


def authenticate_user(
    credentials: Credentials,
    *,
    connection: Any,
    client_address: str,
    bcrypt_rounds: int,
    limits: LoginLimits,
) -> User:
    """Check a password, with throttling of failures (:func:`_check_throttle`).

    Unknown users are checked against a dummy hash so that both failures take the same time.
    """
    valid = validate_credentials(credentials, registering=False)
    username_key = valid.username.lower()
    with connection.cursor() as cursor:
        _check_throttle(cursor, username_key, client_address, limits)
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
                (limits.window_seconds,),
            )
            # The failure must be recorded even though the caller gets an error.
            connection.commit()
            raise AuthenticationError(INVALID_CREDENTIALS)
        cursor.execute(
            "DELETE FROM login_failures WHERE username_key = %s AND client_address = %s",
            (username_key, client_address),
        )
    return stored.user
