"""Retention: delete stored files older than the retention, and mark their jobs expired.

FerretDB (v1) does not run TTL indexes, so a periodic sweep does the work: it pages through each
bucket's ``<bucket>.files`` by ``(uploadDate, _id)`` in bounded batches (keyset paging, so files
it skips are not read again and memory stays flat), within a per-run file and time budget; what is
left over is picked up by the next run.

Overlapping runs are safe without a lock:
- a file, its bytes and the job it ends are counted only by the run whose ``delete_one`` of the
  file document removed it (atomic even on FerretDB v1, whose conditional updates are not);
- a job is marked expired (unless it is processing under a live lease) *before* its file is
  deleted, so a queued job cannot be claimed by a converter after its video has gone (claiming
  needs status queued). FerretDB v1 cannot make "mark unless leased" atomic against a claim, so
  the lease is read back after marking and the file kept if a claim got in between.

Lifetimes: a job with audio lives as long as its audio (its video may go first; a done job stays
done until then); a job without audio expires with its video.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo.database import Database

from video2audio.core.clock import as_utc, now
from video2audio.expire import orphan_chunks
from video2audio.expire.abandoned_uploads import remove_abandoned_uploads
from video2audio.infra import claims
from video2audio.infra.storage import AUDIO, BUCKETS, VIDEOS, delete_file
from video2audio.jobs.model import JobStatus
from video2audio.jobs.repository import JOBS

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 200
DEFAULT_MAX_FILES = 5000  # per bucket and run: a backlog is worked off over several pings
DEFAULT_TIME_BUDGET_SECONDS = 240.0  # stays well inside the function's request timeout
# Chunks of a file whose id is younger than this may belong to an upload still in progress.
DEFAULT_ORPHAN_GRACE_SECONDS = 6 * 3600
# The orphan scan reads every file's first chunk, so it runs hourly, not on every ping.
DEFAULT_ORPHAN_SCAN_INTERVAL_SECONDS = 3600
# Redeliveries stop long before this; claim entries only guard against them.
CLAIMS_KEEP_SECONDS = 7 * 24 * 3600


@dataclass
class BucketSummary:
    files_deleted: int = 0
    bytes_deleted: int = 0
    files_skipped: int = 0
    orphan_chunks_removed: int = 0


@dataclass
class _Run:
    db: Database
    moment: datetime
    dry_run: bool
    deadline: float
    jobs_expired: int = 0
    buckets: dict[str, BucketSummary] = field(
        default_factory=lambda: {name: BucketSummary() for name in BUCKETS}
    )

    def out_of_time(self) -> bool:
        return time.monotonic() >= self.deadline


def _live_lease(moment: datetime) -> dict[str, Any]:
    return {"status": JobStatus.PROCESSING.value, "lease_until": {"$gt": moment}}


def _is_live(job: Mapping[str, Any], moment: datetime) -> bool:
    lease = job.get("lease_until")
    if job.get("status") != JobStatus.PROCESSING.value or lease is None:
        return False
    return as_utc(lease) > moment


def _mark_expired(run: _Run, job: Mapping[str, Any]) -> bool:
    """Mark the job expired; False when it must keep its files (a live lease appeared)."""
    if run.dry_run or job["status"] == JobStatus.EXPIRED.value:
        return True
    run.db[JOBS].update_one(
        {"_id": job["_id"], "$nor": [_live_lease(run.moment)]},
        {
            "$set": {
                "status": JobStatus.EXPIRED.value,
                "expired_at": run.moment,
                "lease_owner": None,
                "lease_until": None,
                "updated_at": now(),
            }
        },
    )
    # Read back rather than trusting the update's count: a converter may have claimed the job
    # between our read and our write, and then the video must stay.
    live = run.db[JOBS].find_one({"_id": job["_id"], **_live_lease(run.moment)}, {"_id": 1})
    return live is None


def _expire_file(run: _Run, bucket: str, file_doc: Mapping[str, Any], job: Mapping | None) -> None:
    summary = run.buckets[bucket]
    ends_job = False
    if job is not None:
        if _is_live(job, run.moment):
            summary.files_skipped += 1
            return
        # Each job has exactly one file that ends it (its audio if it has one, else its video),
        # which makes counting exact below.
        ends_job = bucket == AUDIO or not job.get("audio_fid")
        if ends_job and not _mark_expired(run, job):
            summary.files_skipped += 1
            return
    length = int(file_doc.get("length") or 0)
    if run.dry_run or delete_file(run.db, bucket, file_doc["_id"]):
        summary.files_deleted += 1
        summary.bytes_deleted += length
        # Counted by whichever run removed the file that ended the job: exactly one, since
        # FerretDB's delete_one is atomic where its conditional updates are not. (The status
        # read earlier is no guide: an overlapping run may have marked the job meanwhile.)
        if ends_job:
            run.jobs_expired += 1


def _jobs_of(db: Database, fields: tuple[str, ...], ids: list[ObjectId]) -> dict[ObjectId, Any]:
    found = db[JOBS].find({"$or": [{name: {"$in": ids}} for name in fields]})
    return {job[name]: job for job in found for name in fields if job.get(name) in ids}


def _sweep_bucket(
    run: _Run, bucket: str, cutoff: datetime, batch_size: int, max_files: int
) -> bool:
    """Expire the bucket's files uploaded before ``cutoff``; False if a budget ran out first."""
    files = run.db[f"{bucket}.files"]
    # An audio file a converter has stored but not yet linked is its job's pending_audio_fid:
    # the job's live lease must protect it too.
    job_fields = ("video_fid",) if bucket == VIDEOS else ("audio_fid", "pending_audio_fid")
    after: tuple[datetime, ObjectId] | None = None
    seen = 0
    while True:
        if seen >= max_files or run.out_of_time():
            return False
        query: dict[str, Any] = {"uploadDate": {"$lt": cutoff}}
        if after is not None:
            query["$or"] = [
                {"uploadDate": {"$gt": after[0]}},
                {"uploadDate": after[0], "_id": {"$gt": after[1]}},
            ]
        batch = list(
            files.find(query, {"_id": 1, "uploadDate": 1, "length": 1})
            .sort([("uploadDate", 1), ("_id", 1)])
            .limit(min(batch_size, max_files - seen))
        )
        if not batch:
            return True
        seen += len(batch)
        after = (batch[-1]["uploadDate"], batch[-1]["_id"])
        ids = [doc["_id"] for doc in batch]
        jobs = _jobs_of(run.db, job_fields, ids)
        for doc in batch:
            _expire_file(run, bucket, doc, jobs.get(doc["_id"]))


