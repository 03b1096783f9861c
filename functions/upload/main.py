"""The upload function (HTTP): streaming upload, jobs, status, download, the web page.

Served with ``functions-framework --target upload`` (port 8082); routes:
:mod:`video2audio.upload.routes`.
"""

from __future__ import annotations

from pathlib import Path

import flask
import functions_framework

from video2audio.core.settings import get_settings
from video2audio.upload.routes import build_router
from video2audio.web.function_app import prepare_function_app

STATIC_DIR = Path(__file__).resolve().parent / "static"

# Read and checked as the process starts: a configuration that cannot run refuses to start.
settings = get_settings()
prepare_function_app("upload", settings, static_dir=STATIC_DIR)
router = build_router(settings, static_dir=STATIC_DIR)


@functions_framework.http
def upload(request: flask.Request) -> flask.Response:
    return router.dispatch(request)
