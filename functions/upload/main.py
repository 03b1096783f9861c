"""The upload function: streaming video upload, job status, audio download (HTTP).

Routes live in :mod:`video2audio.upload_api`; this entry point only builds them once per process
from the environment's settings and dispatches each request.
"""

from __future__ import annotations

import functools
from pathlib import Path

import flask
import functions_framework

from video2audio.http import Router
from video2audio.logs import configure_logging
from video2audio.settings import get_settings
from video2audio.upload_api import build_router

# Settings are read and checked as the process starts, so a function whose configuration cannot
# run (a placeholder secret outside development, a malformed number) refuses to start.
configure_logging()


STATIC_DIR = Path(__file__).resolve().parent / "static"

# functions-framework runs this module inside its Flask app's context. That app keeps Flask's
# built-in `/static/<filename>` route, which would look in the working directory and answer 404
# before our router sees the request; point it at the page's folder instead. Nested paths under
# /static/ and `/` itself still reach the router below.
if flask.has_app_context():
    flask.current_app.static_folder = str(STATIC_DIR)


@functools.cache
def router() -> Router:
    return build_router(get_settings(), static_dir=STATIC_DIR)


@functions_framework.http
def upload(request: flask.Request) -> flask.Response:
    return router().dispatch(request)
