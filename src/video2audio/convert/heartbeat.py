"""The lease heartbeat of a running conversion, with its progress reports.

The lease is renewed about every third of its length, so one missed beat does not lose the job,
and progress is written at most about once a second, whichever comes first. When the renewal
finds that another worker has taken the job over, ``lost`` is set so the conversion stops.
"""

from __future__ import annotations

import logging
import threading
import time

from pymongo.database import Database

from video2audio.convert.media import percent
from video2audio.core.errors import is_dependency_failure
from video2audio.jobs.leases import renew_lease

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL = 1.0
STOP_WAIT = 0.5


class Heartbeat:
    def __init__(self, db: Database, job_id: str, *, worker: str, lease_seconds: float) -> None:
        self._db = db
        self._job_id = job_id
        self._worker = worker
        self._lease_seconds = lease_seconds
        self._renew_every = max(lease_seconds / 3, 0.2)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id}", daemon=True)
        self.lost = threading.Event()
        self.total_seconds: float | None = None
        self._done_seconds = 0.0

    def report(self, done_seconds: float) -> None:
        """Called from ffmpeg's progress reader; the beat thread writes it out."""
        self._done_seconds = done_seconds

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop beating without waiting out a renewal stuck on an unreachable database.

        A renewal that lands late is harmless: it only matches while this worker still holds
        the job in ``processing``, which finishing or releasing the job ends.
        """
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=STOP_WAIT)

    def _run(self) -> None:
        last_renewal = time.monotonic()
        last_written = 0
        tick = min(PROGRESS_INTERVAL, self._renew_every)
        while not self._stopped.wait(tick):
            progress = percent(self._done_seconds, self.total_seconds)
            due = time.monotonic() - last_renewal >= self._renew_every
            if not due and progress == last_written:
                continue
            try:
                held = renew_lease(
                    self._db,
                    self._job_id,
                    worker=self._worker,
                    lease_seconds=self._lease_seconds,
                    progress=progress,
                )
            except Exception as exc:
                if not is_dependency_failure(exc):
                    raise
                # Keep beating: if the database is really gone, the upload fails on its own.
                logger.warning("lease renewal of job %s failed: %r", self._job_id, exc)
                continue
            if not held:
                logger.warning("job %s was taken over by another worker; stopping", self._job_id)
                self.lost.set()
                return
            last_renewal, last_written = time.monotonic(), progress
