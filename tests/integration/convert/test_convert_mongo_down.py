"""MongoDB (FerretDB) stopped while a conversion runs: a retryable answer, a recoverable job."""

from __future__ import annotations

import threading
import time

from video2audio.jobs import load_job
from video2audio.storage import AUDIO

from .conftest import ffmpeg_children, post_event_http, services, uploaded_event


def wait_until(condition, timeout: float, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(interval)


def test_mongodb_down_mid_job_answers_503_and_a_retry_after_restart_completes_it(
    convert_server, store_job, db, long_audio
):
    url, server = convert_server
    job = store_job(long_audio, "mp3", "320k")
    event = uploaded_event(job)
    outcome: dict = {}
    request = threading.Thread(target=lambda: outcome.update(first=post_event_http(url, event)))
    request.start()
    # The audio upload has begun once the job names its pending file: ffmpeg is running.
    wait_until(lambda: load_job(db, job["_id"]).get("pending_audio_fid") is not None, 30)
    pending = load_job(db, job["_id"])["pending_audio_fid"]
    services("stop-mongo")
    try:
        request.join(60)
        assert outcome["first"].status_code == 503, outcome["first"].text
        assert ffmpeg_children(server.pid) == []
    finally:
        services("start-mongo")

    # What the event source does: retry with backoff until the answer is 2xx.
    deadline = time.monotonic() + 90
    while (response := post_event_http(url, event)).status_code == 503:
        assert time.monotonic() < deadline, response.text
        time.sleep(1)
    stored = load_job(db, job["_id"])
    assert response.status_code == 200
    assert stored["status"] == "done"
    assert db[f"{AUDIO}.files"].count_documents({"metadata.job_id": job["_id"]}) == 1
    assert stored["audio_fid"] != pending
    assert db[f"{AUDIO}.chunks"].count_documents({"files_id": pending}) == 0
