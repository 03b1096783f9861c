"""The notify function end to end: real SMTP delivery to the sink, a real webhook receiver that
checks signatures, jobs in FerretDB and owners in PostgreSQL."""

from __future__ import annotations

import json
import re
import threading
from urllib.parse import urlsplit

from tests.support.functions import function_app
from tests.support.notify import (
    AUDIO_BYTES,
    deliver,
    finished_job,
    make_owner,
    outcome_event,
    owner_secret,
)
from video2audio.infra.clients import mongo_database, reset_clients
from video2audio.infra.events import CONVERSION_FAILED, build_event
from video2audio.jobs.announcements import outcome_key
from video2audio.jobs.model import JobStatus
from video2audio.jobs.repository import load_job, update_job

LINK = re.compile(r"http://\S+/download\?\S+")


def records(job, event=None) -> dict:
    stored = load_job(mongo_database(), job["_id"])
    return stored["notifications"][outcome_key(stored)]


def test_a_finished_job_sends_one_email_with_a_working_link_and_one_signed_webhook(
    notify_env, notify_client, upload_client, running_sink, webhook_receiver, owner
):
    job = finished_job(owner.username, webhook_url=webhook_receiver.url)
    event = outcome_event(job)

    response = deliver(notify_client, event)

    assert response.status_code == 200
    assert response.get_json() == {
        "outcome": f"{job['_id']}-done",
        "job_id": job["_id"],
        "email": "sent",
        "webhook": "sent",
    }
    [message] = running_sink.messages_to(owner.email)
    text = message.get_body(("plain",)).get_content()
    assert message["Subject"] == "Your audio is ready: holiday.mp4"
    for expected in (
        "holiday.mp4",
        "MP3 (192k)",
        f"{len(AUDIO_BYTES):,} bytes",
        str(job["audio_fid"]),
        "UTC",
    ):
        assert expected in text
    link = LINK.search(text).group(0)
    parts = urlsplit(link)
    # The link needs no token: the upload function serves the file from the signature alone.
    download = upload_client.get(f"{parts.path}?{parts.query}")
    assert download.status_code == 200
    assert download.data == AUDIO_BYTES

    [call] = webhook_receiver.calls
    assert call["verified"]
    payload = json.loads(call["body"])
    assert (payload["job_id"], payload["owner"]) == (job["_id"], owner.username)
    assert payload["status"] == "done"
    assert payload["audio_fid"] == str(job["audio_fid"])
    assert payload["download_url"] == link
    assert payload["type"] == "io.video2audio.audio.ready"
    assert records(job, event)["email"]["state"] == "sent"
    assert records(job, event)["webhook"]["state"] == "sent"


def test_a_redelivered_event_sends_nothing_again(
    notify_env, notify_client, running_sink, webhook_receiver, owner
):
    job = finished_job(owner.username, webhook_url=webhook_receiver.url)
    event = outcome_event(job)
    assert deliver(notify_client, event).status_code == 200

    again = deliver(notify_client, event)

    assert again.status_code == 200
    assert again.get_json()["email"] == again.get_json()["webhook"] == "already handled"
    assert len(running_sink.messages_to(owner.email)) == 1
    assert len(webhook_receiver.calls) == 1


def test_smtp_down_answers_503_and_the_retry_sends_the_email_once(
    notify_env, notify_client, running_sink, webhook_receiver, owner
):
    job = finished_job(owner.username, webhook_url=webhook_receiver.url)
    event = outcome_event(job)
    running_sink.stop()

    first = deliver(notify_client, event)

    assert first.status_code == 503
    assert "email" not in records(job, event)  # the claim was given back for the retry
    running_sink.start()
    retry = deliver(notify_client, event)
    assert retry.status_code == 200
    assert retry.get_json()["email"] == "sent"
    # The webhook went out on the first attempt and is not repeated by the retry.
    assert retry.get_json()["webhook"] == "already handled"
    assert len(running_sink.messages_to(owner.email)) == 1
    assert len(webhook_receiver.calls) == 1


