"""RabbitMQ stopped when the outcome is to be announced: 503, then announced on the retry."""

from __future__ import annotations

from tests.support.convert import post_event, uploaded_event
from tests.support.services import run_services
from video2audio.infra.events import AUDIO_READY
from video2audio.jobs.repository import load_job


def test_rabbitmq_down_answers_503_and_the_retry_announces_the_finished_job(
    convert_client, store_job, db, media, notify_queue
):
    job = store_job(media["mkv"], "opus")
    run_services("stop-rabbitmq")
    try:
        response = post_event(convert_client, uploaded_event(job))
        stored = load_job(db, job["_id"])
        assert response.status_code == 503
        assert (stored["status"], stored["notified"]) == ("done", False)
    finally:
        run_services("start-rabbitmq")
    retry = post_event(convert_client, uploaded_event(job))
    assert retry.status_code == 200
    [(event_type, data)] = notify_queue.events_for(job["_id"])
    assert (event_type, data["status"]) == (AUDIO_READY, "done")
