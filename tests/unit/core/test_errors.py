"""Which library errors mean "a backing service is unavailable for now"."""

from __future__ import annotations

import pymongo.errors
import pytest

from video2audio.core.errors import is_dependency_failure


@pytest.mark.parametrize(
    "error",
    [
        pymongo.errors.AutoReconnect("connection closed"),
        pymongo.errors.ServerSelectionTimeoutError("no servers"),
        ConnectionResetError(),
        # FerretDB when its own PostgreSQL died under it:
        pymongo.errors.OperationFailure(
            "FATAL: terminating connection due to unexpected postmaster exit (SQLSTATE 57P01)",
            code=1,
        ),
        pymongo.errors.OperationFailure("connection refused (SQLSTATE 08006)", code=1),
        pymongo.errors.OperationFailure(
            "failed to connect to `user=postgres database=ferretdb`: dial error: dial tcp "
            "127.0.0.1:57018: connect: connection refused",
            code=1,
        ),
        pymongo.errors.OperationFailure("interrupted at shutdown", code=11600),
    ],
)
def test_a_backing_service_going_away_is_a_dependency_failure(error):
    assert is_dependency_failure(error)


@pytest.mark.parametrize(
    "error",
    [
        pymongo.errors.DuplicateKeyError("E11000", code=11000),
        pymongo.errors.OperationFailure("unknown operator: $foo", code=2),
        pymongo.errors.OperationFailure("syntax error (SQLSTATE 42601)", code=1),
        ValueError("a bug"),
    ],
)
def test_a_refusal_or_a_bug_is_not(error):
    assert not is_dependency_failure(error)
