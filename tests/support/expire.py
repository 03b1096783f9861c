"""Helpers of the expire tests (fixtures stay in their conftest.py)."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from bson import ObjectId
from pymongo.database import Database

from video2audio.core.clock import now
from video2audio.infra.storage import AUDIO, VIDEOS, open_upload
from video2audio.jobs.model import JobStatus
from video2audio.jobs.repository import JOBS, create_job, update_job

OLD = 3600  # seconds: older than the 600 s retention the tests sweep with


def stored_file(db: Database, bucket: str, *, age: float, size: int = 3000) -> ObjectId:
    stream = open_upload(db, bucket, "f.bin", metadata={})
    stream.write(os.urandom(size))
    stream.close()
    # GridFS stamps uploadDate when the upload closes: age the file as if uploaded earlier.
    db[f"{bucket}.files"].update_one(
        {"_id": stream.file_id}, {"$set": {"uploadDate": now() - timedelta(seconds=age)}}
    )
    return stream.file_id


def make_job(
    db: Database,
    *,
    status: JobStatus,
    video_age: float,
    audio_age: float | None = None,
    lease_seconds: float | None = None,
    owner: str = "expire-tester",
) -> dict[str, Any]:
    video_fid = stored_file(db, VIDEOS, age=video_age)
    job = create_job(
        db,
        owner=owner,
        video_fid=video_fid,
        filename="clip.mp4",
        output={"format": "mp3", "bitrate": "192k"},
        webhook_url=None,
    )
    changes: dict[str, Any] = {"status": status.value}
    if audio_age is not None:
        changes["audio_fid"] = stored_file(db, AUDIO, age=audio_age, size=1000)
    if lease_seconds is not None:
        changes["lease_owner"] = "converter-1"
        changes["lease_until"] = now() + timedelta(seconds=lease_seconds)
    update_job(db, job["_id"], changes)
    return db[JOBS].find_one({"_id": job["_id"]})


def file_exists(db: Database, bucket: str, file_id: ObjectId) -> bool:
    has_doc = db[f"{bucket}.files"].count_documents({"_id": file_id}) > 0
    has_chunks = db[f"{bucket}.chunks"].count_documents({"files_id": file_id}) > 0
    assert has_doc == has_chunks, "a file document and its chunks must go together"
    return has_doc


def status_of(db: Database, job: dict[str, Any]) -> str:
    return db[JOBS].find_one({"_id": job["_id"]})["status"]
