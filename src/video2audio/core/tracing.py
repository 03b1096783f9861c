"""W3C Trace Context: the ``traceparent`` that lets one job be followed across functions.

A ``traceparent`` is ``00-<trace id: 32 hex>-<parent span id: 16 hex>-<flags: 2 hex>``
(https://www.w3.org/TR/trace-context/). Upload starts a trace when it creates a job (or continues
the caller's), convert and notify continue it from the CloudEvent's ``traceparent`` extension,
and every log line says which trace and span it belongs to.

Nothing received is trusted: a header or event attribute is parsed strictly (version 00, lower-
case hex of the exact lengths, neither id all zeros) and anything else starts a fresh trace. A
trace id is a correlation id, never an authority: it grants nothing.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

VERSION = "00"
SAMPLED = "01"
TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
ZERO_TRACE_ID = "0" * 32
ZERO_SPAN_ID = "0" * 16


@dataclass(frozen=True)
class Span:
    """One unit of work in a trace: this process handling one request or event."""

    trace_id: str
    span_id: str
    flags: str = SAMPLED
    parent_id: str | None = None

    @property
    def traceparent(self) -> str:
        """What to send on so the next unit of work becomes this span's child."""
        return f"{VERSION}-{self.trace_id}-{self.span_id}-{self.flags}"

    def child(self) -> Span:
        """A new span of the same trace whose parent is this one."""
        return Span(self.trace_id, _new_id(8, ZERO_SPAN_ID), self.flags, self.span_id)


def parse_traceparent(value: object) -> Span | None:
    """The span a ``traceparent`` names, or None for anything not strictly valid."""
    if not isinstance(value, str):
        return None
    match = TRACEPARENT.fullmatch(value)
    if match is None:
        return None
    trace_id, span_id, flags = match.groups()
    if trace_id == ZERO_TRACE_ID or span_id == ZERO_SPAN_ID:
        return None
    return Span(trace_id, span_id, flags)


def new_trace() -> Span:
    """The first span of a fresh trace."""
    return Span(_new_id(16, ZERO_TRACE_ID), _new_id(8, ZERO_SPAN_ID))


def continue_trace(traceparent: object) -> tuple[Span, bool]:
    """A child of the span ``traceparent`` names, or a fresh trace; and whether it continued.

    A missing or malformed ``traceparent`` is never a failure: the work just starts its own trace.
    """
    parent = parse_traceparent(traceparent)
    if parent is None:
        return new_trace(), False
    return parent.child(), True


def _new_id(size: int, zero: str) -> str:
    # All zeros is the one invalid value; 2**-64 at worst, but an invalid id must never go out.
    while (value := secrets.token_hex(size)) == zero:
        pass
    return value
