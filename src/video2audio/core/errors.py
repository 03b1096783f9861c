"""The domain's exception hierarchy, and the library errors that mean "a dependency is down".

HTTP functions map these to status codes in one place (:mod:`video2audio.web.router`);
CloudEvent functions treat :func:`is_transient` failures as "retry me"
(answer 5xx) and everything else as a permanent outcome that is recorded and acknowledged.
"""

from __future__ import annotations

import re

import pika.exceptions
import psycopg2
import pymongo.errors


class Video2AudioError(Exception):
    """Base of every error the domain raises on purpose."""

    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LimitError(Video2AudioError):
    """A per-user limit or an output bound was reached: says which limit and its value."""

    def __init__(self, message: str, *, limit: str, value: int) -> None:
        Video2AudioError.__init__(self, message)
        self.limit = limit
        self.value = value


class BadRequestError(Video2AudioError):
    status_code = 400


class AuthenticationError(Video2AudioError):
    status_code = 401


class ForbiddenError(Video2AudioError):
    status_code = 403


class NotFoundError(Video2AudioError):
    status_code = 404


class RequestTimeoutError(Video2AudioError):
    """The client stopped sending, or went away, before its request was complete."""

    status_code = 408


class ConflictError(Video2AudioError):
    status_code = 409


class BusyError(ConflictError):
    """Another request holds what this one needs, for now: 409 with ``Retry-After``, so a
    client can tell "wait a moment" from a conflict that waiting does not cure."""

    retry_after_seconds = 1


class GoneError(Video2AudioError):
    status_code = 410


class PayloadTooLargeError(Video2AudioError):
    status_code = 413


class UnsupportedMediaError(Video2AudioError):
    status_code = 415


class RangeNotSatisfiableError(Video2AudioError):
    status_code = 416


class TooManyRequestsError(Video2AudioError):
    status_code = 429

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class TransientError(Video2AudioError):
    """A dependency is down or a step timed out: the same request may succeed later."""

    status_code = 503


class PermanentError(Video2AudioError):
    """Retrying cannot help (bad input, missing data): record the outcome and move on."""

    status_code = 422


class LimitReachedError(LimitError, TooManyRequestsError):
    """A limit that frees up with time (429 with Retry-After)."""

    def __init__(self, message: str, *, limit: str, value: int, retry_after_seconds: int) -> None:
        LimitError.__init__(self, message, limit=limit, value=value)
        self.retry_after_seconds = retry_after_seconds


class LimitExceededError(LimitError, PayloadTooLargeError):
    """A request that no wait can make fit (413)."""


# Library errors that mean "a dependency is unreachable right now": worth a retry, never a 500.
DEPENDENCY_ERRORS: tuple[type[BaseException], ...] = (
    pymongo.errors.ConnectionFailure,
    pymongo.errors.ServerSelectionTimeoutError,
    pymongo.errors.NetworkTimeout,
    psycopg2.OperationalError,
    psycopg2.InterfaceError,
    pika.exceptions.AMQPError,
    ConnectionError,
)
# Server answers that say the same: MongoDB's codes for a node shutting down or stepping down,
# and FerretDB's InternalError (code 1) when its own PostgreSQL went away: SQLSTATE class 08,
# 57P01-57P03 (shutting down), 53 (out of resources), or no connection to it at all.
TRANSIENT_SERVER_CODES = frozenset({6, 7, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436})
TRANSIENT_BACKEND = re.compile(
    r"SQLSTATE (08|57P0[123]|53)|failed to connect to|connection refused|connection reset"
    r"|broken pipe|the database system is (starting up|shutting down)"
)


def is_transient(exc: BaseException) -> bool:
    """Whether a later attempt may succeed: a :class:`TransientError` or a dependency failure."""
    return isinstance(exc, TransientError) or is_dependency_failure(exc)


def is_dependency_failure(exc: BaseException) -> bool:
    """Whether ``exc`` says a backing service is unavailable for now (a retry may succeed)."""
    if isinstance(exc, DEPENDENCY_ERRORS):
        return True
    if isinstance(exc, pymongo.errors.OperationFailure):
        if exc.code in TRANSIENT_SERVER_CODES:
            return True
        return exc.code == 1 and TRANSIENT_BACKEND.search(str(exc)) is not None
    return False