def test_a_webhook_5xx_answers_503_and_the_retry_calls_it_again_without_a_second_email(
    notify_env, notify_client, running_sink, webhook_receiver, owner
):
    job = finished_job(owner.username, webhook_url=webhook_receiver.url)
    event = outcome_event(job)
    webhook_receiver.status = 502

    assert deliver(notify_client, event).status_code == 503
    webhook_receiver.status = 204
    retry = deliver(notify_client, event)

    assert retry.status_code == 200
    assert retry.get_json()["webhook"] == "sent"
    assert len(webhook_receiver.calls) == 2
    assert len(running_sink.messages_to(owner.email)) == 1


def test_a_webhook_4xx_is_recorded_as_failed_and_acknowledged(
    notify_env, notify_client, webhook_receiver, owner
):
    job = finished_job(owner.username, webhook_url=webhook_receiver.url)
    event = outcome_event(job)
    webhook_receiver.status = 404

    response = deliver(notify_client, event)

    assert response.status_code == 200
    assert response.get_json()["webhook"] == "failed"
    assert "404" in records(job, event)["webhook"]["error"]
    assert deliver(notify_client, event).status_code == 200
    assert len(webhook_receiver.calls) == 1


def test_a_webhook_to_a_private_address_is_refused_when_not_allowed(
    notify_env, monkeypatch, webhook_receiver, owner
):
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE", "false")
    reset_clients()
    job = finished_job(owner.username, webhook_url=webhook_receiver.url)
    event = outcome_event(job)

    response = deliver(function_app("notify").test_client(), event)

    assert response.status_code == 200
    assert "non-public" in records(job, event)["webhook"]["error"]
    assert webhook_receiver.calls == []


def test_an_owner_without_an_email_address_gets_the_webhook_only(
    notify_env, notify_client, webhook_receiver
):
    owner = make_owner(with_email=False)
    job = finished_job(owner.username, webhook_url=webhook_receiver.url)
    event = outcome_event(job)

    response = deliver(notify_client, event)

    assert response.status_code == 200
    assert records(job, event)["email"] == {
        "state": "skipped",
        "reason": "the owner has no verified email address",
        "at": records(job, event)["email"]["at"],
    }
    assert len(webhook_receiver.calls) == 1


def test_a_failed_conversion_emails_the_reason_and_posts_status_failed(
    notify_env, notify_client, running_sink, webhook_receiver, owner
):
    job = finished_job(owner.username, webhook_url=webhook_receiver.url)
    failure = {"status": JobStatus.FAILED.value, "audio_fid": None}
    update_job(mongo_database(), job["_id"], {**failure, "error": "the video has no audio stream"})
    # What the event says of the failure is not what the message says: the job is.
    event = outcome_event({**job, "audio_fid": None}, CONVERSION_FAILED, error="ignore me")

    assert deliver(notify_client, event).status_code == 200

    [message] = running_sink.messages_to(owner.email)
    assert message["Subject"] == "Conversion failed: holiday.mp4"
    assert "the video has no audio stream" in message.get_body(("plain",)).get_content()
    payload = json.loads(webhook_receiver.calls[0]["body"])
    assert (payload["status"], payload["error"]) == ("failed", "the video has no audio stream")
    assert payload["download_url"] is None


def test_an_event_for_an_unknown_job_is_acknowledged(notify_env, notify_client):
    event = build_event(
        "io.video2audio.audio.ready", {"job_id": "f" * 32, "owner": "x"}, source="/tests"
    )
    response = deliver(notify_client, event)
    assert response.status_code == 200
    assert response.get_json()["status"] == "acknowledged"


def test_an_event_without_a_job_id_is_a_400(notify_env, notify_client):
    event = build_event("io.video2audio.audio.ready", {"owner": "x"}, source="/tests")
    assert deliver(notify_client, event).status_code == 400


