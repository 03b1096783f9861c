"""The client's address through trusted proxies, and only through them."""

from __future__ import annotations

import flask
import pytest

from video2audio.web.client_address import client_address

APP = flask.Flask(__name__)


def address(hops: int, peer: str = "10.0.0.5", forwarded: list[str] | None = None) -> str:
    headers = [("X-Forwarded-For", value) for value in forwarded or []]
    with APP.test_request_context("/login", headers=headers, environ_base={"REMOTE_ADDR": peer}):
        return client_address(flask.request, trusted_hops=hops)


def test_without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says():
    assert address(0, forwarded=["203.0.113.7"]) == "10.0.0.5"


def test_one_trusted_proxy_gives_the_address_it_appended():
    assert address(1, forwarded=["198.51.100.9"]) == "198.51.100.9"


def test_what_a_client_wrote_itself_is_ignored_behind_a_trusted_proxy():
    # The client sent "X-Forwarded-For: 1.2.3.4"; the proxy appended the real address.
    assert address(1, forwarded=["1.2.3.4, 198.51.100.9"]) == "198.51.100.9"


def test_two_trusted_proxies_count_from_the_right_across_header_lines():
    assert address(2, forwarded=["1.2.3.4, 198.51.100.9", "10.1.1.1"]) == "198.51.100.9"


def test_fewer_entries_than_trusted_hops_use_the_leftmost():
    assert address(3, forwarded=["198.51.100.9"]) == "198.51.100.9"


@pytest.mark.parametrize("value", ["unknown", "", "not-an-ip, <script>"])
def test_an_entry_that_is_not_an_address_falls_back_to_the_peer(value):
    assert address(1, forwarded=[value]) == "10.0.0.5"