def expire_files(
    db: Database,
    *,
    older_than_seconds: float,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_files: int = DEFAULT_MAX_FILES,
    time_budget_seconds: float = DEFAULT_TIME_BUDGET_SECONDS,
    orphan_grace_seconds: float = DEFAULT_ORPHAN_GRACE_SECONDS,
    orphan_scan_interval_seconds: float = DEFAULT_ORPHAN_SCAN_INTERVAL_SECONDS,
    clock: Callable[[], datetime] = now,
) -> dict[str, Any]:
    """One retention sweep over both buckets; returns a JSON-ready summary (also logged)."""
    started = time.monotonic()
    moment = clock()
    cutoff = moment - timedelta(seconds=older_than_seconds)
    run = _Run(db=db, moment=moment, dry_run=dry_run, deadline=started + time_budget_seconds)
    complete = True
    for bucket in (VIDEOS, AUDIO):
        complete &= _sweep_bucket(run, bucket, cutoff, batch_size, max_files)
    # Before the orphan scan: an abandoned upload's chunks are its own to remove.
    abandoned = remove_abandoned_uploads(db, moment=moment, dry_run=dry_run, deadline=run.deadline)
    orphan_scan = not run.out_of_time() and orphan_chunks.scan_due(
        db, moment=moment, interval_seconds=orphan_scan_interval_seconds, dry_run=dry_run
    )
    for bucket in (VIDEOS, AUDIO) if orphan_scan else ():
        run.buckets[bucket].orphan_chunks_removed = orphan_chunks.remove_orphan_chunks(
            db,
            bucket,
            moment=moment,
            grace_seconds=orphan_grace_seconds,
            dry_run=dry_run,
            deadline=run.deadline,
        )
    claims_removed = claims.prune(db, older_than_seconds=CLAIMS_KEEP_SECONDS, dry_run=dry_run)
    complete &= not run.out_of_time()
    buckets = {name: asdict(summary) for name, summary in run.buckets.items()}
    summary = {
        "dry_run": dry_run,
        "older_than_seconds": older_than_seconds,
        "cutoff": cutoff.isoformat(),
        "buckets": buckets,
        "files_deleted": sum(b["files_deleted"] for b in buckets.values()),
        "bytes_deleted": sum(b["bytes_deleted"] for b in buckets.values()),
        "files_skipped": sum(b["files_skipped"] for b in buckets.values()),
        "jobs_expired": run.jobs_expired,
        "orphan_chunks_removed": sum(b["orphan_chunks_removed"] for b in buckets.values()),
        "orphan_scan": orphan_scan,
        "abandoned_uploads_removed": abandoned,
        "claims_removed": claims_removed,
        "complete": complete,
        "duration_seconds": round(time.monotonic() - started, 3),
    }
    logger.info(
        "expire%s: %d files (%d bytes) deleted, %d skipped, %d jobs expired, "
        "%d orphan chunks removed in %.3fs%s",
        " (dry run)" if dry_run else "",
        summary["files_deleted"],
        summary["bytes_deleted"],
        summary["files_skipped"],
        summary["jobs_expired"],
        summary["orphan_chunks_removed"],
        summary["duration_seconds"],
        "" if complete else "; more is left for the next run",
    )
    return summary
