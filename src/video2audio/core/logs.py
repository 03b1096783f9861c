"""Logging for function processes: one JSON object per line, or plain text for humans.

``LOG_FORMAT=json`` (the default) writes each record as one JSON object on one line::

    {"time": "2026-11-30T05:13:40.123Z", "level": "INFO", "function": "convert",
     "logger": "video2audio.convert.handler", "message": "job ... done", "job_id": "...",
     "event_id": "...", "trace_id": "...", "span_id": "..."}

``LOG_FORMAT=text`` writes the same fields as a readable line. Which job, user, CloudEvent and
trace a record belongs to comes from the *log context*: the entry points (the HTTP router, the
CloudEvent functions) open a fresh :func:`log_scope` for each request or event and add what they
learn with :func:`bind_log_context`. The scope is a context variable, reset when the request or
event ends, so a server thread reused for the next request never carries the last one's fields.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from video2audio.core.once import once_per_process
from video2audio.core.settings import Settings

CONTEXT_FIELDS = ("job_id", "user", "event_id", "trace_id", "span_id")

_EMPTY: Mapping[str, str] = MappingProxyType({})
_context: ContextVar[Mapping[str, str]] = ContextVar("video2audio_log_context", default=_EMPTY)

# What every LogRecord has by itself; anything else on a record was passed as `extra`.
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "function",
    "taskName",
}


def _fields(values: Mapping[str, object]) -> dict[str, str]:
    return {key: str(value) for key, value in values.items() if value is not None}


@contextlib.contextmanager
def log_scope(**fields: object) -> Iterator[None]:
    """A fresh log context for one request or event, gone (whatever happens) when it ends."""
    token = _context.set(MappingProxyType(_fields(fields)))
    try:
        yield
    finally:
        _context.reset(token)


def bind_log_context(**fields: object) -> None:
    """Add fields (None values are skipped) to the current scope's context."""
    _context.set(MappingProxyType({**_context.get(), **_fields(fields)}))


def log_context() -> Mapping[str, str]:
    """The fields the current request or event's records carry."""
    return _context.get()


class ContextFilter(logging.Filter):
    """Puts the function's name and the log context on every record a handler emits.

    Fields a record got explicitly (``extra={"job_id": ...}``) win over the context's.
    """

    def __init__(self, function: str | None) -> None:
        super().__init__()
        self.function = function

    def filter(self, record: logging.LogRecord) -> bool:
        record.function = self.function
        for key, value in _context.get().items():
            record.__dict__.setdefault(key, value)
        return True


def _rfc3339(created: float) -> str:
    moment = datetime.fromtimestamp(created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    """The context fields (in a fixed order), then whatever else the record was given."""
    found = {
        key: value
        for key, value in record.__dict__.items()
        if key not in _RECORD_ATTRIBUTES and not key.startswith("_") and value is not None
    }
    ordered = {key: found.pop(key) for key in CONTEXT_FIELDS if key in found}
    return {**ordered, **found}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in values are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _rfc3339(record.created),
            "level": record.levelname,
            "function": getattr(record, "function", None),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _extras(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # ASCII only: no raw U+2028 or other character a reader might take for a line break.
        return json.dumps(entry, default=str, ensure_ascii=True)


class TextFormatter(logging.Formatter):
    """A line for humans: time, level, function, logger, message, then the context as k=v."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(function)s %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _rfc3339(record.created)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "function"):
            record.function = None
        line = super().format(record)
        extras = _extras(record)
        if not extras:
            return line
        head, newline, rest = line.partition("\n")  # the exception, if any, goes after it
        context = " ".join(f"{key}={value}" for key, value in extras.items())
        return f"{head} [{context}]{newline}{rest}"


def build_handler(log_format: str, *, function: str | None, stream: Any = None) -> logging.Handler:
    """A stream handler (stderr by default) writing ``log_format`` records with their context."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(ContextFilter(function))
    handler.set_name(HANDLER_NAME)
    return handler


HANDLER_NAME = "video2audio"


@once_per_process
def configure_logging(settings: Settings, *, function: str | None = None) -> None:
    """Send every record of the process through one handler, as ``settings.log_format`` says.

    ``function`` is the function's name (auth, upload, convert, notify, expire), on every record.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == HANDLER_NAME:
            root.removeHandler(handler)
    root.addHandler(build_handler(settings.log_format, function=function))
    root.setLevel(settings.log_level.upper())
    # Warnings are records too, not lines of their own format on stderr.
    logging.captureWarnings(True)
    # pika logs every connection step at INFO; its warnings are what matter.
    logging.getLogger("pika").setLevel(logging.WARNING)
