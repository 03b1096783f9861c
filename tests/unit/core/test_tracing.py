"""W3C traceparent: strict parsing, generating, continuing a trace."""

from __future__ import annotations

import pytest

from video2audio.core.tracing import (
    TRACEPARENT,
    Span,
    continue_trace,
    new_trace,
    parse_traceparent,
)

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN_ID = "00f067aa0ba902b7"
VALID = f"00-{TRACE_ID}-{SPAN_ID}-01"


def test_a_valid_traceparent_names_its_trace_span_and_flags():
    assert parse_traceparent(VALID) == Span(TRACE_ID, SPAN_ID, "01")


@pytest.mark.parametrize(
    "value",
    [
        None,
        42,
        "",
        "garbage",
        f"01-{TRACE_ID}-{SPAN_ID}-01",  # another version
        f"ff-{TRACE_ID}-{SPAN_ID}-01",  # the forbidden version
        f"00-{TRACE_ID.upper()}-{SPAN_ID}-01",  # upper-case hex
        f"00-{TRACE_ID[:-1]}-{SPAN_ID}-01",  # short trace id
        f"00-{TRACE_ID}0-{SPAN_ID}-01",  # long trace id
        f"00-{TRACE_ID}-{SPAN_ID[:-1]}-01",  # short span id
        f"00-{TRACE_ID}-{SPAN_ID}-1",  # short flags
        f"00-{TRACE_ID}-{SPAN_ID}-01-extra",  # a version 00 value has nothing after the flags
        f" {VALID}",
        f"{VALID}\n",
        f"00-{TRACE_ID[:-1]}g-{SPAN_ID}-01",  # not hex
        f"00_{TRACE_ID}_{SPAN_ID}_01",
    ],
)
def test_a_malformed_traceparent_names_nothing(value):
    assert parse_traceparent(value) is None


def test_an_all_zero_trace_id_is_invalid():
    assert parse_traceparent(f"00-{'0' * 32}-{SPAN_ID}-01") is None


def test_an_all_zero_span_id_is_invalid():
    assert parse_traceparent(f"00-{TRACE_ID}-{'0' * 16}-01") is None


def test_a_new_trace_is_a_valid_traceparent_that_parses_back():
    span = new_trace()
    assert TRACEPARENT.fullmatch(span.traceparent)
    assert parse_traceparent(span.traceparent) == Span(span.trace_id, span.span_id, "01")


def test_new_traces_have_ids_of_their_own():
    first, second = new_trace(), new_trace()
    assert first.trace_id != second.trace_id
    assert first.span_id != second.span_id


def test_a_child_span_keeps_the_trace_and_flags_with_a_new_span_id_whose_parent_is_its_parent():
    parent = Span(TRACE_ID, SPAN_ID, "00")
    child = parent.child()
    assert (child.trace_id, child.flags, child.parent_id) == (TRACE_ID, "00", SPAN_ID)
    assert child.span_id != SPAN_ID
    assert parse_traceparent(child.traceparent) is not None


def test_continuing_a_valid_traceparent_makes_a_child_of_its_span():
    span, continued = continue_trace(VALID)
    assert continued
    assert (span.trace_id, span.parent_id) == (TRACE_ID, SPAN_ID)


@pytest.mark.parametrize("value", [None, "garbage", f"00-{'0' * 32}-{SPAN_ID}-01"])
def test_continuing_a_missing_or_malformed_traceparent_starts_a_fresh_trace(value):
    span, continued = continue_trace(value)
    assert not continued
    assert span.trace_id != TRACE_ID
    assert span.parent_id is None
    assert parse_traceparent(span.traceparent) is not None
