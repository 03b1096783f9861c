"""Request parsing for the auth function: JSON bodies and HTTP Basic credentials both work."""

from __future__ import annotations

import flask

from video2audio.errors import BadRequestError
from video2audio.users import Credentials


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
