"""The chaos run: jobs go through while every component of the stack is SIGKILLed at random.

    python -m chaos.run [--jobs 30] [--seconds 120] [--seed N]      (make chaos)

Against the stack as `make up` runs it: one user (email verified, a webhook receiver of its own)
submits the jobs as a careful client does (a lost answer is looked up, never blindly resent),
while a killer takes down, every few seconds, one of: the five functions, the two RabbitMQ event
sources, the ping source, RabbitMQ, FerretDB, FerretDB's PostgreSQL and the users' PostgreSQL —
each kind at least once, by the process id the scripts recorded, never by name — and restarts
it the way `make up` does. Then every job must end done, with exactly one audio file of the
right length, one email and at least one verified webhook call (repeats only with the same
delivery id); nothing may be newly parked and no job may have been made twice.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pika
import requests

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / ".run"
STACK = ROOT / "scripts" / "stack.sh"
AUTH, UPLOAD = "http://127.0.0.1:8081", "http://127.0.0.1:8082"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:55672/%2F"
PARKED = ("video2audio.convert.parked", "video2audio.notify.parked")
FUNCTIONS = ("auth", "upload", "convert", "notify", "expire")
SOURCES = ("convert-source", "notify-source", "expire-ping")
SERVICES = ("rabbitmq", "ferretdb", "ferretdb-postgres", "postgres")
COMPONENTS = FUNCTIONS + SOURCES + SERVICES
VERIFY_LINK = re.compile(r"https?://\S+/verify-email\?\S+")
PASSWORD = "chaos-password-1"


def log(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def stack(*args: str, timeout: float = 240) -> None:
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    subprocess.run(
        ["bash", str(STACK), *args], check=True, env=env, timeout=timeout, capture_output=True
    )


def eventually(check, *, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except (requests.RequestException, OSError, pika.exceptions.AMQPError):
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:g} s for {what}")
        time.sleep(interval)


# --- killing by recorded pid ----------------------------------------------------------------


def _pids(component: str) -> list[int]:
    """The recorded pids whose process groups make up ``component``."""
    files = {
        "rabbitmq": [RUN / "rabbitmq" / "pid", RUN / "rabbitmq" / "beam.pid"],
        "ferretdb": [RUN / "ferretdb" / "pid"],
        "ferretdb-postgres": [RUN / "ferretdb" / "postgres" / "data" / "postmaster.pid"],
        "postgres": [RUN / "postgres" / "data" / "postmaster.pid"],
    }.get(component, [RUN / "stack" / f"{component}.pid"])
    pids = []
    for path in files:
        with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
            pids.append(int(path.read_text().split()[0]))
    return pids


def kill(component: str) -> None:
    groups = set()
    for pid in _pids(component):
        with contextlib.suppress(ProcessLookupError):
            groups.add(os.getpgid(pid))
    for group in groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)


def restart(component: str) -> None:
    if component in FUNCTIONS or component in SOURCES:
        stack("start", component)
    elif component == "rabbitmq":
        stack("services", "start-rabbitmq")
    elif component in {"ferretdb", "ferretdb-postgres"}:
        stack("services", "start-mongo")
    else:
        stack("services", "start-postgres")


def killer(stop: threading.Event, seconds: float, rng: random.Random, killed: list[str]) -> None:
    """Kill a component every few seconds until ``seconds`` pass and each kind died once."""
    deadline = time.monotonic() + seconds
    pending = list(COMPONENTS)
    rng.shuffle(pending)
    while not stop.is_set() and (time.monotonic() < deadline or pending):
        component = pending.pop() if pending else rng.choice(COMPONENTS)
        log(f"kill {component}")
        kill(component)
        killed.append(component)
        stop.wait(rng.uniform(0.5, 3.0))
        try:
            restart(component)
        except subprocess.SubprocessError as exc:
            log(f"restart of {component} failed once ({exc}); retrying")
            time.sleep(2)
            restart(component)
        stop.wait(rng.uniform(1.0, 4.0))


# --- the user, their jobs, their webhook receiver --------------------------------------------


@dataclass
class Webhooks:
    calls: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)
    secret: str = ""

    def start(self) -> str:
        from video2audio.notify.webhooks import verify_webhook_signature

        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                verified = verify_webhook_signature(
                    self.headers.get("X-Video2Audio-Signature"), body, hooks.secret
                )
                job = json.loads(body).get("job_id", "?")
                delivery = self.headers.get("X-Video2Audio-Delivery", "")
                hooks.calls.setdefault(job, []).append((delivery, verified))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{server.server_address[1]}/hook"


def make_media(folder: Path) -> list[tuple[Path, float]]:
    """A short video, and a long recording that is still converting when convert is killed."""
    folder.mkdir(parents=True, exist_ok=True)
    short, long_ = folder / "short.mp4", folder / "long.m4a"
    ffmpeg = ["ffmpeg", "-v", "error", "-y"]
    if not short.exists():
        subprocess.run([*ffmpeg, "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10:duration=3",
                        "-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-shortest",
                        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(short)],
                       check=True)  # fmt: skip
    if not long_.exists():
        subprocess.run([*ffmpeg, "-f", "lavfi", "-i", "sine=frequency=220:duration=240",
                        "-c:a", "aac", "-b:a", "96k", str(long_)], check=True)  # fmt: skip
    return [(short, 3.0), (long_, 240.0)]


def register(username: str) -> dict[str, str]:
    address = f"{username}@example.com"
    body = {"username": username, "password": PASSWORD, "email": address}
    assert requests.post(f"{AUTH}/register", json=body, timeout=10).status_code == 201

    def link() -> str | None:
        for path in sorted((RUN / "mail").glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if address in str(message["To"]):
                found = VERIFY_LINK.search(message.get_body(("plain",)).get_content())
                if found:
                    return found.group(0)
        return None

    assert requests.get(eventually(link, timeout=30, what="the verification mail"), timeout=10).ok
    return login(username)


def login(username: str) -> dict[str, str]:
    def token() -> str | None:
        answer = requests.post(
            f"{AUTH}/login", json={"username": username, "password": PASSWORD}, timeout=10
        )
        return answer.json()["token"] if answer.status_code == 200 else None

    return {"Authorization": f"Bearer {eventually(token, timeout=120, what='a login')}"}


def find_job(headers: dict[str, str], filename: str) -> str | None:
    answer = requests.get(f"{UPLOAD}/jobs?limit=100", headers=headers, timeout=10)
    answer.raise_for_status()
    return next((j["job_id"] for j in answer.json()["jobs"] if j["filename"] == filename), None)


def submit(headers: dict[str, str], path: Path, filename: str, webhook: str) -> str:
    """Upload as a careful client does: an answer that was lost is looked up, not resent."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            with path.open("rb") as video:
                answer = requests.post(
                    f"{UPLOAD}/upload",
                    files={"file": (filename, video)},
                    data={"webhook_url": webhook, "format": "mp3"},
                    headers=headers,
                    timeout=60,
                )
            if answer.status_code == 202:
                return answer.json()["job_id"]
            log(f"upload of {filename} answered {answer.status_code}; trying again")
        except (requests.RequestException, OSError) as exc:
            log(f"upload of {filename} lost its answer ({type(exc).__name__}); looking it up")
            with contextlib.suppress(requests.RequestException, OSError):
                found = eventually(
                    lambda: find_job(headers, filename) or "none", timeout=60, what="the job list"
                )
                if found != "none":
                    return found
        time.sleep(2)
    raise TimeoutError(f"could not submit {filename}")


