"""Outcome mapping for CloudEvent functions, in one place.

functions-framework answers 200 "OK" when a CloudEvent function returns; to answer anything else
the function raises an HTTP exception carrying its response. The event source reads the status:
2xx acknowledges the message, 5xx makes it retry with backoff, and a 4xx (the event itself is
wrong) is not worth retrying.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import flask

from video2audio.core.errors import (
    AuthenticationError,
    BadRequestError,
    TransientError,
    Video2AudioError,
    is_dependency_failure,
)
from video2audio.core.metrics import EVENTS_RECEIVED, bounded, status_class
from video2audio.infra.events import (
    AUDIO_READY,
    CONVERSION_FAILED,
    PING,
    RABBITMQ_MESSAGE,
    VIDEO_UPLOADED,
)

logger = logging.getLogger(__name__)


EVENT_TYPES = frozenset({VIDEO_UPLOADED, AUDIO_READY, CONVERSION_FAILED, RABBITMQ_MESSAGE, PING})


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
