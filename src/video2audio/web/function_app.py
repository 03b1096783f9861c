"""What every function does to functions-framework's Flask app before it serves requests.

functions-framework imports ``functions/<name>/main.py`` inside its Flask app's context, so the
entry module can shape that app; :func:`prepare_function_app` is that one call.
"""

from __future__ import annotations

from pathlib import Path

import flask
from werkzeug.exceptions import HTTPException

from video2audio.core.logs import configure_logging
from video2audio.core.settings import Settings
from video2audio.web.metrics import install_metrics
from video2audio.web.router import flask_error_response
from video2audio.web.security_headers import add_security_headers

HTTP_FUNCTIONS = frozenset({"auth", "upload"})


def prepare_function_app(
    function: str, settings: Settings, *, static_dir: Path | None = None
) -> None:
    """Logging for ``function``, and on the current app: its metrics, and for an HTTP function
    the headers and JSON error body the router gives its own answers.

    ``static_dir``: the app keeps Flask's built-in ``/static/<filename>`` route, which would look
    in the working directory and answer 404 before the router sees the request; it is pointed at
    the function's page instead.
    """
    configure_logging(settings, function=function)
    if not flask.has_app_context():  # imported outside functions-framework: nothing to shape
        return
    app = flask.current_app
    if static_dir is not None:
        app.static_folder = str(static_dir)
    if function in HTTP_FUNCTIONS:
        # What Flask answers itself (static files, its own errors) looks like the router's answers.
        app.after_request(add_security_headers)
        app.register_error_handler(HTTPException, flask_error_response)
    install_metrics(app, function=function, settings=settings)
