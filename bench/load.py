"""Load on the stack as `make up` runs it: many logins, uploads and status polls at once.

    python -m bench.load [--logins 50] [--uploads 20] [--video-mb 20]      (make load)

On loopback, bounded in time: 50 clients log in at once (bcrypt at the stack's cost), 20 clients
upload a 20 MB video at once, and every uploading client polls its job's status until it ends.
Writes bench/load.md: p50/p95/p99 per endpoint, errors and 5xx. A benchmark, not a test: the
figures are measured, and the run fails only when a request errs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
AUTH, UPLOAD = "http://127.0.0.1:8081", "http://127.0.0.1:8082"
PASSWORD = "load-password-1"  # noqa: S105 - the load users' own
DEADLINE_SECONDS = 900


@dataclass
class Timings:
    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, name: str, request, ok: set[int]) -> requests.Response | None:
        started = time.monotonic()
        try:
            response = request()
        except requests.RequestException as exc:
            with self.lock:
                self.errors[name].append(type(exc).__name__)
            return None
        with self.lock:
            self.seconds[name].append(time.monotonic() - started)
            if response.status_code not in ok:
                self.errors[name].append(str(response.status_code))
        return response


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def make_video(path: Path, megabytes: int) -> Path:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Random noise does not compress: the video track is the size asked, as a phone's is.
        seconds = 10
        bitrate = megabytes * 8 * 1000 // seconds
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
             f"nullsrc=size=640x360:rate=25:duration={seconds},geq=random(1)*255:128:128",
             "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
             "-c:v", "libx264", "-preset", "ultrafast", "-b:v", f"{bitrate}k",
             "-maxrate", f"{bitrate}k", "-bufsize", f"{bitrate}k", "-c:a", "aac", "-shortest",
             str(path)],
            check=True,
        )  # fmt: skip
    return path


def register(timings: Timings, username: str) -> None:
    body = {"username": username, "password": PASSWORD}
    timings.call(
        "POST /register", lambda: requests.post(f"{AUTH}/register", json=body, timeout=60), {201}
    )


def login(timings: Timings, username: str) -> str | None:
    body = {"username": username, "password": PASSWORD}
    answer = timings.call(
        "POST /login", lambda: requests.post(f"{AUTH}/login", json=body, timeout=120), {200}
    )
    return answer.json()["token"] if answer is not None and answer.status_code == 200 else None


def upload_and_follow(timings: Timings, token: str, video: Path) -> None:
    headers = {"Authorization": f"Bearer {token}"}

    def send() -> requests.Response:
        with video.open("rb") as data:
            return requests.post(
                f"{UPLOAD}/upload", files={"file": (video.name, data)}, headers=headers, timeout=300
            )

    answer = timings.call("POST /upload", send, {202})
    if answer is None or answer.status_code != 202:
        return
    job_url = f"{UPLOAD}/jobs/{answer.json()['job_id']}"
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        status = timings.call(
            "GET /jobs/{id}", lambda: requests.get(job_url, headers=headers, timeout=30), {200}
        )
        if status is not None and status.json().get("status") in {"done", "failed"}:
            return
        time.sleep(1)
    with timings.lock:
        timings.errors["job"].append("did not end in time")


def run(logins: int, uploads: int, megabytes: int) -> Timings:
    timings = Timings()
    video = make_video(ROOT / ".run" / "bench" / f"load-{megabytes}mb.mp4", megabytes)
    users = [f"load-{uuid.uuid4().hex[:10]}" for _ in range(max(logins, uploads))]
    for username in users:
        register(timings, username)
    tokens: list[str | None] = [None] * len(users)

    def log_in(index: int) -> None:
        tokens[index] = login(timings, users[index])

    threads = [threading.Thread(target=log_in, args=(n,)) for n in range(logins)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    followers = [
        threading.Thread(target=upload_and_follow, args=(timings, token, video))
        for token in tokens[:uploads]
        if token
    ]
    for thread in followers:
        thread.start()
    for thread in followers:
        thread.join()
    return timings


def report(timings: Timings, *, logins: int, uploads: int, megabytes: int) -> str:
    lines = [
        "# Load on the local stack (`make load`)",
        "",
        f"{logins} logins at once, then {uploads} uploads of a {megabytes} MB video at once, each "
        "client polling its job every second until it ended; all on loopback, one machine.",
        "",
        "| endpoint | requests | p50 s | p95 s | p99 s | errors |",
        "|---|---|---|---|---|---|",
    ]
    for name in sorted(timings.seconds):
        values = timings.seconds[name]
        errors = ", ".join(timings.errors.get(name, [])) or "0"
        lines.append(
            f"| {name} | {len(values)} | {percentile(values, 0.5):.3f} | "
            f"{percentile(values, 0.95):.3f} | {percentile(values, 0.99):.3f} | {errors} |"
        )
    for name, errors in timings.errors.items():
        if name not in timings.seconds:
            lines.append(f"| {name} | - | - | - | - | {', '.join(errors)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=50)
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--video-mb", type=int, default=20)
    args = parser.parse_args(argv)
    started = time.monotonic()
    timings = run(args.logins, args.uploads, args.video_mb)
    text = report(timings, logins=args.logins, uploads=args.uploads, megabytes=args.video_mb)
    text += f"\nWall time {time.monotonic() - started:.0f} s. bcrypt cost: the stack's.\n"
    (ROOT / "bench" / "load.md").write_text(text)
    print(text)
    failed = sum(len(errors) for errors in timings.errors.values())
    median_login = statistics.median(timings.seconds["POST /login"] or [0])
    print(f"login p50 {median_login:.3f} s; {failed} errors", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
