"""Run the ``video2audio`` CLI counting every byte it hands to its sockets (bench/cli_extract).

    python -m bench.sent_bytes COUNT_FILE [video2audio arguments...]

The count (request lines, headers and bodies, to every server) is written to COUNT_FILE when
the CLI exits. A measuring harness only: the CLI itself is unchanged.
"""

from __future__ import annotations

import atexit
import socket
import sys
from pathlib import Path

SENT = [0]


def _counting(name: str) -> None:
    original = getattr(socket.socket, name)

    def counted(self, data, *args):
        result = original(self, data, *args)
        SENT[0] += memoryview(data).nbytes if name == "sendall" else int(result)
        return result

    setattr(socket.socket, name, counted)


def main() -> None:
    count_file = Path(sys.argv[1])
    for name in ("send", "sendall"):
        _counting(name)
    atexit.register(lambda: count_file.write_text(str(SENT[0])))
    sys.argv = ["video2audio", *sys.argv[2:]]
    from video2audio_cli.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
