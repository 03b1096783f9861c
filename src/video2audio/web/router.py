"""HTTP plumbing shared by the HTTP functions: routing, JSON errors, CORS, authentication.

Every domain error is mapped to its status code here and nowhere else. Views are module-level
functions of their capability package, called as ``view(request, context, **path_arguments)``
with the context (settings, client getters) the router was built with.

Each request runs in its own log scope (:func:`~video2audio.core.logs.log_scope`) and span: a
child of the caller's valid ``traceparent`` header, or a fresh trace. Its log lines carry the
trace, the job id of a route that names one, and the user once the token is verified.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import flask
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from video2audio.core.errors import (
    AuthenticationError,
    BusyError,
    LimitError,
    PayloadTooLargeError,
    TooManyRequestsError,
    TransientError,
    Video2AudioError,
    is_dependency_failure,
)
from video2audio.core.logs import bind_log_context, log_scope
from video2audio.core.settings import Settings
from video2audio.core.tracing import Span, continue_trace
from video2audio.jobs.model import is_job_id
from video2audio.web.security_headers import add_security_headers

if TYPE_CHECKING:
    from video2audio.core.tokens import TokenClaims

logger = logging.getLogger(__name__)

View = Callable[..., flask.Response]
Context = TypeVar("Context")

# Credentials, form fields and event bodies take a few KiB at most.
MAX_BODY_BYTES = 64 * 1024
# What browser pages on an allowed origin may send and read: resumable (tus) uploads send their
# own headers and PATCH, and read the upload's offset and location.
CORS_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
CORS_REQUEST_HEADERS = (
    "Authorization, Content-Type, Tus-Resumable, Upload-Length, Upload-Metadata, Upload-Offset, "
    "X-HTTP-Method-Override, X-Requested-With"
)
CORS_EXPOSED_HEADERS = (
    "Location, Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size, Upload-Offset, "
    "Upload-Length, Upload-Expires, Video2Audio-Job-Id, Retry-After"
)
# Where the request's span is kept, for the views (request_span).
SPAN_KEY = "video2audio.span"
# Where the router leaves the template of the rule a request matched, for the request metrics
# (:mod:`video2audio.web.metrics`): labels must be bounded, so never the raw path.
ROUTE_KEY = "video2audio.route"


def matched_route(request: flask.Request) -> str | None:
    """The path template (``/jobs/<job_id>``) of the router rule ``request`` matched, if any."""
    return request.environ.get(ROUTE_KEY)


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> flask.Response:
    response = flask.jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(exc: Exception) -> flask.Response:
    """The JSON answer for any exception: the domain's message, or a generic one for bugs."""
    if isinstance(exc, Video2AudioError):
        body: dict[str, Any] = {"error": exc.message}
        if isinstance(exc, LimitError):
            body.update({"limit": exc.limit, "value": exc.value})
        response = json_response(body, exc.status_code)
        if isinstance(exc, AuthenticationError):
            response.headers["WWW-Authenticate"] = 'Bearer realm="video2audio"'
        if isinstance(exc, TooManyRequestsError | BusyError):
            response.headers["Retry-After"] = str(exc.retry_after_seconds)
        if isinstance(exc, TransientError):
            response.headers["Retry-After"] = "5"
        return response
    if is_dependency_failure(exc):
        logger.warning("dependency unavailable: %s: %s", type(exc).__name__, exc)
        return error_response(TransientError("a backing service is unavailable, retry shortly"))
    logger.error("unexpected error", exc_info=exc)
    return json_response({"error": "internal error"}, 500)


def flask_error_response(exc: HTTPException) -> flask.Response:
    """An error Flask answers itself, before any router (its static route's 404, say), as JSON.

    Flask's own answer is an HTML page; clients of the API get ``{"error": ...}`` whatever
    answers them. The exception's headers (``Allow``, ``Content-Range``...) are kept.
    """
    response = json_response({"error": (exc.name or "error").lower()}, exc.code or 500)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def unread_body_response(response: flask.Response) -> flask.Response:
    """``response`` for a request whose body is not wanted, sent without reading that body.

    functions-framework reads whatever body is left before it sends a buffered response, which
    for a large body pulls all of it into memory; a streamed response skips that, and
    ``Connection: close`` tells the client the rest of its body is not wanted.
    """
    streamed = flask.Response(
        iter([response.get_data()]), status=response.status_code, headers=dict(response.headers)
    )
    streamed.headers["Connection"] = "close"
    return streamed


def authenticate(request: flask.Request, settings: Settings) -> TokenClaims:
    # Here, not at import: PyJWT and the cryptography it loads cost the CloudEvent functions,
    # which never see a token, about 9 MB of memory each.
    from video2audio.core.tokens import bearer_token, verify_token

    token = bearer_token(request.headers.get("Authorization"))
    claims = verify_token(token, secret=settings.jwt_secret, issuer=settings.jwt_issuer)
    bind_log_context(user=claims.username)
    return claims


