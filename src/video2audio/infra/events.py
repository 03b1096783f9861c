"""Every CloudEvent the product builds or parses goes through this module.

functions-framework pins the cloudevents SDK to its v1 API (1.11-1.12); keeping all use of it
here means an SDK upgrade touches one file.

A job's trace travels as the CloudEvents distributed-tracing extension: the attribute
``traceparent`` (a W3C ``traceparent``; ``ce-traceparent`` in binary mode, a top-level member in
structured mode). It is only a hint: readers validate it (:mod:`video2audio.core.tracing`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cloudevents.conversion import to_binary
from cloudevents.http import CloudEvent

from video2audio.core.errors import BadRequestError

VIDEO_UPLOADED = "io.video2audio.video.uploaded"
AUDIO_READY = "io.video2audio.audio.ready"
CONVERSION_FAILED = "io.video2audio.conversion.failed"
# The CloudEvents distributed-tracing extension attribute.
TRACEPARENT = "traceparent"
# What Knative's RabbitmqSource sends for a message that carries no CloudEvent headers.
RABBITMQ_MESSAGE = "dev.knative.rabbitmq.event"
PING = "dev.knative.sources.ping"

JSON = "application/json"

__all__ = [
    "AUDIO_READY",
    "CONVERSION_FAILED",
    "PING",
    "RABBITMQ_MESSAGE",
    "TRACEPARENT",
    "VIDEO_UPLOADED",
    "CloudEvent",
    "build_event",
    "event_data",
    "event_traceparent",
    "to_amqp",
    "to_http_binary",
]


def build_event(
    event_type: str,
    data: Mapping[str, Any],
    *,
    source: str,
    subject: str | None = None,
    event_id: str | None = None,
    traceparent: str | None = None,
) -> CloudEvent:
    attributes: dict[str, Any] = {
        "type": event_type,
        "source": source,
        "id": event_id or str(uuid.uuid4()),
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": JSON,
    }
    if subject:
        attributes["subject"] = subject
    if traceparent:
        attributes[TRACEPARENT] = traceparent
    return CloudEvent(attributes, dict(data))


def event_traceparent(event: CloudEvent) -> str | None:
    """The event's ``traceparent`` extension as received (unvalidated), or None."""
    value = event.get(TRACEPARENT)
    return value if isinstance(value, str) else None


def to_amqp(event: CloudEvent) -> tuple[dict[str, str], bytes, str]:
    """AMQP binary mode: ``ce-`` application headers, the content type, and the JSON body.

    This is the shape Knative's RabbitmqSource forwards unchanged as the same CloudEvent.
    """
    headers, body = to_binary(event)
    # The content type goes in the AMQP property *and* as a header: Knative's adapter reads it
    # only from a `content-type` (or `ce-datacontenttype`) message header.
    content_type = headers.get("content-type", JSON)
    return dict(headers), body, content_type


def to_http_binary(event: CloudEvent) -> tuple[dict[str, str], bytes]:
    headers, body = to_binary(event)
    return dict(headers), body


def event_data(event: CloudEvent, *, expected_types: tuple[str, ...]) -> dict[str, Any]:
    """The JSON object an event carries, for one of ``expected_types``.

    A ``dev.knative.rabbitmq.event`` (a queue message without CloudEvent headers) is accepted too:
    its data is the message body, which must be the same JSON object.
    """
    event_type = event["type"]
    if event_type not in expected_types and event_type != RABBITMQ_MESSAGE:
        raise BadRequestError(f"unexpected event type {event_type!r}")
    data = event.get_data()
    if isinstance(data, bytes | bytearray | str):
        try:
            data = json.loads(data or b"null")
        except (UnicodeDecodeError, ValueError):
            raise BadRequestError("event data is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequestError("event data must be a JSON object")
    return data
