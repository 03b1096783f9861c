"""MongoDB (FerretDB) stopped while a conversion runs: a retryable answer, a recoverable job."""

from __future__ import annotations

import threading

from tests.support.convert import ffmpeg_children, post_event_http, uploaded_event
from tests.support.services import run_services
from tests.support.waiting import wait_until
from video2audio.infra.storage import AUDIO
from video2audio.jobs.repository import load_job


def test_mongodb_down_mid_job_answers_503_and_a_retry_after_restart_completes_it(
    convert_server, store_job, db, long_audio
):
    url, server = convert_server.url, convert_server.process
    job = store_job(long_audio, "mp3", "320k")
    event = uploaded_event(job)
    outcome: dict = {}
    request = threading.Thread(target=lambda: outcome.update(first=post_event_http(url, event)))
    request.start()
    # The audio upload has begun once the job names its pending file: ffmpeg is running.
    wait_until(
        lambda: load_job(db, job["_id"]).get("pending_audio_fid") is not None,
        timeout=90,
        what="the conversion to open its audio upload",
    )
    pending = load_job(db, job["_id"])["pending_audio_fid"]
    run_services("stop-mongo")
    try:
        request.join(60)
        assert outcome["first"].status_code == 503, outcome["first"].text
        assert ffmpeg_children(server.pid) == []
    finally:
        run_services("start-mongo")

    # What the event source does: retry with backoff until the answer is 2xx.
    def answered() -> list:
        response = post_event_http(url, event)
        return [] if response.status_code == 503 else [response]

    [response] = wait_until(
        answered,
        timeout=90,
        what="the retried event to be answered with something other than 503",
        interval=1,
    )
    stored = load_job(db, job["_id"])
    assert response.status_code == 200
    assert stored["status"] == "done"
    assert db[f"{AUDIO}.files"].count_documents({"metadata.job_id": job["_id"]}) == 1
    assert stored["audio_fid"] != pending
    assert db[f"{AUDIO}.chunks"].count_documents({"files_id": pending}) == 0
