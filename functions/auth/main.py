"""The auth function: register, login, token verification (HTTP)."""

from __future__ import annotations

import functools
import logging

import flask
import functions_framework

from video2audio.auth_api import read_credentials
from video2audio.clients import postgres_connection
from video2audio.http import Router, authenticate, json_response
from video2audio.logs import configure_logging
from video2audio.settings import get_settings
from video2audio.tokens import issue_token
from video2audio.users import authenticate_user, ensure_schema, register_user

logger = logging.getLogger(__name__)

# Settings are read and checked as the process starts, so a function whose configuration cannot
# run (a placeholder secret outside development, a malformed number) refuses to start.
configure_logging()


@functools.cache
def router() -> Router:
    settings = get_settings()
    routes = Router(cors_origins=settings.cors_allowed_origins)

    @routes.route("/register", methods=["POST"])
    def register(request: flask.Request) -> flask.Response:
        credentials = read_credentials(request)
        _ensure_schema()
        with postgres_connection() as connection:
            register_user(credentials, connection=connection, bcrypt_rounds=settings.bcrypt_rounds)
        return json_response({"message": "Registered successfully"}, 201)

    @routes.route("/login", methods=["POST"])
    def login(request: flask.Request) -> flask.Response:
        credentials = read_credentials(request)
        _ensure_schema()
        with postgres_connection() as connection:
            user = authenticate_user(
                credentials,
                connection=connection,
                client_address=request.remote_addr or "unknown",
                bcrypt_rounds=settings.bcrypt_rounds,
                max_failures=settings.login_max_failures,
                window_seconds=settings.login_failure_window_seconds,
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

    @routes.route("/verify", methods=["GET"])
    @routes.route("/protected", methods=["GET"])
    def verify(request: flask.Request) -> flask.Response:
        claims = authenticate(request, settings)
        return json_response({"username": claims.username, "exp": claims.expires_at})

    @routes.route("/healthz", methods=["GET"])
    def healthz(request: flask.Request) -> flask.Response:
        _ensure_schema()
        with postgres_connection() as connection, connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return json_response({"status": "ok"})

    return routes


_schema_created = False


def _ensure_schema() -> None:
    """Create the tables once per process, in a transaction of their own.

    Inside a request's transaction, a refused registration or login (a 400, a 409) rolled the
    new tables back after the flag already said they existed: every later request was a 500.
    """
    global _schema_created
    if _schema_created:
        return
    with postgres_connection() as connection:
        ensure_schema(connection)
    _schema_created = True


@functions_framework.http
def auth(request: flask.Request) -> flask.Response:
    return router().dispatch(request)
