"""Process-wide clients: one of each, however many threads ask first."""

from __future__ import annotations

import threading
import time

from video2audio.core.once import once_per_process


def test_threads_asking_first_at_once_share_one_instance():
    built: list[object] = []

    @once_per_process
    def client() -> object:
        time.sleep(0.1)  # long enough for every thread to arrive while the first one builds
        built.append(object())
        return built[-1]

    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(client())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1
    assert all(instance is built[0] for instance in got)