def request_span(request: flask.Request) -> Span:
    """The span of the request being served (started by the router; a fresh trace otherwise)."""
    span = request.environ.get(SPAN_KEY)
    if not isinstance(span, Span):
        span, _ = continue_trace(None)
        request.environ[SPAN_KEY] = span
    return span


class Router(Generic[Context]):
    """Maps method and path to a view, and turns every failure into a JSON answer.

    functions-framework reads a request's whole body into memory before it sends a buffered
    response, for anyone, logged in or not. So bodies are bounded by ``max_body_bytes``: a larger
    declared length is a 413 sent without reading the body, and a body without a declared length
    (chunked) is cut off at that size. Only views added with ``streams_body=True``, which read
    their body in bounded memory themselves, take larger ones.
    """

    def __init__(
        self,
        context: Context,
        *,
        cors_origins: Iterable[str] = (),
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.context = context
        self._map = Map(strict_slashes=False)
        self._views: dict[str, View] = {}
        self._streaming_views: set[str] = set()
        self._cors_origins = frozenset(cors_origins)
        self._max_body_bytes = max_body_bytes

    def add(
        self, path: str, view: View, *, methods: Iterable[str], streams_body: bool = False
    ) -> None:
        # Views are found by name: a second view of the same name would silently take over the
        # first one's routes.
        if self._views.get(view.__name__, view) is not view:
            raise ValueError(f"two views are named {view.__name__!r}")
        self._map.add(Rule(path, endpoint=view.__name__, methods=list(methods)))
        self._views[view.__name__] = view
        if streams_body:
            self._streaming_views.add(view.__name__)

    def rules(self) -> list[tuple[str, frozenset[str]]]:
        """Every (path template, methods) the router answers, for documentation and tests."""
        return [(rule.rule, frozenset(rule.methods or ())) for rule in self._map.iter_rules()]

    def dispatch(self, request: flask.Request) -> flask.Response:
        # A fresh log context per request: gunicorn's threads serve one request after another.
        with log_scope():
            span, continued = continue_trace(request.headers.get("traceparent"))
            request.environ[SPAN_KEY] = span
            bind_log_context(trace_id=span.trace_id, span_id=span.span_id)
            if not continued and "traceparent" in request.headers:
                logger.debug("ignoring a malformed traceparent header; starting a fresh trace")
            return self._dispatch(request)

    def _dispatch(self, request: flask.Request) -> flask.Response:
        origin = request.headers.get("Origin")
        allowed_origin = origin if origin in self._cors_origins else None
        if request.method == "OPTIONS" and allowed_origin:
            response = flask.Response(status=204)
        else:
            response = self._call_view(request)
        add_security_headers(response)
        if allowed_origin:
            response.headers["Access-Control-Allow-Origin"] = allowed_origin
            response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
            response.headers["Access-Control-Allow-Headers"] = CORS_REQUEST_HEADERS
            response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSED_HEADERS
            response.headers["Access-Control-Max-Age"] = "600"
            response.headers.add("Vary", "Origin")
        return response

    def _call_view(self, request: flask.Request) -> flask.Response:
        adapter = self._map.bind_to_environ(request.environ)
        try:
            rule, arguments = adapter.match(return_rule=True)
        except MethodNotAllowed as exc:
            allowed = ", ".join(sorted(exc.valid_methods or ()))
            failure = json_response({"error": "method not allowed"}, 405, {"Allow": allowed})
            return self._bounded(request, failure)
        except NotFound:
            return self._bounded(request, json_response({"error": "not found"}, 404))
        request.environ[ROUTE_KEY] = rule.rule
        endpoint = rule.endpoint
        if is_job_id(arguments.get("job_id")):
            bind_log_context(job_id=arguments["job_id"])
        if endpoint not in self._streaming_views:
            if (request.content_length or 0) > self._max_body_bytes:
                refused = PayloadTooLargeError(
                    f"the request body is larger than {self._max_body_bytes} bytes"
                )
                return unread_body_response(error_response(refused))
            # A body without a declared length (chunked) is cut off at the limit when read.
            request.max_content_length = self._max_body_bytes
        try:
            return self._views[endpoint](request, self.context, **arguments)
        except Exception as exc:  # every failure becomes a JSON answer, never a stack trace
            return error_response(exc)

    def _bounded(self, request: flask.Request, response: flask.Response) -> flask.Response:
        """``response`` to a request whose body nobody reads, without reading a large one."""
        if (request.content_length or 0) > self._max_body_bytes:
            return unread_body_response(response)
        request.max_content_length = self._max_body_bytes
        return response
