"""A job's events carry its trace from the job document, first try and outbox alike."""

from __future__ import annotations

from bson import ObjectId

from video2audio.infra.events import event_traceparent
from video2audio.jobs.announcements import outcome_event, upload_event

CREATED = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
CONVERTED = "00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01"


def job(**fields):
    return {
        "_id": "a" * 32,
        "owner": "alice",
        "video_fid": ObjectId(),
        "output": {"format": "mp3", "bitrate": "192k"},
        "filename": "clip.mp4",
        "status": "queued",
        **fields,
    }


def test_video_uploaded_carries_the_span_that_created_the_job():
    assert event_traceparent(upload_event(job(traceparent=CREATED))) == CREATED


def test_an_outcome_carries_the_span_of_the_conversion_that_recorded_it():
    done = job(status="done", traceparent=CREATED, outcome_traceparent=CONVERTED)
    assert event_traceparent(outcome_event(done)) == CONVERTED


def test_an_outcome_without_a_conversion_span_carries_the_jobs_own_trace():
    failed = job(status="failed", traceparent=CREATED, outcome_traceparent=None)
    assert event_traceparent(outcome_event(failed)) == CREATED


def test_a_job_recorded_before_traces_announces_events_without_one():
    assert event_traceparent(upload_event(job())) is None
    assert event_traceparent(outcome_event(job(status="done"))) is None
