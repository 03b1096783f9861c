"""Outbound calls to user-given URLs: which addresses are refused, and what is pinned."""

from __future__ import annotations

import pytest

from video2audio.core.errors import PermanentError
from video2audio.infra.outbound import resolve_target


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8080/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fd00::1]/hook",
    ],
)
def test_internal_addresses_are_refused_unless_allowed(url):
    with pytest.raises(PermanentError, match="non-public"):
        resolve_target(url, allow_private=False, what="webhook URL")
    assert resolve_target(url, allow_private=True, what="webhook URL").address


def test_a_public_address_is_accepted_and_pinned():
    target = resolve_target(
        "https://93.184.216.34:8443/a/b?x=1", allow_private=False, what="webhook URL"
    )
    assert (target.scheme, target.port, target.path) == ("https", 8443, "/a/b?x=1")
    assert target.address == "93.184.216.34"


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "file:///etc/passwd", "http:///nohost", "http://u:p@host/x"]
)
def test_urls_that_are_not_plain_http_are_refused(url):
    with pytest.raises(PermanentError):
        resolve_target(url, allow_private=True, what="webhook URL")


def test_a_host_name_with_a_label_over_63_characters_is_refused():
    with pytest.raises(PermanentError, match="not a valid"):
        resolve_target(f"http://{'a' * 64}.example/", allow_private=True, what="webhook URL")
