"""``GET /metrics`` and the HTTP request metrics, installed on a function's Flask app.

Each ``functions/<name>/main.py`` calls :func:`install_metrics` on ``flask.current_app``:
functions-framework runs that module inside its app's context, before it adds its own routes.
Those routes only catch everything (an HTTP function's ``/<path:path>``) or take only POST (a
CloudEvent function's), so a ``/metrics`` rule added here, more specific and for GET, is the one
that matches ``GET /metrics`` on both kinds. Hooks on the app time and count every request,
including what Flask or functions-framework answer themselves (404, 405, a malformed event).

Routes are labelled by template: the :class:`~video2audio.web.router.Router` leaves the matched
rule's template on the request; a CloudEvent function has the one route ``/``; anything else the
app matched is labelled by its rule (``/metrics``, Flask's static route), and the rest is
``unmatched``. Labels never carry a raw path, which would make one series per job id.
"""

from __future__ import annotations

import functools
import hmac
import logging
import time

import flask
from prometheus_client import REGISTRY, generate_latest

from video2audio.core.errors import AuthenticationError
from video2audio.core.metrics import (
    FUNCTIONS,
    HTTP_REQUEST_DURATION,
    HTTP_REQUESTS,
    bounded,
    export_zeros,
)
from video2audio.core.settings import Settings
from video2audio.web.router import error_response, matched_route
from video2audio.web.security_headers import add_security_headers

logger = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
UNMATCHED = "unmatched"
EVENT_ROUTE = "/"
# The classic text format generate_latest() writes, declared as such: Debian's Prometheus 2.x
# knows this version by name.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

_ENDPOINT = "video2audio_metrics"
_STARTED_KEY = "video2audio.started"
# functions-framework's endpoint names: its HTTP catch-all (our router behind it), and its
# CloudEvent route.
_HTTP_CATCH_ALL = "run"
_CLOUDEVENT = "cloudevent"


def install_metrics(app: flask.Flask, *, function: str, settings: Settings) -> None:
    """Serve ``GET /metrics`` on ``app`` and count and time every request it answers.

    With ``settings.metrics_token`` set, ``/metrics`` answers only ``Authorization: Bearer
    <token>``; others get a 401 JSON error.
    """
    if function not in FUNCTIONS:
        raise ValueError(f"unknown function {function!r}; one of {', '.join(FUNCTIONS)}")
    export_zeros(function)
    if not settings.metrics_token and not settings.is_development:
        logger.warning("METRICS_TOKEN is empty: anyone who reaches this port can read /metrics")
    app.add_url_rule(
        METRICS_PATH,
        endpoint=_ENDPOINT,
        view_func=functools.partial(serve_metrics, token=settings.metrics_token),
        methods=["GET"],
    )
    app.before_request(_start_clock)
    app.after_request(functools.partial(_count_request, function))


def serve_metrics(*, token: str) -> flask.Response:
    """The registry in Prometheus' text format, to a holder of ``token`` if one is required."""
    if token and not token_matches(flask.request.headers.get("Authorization"), token):
        refused = AuthenticationError("/metrics needs Authorization: Bearer <METRICS_TOKEN>")
        return add_security_headers(error_response(refused))
    response = flask.Response(generate_latest(REGISTRY), content_type=CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return add_security_headers(response)


def token_matches(authorization: str | None, token: str) -> bool:
    """Whether ``authorization`` is ``Bearer <token>``, compared in constant time."""
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def route_label(request: flask.Request) -> str:
    """The bounded ``route`` label of ``request``: a template, ``/`` for events, or unmatched."""
    template = matched_route(request)
    if template is not None:
        return template
    rule = request.url_rule
    if rule is None or rule.endpoint == _HTTP_CATCH_ALL:
        return UNMATCHED
    if rule.endpoint == _CLOUDEVENT:
        return EVENT_ROUTE
    return rule.rule


def _start_clock() -> None:
    flask.request.environ[_STARTED_KEY] = time.perf_counter()


def _count_request(function: str, response: flask.Response) -> flask.Response:
    request = flask.request
    route = route_label(request)
    method = bounded(request.method, METHODS)
    HTTP_REQUESTS.labels(function, route, method, str(response.status_code)).inc()
    started = request.environ.get(_STARTED_KEY)
    if started is not None:
        elapsed = time.perf_counter() - started
        HTTP_REQUEST_DURATION.labels(function, route, method).observe(elapsed)
    return response
