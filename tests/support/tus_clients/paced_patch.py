"""Send one tus PATCH slowly, as a client on a slow uplink does; run as its own process.

    python paced_patch.py UPLOAD_URL TOKEN OFFSET LENGTH [PAUSE_SECONDS]

Sends the request head with ``Content-Length: LENGTH``, then 64 KiB pieces with a pause between
them (20 ms unless told; 0 sends as fast as the server takes them, filling the socket buffers),
printing ``SENT <n>`` (flushed) after each piece, so a test can kill the process part-way.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from urllib.parse import urlsplit

PIECE = 64 * 1024


def main(argv: list[str]) -> int:
    url, token, offset, length = argv[0], argv[1], int(argv[2]), int(argv[3])
    pause = float(argv[4]) if len(argv) > 4 else 0.02
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    head = (
        f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: Bearer {token}\r\nTus-Resumable: 1.0.0\r\n"
        f"Upload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\n"
        f"Content-Length: {length}\r\n\r\n"
    )
    sock.sendall(head.encode())
    sent = 0
    while sent < length:
        piece = os.urandom(min(PIECE, length - sent))
        sock.sendall(piece)
        sent += len(piece)
        print(f"SENT {sent}", flush=True)
        time.sleep(pause)
    print(sock.recv(4096).decode(errors="replace").splitlines()[0], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
