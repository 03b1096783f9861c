"""The auth function's HTTP API: register, login, token verification, health, its documentation.

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
    confirm_email,
    email_status,
    ensure_tables,
    mark_verification_sent,
    rotate_webhook_secret,
    set_pending_email,
    webhook_secret,
)
from video2audio.auth.credentials import is_email, read_credentials
from video2audio.auth.email_verification import check_verification_link, send_verification
from video2audio.auth.login import (
    THROTTLE_SCHEMA,
    LoginLimits,
    authenticate_user,
    register_user,
)
from video2audio.core.clock import seconds_since
from video2audio.core.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    TooManyRequestsError,
)
from video2audio.core.settings import Settings
from video2audio.core.tokens import issue_token
from video2audio.infra.clients import postgres_connection
from video2audio.web.api_docs import api_docs, api_docs_file
from video2audio.web.client_address import client_address
from video2audio.web.openapi import description_response
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
        user = register_user(
            credentials, connection=connection, bcrypt_rounds=context.settings.bcrypt_rounds
        )
    body: dict[str, Any] = {"message": "Registered successfully"}
    if user.email:
        # The address gets its verification link, and nothing else until it is followed.
        sent = send_verification(context.settings, user.username, user.email)
        if sent == "sent":
            with context.database() as connection:
                mark_verification_sent(user.username, connection=connection)
        body["email"] = {"address": user.email, "verified": False, "verification": sent}
    return json_response(body, 201)


def account(request: flask.Request, context: AuthContext) -> flask.Response:
    username = authenticate(request, context.settings).username
    with context.database() as connection:
        status = email_status(username, connection=connection)
    if status is None:
        raise AuthenticationError("the account of this token does not exist")
    return json_response(
        {
            "username": username,
            "email": status.email,
            "email_verified": status.email is not None,
            "pending_email": status.pending_email,
        }
    )


def change_email(request: flask.Request, context: AuthContext) -> flask.Response:
    """Set a new address (or ask again for the link): it is used once it is verified."""
    settings = context.settings
    username = authenticate(request, settings).username
    body = request.get_json(force=True, silent=True)
    address = body.get("email") if isinstance(body, dict) else None
    if not isinstance(address, str) or not is_email(address.strip()):
        raise BadRequestError('send {"email": "you@example.com"}')
    address = address.strip()
    with context.database() as connection:
        status = email_status(username, connection=connection)
        if status is None:
            raise AuthenticationError("the account of this token does not exist")
        if status.email == address:
            return json_response({"email": address, "email_verified": True})
        waited = seconds_since(status.verification_sent_at)
        if waited is not None and waited < settings.email_verification_resend_seconds:
            raise TooManyRequestsError(
                "a verification link was sent a moment ago; check your mail",
                retry_after_seconds=int(settings.email_verification_resend_seconds - waited) + 1,
            )
        set_pending_email(username, address, connection=connection)
    sent = send_verification(settings, username, address)
    if sent == "sent":
        with context.database() as connection:
            mark_verification_sent(username, connection=connection)
    return json_response({"pending_email": address, "verification": sent}, 202)


def verify_email(request: flask.Request, context: AuthContext) -> flask.Response:
    """The link from the verification mail, opened in a browser: no token, the link is proof."""
    username, address = request.args.get("u", ""), request.args.get("e", "")
    check_verification_link(
        username,
        address,
        request.args.get("exp", ""),
        request.args.get("sig", ""),
        secret=context.settings.link_secret,
    )
    with context.database() as connection:
        confirmed = confirm_email(username, address, connection=connection)
    if not confirmed:
        raise ConflictError("this link is no longer valid: the address was changed or verified")
    return json_response({"message": f"{address} is verified", "email": address})


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


def openapi_description(request: flask.Request, context: AuthContext) -> flask.Response:
    return description_response(__package__)


def build_router(
    settings: Settings, *, connection: ConnectionFactory = postgres_connection
) -> Router[AuthContext]:
    router = Router(AuthContext(settings, connection), cors_origins=settings.cors_allowed_origins)
    router.add("/register", register, methods=["POST"])
    router.add("/login", login, methods=["POST"])
    router.add("/verify", verify, methods=["GET"])
    # The seed systems' curl flow checks a token at /protected.
    router.add("/protected", verify, methods=["GET"])
    router.add("/account", account, methods=["GET"])
    router.add("/account/email", change_email, methods=["POST"])
    router.add("/verify-email", verify_email, methods=["GET"])
    router.add("/webhook-secret", get_webhook_secret, methods=["GET"])
    router.add("/webhook-secret", rotate_webhook_secret_now, methods=["POST"])
    router.add("/healthz", healthz, methods=["GET"])
    # Described in openapi.yaml here, with what every function shares (web/openapi_common.yaml).
    router.add("/openapi.json", openapi_description, methods=["GET"])
    router.add("/docs", api_docs, methods=["GET"])
    router.add("/docs/<asset>", api_docs_file, methods=["GET"])
    return router
