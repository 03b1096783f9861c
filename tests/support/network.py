"""Ports on loopback: a free one to listen on, whether one is listening, and who listens."""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

from bench.measure import process_tree


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port: int, *, timeout: float = 0.2) -> bool:
    with socket.socket() as probe:
        probe.settimeout(timeout)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def listening_ports(root: int) -> set[int]:
    """TCP ports that process ``root`` or one of its descendants listens on, read from /proc."""
    inodes: set[str] = set()
    for pid in process_tree(root):
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
        except OSError:
            continue
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                # State 0A is LISTEN; field 9 is the socket's inode.
                if fields[3] == "0A" and fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports
