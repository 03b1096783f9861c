"""The retention sweep against the real FerretDB, each test in a database of its own."""

from __future__ import annotations

import threading
from datetime import timedelta

from bson import ObjectId

from tests.support.expire import OLD, file_exists, make_job, status_of, stored_file
from video2audio.core.clock import now
from video2audio.expire.sweep import expire_files
from video2audio.infra.storage import AUDIO, VIDEOS
from video2audio.jobs.model import JobStatus


def test_old_files_are_deleted_and_their_jobs_expired_while_recent_ones_stay(scratch_db):
    db = scratch_db
    done = make_job(db, status=JobStatus.DONE, video_age=OLD + 60, audio_age=OLD)
    failed = make_job(db, status=JobStatus.FAILED, video_age=OLD)
    queued = make_job(db, status=JobStatus.QUEUED, video_age=OLD)
    recent = make_job(db, status=JobStatus.DONE, video_age=120, audio_age=60)

    summary = expire_files(db, older_than_seconds=600)

    for job in (done, failed, queued):
        assert status_of(db, job) == "expired"
        assert not file_exists(db, VIDEOS, job["video_fid"])
    assert not file_exists(db, AUDIO, done["audio_fid"])
    assert status_of(db, recent) == "done"
    assert file_exists(db, VIDEOS, recent["video_fid"])
    assert file_exists(db, AUDIO, recent["audio_fid"])
    assert summary["buckets"]["videos"] == {
        "files_deleted": 3,
        "bytes_deleted": 9000,
        "files_skipped": 0,
        "orphan_chunks_removed": 0,
    }
    assert (summary["buckets"]["audio"]["files_deleted"], summary["jobs_expired"]) == (1, 3)
    assert summary["complete"] and summary["duration_seconds"] >= 0


def test_retention_zero_deletes_every_file_uploaded_before_the_run(scratch_db):
    jobs = [make_job(scratch_db, status=JobStatus.DONE, video_age=5, audio_age=1) for _ in range(2)]

    summary = expire_files(scratch_db, older_than_seconds=0)

    assert summary["files_deleted"] == 4
    assert summary["jobs_expired"] == 2
    assert all(status_of(scratch_db, job) == "expired" for job in jobs)


def test_a_done_job_whose_video_alone_expired_stays_done(scratch_db):
    job = make_job(scratch_db, status=JobStatus.DONE, video_age=OLD, audio_age=60)

    summary = expire_files(scratch_db, older_than_seconds=600)

    assert not file_exists(scratch_db, VIDEOS, job["video_fid"])
    assert file_exists(scratch_db, AUDIO, job["audio_fid"])
    assert status_of(scratch_db, job) == "done"
    assert summary["jobs_expired"] == 0


def test_files_of_a_job_processing_under_a_live_lease_are_skipped(scratch_db):
    live = make_job(scratch_db, status=JobStatus.PROCESSING, video_age=OLD, lease_seconds=300)

    summary = expire_files(scratch_db, older_than_seconds=600)

    assert file_exists(scratch_db, VIDEOS, live["video_fid"])
    assert status_of(scratch_db, live) == "processing"
    assert summary["buckets"]["videos"]["files_skipped"] == 1
    assert summary["files_deleted"] == 0


def test_a_job_whose_lease_ran_out_is_expired_like_any_other(scratch_db):
    stale = make_job(scratch_db, status=JobStatus.PROCESSING, video_age=OLD, lease_seconds=-30)

    expire_files(scratch_db, older_than_seconds=600)

    assert not file_exists(scratch_db, VIDEOS, stale["video_fid"])
    assert status_of(scratch_db, stale) == "expired"


def test_a_dry_run_reports_what_a_real_run_then_does_and_deletes_nothing(scratch_db):
    jobs = [make_job(scratch_db, status=JobStatus.DONE, video_age=OLD, audio_age=OLD)]
    jobs.append(make_job(scratch_db, status=JobStatus.FAILED, video_age=OLD))

    report = expire_files(scratch_db, older_than_seconds=600, dry_run=True)

    assert all(file_exists(scratch_db, VIDEOS, job["video_fid"]) for job in jobs)
    assert file_exists(scratch_db, AUDIO, jobs[0]["audio_fid"])
    assert [status_of(scratch_db, job) for job in jobs] == ["done", "failed"]
    real = expire_files(scratch_db, older_than_seconds=600)
    for key in ("buckets", "files_deleted", "bytes_deleted", "jobs_expired"):
        assert report[key] == real[key]
    assert report["dry_run"] and report["files_deleted"] == 3


