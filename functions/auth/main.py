"""The auth function (HTTP): register, login, token verification.

Served with ``functions-framework --target auth`` (port 8081); routes:
:mod:`video2audio.auth.routes`.
"""

from __future__ import annotations

import flask
import functions_framework
from werkzeug.exceptions import HTTPException

from video2audio.auth.routes import build_router
from video2audio.core.logs import configure_logging
from video2audio.core.settings import get_settings
from video2audio.web.metrics import install_metrics
from video2audio.web.router import flask_error_response
from video2audio.web.security_headers import add_security_headers

# What Flask answers itself (its own errors) gets the headers and the JSON error body the
# router gives its answers.
if flask.has_app_context():
    flask.current_app.after_request(add_security_headers)
    flask.current_app.register_error_handler(HTTPException, flask_error_response)

# Read and checked as the process starts: a configuration that cannot run refuses to start.
settings = get_settings()
configure_logging(settings, function="auth")
if flask.has_app_context():
    install_metrics(flask.current_app, function="auth", settings=settings)
router = build_router(settings)


@functions_framework.http
def auth(request: flask.Request) -> flask.Response:
    return router.dispatch(request)