def test_racing_deliveries_of_one_event_send_one_email_and_one_webhook(
    notify_env, notify_client, running_sink, webhook_receiver, owner
):
    job = finished_job(owner.username, webhook_url=webhook_receiver.url)
    event = outcome_event(job)
    start = threading.Barrier(6)
    statuses: list[int] = []

    def race() -> None:
        client = notify_client.application.test_client()
        start.wait()
        statuses.append(deliver(client, event).status_code)

    threads = [threading.Thread(target=race) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert statuses == [200] * 6
    assert len(running_sink.messages_to(owner.email)) == 1
    assert len(webhook_receiver.calls) == 1


def test_a_queue_message_without_cloudevent_headers_is_deduplicated_by_job_outcome(
    notify_env, notify_client, running_sink, owner
):
    job = finished_job(owner.username, webhook_url=None)
    data = outcome_event(job).get_data()
    for delivery in range(2):
        # What the RabbitmqSource makes of a plain message: a new id on every delivery.
        event = build_event(
            "dev.knative.rabbitmq.event", data, source="/rabbitmq", event_id=f"raw-{delivery}"
        )
        assert deliver(notify_client, event).status_code == 200
    assert len(running_sink.messages_to(owner.email)) == 1


def test_a_new_event_id_for_the_same_outcome_sends_nothing_again(
    notify_env, notify_client, running_sink, webhook_receiver, owner
):
    job = finished_job(owner.username, webhook_url=webhook_receiver.url)
    assert deliver(notify_client, outcome_event(job)).status_code == 200
    # Another event for the same ended job, with an id never seen: still the same outcome.
    assert deliver(notify_client, outcome_event(job)).status_code == 200
    assert len(running_sink.messages_to(owner.email)) == 1
    assert len(webhook_receiver.calls) == 1


def test_a_forged_failed_event_for_a_done_job_sends_nothing(
    notify_env, notify_client, running_sink, webhook_receiver, owner
):
    job = finished_job(owner.username, webhook_url=webhook_receiver.url)
    forged = outcome_event(job, CONVERSION_FAILED, error="Your account is locked: visit evil.test")

    response = deliver(notify_client, forged)

    assert response.status_code == 200
    assert response.get_json()["action"] == "none"
    assert running_sink.messages_to(owner.email) == []
    assert webhook_receiver.calls == []


def test_text_in_an_event_never_reaches_the_message(
    notify_env, notify_client, running_sink, webhook_receiver, owner
):
    job = finished_job(owner.username, webhook_url=webhook_receiver.url)
    event = outcome_event(job, filename="Click evil.test now.mp4", error="evil", format="wav")

    assert deliver(notify_client, event).status_code == 200

    [message] = running_sink.messages_to(owner.email)
    assert "evil" not in message.as_string()
    payload = json.loads(webhook_receiver.calls[0]["body"])
    assert (payload["filename"], payload["format"]) == ("holiday.mp4", "mp3")


def test_an_event_for_a_job_still_converting_sends_nothing(
    notify_env, notify_client, running_sink, webhook_receiver, owner
):
    job = finished_job(owner.username, webhook_url=webhook_receiver.url)
    update_job(mongo_database(), job["_id"], {"status": JobStatus.PROCESSING.value})

    response = deliver(notify_client, outcome_event(job))

    assert response.get_json()["action"] == "none"
    assert running_sink.messages_to(owner.email) == []
    assert webhook_receiver.calls == []


def test_a_webhook_is_signed_with_its_owners_secret_so_another_users_receiver_refuses_it(
    notify_env, notify_client, webhook_receiver, owner
):
    # B points their upload's webhook at A's receiver; A's receiver checks with A's secret.
    victim, attacker = owner, make_owner()
    webhook_receiver.secret_for = lambda _: owner_secret(victim.username)
    job = finished_job(attacker.username, webhook_url=webhook_receiver.url)

    assert deliver(notify_client, outcome_event(job)).status_code == 200

    [call] = webhook_receiver.calls
    assert not call["verified"]
    assert json.loads(call["body"])["owner"] == attacker.username


def test_an_address_not_yet_verified_gets_no_completion_email(
    notify_env, notify_client, running_sink, webhook_receiver
):
    owner = make_owner(verified=False)
    job = finished_job(owner.username, webhook_url=webhook_receiver.url)

    assert deliver(notify_client, outcome_event(job)).status_code == 200

    assert running_sink.messages_to(owner.email) == []
    assert records(job)["email"]["state"] == "skipped"
    assert len(webhook_receiver.calls) == 1
