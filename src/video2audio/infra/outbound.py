"""Calls to addresses that users give us (webhooks, and later imports): checked, then pinned.

A URL from a user must not become a way into the cluster: the host is resolved once, every
address is checked (loopback, link-local, private, ... are refused unless allowed), and the
connection goes to the checked address itself, so a second DNS answer cannot swap in an internal
one. Redirects are never followed (http.client does not follow them).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from video2audio.core.errors import BadRequestError, PermanentError, TransientError

MAX_URL_CHARS = 2048


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the resolved, checked address the connection goes to


def parse_url(raw: str, *, what: str) -> SplitResult:
    """An absolute http(s) URL without credentials; :class:`BadRequestError` naming ``what``."""
    url = raw.strip()
    if len(url) > MAX_URL_CHARS or any(not ch.isprintable() or ch.isspace() for ch in url):
        raise BadRequestError(f"{what} is not a valid URL")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
        # A UnicodeError (a ValueError) for a name no resolver takes: an empty or 64+ char label.
        (parts.hostname or "").encode("idna")
    except ValueError:
        raise BadRequestError(f"{what} is not a valid URL") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise BadRequestError(f"{what} must be an absolute http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise BadRequestError(f"{what} must not contain credentials")
    return parts


# IPv6 ranges that carry an IPv4 address inside, or that only make sense on a local network.
NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the end
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: local translators only
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d


def _ipv4_refused(ip: ipaddress.IPv4Address) -> bool:
    return not ip.is_global or ip.is_multicast


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: mapped, 6to4, Teredo, NAT64, compatible."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if ip in NAT64_WELL_KNOWN or ip in IPV4_COMPATIBLE:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def address_refused(address: str) -> bool:
    """Whether ``address`` may reach something that is not the public internet.

    An IPv6 address that embeds an IPv4 address is judged by that IPv4 address too: a NAT64
    gateway or a 6to4/Teredo relay would deliver the request there.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv4Address):
        return _ipv4_refused(ip)
    if ip.is_unspecified or ip.is_multicast or ip in NAT64_LOCAL_USE:
        return True
    embedded = embedded_ipv4(ip)
    if any(_ipv4_refused(inner) for inner in embedded):
        return True
    return not embedded and not ip.is_global


def resolve_target(url: str, *, allow_private: bool, what: str) -> Target:
    """Parse and resolve ``url``; refuse it (permanently) when it may reach internal hosts."""
    try:
        parts = parse_url(url, what=what)
    except BadRequestError as exc:
        raise PermanentError(exc.message) from None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        if exc.errno in {socket.EAI_AGAIN, getattr(socket, "EAI_SYSTEM", None)}:
            raise TransientError(f"{what} host name could not be resolved right now") from exc
        raise PermanentError(f"{what} host name does not resolve") from exc
    except UnicodeError as exc:
        raise PermanentError(f"{what} host name is not a valid host name") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not allow_private and any(address_refused(address) for address in addresses):
        # One internal answer is enough to refuse: which address gets used is not ours to pick.
        raise PermanentError(f"{what} resolves to a non-public address")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, host, port, path, addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address while the Host header keeps the URL's name."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the URL's host name, not the address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def pinned_connection(target: Target, *, timeout: float) -> http.client.HTTPConnection:
    """An HTTP(S) connection to ``target``'s checked address."""
    if target.scheme == "https":
        return _PinnedHTTPSConnection(target, timeout)
    return _PinnedHTTPConnection(target, timeout)
