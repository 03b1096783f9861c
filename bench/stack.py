"""Where the benchmarks that run against ``make up`` find the stack, and where they write."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AUTH, UPLOAD = "http://127.0.0.1:8081", "http://127.0.0.1:8082"
MONGO_URL, MONGO_DB = "mongodb://127.0.0.1:57017/", "video2audio"
PASSWORD = "bench-password-1"  # noqa: S105 - the benchmark users' own
RESULTS = ROOT / "bench" / "results.md"


def machine_load() -> str:
    """``uptime``'s line: the load the figures were taken under."""
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def show_section(title: str, text: str, *, write: bool) -> None:
    """Print a benchmark's section and, unless told not to, put it into bench/results.md."""
    from bench.report import replace_kept_section

    print(text)
    if write:
        replace_kept_section(title, text, RESULTS)
        print(f"written to {RESULTS.relative_to(ROOT)}")
