"""Each CloudEvent is handled in a log scope and span of its own."""

from __future__ import annotations

import logging

import flask
import pytest
from werkzeug.exceptions import HTTPException

from video2audio.core.errors import BadRequestError
from video2audio.core.logs import log_context
from video2audio.infra.events import VIDEO_UPLOADED, build_event
from video2audio.web.event_handler import event_scope, run_event_handler

PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_an_event_with_a_valid_traceparent_is_handled_in_a_child_span():
    event = build_event(VIDEO_UPLOADED, {}, source="/upload", traceparent=PARENT)
    with event_scope(event) as span:
        context = dict(log_context())
    assert (span.trace_id, span.parent_id) == (PARENT[3:35], PARENT[36:52])
    assert context == {"event_id": event["id"], "trace_id": span.trace_id, "span_id": span.span_id}


@pytest.mark.parametrize("malformed", ["garbage", PARENT.upper(), f"00-{'0' * 32}-{'1' * 16}-01"])
def test_a_malformed_traceparent_is_logged_and_a_fresh_trace_started(malformed, caplog):
    event = build_event(VIDEO_UPLOADED, {}, source="/upload", traceparent=malformed)
    with caplog.at_level(logging.INFO), event_scope(event) as span:
        pass
    assert span.trace_id not in malformed.lower()
    assert span.parent_id is None
    assert "malformed traceparent" in caplog.text


def test_an_event_without_a_traceparent_starts_a_fresh_trace():
    event = build_event(VIDEO_UPLOADED, {}, source="/upload")
    with event_scope(event) as span:
        assert log_context()["trace_id"] == span.trace_id
    assert span.parent_id is None


def test_nothing_of_an_event_is_left_in_the_context_after_its_answer():
    def refuse():
        raise BadRequestError("no")

    event = build_event(VIDEO_UPLOADED, {}, source="/upload", traceparent=PARENT)
    with flask.Flask(__name__).test_request_context("/"):
        with pytest.raises(HTTPException), event_scope(event):
            run_event_handler(refuse, function="convert", event_type=VIDEO_UPLOADED)
        assert dict(log_context()) == {}
