"""Wall time and peak resident memory of a process tree (the process and all its descendants).

Memory is sampled from /proc every few tens of milliseconds and summed over the whole tree, so
ffmpeg children count; a sampled peak can miss a spike shorter than the interval, which is why
the interval is short.
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.03
CHILDREN_LISTED = Path(f"/proc/self/task/{os.getpid()}/children").exists()


def process_tree(root: int) -> set[int]:
    """``root`` and every process descended from it, read from /proc.

    Walked down from ``root`` through each thread's list of children: the sampler runs this
    every few tens of milliseconds, and reading the parent of every process on the machine
    instead took 3-4 ms of CPU each time (over a tenth of a core taken from what it measures).
    """
    if not CHILDREN_LISTED:
        return _process_tree_by_parents(root)
    members: set[int] = set()
    waiting = [root]
    while waiting:
        pid = waiting.pop()
        if pid in members:
            continue
        members.add(pid)
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for thread in threads:
            try:
                waiting += [
                    int(c) for c in Path(f"/proc/{pid}/task/{thread}/children").read_text().split()
                ]
            except (OSError, ValueError):
                continue
    return members


def _process_tree_by_parents(root: int) -> set[int]:
    """The same, for kernels without the children lists: the parent of every process."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    members = {root}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in members and pid not in members:
                members.add(pid)
                changed = True
    return members


def _memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process; PSS shares each page among the processes that map it."""
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return rss, pss


class PeakSampler:
    """Samples the tree under ``root`` in a thread until stopped.

    Two sums are kept: RSS, which counts a page once per process that maps it (a forked worker
    and its parent, or ffmpeg's libraries, count twice), and PSS, which divides shared pages
    among their users, so its sum is what the tree really occupies.
    """

    def __init__(self, root: int) -> None:
        self._root = root
        self._stop = threading.Event()
        self._peak_rss_kb = 0
        self._peak_pss_kb = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            sums = [_memory_kb(pid) for pid in process_tree(self._root)]
            self._peak_rss_kb = max(self._peak_rss_kb, sum(r for r, _ in sums))
            self._peak_pss_kb = max(self._peak_pss_kb, sum(p for _, p in sums))
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_rss_mb(self) -> float:
        return self._peak_rss_kb / 1024

    @property
    def peak_pss_mb(self) -> float:
        return self._peak_pss_kb / 1024


def tree_write_bytes(root: int) -> int:
    """Bytes the tree under ``root`` caused to be written to storage (``write_bytes`` in /proc).

    A reaped child's counters are added to its parent's, so an ffmpeg that already ended still
    counts through the process that waited for it. Pipes and sockets never count; files on a
    disk-backed file system do, when their pages are dirtied (even if deleted before writeback).
    """
    total = 0
    for pid in process_tree(root):
        try:
            for line in Path(f"/proc/{pid}/io").read_text().splitlines():
                if line.startswith("write_bytes:"):
                    total += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return total


@dataclass
class Measurement:
    wall_seconds: float
    peak_rss_mb: float
    peak_pss_mb: float
    stdout: str = ""
    disk_write_bytes: int | None = None


def run_measured(command: Sequence[str], env: dict[str, str] | None = None) -> Measurement:
    """Run ``command`` to completion, timing it and sampling its tree's memory.

    The bytes it wrote to disk come from the children's resource usage (``ru_oublock``, 512-byte
    blocks of ``write_bytes``), which includes the whole tree once it was waited for.
    """
    blocks = resource.getrusage(resource.RUSAGE_CHILDREN).ru_oublock
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    with PeakSampler(process.pid) as sampler:
        stdout, _ = process.communicate()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{command[:4]} failed with exit code {process.returncode}")
    written = (resource.getrusage(resource.RUSAGE_CHILDREN).ru_oublock - blocks) * 512
    return Measurement(wall, sampler.peak_rss_mb, sampler.peak_pss_mb, stdout, written)


def measure_call(root: int, call: Callable[[], object]) -> tuple[Measurement, object]:
    """Time ``call``, sampling the memory and the disk writes of the tree under ``root``."""
    written = tree_write_bytes(root)
    started = time.perf_counter()
    with PeakSampler(root) as sampler:
        result = call()
    wall = time.perf_counter() - started
    written = tree_write_bytes(root) - written
    return Measurement(wall, sampler.peak_rss_mb, sampler.peak_pss_mb, "", written), result
