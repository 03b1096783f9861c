"""Every program convert starts has a deadline: a hanging ffprobe or ffmpeg is killed, children
and all, and the delivery is answered 503 so the event source retries later."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.support.convert import post_event, uploaded_event
from tests.support.waiting import wait_until
from video2audio.jobs.repository import load_job

HANG = """#!/bin/sh
# Stands in for {name}: records its own and its child's process ids, then hangs.
echo $$ >> {pids}
sleep 600 &
echo $! >> {pids}
wait
"""


def hanging(directory: Path, name: str) -> Path:
    """A program called ``name`` in ``directory`` that never ends; returns its pid file."""
    pids = directory / f"{name}.pids"
    program = directory / name
    program.write_text(HANG.format(name=name, pids=pids))
    program.chmod(0o755)
    return pids


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


@pytest.mark.parametrize(
    ("program", "setting"),
    [("ffprobe", "probe_timeout_seconds"), ("ffmpeg", "convert_timeout_seconds")],
)
def test_a_hanging_program_is_killed_with_its_children_at_its_deadline(
    converter_with, store_job, db, media, tmp_path, program, setting
):
    pids = hanging(tmp_path, program)
    client = converter_with(path=f"{tmp_path}{os.pathsep}{os.environ['PATH']}", **{setting: "2"})
    job = store_job(media["mp4"])

    started = time.monotonic()
    response = post_event(client, uploaded_event(job))

    assert time.monotonic() - started < 10
    assert response.status_code == 503
    assert "2 s" in response.get_json()["error"]
    assert load_job(db, job["_id"])["status"] == "queued"  # given back for the retry
    recorded = [int(line) for line in pids.read_text().split()]
    assert len(recorded) == 2  # the program and the child it started
    wait_until(
        lambda: not any(running(pid) for pid in recorded),
        timeout=5,
        what=f"the hanging {program} and its child to be gone",
    )
