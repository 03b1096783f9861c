"""Following an import URL hop by hop, against a local HTTP server: redirects, refusals."""

from __future__ import annotations

import time

import pytest

from tests.support.media_server import Route, media_server
from video2audio.core.errors import PermanentError
from video2audio.infra.remote_fetch import FetchPolicy, _open

LOCAL_ONLY = FetchPolicy(
    max_bytes=10_000,
    timeout_seconds=5,
    max_redirects=3,
    allow_private=False,
    allowed_networks=("127.0.0.1/32",),
)


def deadline() -> float:
    return time.monotonic() + 5


@pytest.fixture
def server():
    with media_server() as served:
        yield served


def test_a_redirect_chain_is_followed_to_the_file(server):
    server.routes["a"] = Route(status=302, location="/b")
    server.routes["b"] = Route(status=301, location=server.url("c"))
    server.routes["c"] = Route(body=b"video bytes")
    response, final = _open(server.url("a"), LOCAL_ONLY, deadline())
    assert (response.read(), final) == (b"video bytes", server.url("c"))


def test_more_redirects_than_allowed_are_refused(server):
    for n in range(5):
        server.routes[f"r{n}"] = Route(status=302, location=f"/r{n + 1}")
    with pytest.raises(PermanentError, match="redirected more than 3 times"):
        _open(server.url("r0"), LOCAL_ONLY, deadline())


def test_a_redirect_to_a_refused_address_is_refused(server):
    # 127.0.0.2 is loopback too, but not in the allowed network: refused before any connection.
    server.routes["a"] = Route(status=302, location=f"http://127.0.0.2:{server.port}/b")
    with pytest.raises(PermanentError, match="non-public address"):
        _open(server.url("a"), LOCAL_ONLY, deadline())


def test_a_redirect_to_the_metadata_address_is_refused(server):
    server.routes["a"] = Route(status=307, location="http://169.254.169.254/latest/meta-data/")
    with pytest.raises(PermanentError, match="non-public address"):
        _open(server.url("a"), LOCAL_ONLY, deadline())


def test_a_private_address_is_refused_unless_allowed(server):
    strict = FetchPolicy(max_bytes=10, timeout_seconds=5, max_redirects=3, allow_private=False)
    with pytest.raises(PermanentError, match="non-public address"):
        _open(server.url("a"), strict, deadline())


def test_a_redirect_to_another_scheme_is_refused(server):
    server.routes["a"] = Route(status=302, location="file:///etc/passwd")
    with pytest.raises(PermanentError, match="http:// or https://"):
        _open(server.url("a"), LOCAL_ONLY, deadline())


def test_a_redirect_with_credentials_is_refused(server):
    server.routes["a"] = Route(status=302, location=f"http://u:p@127.0.0.1:{server.port}/b")
    with pytest.raises(PermanentError, match="credentials"):
        _open(server.url("a"), LOCAL_ONLY, deadline())


def test_an_error_answer_names_its_status(server):
    with pytest.raises(PermanentError, match="HTTP 404"):
        _open(server.url("missing"), LOCAL_ONLY, deadline())


def test_a_closed_port_is_unreachable():
    with media_server() as gone:
        url = gone.url("a")
    with pytest.raises(PermanentError, match="unreachable"):
        _open(url, LOCAL_ONLY, deadline())