def test_two_overlapping_runs_delete_and_count_each_file_and_job_once(scratch_db):
    jobs = [
        make_job(scratch_db, status=JobStatus.DONE, video_age=OLD + i, audio_age=OLD)
        for i in range(12)
    ]
    start = threading.Barrier(2)
    summaries, errors = [], []

    def sweep() -> None:
        start.wait()
        try:
            summaries.append(expire_files(scratch_db, older_than_seconds=600, batch_size=3))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(s["files_deleted"] for s in summaries) == 24
    assert sum(s["bytes_deleted"] for s in summaries) == 12 * 3000 + 12 * 1000
    assert sum(s["jobs_expired"] for s in summaries) == 12
    assert all(status_of(scratch_db, job) == "expired" for job in jobs)
    assert scratch_db["videos.chunks"].count_documents({}) == 0
    assert scratch_db["audio.chunks"].count_documents({}) == 0


def test_orphan_chunks_are_removed_but_chunks_of_an_upload_in_progress_are_not(scratch_db):
    crashed = ObjectId.from_datetime(now() - timedelta(days=1))  # its file document is gone
    in_progress = ObjectId()  # an upload writes chunks before its file document
    kept = stored_file(scratch_db, AUDIO, age=60)
    scratch_db["audio.chunks"].insert_many(
        [{"files_id": crashed, "n": n, "data": b"x"} for n in range(3)]
        + [{"files_id": in_progress, "n": 0, "data": b"y"}]
    )

    summary = expire_files(scratch_db, older_than_seconds=600)

    assert summary["orphan_chunks_removed"] == 3
    assert scratch_db["audio.chunks"].count_documents({"files_id": crashed}) == 0
    assert scratch_db["audio.chunks"].count_documents({"files_id": in_progress}) == 1
    assert file_exists(scratch_db, AUDIO, kept)


def test_a_run_stops_at_its_file_budget_and_the_next_run_finishes(scratch_db):
    for _ in range(3):
        make_job(scratch_db, status=JobStatus.FAILED, video_age=OLD)

    first = expire_files(scratch_db, older_than_seconds=600, max_files=2)
    second = expire_files(scratch_db, older_than_seconds=600, max_files=2)

    assert (first["files_deleted"], first["complete"]) == (2, False)
    assert (second["files_deleted"], second["complete"]) == (1, True)


def test_an_audio_file_a_live_converter_has_not_linked_yet_is_kept(scratch_db):
    live = make_job(scratch_db, status=JobStatus.PROCESSING, video_age=60, lease_seconds=300)
    pending = stored_file(scratch_db, AUDIO, age=1)
    scratch_db["jobs"].update_one({"_id": live["_id"]}, {"$set": {"pending_audio_fid": pending}})

    summary = expire_files(scratch_db, older_than_seconds=0)

    assert file_exists(scratch_db, AUDIO, pending)
    assert file_exists(scratch_db, VIDEOS, live["video_fid"])
    assert summary["files_skipped"] == 2


def test_the_orphan_scan_runs_once_per_interval_not_on_every_ping(scratch_db):
    first = expire_files(scratch_db, older_than_seconds=600, orphan_scan_interval_seconds=3600)
    second = expire_files(scratch_db, older_than_seconds=600, orphan_scan_interval_seconds=3600)
    forced = expire_files(scratch_db, older_than_seconds=600, orphan_scan_interval_seconds=0)
    assert (first["orphan_scan"], second["orphan_scan"], forced["orphan_scan"]) == (
        True,
        False,
        True,
    )


def test_a_dry_run_counts_orphan_chunks_without_removing_them(scratch_db):
    crashed = ObjectId.from_datetime(now() - timedelta(days=1))
    scratch_db["videos.chunks"].insert_many(
        [{"files_id": crashed, "n": n, "data": b"x"} for n in range(2)]
    )

    report = expire_files(scratch_db, older_than_seconds=600, dry_run=True)

    assert report["orphan_chunks_removed"] == 2
    assert scratch_db["videos.chunks"].count_documents({"files_id": crashed}) == 2
    assert expire_files(scratch_db, older_than_seconds=600)["orphan_chunks_removed"] == 2
