"""What a ping may ask of the sweep: its optional JSON options, checked.

Event data (optional JSON object): ``older_than_seconds`` (default: RETENTION_SECONDS),
``dry_run`` (report without deleting), ``batch_size``, ``max_files``, ``orphan_grace_seconds``,
``orphan_scan_interval_seconds`` (0: scan for orphaned chunks now).

Whoever can send an event could forge one, so an option can only make the sweep do less than its
schedule would, never delete more: ``older_than_seconds`` below RETENTION_SECONDS and
``orphan_grace_seconds`` below the default grace are refused (400), not raised silently.
"""

from __future__ import annotations

from typing import Any

from video2audio.core.errors import BadRequestError
from video2audio.expire.sweep import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_FILES,
    DEFAULT_ORPHAN_GRACE_SECONDS,
    DEFAULT_ORPHAN_SCAN_INTERVAL_SECONDS,
)
from video2audio.infra.events import PING, CloudEvent, event_data

# Far beyond any useful age or count; larger values (or JSON's Infinity) overflow the date
# arithmetic or MongoDB's 64-bit integers.
MAXIMUM = 10**9


def _number(data: dict[str, Any], name: str, default: float, *, minimum: float) -> Any:
    value = data.get(name, default)
    # bool is an int in Python; "true" seconds is a mistake, not 1. The range check also refuses
    # NaN, for which every comparison is False.
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if not is_number or not minimum <= value <= MAXIMUM:
        raise BadRequestError(f"{name} must be a number from {minimum} to {MAXIMUM}")
    return value


def _not_below(data: dict[str, Any], name: str, floor: float, *, what: str) -> Any:
    value = _number(data, name, floor, minimum=0)
    if value < floor:
        raise BadRequestError(
            f"{name} must be at least {floor:g} ({what}): a ping cannot delete younger files"
        )
    return value


def sweep_options(event: CloudEvent, *, retention_seconds: int) -> dict[str, Any]:
    """The keyword arguments of :func:`~video2audio.expire.sweep.expire_files` for ``event``."""
    # A PingSource without data sends an empty body: run with the defaults.
    if event.get_data():
        data = event_data(event, expected_types=(PING,))
    elif event["type"] == PING:
        data = {}
    else:
        raise BadRequestError(f"unexpected event type {event['type']!r}")
    dry_run = data.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise BadRequestError("dry_run must be true or false")
    return {
        "older_than_seconds": _not_below(
            data, "older_than_seconds", retention_seconds, what="RETENTION_SECONDS"
        ),
        "dry_run": dry_run,
        "batch_size": int(_number(data, "batch_size", DEFAULT_BATCH_SIZE, minimum=1)),
        "max_files": int(_number(data, "max_files", DEFAULT_MAX_FILES, minimum=1)),
        "orphan_grace_seconds": _not_below(
            data,
            "orphan_grace_seconds",
            DEFAULT_ORPHAN_GRACE_SECONDS,
            what="the grace an upload in progress needs",
        ),
        "orphan_scan_interval_seconds": _number(
            data, "orphan_scan_interval_seconds", DEFAULT_ORPHAN_SCAN_INTERVAL_SECONDS, minimum=0
        ),
    }
