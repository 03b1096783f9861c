"""Fetching an imported job's video before it is converted (``POST /import`` made the job).

The convert function does it, under the job's lease with its heartbeat running: a fetch that
dies with its pod is retried by the next delivery like any conversion, and what a failed attempt
stored is removed before the next one starts. A refused or failed fetch fails the job with the
reason (unreachable, too large, not a video, refused address), and notify tells the user.
"""

from __future__ import annotations

import logging
from typing import Any

from pymongo.database import Database

from video2audio.core.metrics import UPLOAD_BYTES
from video2audio.infra.remote_fetch import FetchPolicy, fetch_into_gridfs
from video2audio.infra.storage import VIDEOS, delete_file, find_file
from video2audio.jobs.repository import update_job

logger = logging.getLogger(__name__)


def needs_fetch(db: Database, job: dict[str, Any]) -> bool:
    return bool(job.get("import")) and find_file(db, VIDEOS, job["video_fid"]) is None


def fetch_import(db: Database, job: dict[str, Any], *, policy: FetchPolicy) -> dict[str, Any]:
    """Store the import's file as the job's video; the job with what was learnt."""
    video_fid = job["video_fid"]
    # Chunks an earlier attempt left (its pod died mid-fetch) would clash with this one's.
    delete_file(db, VIDEOS, video_fid)
    url = job["import"]["url"]
    logger.info("job %s: fetching %s", job["_id"], url)
    fetched = fetch_into_gridfs(
        url,
        db=db,
        bucket=VIDEOS,
        file_id=video_fid,
        filename=job.get("filename") or "video",
        metadata={"owner": job.get("owner"), "job_id": job["_id"]},
        policy=policy,
    )
    UPLOAD_BYTES.inc(fetched.size)
    changes = {
        "media": {**(job.get("media") or {}), "container": fetched.container},
        "video_size": fetched.size,
        "import": {**job["import"], "final_url": fetched.final_url, "size": fetched.size},
    }
    update_job(db, job["_id"], changes)
    logger.info("job %s: fetched %s bytes of %s", job["_id"], fetched.size, fetched.container)
    return {**job, **changes}
