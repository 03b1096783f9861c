"""The address a request comes from, through a known number of trusted proxies.

Behind a proxy every request arrives from the proxy's address; the client's is in
``X-Forwarded-For``, where each proxy appends the address it received the request from. Only
the entries appended by the proxies we run can be trusted — anything to their left may be
whatever the client wrote — so with ``hops`` trusted proxies the client is the ``hops``-th
entry from the right (the nearest proxy is the connection's own peer).
"""

from __future__ import annotations

import ipaddress

import flask


def client_address(request: flask.Request, *, trusted_hops: int) -> str:
    """The client's address; the connection's peer when no proxy is trusted."""
    peer = request.remote_addr or "unknown"
    if trusted_hops <= 0:
        return peer
    forwarded = [
        entry.strip()
        for header in request.headers.getlist("X-Forwarded-For")
        for entry in header.split(",")
        if entry.strip()
    ]
    if not forwarded:
        return peer
    candidate = forwarded[-min(trusted_hops, len(forwarded))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        # Not an address: a trusted proxy would not write that, so do not trust the header.
        return peer
