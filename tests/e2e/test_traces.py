"""One job followed from upload to notification through the JSON logs `make up` keeps."""

from __future__ import annotations

import json
import secrets
import uuid
from pathlib import Path

import pytest
import requests
from pymongo import MongoClient

from tests.support.media import make_video
from tests.support.paths import ROOT
from tests.support.waiting import wait_until
from video2audio.core.tracing import parse_traceparent

LOGS = ROOT / ".run" / "logs"
FOLLOWED = ("upload", "convert", "notify")


class LogTail:
    """The lines a function's log file gets from now on (the files are appended across runs)."""

    def __init__(self, function: str) -> None:
        self.path = LOGS / f"{function}.log"
        self.start = self.path.stat().st_size if self.path.exists() else 0

    def entries(self) -> list[dict]:
        """Every new line, each parsed as the one JSON object it must be."""
        with self.path.open("rb") as handle:
            handle.seek(self.start)
            text = handle.read().decode()
        # Only whole lines: the last one may still be being written.
        lines = text.split("\n")[:-1]
        entries = [json.loads(line) for line in lines]
        assert all(isinstance(entry, dict) for entry in entries), self.path
        return entries


@pytest.fixture
def mongo(stack):
    client = MongoClient(stack.mongo_url, serverSelectionTimeoutMS=5000)
    yield client[stack.mongo_db]
    client.close()


def upload_video(stack, token: str, path: Path, traceparent: str) -> dict:
    with path.open("rb") as handle:
        response = requests.post(
            f"{stack.upload_url}/upload",
            files={"file": (path.name, handle, "video/mp4")},
            data={"format": "mp3"},
            headers={"Authorization": f"Bearer {token}", "traceparent": traceparent},
            timeout=60,
        )
    assert response.status_code == 202, response.text
    return response.json()


def job_status(stack, token: str, job_id: str) -> dict:
    return requests.get(
        f"{stack.upload_url}/jobs/{job_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()


def email_state(mongo, job_id: str) -> str | None:
    job = mongo["jobs"].find_one({"_id": job_id}) or {}
    outcome = job.get("notifications", {}).get(f"{job_id}-done", {})
    return outcome.get("email", {}).get("state")


def test_one_jobs_trace_id_is_in_the_json_logs_of_upload_convert_and_notify(stack, mongo, tmp_path):
    tails = {function: LogTail(function) for function in FOLLOWED}
    token = stack.register_and_login(f"e2e-{uuid.uuid4().hex[:10]}")
    # The caller's own trace: upload continues it.
    trace_id = secrets.token_hex(16)
    caller = f"00-{trace_id}-{secrets.token_hex(8)}-01"

    accepted = upload_video(stack, token, make_video(tmp_path / "traced.mp4", seconds=2), caller)
    job_id = accepted["job_id"]
    assert accepted["trace_id"] == trace_id

    done = wait_until(
        lambda: (
            (status := job_status(stack, token, job_id))["status"] in {"done", "failed"} and status
        ),
        timeout=240,
        what=f"job {job_id} to finish",
    )
    assert (done["status"], done["trace_id"]) == ("done", trace_id)
    job = mongo["jobs"].find_one({"_id": job_id})
    assert job["trace_id"] == trace_id
    assert parse_traceparent(job["traceparent"]).trace_id == trace_id
    wait_until(
        lambda: email_state(mongo, job_id) == "sent", timeout=60, what="the completion email"
    )

    def traced() -> dict[str, list[dict]]:
        return {
            function: [entry for entry in tail.entries() if entry.get("trace_id") == trace_id]
            for function, tail in tails.items()
        }

    found = wait_until(
        lambda: (lines := traced()) and all(lines.values()) and lines,
        timeout=30,
        what=f"log lines of trace {trace_id} from {', '.join(FOLLOWED)}",
    )
    for function, entries in found.items():
        assert {entry["function"] for entry in entries} == {function}
        assert {entry["job_id"] for entry in entries} == {job_id}, function
    # Each function worked in spans of its own within the one trace.
    spans = [{entry["span_id"] for entry in found[function]} for function in FOLLOWED]
    assert sum(map(len, spans)) == len(set.union(*spans)), spans
    assert all(
        "event_id" in entry for function in ("convert", "notify") for entry in found[function]
    )
    assert {entry["user"] for entry in found["upload"]} == {job["owner"]}
