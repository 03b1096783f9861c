"""Schemathesis against a running function: its description, bounded runs, the checks.

Used by the conformance tests of auth and upload (tests/integration/*/test_openapi_conformance.py).
The description is the one in the package, loaded when the tests are collected (schemathesis
makes one test per operation from it); those tests also check that the running function serves
exactly that description.
"""

from __future__ import annotations

import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from video2audio.web.openapi import api_description

# Per operation, on top of its examples and the coverage phase's boundary cases: enough to find
# what an unhandled input or a wrong description does, in well under a minute per function.
MAX_EXAMPLES = 25

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@schemathesis.serializer("application/offset+octet-stream")
def _offset_octets(ctx: object, value: object) -> bytes:
    """tus bodies (resumable uploads' bytes) are sent as they are, like octet-stream."""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def described_api(package: str) -> schemathesis.BaseSchema:
    """The description of the capability ``package``, for schemathesis, with a fixed seed."""
    config = schemathesis.Config.from_dict(
        {
            "seed": 15,
            "generation": {"max-examples": MAX_EXAMPLES, "mode": "all"},
            "request-timeout": 10,
        }
    )
    return schemathesis.openapi.from_dict(api_description(package), config=config)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def call_described(
    api: schemathesis.BaseSchema,
    base_url: str,
    method: str,
    path: str,
    *,
    auth: dict[str, str] | None = None,
    **parts: object,
):
    """One hand-made request through the description, its answer checked like generated ones.

    For the answers random input never reaches: an accepted upload, a done job's audio, a
    verification link. ``parts`` are schemathesis' (``query``, ``path_parameters``, ``body``...).
    """
    case = api[path][method].Case(**parts)
    return case.call_and_validate(base_url=base_url, headers=auth, checks=CHECKS)
