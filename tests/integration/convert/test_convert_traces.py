"""convert continues the trace of the event it gets and hands it on to notify."""

from __future__ import annotations

from tests.support.convert import post_event, uploaded_event
from video2audio.core.tracing import parse_traceparent
from video2audio.jobs.repository import JOBS, load_job

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
UPLOAD_SPAN = "00f067aa0ba902b7"
UPLOADED = f"00-{TRACE_ID}-{UPLOAD_SPAN}-01"


def test_the_outcome_continues_the_trace_in_a_span_of_the_conversion(
    convert_client, store_job, db, media, notify_queue
):
    job = store_job(media["mp4"])
    response = post_event(convert_client, uploaded_event(job, traceparent=UPLOADED))
    assert response.status_code == 200
    [sent] = notify_queue.traceparents_for(job["_id"])
    span = parse_traceparent(sent)
    assert span.trace_id == TRACE_ID
    assert span.span_id != UPLOAD_SPAN
    assert load_job(db, job["_id"])["outcome_traceparent"] == sent


def test_a_malformed_traceparent_is_ignored_and_the_job_converted_in_a_fresh_trace(
    convert_client, store_job, db, media, notify_queue
):
    job = store_job(media["mp4"])
    malformed = f"00-{TRACE_ID.upper()}-{UPLOAD_SPAN}-01"
    response = post_event(convert_client, uploaded_event(job, traceparent=malformed))
    assert response.status_code == 200
    assert load_job(db, job["_id"])["status"] == "done"
    [sent] = notify_queue.traceparents_for(job["_id"])
    assert parse_traceparent(sent).trace_id != TRACE_ID


def test_a_repeated_announcement_carries_the_trace_of_the_conversion_that_recorded_it(
    convert_client, store_job, db, media, notify_queue
):
    job = store_job(media["mp4"])
    post_event(convert_client, uploaded_event(job, traceparent=UPLOADED))
    db[JOBS].update_one({"_id": job["_id"]}, {"$set": {"notified": False}})
    # The redelivery comes without a trace: the job document has the one that counts.
    assert post_event(convert_client, uploaded_event(job)).status_code == 200
    first, repeat = notify_queue.traceparents_for(job["_id"], count=2)
    assert repeat == first
    assert parse_traceparent(first).trace_id == TRACE_ID
