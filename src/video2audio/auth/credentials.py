"""Credentials from a request (JSON body, form or HTTP Basic) and their validation."""

from __future__ import annotations

import re
from dataclasses import dataclass

import flask

from video2audio.core.errors import BadRequestError

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9._@-]{3,64}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MIN_PASSWORD_CHARS = 8  # characters, as people count them: four emoji are four, not sixteen
MAX_PASSWORD_BYTES = 72  # bcrypt ignores everything past 72 bytes: refuse rather than truncate


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    email: str | None = None


def read_credentials(request: flask.Request) -> Credentials:
    """Credentials from a JSON body, a form, or an ``Authorization: Basic`` header."""
    try:
        authorization = request.authorization
    except ValueError:
        # werkzeug's base64 decoding raises for a header with non-ASCII characters.
        raise BadRequestError("the Authorization header is not valid Basic credentials") from None
    if authorization is not None and authorization.type == "basic":
        body = _optional_json(request)
        email = body.get("email") if body else None
        return Credentials(
            username=authorization.username or "",
            password=authorization.password or "",
            email=email if isinstance(email, str) else None,
        )
    body = _optional_json(request) if request.data else None
    if body is None and request.form:
        body = request.form.to_dict()
    if body is None:
        raise BadRequestError(
            'send a JSON body {"username": ..., "password": ...} or HTTP Basic credentials'
        )
    username, password, email = body.get("username"), body.get("password"), body.get("email")
    if not isinstance(username, str) or not username:
        raise BadRequestError("username is required")
    if not isinstance(password, str) or not password:
        raise BadRequestError("password is required")
    if email is not None and not isinstance(email, str):
        raise BadRequestError("email must be a string")
    return Credentials(username=username, password=password, email=email or None)


def _optional_json(request: flask.Request) -> dict | None:
    if not request.data:
        return None
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise BadRequestError("request body is not a JSON object")
    return body


def is_email(address: str) -> bool:
    return len(address) <= 254 and EMAIL_PATTERN.fullmatch(address) is not None


def validate_credentials(credentials: Credentials, *, registering: bool) -> Credentials:
    """Trimmed, checked credentials; at registration the email defaults to an email username."""
    username = credentials.username.strip()
    if not USERNAME_PATTERN.fullmatch(username):
        raise BadRequestError(
            "username must be 3-64 characters of letters, digits, '.', '_', '-' or '@'"
        )
    if registering and len(credentials.password) < MIN_PASSWORD_CHARS:
        raise BadRequestError(f"password must be at least {MIN_PASSWORD_CHARS} characters")
    if len(credentials.password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise BadRequestError(
            f"password must be at most {MAX_PASSWORD_BYTES} bytes of UTF-8 (a bcrypt limit)"
        )
    email = credentials.email.strip() if credentials.email else None
    if registering:
        if email is None and EMAIL_PATTERN.fullmatch(username):
            email = username
        if email is not None and not is_email(email):
            raise BadRequestError("email is not a valid address")
    return Credentials(username=username, password=credentials.password, email=email)
