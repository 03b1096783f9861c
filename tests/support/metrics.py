"""Reading the process's Prometheus metrics in tests.

Counters are process-wide and other tests add to them too: a test reads a sample before and
after what it does and asserts on the difference.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import REGISTRY


def sample(name: str, labels: Mapping[str, str] | None = None) -> float:
    """The current value of one sample of the default registry (0 when it does not exist yet)."""
    return REGISTRY.get_sample_value(name, dict(labels or {})) or 0.0
