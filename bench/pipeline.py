"""(h) The whole pipeline on the 3-minute 720p30 input: the upload answered, to the job done.

    make up && python -m bench.pipeline [--repeat N] [--no-write]

Against the stack as ``make up`` runs it (upload function, RabbitMQ, Knative's RabbitmqSource
adapter, the convert function): a user uploads the input with ``POST /upload`` (the README's
curl flow, MP3 192k, cover auto); the clock starts when the upload's answer arrives and stops at
the job's ``finished_at`` (read from MongoDB, so no polling of the API loads the machine). In the
same run, taking turns: (a) raw ffmpeg on the local file and (g) a plain sequential read of the
uploaded video out of GridFS. The target is (h) ≤ 1.3x max((a), (g)). The section it writes
replaces its own in bench/results.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import requests

from bench import inputs, stack
from bench.floor import raw_ffmpeg
from video2audio.convert import media

SECTION = "## The whole pipeline: upload answered to job done (bench/pipeline.py)"
TARGET = 1.3
JOB_SECONDS = 600
POLL_SECONDS = 0.1


def _token() -> str:
    username = f"bench-pipeline-{uuid.uuid4().hex[:8]}"
    body = {"username": username, "password": stack.PASSWORD}
    requests.post(f"{stack.AUTH}/register", json=body, timeout=30).raise_for_status()
    answer = requests.post(f"{stack.AUTH}/login", json=body, timeout=30)
    answer.raise_for_status()
    return answer.json()["token"]


def _seconds(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def upload_to_done(source: Path, token: str, jobs) -> tuple[float, dict]:
    """(h) for one upload: seconds from the upload's answer to the job's ``finished_at``."""
    headers = {"Authorization": f"Bearer {token}"}
    with source.open("rb") as video:
        answer = requests.post(
            f"{stack.UPLOAD}/upload",
            headers=headers,
            files={"file": (source.name, video, "video/mp4")},
            data={"format": "mp3", "bitrate": "192k"},
            timeout=JOB_SECONDS,
        )
    answered = time.time()
    if answer.status_code != 202:
        raise RuntimeError(f"the upload answered {answer.status_code}: {answer.text}")
    job_id = answer.json()["job_id"]
    deadline = time.monotonic() + JOB_SECONDS
    while time.monotonic() < deadline:
        job = jobs.find_one({"_id": job_id}) or {}
        if job.get("status") == "done":
            return _seconds(job["finished_at"]) - answered, job
        if job.get("status") == "failed":
            raise RuntimeError(f"job {job_id} failed: {job.get('error')}")
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"job {job_id} was not done within {JOB_SECONDS} s")


def gridfs_read(video_fid: str) -> float:
    """(g) in its own process, as make bench measures it."""
    command = [sys.executable, "-m", "bench.cases", "gridfs-read", video_fid, "1"]
    env = {
        "MONGO_URL": stack.MONGO_URL,
        "MONGO_DB": stack.MONGO_DB,
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=JOB_SECONDS, cwd=stack.ROOT, env=env
    )
    if done.returncode != 0:
        raise RuntimeError(f"the GridFS read failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="turns of (h), (g), (a)")
    parser.add_argument("--no-write", action="store_true", help="print, leave results.md alone")
    args = parser.parse_args()
    from pymongo import MongoClient

    work = stack.ROOT / ".run" / "bench"
    source = inputs.realistic(work)
    info = media.probe(media.MediaInput(str(source), "mov"), size=source.stat().st_size, timeout=60)
    client = MongoClient(stack.MONGO_URL, serverSelectionTimeoutMS=5000)
    jobs = client[stack.MONGO_DB]["jobs"]
    token = _token()
    load_before = stack.machine_load()
    h: list[float] = []
    g: list[float] = []
    a: list[float] = []
    try:
        for turn in range(args.repeat):
            seconds, job = upload_to_done(source, token, jobs)
            h.append(seconds)
            g.append(gridfs_read(str(job["video_fid"])))
            a.append(raw_ffmpeg(source, info, "mp3", work / "out" / "h-floor.mp3").wall_seconds)
            requests.delete(
                f"{stack.UPLOAD}/jobs/{job['_id']}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=JOB_SECONDS,
            )
            print(f"  turn {turn + 1}: (h) {h[-1]:.2f} s  (g) {g[-1]:.2f} s  (a) {a[-1]:.2f} s")
    finally:
        client.close()
    floor = max(min(a), min(g))
    ratio = min(h) / floor
    text = "\n".join(
        [
            SECTION,
            "",
            f"`python -m bench.pipeline` against `make up`, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; input {source.name}, "
            f"{source.stat().st_size / 1e6:.0f} MB (3 min, 1280x720 30 fps H.264 4.5 Mbit/s + "
            f"AAC, index at the end); MP3 192k, cover auto. Fastest of {args.repeat} turns each.",
            "",
            "| case | seconds |",
            "|---|---:|",
            f"| (h) upload answered → job done (queue, adapter, convert) | {min(h):.2f} |",
            f"| (a) raw ffmpeg on the local file | {min(a):.2f} |",
            f"| (g) raw GridFS sequential read of the uploaded video | {min(g):.2f} |",
            "",
            f"- **{'holds' if ratio <= TARGET else 'misses'}**: (h) takes {ratio:.2f}x "
            f"max((a), (g)) (target ≤ {TARGET}x).",
            f"- Machine load before: `{load_before}`; after: `{stack.machine_load()}`.",
            "",
        ]
    )
    stack.show_section(SECTION, text, write=not args.no_write)


if __name__ == "__main__":
    main()
