import json

import pytest
from cloudevents.conversion import to_structured
from cloudevents.http import from_http

from video2audio.core.errors import BadRequestError
from video2audio.infra.events import (
    RABBITMQ_MESSAGE,
    VIDEO_UPLOADED,
    build_event,
    event_data,
    event_traceparent,
    to_amqp,
    to_http_binary,
)

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_amqp_form_is_binary_mode_with_ce_headers_and_json_body():
    event = build_event(VIDEO_UPLOADED, {"job_id": "j"}, source="/upload")
    headers, body, content_type = to_amqp(event)
    assert content_type == headers["content-type"] == "application/json"
    assert headers["ce-type"] == VIDEO_UPLOADED
    assert headers["ce-specversion"] == "1.0"
    assert {"ce-id", "ce-source", "ce-time"} <= set(headers)
    assert json.loads(body) == {"job_id": "j"}


def structured(event):
    headers, body = to_structured(event)
    return dict(headers), body


@pytest.mark.parametrize("encode", [to_http_binary, structured])
def test_http_forms_round_trip(encode):
    event = build_event(VIDEO_UPLOADED, {"job_id": "j"}, source="/upload")
    headers, body = encode(event)
    parsed = from_http(headers, body)
    assert parsed["id"] == event["id"]
    assert event_data(parsed, expected_types=(VIDEO_UPLOADED,)) == {"job_id": "j"}


def test_a_plain_rabbitmq_message_is_unwrapped_from_its_json_body():
    wrapped = build_event(RABBITMQ_MESSAGE, {}, source="/rabbitmq")
    wrapped.data = b'{"job_id": "j"}'
    assert event_data(wrapped, expected_types=(VIDEO_UPLOADED,)) == {"job_id": "j"}


def test_an_unexpected_event_type_is_a_bad_request():
    event = build_event("com.example.other", {}, source="/x")
    with pytest.raises(BadRequestError, match="unexpected event type"):
        event_data(event, expected_types=(VIDEO_UPLOADED,))


@pytest.mark.parametrize("data", [b"not json", b"[1, 2]", "42"])
def test_event_data_that_is_not_a_json_object_is_a_bad_request(data):
    event = build_event(RABBITMQ_MESSAGE, {}, source="/rabbitmq")
    event.data = data
    with pytest.raises(BadRequestError):
        event_data(event, expected_types=(VIDEO_UPLOADED,))


def test_the_amqp_form_carries_the_traceparent_as_a_ce_header():
    event = build_event(VIDEO_UPLOADED, {}, source="/upload", traceparent=TRACEPARENT)
    headers, _, _ = to_amqp(event)
    assert headers["ce-traceparent"] == TRACEPARENT


@pytest.mark.parametrize("encode", [to_http_binary, structured])
def test_the_traceparent_extension_survives_both_http_modes(encode):
    event = build_event(VIDEO_UPLOADED, {}, source="/upload", traceparent=TRACEPARENT)
    headers, body = encode(event)
    assert event_traceparent(from_http(headers, body)) == TRACEPARENT


def test_the_structured_form_carries_the_traceparent_as_a_top_level_member():
    event = build_event(VIDEO_UPLOADED, {}, source="/upload", traceparent=TRACEPARENT)
    _, body = structured(event)
    assert json.loads(body)["traceparent"] == TRACEPARENT


@pytest.mark.parametrize("encode", [to_http_binary, structured])
def test_an_event_built_without_a_trace_has_no_traceparent(encode):
    event = build_event(VIDEO_UPLOADED, {}, source="/upload")
    headers, body = encode(event)
    assert not any(name.lower() == "ce-traceparent" for name in headers)
    assert event_traceparent(from_http(headers, body)) is None


def test_a_received_traceparent_is_read_as_sent_even_when_malformed():
    headers, body = to_http_binary(build_event(VIDEO_UPLOADED, {}, source="/upload"))
    headers["ce-traceparent"] = "not-a-traceparent"
    assert event_traceparent(from_http(headers, body)) == "not-a-traceparent"
