"""Sending only the sound (issue 21): ``video2audio convert`` of a 1 GB 1080p phone-like
recording to MP3, with the audio track copied out locally (the default) and with
``--send-video``, against the stack as ``make up`` runs it.

    make up && python -m bench.cli_extract [--input PATH] [--no-write]

For each way it measures the bytes the client handed to its sockets (bench/sent_bytes.py:
requests, headers and bodies), the bytes the server stored (the GridFS file's length), and the
wall time from starting the CLI to its exit with the MP3 downloaded (the CLI polls the job once
a second). Then it checks the two MP3s are the same recording: durations within one MP3 frame,
and whether their audio packets are identical. The input is read once beforehand, so both runs
find it in the page cache. The section it writes replaces its own in bench/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

from bench import inputs
from bench.stack import (
    AUTH,
    MONGO_DB,
    MONGO_URL,
    PASSWORD,
    ROOT,
    UPLOAD,
    machine_load,
    show_section,
)

SECTION = "## Sending only the sound: the CLI (bench/cli_extract.py)"
MP3_FRAME_SAMPLES = 1152
LOUDNESS_TOLERANCE_LU = 0.1
TARGET_RATIO = 20
UNREACHABLE = 4  # the CLI's exit code for a dropped connection: running it again resumes
RERUNS = 8
RERUN_PAUSE_SECONDS = 10
STILL_LOCKED = "another request is appending"


@dataclass
class Run:
    way: str
    sent_bytes: int
    stored_bytes: int
    received: str | None
    wall_seconds: float
    mp3: Path
    duration: float
    sample_rate: int
    packets_md5: str
    integrated_lufs: float | None = None


def _probe_audio(path: Path) -> tuple[float, int, str]:
    command = ["ffprobe", "-v", "error", "-select_streams", "a:0", "-of", "json"]
    command += ["-show_entries", "stream=duration,sample_rate", str(path)]
    facts = json.loads(subprocess.run(command, check=True, capture_output=True, timeout=60).stdout)
    stream = facts["streams"][0]
    md5 = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0", "-c", "copy", "-f", "md5", "-"],
        check=True,
        capture_output=True,
        timeout=120,
    ).stdout.decode()
    return float(stream["duration"]), int(stream["sample_rate"]), md5.strip()


def _integrated_lufs(path: Path) -> float:
    """The MP3's integrated loudness, measured independently with ffmpeg's ebur128 filter."""
    command = ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a:0"]
    command += ["-af", "ebur128", "-f", "null", "-"]
    completed = subprocess.run(command, capture_output=True, text=True, check=True, timeout=300)
    summary = completed.stderr.rsplit("Summary:", 1)[1]
    return float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary)[1])


def _stored_bytes(job: dict) -> int:
    from bson import ObjectId
    from pymongo import MongoClient

    client = MongoClient(MONGO_URL, serverSelectionTimeoutMS=5000)
    try:
        found = client[MONGO_DB]["videos.files"].find_one({"_id": ObjectId(job["video_fid"])})
    finally:
        client.close()
    return int(found["length"]) if found else int(job.get("video_size") or 0)


def _user(env: dict[str, str]) -> str:
    username = f"bench-cli-{uuid.uuid4().hex[:8]}"
    answer = requests.post(
        f"{AUTH}/register", json={"username": username, "password": PASSWORD}, timeout=30
    )
    answer.raise_for_status()
    cli = [sys.executable, "-m", "video2audio_cli", "login", "-u", username]
    subprocess.run(cli, env=env, check=True, capture_output=True, timeout=60)
    answer = requests.post(
        f"{AUTH}/login", json={"username": username, "password": PASSWORD}, timeout=30
    )
    answer.raise_for_status()
    return answer.json()["token"]


def convert(
    source: Path,
    work: Path,
    env: dict[str, str],
    token: str,
    *,
    whole: bool,
    loudness: float | None = None,
) -> Run:
    way = "whole video (--send-video)" if whole else "sound only (default)"
    if loudness is not None:
        way += f", --loudness {loudness:g}"
    out = work / ("whole" if whole else "sound")
    out.mkdir()
    arguments = ["convert", str(source), "--format", "mp3", "-o", str(out)]
    arguments += ["--send-video"] if whole else []
    arguments += ["--loudness", f"{loudness:g}"] if loudness is not None else []
    sent, interruptions = 0, []
    started = time.monotonic()
    for attempt in range(1 + RERUNS):
        count_file = work / f"{out.name}-{attempt}.sent"
        command = [sys.executable, "-m", "bench.sent_bytes", str(count_file), *arguments]
        completed = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, timeout=3600)
        sent += int(count_file.read_text()) if count_file.exists() else 0
        error = (completed.stderr.decode().strip().splitlines() or [""])[-1]
        if completed.returncode != UNREACHABLE and STILL_LOCKED not in error:
            break
        # As a user would: run the same command again (once the server has let go of the
        # dropped request's lock), which resumes the upload.
        print(f"  {way}: {error}; running it again", flush=True)
        interruptions.append(error)
        time.sleep(RERUN_PAUSE_SECONDS)
    wall = time.monotonic() - started
    if completed.returncode != 0:
        raise RuntimeError(f"{way}: the CLI failed: {completed.stderr.decode()[-2000:]}")
    if interruptions:
        way += f", run {len(interruptions) + 1} times"
    mp3 = Path(completed.stdout.decode().strip())
    headers = {"Authorization": f"Bearer {token}"}
    listed = requests.get(f"{UPLOAD}/jobs", params={"limit": 1}, headers=headers, timeout=30)
    job = listed.json()["jobs"][0]
    duration, sample_rate, md5 = _probe_audio(mp3)
    run = Run(
        way=way,
        sent_bytes=sent,
        stored_bytes=_stored_bytes(job),
        received=job.get("received"),
        wall_seconds=wall,
        mp3=mp3,
        duration=duration,
        sample_rate=sample_rate,
        packets_md5=md5,
        integrated_lufs=_integrated_lufs(mp3) if loudness is not None else None,
    )
    print(
        f"  {way:28} sent {run.sent_bytes:>13,} B  stored {run.stored_bytes:>13,} B  "
        f"received={run.received}  {wall:7.2f} s",
        flush=True,
    )
    # Clean-up, after the figures: deleting a 1 GB video's chunks on FerretDB takes a while.
    requests.delete(f"{UPLOAD}/jobs/{job['job_id']}", headers=headers, timeout=600)
    return run


def section(source: Path, whole: Run, sound: Run, *, load_before: str, load_after: str) -> str:
    frame = MP3_FRAME_SAMPLES / sound.sample_rate
    gap = abs(whole.duration - sound.duration)
    ratio = whole.sent_bytes / sound.sent_bytes
    rows = [
        "| way | bytes sent by the client | bytes stored by the server | received | wall s |",
        "|---|---:|---:|---|---:|",
    ]
    for run in (whole, sound):
        rows.append(
            f"| {run.way} | {run.sent_bytes:,} | {run.stored_bytes:,} | {run.received} | "
            f"{run.wall_seconds:.1f} |"
        )
    verdict = "holds" if ratio >= TARGET_RATIO else "misses"
    same = "holds" if gap <= frame else "misses"
    levels = []
    if whole.integrated_lufs is not None and sound.integrated_lufs is not None:
        apart = abs(whole.integrated_lufs - sound.integrated_lufs)
        levels.append(
            f"- **{'holds' if apart <= LOUDNESS_TOLERANCE_LU else 'misses'}**: the same "
            f"loudness after normalisation: {whole.integrated_lufs:.1f} and "
            f"{sound.integrated_lufs:.1f} LUFS integrated (ebur128), {apart:.2f} LU apart "
            f"(target ≤ {LOUDNESS_TOLERANCE_LU} LU)."
        )
    return "\n".join(
        [
            SECTION,
            "",
            f"`python -m bench.cli_extract` against `make up`, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; input {source.name}: "
            f"{source.stat().st_size:,} bytes, 1920x1080 30 fps H.264 16 Mbit/s + AAC 128k "
            "48 kHz stereo, 8 min, index at the end (bench/inputs.py, "
            "`phone_recording_1080p`). `video2audio convert --format mp3`, cover auto (the "
            "default); wall time from starting the CLI to its exit with the MP3 written (it "
            "polls the job every second). Loopback network: on a real uplink the bytes sent "
            "decide the time.",
            "",
            *rows,
            "",
            f"- **{verdict}**: {ratio:.0f}x fewer bytes sent with the sound only "
            f"(target ≥ {TARGET_RATIO}x); {whole.wall_seconds / sound.wall_seconds:.1f}x less "
            "wall time even on loopback.",
            f"- **{same}**: the same MP3: durations {whole.duration:.3f} s and "
            f"{sound.duration:.3f} s, {gap * 1000:.1f} ms apart (one MP3 frame is "
            f"{frame * 1000:.1f} ms); audio packets "
            f"{'identical' if whole.packets_md5 == sound.packets_md5 else 'differ'}.",
            *levels,
            "- The whole video (1 GB, above the 64 MiB threshold) goes as a resumable tus "
            "upload and the server takes the cover frame; the sound alone goes in one request "
            "with the frame the CLI took locally as its cover.",
            f"- Machine load before: `{load_before}`; after: `{load_after}`.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", type=Path, help="default: generated in .run/bench")
    parser.add_argument("--no-write", action="store_true", help="print, leave results.md alone")
    parser.add_argument(
        "--loudness", type=float, help="normalise both to this LUFS and compare their loudness"
    )
    args = parser.parse_args()
    source = args.input or inputs.phone_recording_1080p(ROOT / ".run" / "bench")
    with source.open("rb") as warm:  # both runs then read it from the page cache
        while warm.read(16 * 1024 * 1024):
            pass
    load_before = machine_load()
    with tempfile.TemporaryDirectory(prefix="v2a-bench-cli-") as temp:
        work = Path(temp)
        env = {
            **{k: v for k, v in os.environ.items() if k in {"PATH", "LANG", "HOME"}},
            "XDG_CONFIG_HOME": str(work / "config"),
            "VIDEO2AUDIO_AUTH_URL": AUTH,
            "VIDEO2AUDIO_UPLOAD_URL": UPLOAD,
            "VIDEO2AUDIO_PASSWORD": PASSWORD,
            "PYTHONPATH": str(ROOT),
        }
        token = _user(env)
        # The sound first: its figures stand even if the long whole-video upload breaks off.
        sound = convert(source, work, env, token, whole=False, loudness=args.loudness)
        whole = convert(source, work, env, token, whole=True, loudness=args.loudness)
        text = section(source, whole, sound, load_before=load_before, load_after=machine_load())
    show_section(SECTION, text, write=not args.no_write)


if __name__ == "__main__":
    main()
