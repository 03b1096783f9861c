"""The upload function (HTTP): streaming upload, jobs, status, download, the web page.

Served with ``functions-framework --target upload`` (port 8082); routes:
:mod:`video2audio.upload.routes`.
"""

from __future__ import annotations

from pathlib import Path

import flask
import functions_framework
from werkzeug.exceptions import HTTPException

from video2audio.core.logs import configure_logging
from video2audio.core.settings import get_settings
from video2audio.upload.routes import build_router
from video2audio.web.metrics import install_metrics
from video2audio.web.router import flask_error_response
from video2audio.web.security_headers import add_security_headers

STATIC_DIR = Path(__file__).resolve().parent / "static"

# functions-framework runs this module inside its Flask app's context. That app keeps Flask's
# built-in `/static/<filename>` route, which would look in the working directory and answer 404
# before our router sees the request; point it at the page's folder instead...
if flask.has_app_context():
    flask.current_app.static_folder = str(STATIC_DIR)
    # ...and give what Flask answers itself (those files, its own errors) the same headers,
    # and its errors the JSON body of every other error.
    flask.current_app.after_request(add_security_headers)
    flask.current_app.register_error_handler(HTTPException, flask_error_response)

# Read and checked as the process starts: a configuration that cannot run refuses to start.
settings = get_settings()
configure_logging(settings, function="upload")
if flask.has_app_context():
    install_metrics(flask.current_app, function="upload", settings=settings)
router = build_router(settings, static_dir=STATIC_DIR)


@functions_framework.http
def upload(request: flask.Request) -> flask.Response:
    return router.dispatch(request)
