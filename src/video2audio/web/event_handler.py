"""Outcome mapping for CloudEvent functions, in one place.

functions-framework answers 200 "OK" when a CloudEvent function returns; to answer anything else
the function raises an HTTP exception carrying its response. The event source reads the status:
2xx acknowledges the message, 5xx makes it retry with backoff, and a 4xx (the event itself is
wrong) is not worth retrying.

Each event is handled in its own log scope and span (:func:`event_scope`): its id and trace are on
every log line until the handler returns.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import flask

from video2audio.core.errors import (
    AuthenticationError,
    BadRequestError,
    TransientError,
    Video2AudioError,
    is_dependency_failure,
)
from video2audio.core.logs import bind_log_context, log_scope
from video2audio.core.metrics import EVENTS_RECEIVED, bounded, status_class
from video2audio.core.tracing import Span, continue_trace
from video2audio.infra.events import (
    AUDIO_READY,
    CONVERSION_FAILED,
    PING,
    RABBITMQ_MESSAGE,
    VIDEO_UPLOADED,
    CloudEvent,
    event_traceparent,
)

logger = logging.getLogger(__name__)


EVENT_TYPES = frozenset({VIDEO_UPLOADED, AUDIO_READY, CONVERSION_FAILED, RABBITMQ_MESSAGE, PING})


@contextlib.contextmanager
def event_scope(event: CloudEvent) -> Iterator[Span]:
    """A fresh log context and span for one event; yields the span.

    The span continues the event's ``traceparent`` extension when it is valid. That attribute is
    only a hint: a malformed one is logged and ignored (a fresh trace), never a failure.
    """
    with log_scope(event_id=event["id"]):
        received = event_traceparent(event)
        span, continued = continue_trace(received)
        bind_log_context(trace_id=span.trace_id, span_id=span.span_id)
        if not continued:
            if received is None:
                logger.debug("event %s carries no traceparent; starting a fresh trace", event["id"])
            else:
                logger.info(
                    "ignoring the malformed traceparent %r of event %s; starting a fresh trace",
                    received[:80],
                    event["id"],
                )
        yield span


def _respond(body: Mapping[str, Any], status: int) -> None:
    response = flask.jsonify(dict(body))
    response.status_code = status
    flask.abort(response)


def run_event_handler(
    handler: Callable[[], Mapping[str, Any] | None], *, function: str, event_type: str
) -> None:
    """Run ``handler`` and answer the event source according to what happened.

    - returns a mapping: 200 with it as JSON (a summary); returns None: 200 "OK";
    - :class:`BadRequestError`: 400 — the event cannot be understood, retrying will not help;
    - :class:`AuthenticationError`: 401 — the sender could not be identified;
    - :class:`TransientError` or an unreachable dependency: 503 — retry later;
    - any other domain error: logged and acknowledged, since it is permanent;
    - anything unexpected: 500 with a generic body, detail in the log (the source parks it).

    Every answer is counted in ``video2audio_events_received_total`` under ``function`` and
    ``event_type`` (``other`` for a type the product does not know).
    """
    body, status = _outcome(handler)
    answer = status_class(status)
    EVENTS_RECEIVED.labels(function, bounded(event_type, EVENT_TYPES), answer).inc()
    if body is not None:
        _respond(body, status)


def _outcome(
    handler: Callable[[], Mapping[str, Any] | None],
) -> tuple[Mapping[str, Any] | None, int]:
    try:
        result = handler()
    except BadRequestError as exc:
        logger.warning("rejecting event: %s", exc.message)
        return {"error": exc.message}, 400
    except AuthenticationError as exc:
        logger.warning("refusing an event from an unknown sender: %s", exc.message)
        return {"error": exc.message}, 401
    except TransientError as exc:
        logger.warning("transient failure, asking for a retry: %s", exc.message)
        return {"error": exc.message}, 503
    except Video2AudioError as exc:
        logger.info("permanent outcome acknowledged: %s", exc.message)
        return {"status": "acknowledged", "error": exc.message}, 200
    except Exception as exc:
        if is_dependency_failure(exc):
            logger.warning("dependency unavailable, asking for a retry: %r", exc)
            return {"error": "a backing service is unavailable"}, 503
        logger.exception("unexpected error while handling an event")
        return {"error": "internal error"}, 500
    return result, 200
