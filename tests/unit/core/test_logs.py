"""Log lines: one JSON object per line (or text), with the function and the log context."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Iterator

import pytest

from video2audio.core.logs import bind_log_context, build_handler, log_context, log_scope

RFC3339_UTC_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


class Capture:
    """A logger of its own whose records go through a handler as a function process has it."""

    def __init__(self, log_format: str) -> None:
        self.stream = io.StringIO()
        self.handler = build_handler(log_format, function="convert", stream=self.stream)
        self.logger = logging.getLogger(f"tests.logs.{log_format}")
        self.logger.addHandler(self.handler)
        self.logger.setLevel(logging.DEBUG)
        self.logger.propagate = False

    def lines(self) -> list[str]:
        return self.stream.getvalue().splitlines()

    def entries(self) -> list[dict]:
        return [json.loads(line) for line in self.lines()]

    def close(self) -> None:
        self.logger.removeHandler(self.handler)


@pytest.fixture
def json_log() -> Iterator[Capture]:
    capture = Capture("json")
    yield capture
    capture.close()


@pytest.fixture
def text_log() -> Iterator[Capture]:
    capture = Capture("text")
    yield capture
    capture.close()


def test_each_record_is_one_json_object_on_one_line(json_log):
    json_log.logger.info("first\nline")
    json_log.logger.warning("second \u2028 line")
    entries = json_log.entries()
    assert [entry["message"] for entry in entries] == ["first\nline", "second \u2028 line"]


def test_a_json_line_has_time_level_function_logger_and_message(json_log):
    json_log.logger.info("job %s done", "abc")
    (entry,) = json_log.entries()
    assert RFC3339_UTC_MS.fullmatch(entry["time"])
    assert entry["level"] == "INFO"
    assert entry["function"] == "convert"
    assert entry["logger"] == "tests.logs.json"
    assert entry["message"] == "job abc done"


def test_a_json_line_carries_the_log_context(json_log):
    fields = {
        "job_id": "a" * 32,
        "user": "alice",
        "event_id": "e-1",
        "trace_id": "b" * 32,
        "span_id": "c" * 16,
    }
    with log_scope(**fields):
        json_log.logger.info("inside")
    (entry,) = json_log.entries()
    assert {key: entry[key] for key in fields} == fields


def test_a_json_line_leaves_out_context_fields_that_are_not_known(json_log):
    json_log.logger.info("no context")
    (entry,) = json_log.entries()
    assert not {"job_id", "user", "event_id", "trace_id", "span_id"} & set(entry)


def test_a_records_own_extra_fields_are_kept_and_win_over_the_context(json_log):
    with log_scope(job_id="from-context"):
        json_log.logger.info("explicit", extra={"job_id": "explicit", "file_id": "f1"})
    (entry,) = json_log.entries()
    assert (entry["job_id"], entry["file_id"]) == ("explicit", "f1")


def test_an_exception_is_one_string_field_of_the_same_line(json_log):
    try:
        raise ValueError("broken")
    except ValueError:
        json_log.logger.exception("it failed")
    lines = json_log.lines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["level"] == "ERROR"
    assert isinstance(entry["exception"], str)
    assert entry["exception"].startswith("Traceback")
    assert "ValueError: broken" in entry["exception"]


def test_text_lines_are_for_humans_with_the_context_at_the_end(text_log):
    with log_scope(job_id="j1", trace_id="t1"):
        text_log.logger.info("job %s done", "j1")
    (line,) = text_log.lines()
    assert re.fullmatch(
        r"\S+Z INFO convert tests\.logs\.text: job j1 done \[job_id=j1 trace_id=t1\]", line
    )


def test_text_lines_put_an_exception_after_the_line(text_log):
    try:
        raise ValueError("broken")
    except ValueError:
        text_log.logger.exception("it failed")
    first, *rest = text_log.lines()
    assert first.endswith("it failed")
    assert rest[0].startswith("Traceback") and rest[-1] == "ValueError: broken"


def test_the_context_is_gone_once_its_scope_ends():
    with log_scope(event_id="e-1"):
        bind_log_context(job_id="j1")
        assert dict(log_context()) == {"event_id": "e-1", "job_id": "j1"}
    assert dict(log_context()) == {}


def test_the_context_is_gone_once_its_scope_ends_with_an_exception():
    with pytest.raises(RuntimeError), log_scope(event_id="e-1"):
        bind_log_context(job_id="j1")
        raise RuntimeError
    assert dict(log_context()) == {}


def test_a_scope_starts_empty_even_after_fields_bound_outside_any_scope():
    def leak_then_scope() -> dict:
        bind_log_context(user="leaked")
        with log_scope(event_id="e-2"):
            return dict(log_context())

    seen = {}
    worker = threading.Thread(target=lambda: seen.update(leak_then_scope()))
    worker.start()
    worker.join()
    assert seen == {"event_id": "e-2"}


def test_binding_skips_unknown_values():
    with log_scope():
        bind_log_context(job_id=None, user="alice")
        assert dict(log_context()) == {"user": "alice"}


def test_context_fields_come_in_one_order_whatever_order_they_were_bound_in(json_log):
    with log_scope(span_id="s", trace_id="t"):
        bind_log_context(user="u", job_id="j")
        json_log.logger.info("ordered", extra={"file_id": "f"})
    (line,) = json_log.lines()
    keys = list(json.loads(line))
    assert keys[5:] == ["job_id", "user", "trace_id", "span_id", "file_id"]
