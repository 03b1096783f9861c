"""The auth function (HTTP): register, login, token verification.

Served with ``functions-framework --target auth`` (port 8081); routes:
:mod:`video2audio.auth.routes`.
"""

from __future__ import annotations

import flask
import functions_framework

from video2audio.auth.routes import build_router
from video2audio.core.settings import get_settings
from video2audio.web.function_app import prepare_function_app

# Read and checked as the process starts: a configuration that cannot run refuses to start.
settings = get_settings()
prepare_function_app("auth", settings)
router = build_router(settings)


@functions_framework.http
def auth(request: flask.Request) -> flask.Response:
    return router.dispatch(request)
