"""Outbound calls to user-given URLs: which addresses are refused, and what is pinned."""

from __future__ import annotations

import ipaddress

import pytest

from video2audio.core.errors import PermanentError
from video2audio.infra.outbound import address_refused, embedded_ipv4, resolve_target


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


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::7f00:1",  # NAT64 well-known prefix + 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 + 169.254.169.254 (cloud metadata)
        "64:ff9b::a00:1",  # NAT64 + 10.0.0.1
        "64:ff9b:1::808:808",  # NAT64 local-use prefix: local translators only
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:c0a8:1::1",  # 6to4 of 192.168.0.1
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "::a9fe:a9fe",  # IPv4-compatible 169.254.169.254
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",  # IPv4-mapped
        "::",  # unspecified
        "::1",  # loopback
        "ff02::1",  # multicast
        "ff0e::1",  # global-scope multicast
        "fe80::1%eth0",  # link-local with a zone
        "fd12:3456::1",  # unique local
    ],
)
def test_ipv6_forms_that_reach_internal_or_embedded_internal_addresses_are_refused(address):
    assert address_refused(address)


@pytest.mark.parametrize(
    "address",
    ["2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::1", "93.184.216.34", "8.8.8.8"],
)
def test_public_addresses_and_tunnels_to_public_ipv4_are_accepted(address):
    assert not address_refused(address)


@pytest.mark.parametrize(
    ("address", "inner"),
    [
        ("64:ff9b::7f00:1", ["127.0.0.1"]),
        ("2002:7f00:1::1", ["127.0.0.1"]),
        ("::ffff:10.0.0.1", ["10.0.0.1"]),
        ("::a9fe:a9fe", ["169.254.169.254"]),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", ["65.54.227.120", "192.0.2.45"]),
        ("2606:4700:4700::1111", []),
    ],
)
def test_the_ipv4_address_inside_an_ipv6_address_is_found(address, inner):
    found = embedded_ipv4(ipaddress.ip_address(address))
    assert [str(ip) for ip in found] == inner
