"""(e), the convert function as Knative runs it: a warm functions-framework server, one request.

Each run stores the input as a new video and its job (not timed), posts the CloudEvent that an
upload announces and measures the request to the job done, over the server's whole process tree.
The server's output goes to a pipe, not a file: lines it logs to a file would count as disk
writes of the tree.
"""

from __future__ import annotations

import collections
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench import inputs
from bench.measure import Measurement, measure_call

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".run" / "bench"
BITRATE = "192k"
SERVER_LINES_KEPT = 50


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def store_job(db, source: Path, audio_format: str = "mp3", publish: dict | None = None) -> dict:
    """Store ``source`` as a new video and its job (``publish``: the publishing form fields)."""
    from video2audio.infra.storage import VIDEOS, open_upload
    from video2audio.jobs.publishing import parse_publishing
    from video2audio.jobs.repository import create_job

    upload = open_upload(db, VIDEOS, source.name, metadata={"bench": True})
    with source.open("rb") as stream:
        while block := stream.read(1024 * 1024):
            upload.write(block)
    upload.close()
    output = {"format": audio_format, "bitrate": BITRATE}
    job = create_job(
        db, owner="bench", video_fid=upload.file_id, filename=source.name, output=output,
        webhook_url=None,
    )  # fmt: skip
    if publish is None:
        return job
    # As upload stores the publishing form fields (the cover defaults to a frame of the video).
    options = parse_publishing(publish, cover_image=False)
    db["jobs"].update_one({"_id": job["_id"]}, {"$set": {"publish": options}})
    return {**job, "publish": options}


def post_job(url: str, job: dict):
    import requests

    from video2audio.infra.events import VIDEO_UPLOADED, build_event, to_http_binary

    data = {"job_id": job["_id"], "video_fid": str(job["video_fid"]), "owner": "bench"}
    headers, body = to_http_binary(build_event(VIDEO_UPLOADED, data, source="/bench"))
    response = requests.post(url, headers=headers, data=body, timeout=7200)
    if response.status_code != 200:
        raise RuntimeError(f"convert answered {response.status_code}: {response.text}")
    return response


def delete_job(db, job: dict, *, keep_video: bool = False) -> None:
    from video2audio.infra.storage import AUDIO, VIDEOS, delete_file
    from video2audio.jobs.repository import JOBS

    stored = db[JOBS].find_one({"_id": job["_id"]}) or {}
    if stored.get("audio_fid") is not None:
        delete_file(db, AUDIO, stored["audio_fid"])
    if not keep_video:
        delete_file(db, VIDEOS, job["video_fid"])
    db[JOBS].delete_one({"_id": job["_id"]})


class ConvertServer:
    """functions-framework serving convert on a free port, its output drained from a pipe."""

    def __init__(self) -> None:
        port = free_port()
        command = [str(Path(sys.executable).with_name("functions-framework"))]
        command += ["--target", "convert", "--signature-type", "cloudevent", "--port", str(port)]
        command += ["--source", str(ROOT / "functions" / "convert" / "main.py")]
        self.url = f"http://127.0.0.1:{port}/"
        self.last_lines: collections.deque[bytes] = collections.deque(maxlen=SERVER_LINES_KEPT)
        self._process = subprocess.Popen(
            command, env=os.environ.copy(), cwd=ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.pid = self._process.pid
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self.last_lines.append(line)

    def wait_ready(self, seconds: float = 30.0) -> None:
        import requests

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                requests.get(self.url, timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        tail = b"".join(self.last_lines).decode(errors="replace")
        raise RuntimeError(f"the convert function did not answer within {seconds:.0f} s:\n{tail}")

    def __enter__(self) -> ConvertServer:
        self.wait_ready()
        return self

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.wait(timeout=30)


def timed_conversions(
    server: ConvertServer,
    db,
    source: Path,
    repeat: int,
    audio_format: str = "mp3",
    publish: dict | None = None,
) -> list[Measurement]:
    """``repeat`` conversions of ``source``, each of a freshly stored copy (storing not timed)."""
    runs: list[Measurement] = []
    for _ in range(repeat):
        job = store_job(db, source, audio_format, publish)
        try:
            measured, _ = measure_call(server.pid, lambda job=job: post_job(server.url, job))
            done = db["jobs"].find_one({"_id": job["_id"]}) or {}
            measured.stdout = json.dumps(done.get("timings") or {})
        finally:
            delete_job(db, job)
        runs.append(measured)
    return runs


def worst_memory_best_time(runs: list[Measurement]) -> Measurement:
    """The fastest run, carrying the highest memory peak and disk writes seen in any run."""
    best = min(runs, key=lambda m: m.wall_seconds)
    best.peak_rss_mb = max(m.peak_rss_mb for m in runs)
    best.peak_pss_mb = max(m.peak_pss_mb for m in runs)
    best.disk_write_bytes = max(m.disk_write_bytes or 0 for m in runs)
    return best


def warm_up(server: ConvertServer, db) -> None:
    job = store_job(db, inputs.warm_up_clip(WORK))
    post_job(server.url, job)
    delete_job(db, job)


def convert_function_case(
    source: Path, repeat: int, audio_format: str = "mp3", publish: dict | None = None
) -> tuple[Measurement, dict]:
    """(e): a functions-framework server, warmed up by one small conversion, then the input
    (``publish``: the job's publishing form fields, as for (m), an M4A with its cover).

    Returns the fastest request with the highest memory peak seen, and a job whose video is
    kept for the GridFS reference cases.
    """
    from video2audio.infra.clients import mongo_database

    db = mongo_database()
    with ConvertServer() as server:
        warm_up(server, db)
        runs = timed_conversions(server, db, source, repeat, audio_format, publish)
    return worst_memory_best_time(runs), store_job(db, source)


def phases(measured: Measurement) -> str:
    """The job's own timings of a measured conversion, as a note."""
    timings = json.loads(measured.stdout or "{}")
    named = [
        f"{name.removesuffix('_seconds')} {timings[name]:.2f} s"
        for name in ("probe_seconds", "prepare_seconds", "convert_seconds")
        if name in timings
    ]
    return f"phases: {', '.join(named)}" if named else ""
