"""The auth function's HTTP API: register, login, token verification, health.

Every view is a module-level function ``view(request, context, **path_arguments)``;
:func:`build_router` composes them.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import flask

from video2audio.accounts.users import (
    ConnectionFactory,
    ensure_tables,
    rotate_webhook_secret,
    webhook_secret,
)
from video2audio.auth.credentials import read_credentials
from video2audio.auth.login import (
    THROTTLE_SCHEMA,
    LoginLimits,
    authenticate_user,
    register_user,
)
from video2audio.core.errors import AuthenticationError
from video2audio.core.settings import Settings
from video2audio.core.tokens import issue_token
from video2audio.infra.clients import postgres_connection
from video2audio.web.client_address import client_address
from video2audio.web.router import Router, authenticate, json_response


@dataclass(frozen=True)
class AuthContext:
    settings: Settings
    connection: ConnectionFactory = postgres_connection

    def database(self) -> contextlib.AbstractContextManager[Any]:
        """A connection to the user database, whose tables exist."""
        ensure_tables(self.connection, THROTTLE_SCHEMA)
        return self.connection()


def register(request: flask.Request, context: AuthContext) -> flask.Response:
    credentials = read_credentials(request)
    with context.database() as connection:
        register_user(
            credentials, connection=connection, bcrypt_rounds=context.settings.bcrypt_rounds
        )
    return json_response({"message": "Registered successfully"}, 201)


def login(request: flask.Request, context: AuthContext) -> flask.Response:
    settings = context.settings
    credentials = read_credentials(request)
    with context.database() as connection:
        user = authenticate_user(
            credentials,
            connection=connection,
            client_address=client_address(request, trusted_hops=settings.trusted_proxy_hops),
            bcrypt_rounds=settings.bcrypt_rounds,
            limits=LoginLimits(
                per_account_and_address=settings.login_max_failures,
                per_address=settings.login_max_failures_per_address,
                window_seconds=settings.login_failure_window_seconds,
            ),
        )
    token = issue_token(
        user.username,
        secret=settings.jwt_secret,
        issuer=settings.jwt_issuer,
        ttl_seconds=settings.jwt_ttl_seconds,
    )
    return json_response(
        {"token": token, "token_type": "Bearer", "expires_in": settings.jwt_ttl_seconds}
    )


def verify(request: flask.Request, context: AuthContext) -> flask.Response:
    claims = authenticate(request, context.settings)
    return json_response({"username": claims.username, "exp": claims.expires_at})


def get_webhook_secret(request: flask.Request, context: AuthContext) -> flask.Response:
    username = authenticate(request, context.settings).username
    with context.database() as connection:
        secret = webhook_secret(username, connection=connection)
    return _webhook_secret_response(secret)


def rotate_webhook_secret_now(request: flask.Request, context: AuthContext) -> flask.Response:
    username = authenticate(request, context.settings).username
    with context.database() as connection:
        secret = rotate_webhook_secret(username, connection=connection)
    return _webhook_secret_response(secret)


def _webhook_secret_response(secret: str | None) -> flask.Response:
    if secret is None:
        # A valid token for an account that no longer exists.
        raise AuthenticationError("the account of this token does not exist")
    return json_response(
        {
            "webhook_secret": secret,
            "signature_header": "X-Video2Audio-Signature",
            "scheme": "t=<unix time>,v1=<hex HMAC-SHA256 of '<t>.<raw body>'>",
        },
        headers={"Cache-Control": "no-store"},
    )


def healthz(request: flask.Request, context: AuthContext) -> flask.Response:
    with context.database() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return json_response({"status": "ok"})


def build_router(
    settings: Settings, *, connection: ConnectionFactory = postgres_connection
) -> Router[AuthContext]:
    router = Router(AuthContext(settings, connection), cors_origins=settings.cors_allowed_origins)
    router.add("/register", register, methods=["POST"])
    router.add("/login", login, methods=["POST"])
    router.add("/verify", verify, methods=["GET"])
    # The seed systems' curl flow checks a token at /protected.
    router.add("/protected", verify, methods=["GET"])
    router.add("/webhook-secret", get_webhook_secret, methods=["GET"])
    router.add("/webhook-secret", rotate_webhook_secret_now, methods=["POST"])
    router.add("/healthz", healthz, methods=["GET"])
    return router
