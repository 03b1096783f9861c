"""What a notification adds to notify's metrics: one outcome per channel."""

from __future__ import annotations

from tests.support.metrics import sample
from tests.support.notify import deliver, finished_job, outcome_event

NOTIFICATIONS = "video2audio_notifications_total"


def every_notification() -> float:
    return sum(
        sample(NOTIFICATIONS, {"channel": channel, "outcome": outcome})
        for channel in ("email", "webhook")
        for outcome in ("sent", "failed", "retried", "skipped")
    )


def test_a_notification_counts_each_channels_outcome(
    notify_env, notify_client, webhook_receiver, owner
):
    email = {"channel": "email", "outcome": "sent"}
    webhook = {"channel": "webhook", "outcome": "failed"}
    before = sample(NOTIFICATIONS, email), sample(NOTIFICATIONS, webhook)
    webhook_receiver.status = 404  # a permanent refusal: failed, not retried
    job = finished_job(owner.username, webhook_url=webhook_receiver.url)

    assert deliver(notify_client, outcome_event(job)).status_code == 200

    after = sample(NOTIFICATIONS, email), sample(NOTIFICATIONS, webhook)
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)


def test_a_redelivered_notification_counts_nothing_again(
    notify_env, notify_client, webhook_receiver, owner
):
    job = finished_job(owner.username, webhook_url=webhook_receiver.url)
    event = outcome_event(job)
    assert deliver(notify_client, event).status_code == 200
    total = every_notification()

    assert deliver(notify_client, event).status_code == 200

    assert every_notification() == total