def parked() -> dict[str, int]:
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    try:
        channel = connection.channel()
        return {q: channel.queue_declare(q, passive=True).method.message_count for q in PARKED}
    finally:
        connection.close()


def run_chaos(*, jobs: int, seconds: float, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    stack("up", timeout=600)
    media = make_media(RUN / "chaos")
    username = f"chaos-{seed}-{int(time.time())}"
    headers = register(username)
    hooks = Webhooks()
    webhook = hooks.start()
    hooks.secret = requests.get(f"{AUTH}/webhook-secret", headers=headers, timeout=10).json()[
        "webhook_secret"
    ]
    parked_before = parked()
    stop, killed = threading.Event(), []
    chaos = threading.Thread(target=killer, args=(stop, seconds, rng, killed))
    started = time.monotonic()
    chaos.start()
    submitted: dict[str, tuple[str, float]] = {}
    try:
        for n in range(jobs):
            path, duration = media[1] if n % 5 == 0 else media[0]
            filename = f"chaos-{n:02d}{path.suffix}"
            submitted[submit(headers, path, filename, webhook)] = (filename, duration)
            time.sleep(rng.uniform(0.2, 1.5))
    finally:
        chaos.join()
    log(f"killed {len(killed)} times: {', '.join(killed)}; checking every job")
    stack("up", timeout=600)  # everything running again, as `make up` leaves it
    headers = login(username)
    summary = check(headers, submitted, hooks, parked_before)
    summary.update(
        jobs=jobs, kills=len(killed), kinds_killed=len(set(killed)),
        seconds=round(time.monotonic() - started),
    )  # fmt: skip
    return summary


def check(
    headers: dict[str, str],
    submitted: dict[str, tuple[str, float]],
    hooks: Webhooks,
    parked_before: dict[str, int],
) -> dict[str, Any]:
    problems: list[str] = []

    def all_ended() -> bool:
        for job_id in submitted:
            job = requests.get(f"{UPLOAD}/jobs/{job_id}", headers=headers, timeout=10).json()
            if job["status"] not in {"done", "failed"}:
                return False
        return True

    eventually(all_ended, timeout=900, what="every job to end", interval=3)

    def all_told() -> bool:
        # A notify killed mid-send is taken over after its claim runs out, by the sweep's
        # announcing the job again: that can take a few minutes.
        mails = _mails_by_job()
        return all(mails.get(job_id) and hooks.calls.get(job_id) for job_id in submitted)

    with contextlib.suppress(TimeoutError):  # what is missing is reported below
        eventually(all_told, timeout=600, what="every email and webhook", interval=3)
    listed = requests.get(f"{UPLOAD}/jobs?limit=100", headers=headers, timeout=10).json()["jobs"]
    if len(listed) != len(submitted):
        problems.append(f"{len(listed)} jobs exist for {len(submitted)} submitted")
    mails = _mails_by_job()
    for job_id, (filename, duration) in submitted.items():
        job = requests.get(f"{UPLOAD}/jobs/{job_id}", headers=headers, timeout=10).json()
        if job["status"] != "done":
            problems.append(f"{filename}: {job['status']} ({job.get('error')})")
            continue
        got = _audio_seconds(headers, job["audio_fid"])
        if abs(got - duration) > 0.5:
            problems.append(f"{filename}: audio of {got:.1f} s for {duration:.1f} s")
        ids = mails.get(job_id, [])
        if len(set(ids)) != 1:
            problems.append(f"{filename}: {len(set(ids))} distinct emails")
        calls = hooks.calls.get(job_id, [])
        if not calls or not all(verified for _, verified in calls):
            problems.append(f"{filename}: webhook calls {calls}")
        elif len({delivery for delivery, _ in calls}) != 1:
            problems.append(f"{filename}: webhook repeated with another delivery id")
    parked_after = parked()
    newly_parked = sum(parked_after[q] - parked_before[q] for q in PARKED)
    if newly_parked:
        problems.append(f"{newly_parked} messages newly parked")
    repeats = sum(len(v) - len(set(v)) for v in mails.values())
    return {
        "ok": not problems,
        "problems": problems,
        "emails_repeated_with_the_same_id": repeats,
        "webhook_calls": sum(len(v) for v in hooks.calls.values()),
        "newly_parked": newly_parked,
    }


def _mails_by_job() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted((RUN / "mail").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        job = message["X-Video2Audio-Job"]
        if job:
            found.setdefault(str(job), []).append(str(message["Message-ID"]))
    return found


def _audio_seconds(headers: dict[str, str], audio_fid: str) -> float:
    answer = requests.get(
        f"{UPLOAD}/download", params={"fid": audio_fid}, headers=headers, timeout=60
    )
    answer.raise_for_status()
    audio = RUN / "chaos" / f"{audio_fid}.mp3"
    audio.write_bytes(answer.content)
    try:
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json",
             str(audio)],
            capture_output=True, check=True, timeout=60,
        )  # fmt: skip
    finally:
        audio.unlink()
    return float(json.loads(probe.stdout)["format"]["duration"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args(argv)
    summary = run_chaos(jobs=args.jobs, seconds=args.seconds, seed=args.seed)
    print(
        f"chaos seed={args.seed}: {summary['jobs']} jobs, {summary['kills']} kills of "
        f"{summary['kinds_killed']} kinds in {summary['seconds']} s: "
        + ("all done, one audio and one email each, webhooks verified, nothing parked"
           if summary["ok"] else "PROBLEMS: " + "; ".join(summary["problems"]))
    )  # fmt: skip
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
