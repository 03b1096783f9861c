"""The one clock every module reads, and the one way to make a stored time comparable."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def seconds_since(moment: datetime | None) -> float | None:
    """How long ago ``moment`` was, or None when there is no moment."""
    return None if moment is None else (now() - as_utc(moment)).total_seconds()


def as_utc(value: datetime) -> datetime:
    """``value`` with UTC attached when it has no zone.

    The clients read times zone-aware, but a client configured otherwise returns naive UTC, which
    cannot be compared with aware times.
    """
    return value if value.tzinfo else value.replace(tzinfo=UTC)
