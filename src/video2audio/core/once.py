"""Work done once per process (and per argument), safe when threads ask first at once.

Used for clients, schemas and indexes: the first successful call's result is kept; a call that
raises keeps nothing, so the next call tries again (a database that was down at first use).
Plain ``functools.cache`` lets two threads both build, and the extra client is never closed.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def once_per_process(factory: Callable[P, T]) -> Callable[P, T]:
    """Decorate ``factory`` so each distinct argument list runs it to success only once.

    Arguments must be hashable. ``cache_clear()`` forgets everything (tests use it after
    changing the environment).
    """
    results: dict[Hashable, T] = {}
    lock = threading.Lock()

    @functools.wraps(factory)
    def get(*args: P.args, **kwargs: P.kwargs) -> T:
        key = (args, tuple(sorted(kwargs.items())))
        try:
            return results[key]
        except KeyError:
            pass
        with lock:
            if key not in results:
                results[key] = factory(*args, **kwargs)
            return results[key]

    def cache_clear() -> None:
        with lock:
            results.clear()

    get.cache_clear = cache_clear  # type: ignore[attr-defined]
    return get
