"""`make bench`: conversion speed and memory, against the floor (raw ffmpeg) and the old ways.

Runs on the services that scripts/services.sh started (the environment's MONGO_URL etc.), in a
database of its own. Prints one table and writes it, with the verdict on each target, to
bench/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".run" / "bench"
BITRATE = "192k"
BENCH_ENV = {
    "MONGO_DB": "video2audio_bench",
    "NOTIFY_QUEUE": "video2audio.notify.bench",
    "CONVERT_TIMEOUT_SECONDS": "7200",
    "LOG_LEVEL": "WARNING",
    # MoviePy brings its own ffmpeg build; the same system ffmpeg for everyone keeps it fair.
    "IMAGEIO_FFMPEG_EXE": "ffmpeg",
}
os.environ.update(BENCH_ENV)

from bench import inputs, loudness  # noqa: E402 - after the environment the clients read
from bench.measure import Measurement, measure_call, run_measured  # noqa: E402
from bench.report import Row, write_results  # noqa: E402
from video2audio.convert import media  # noqa: E402

PY = sys.executable


def python_case(*args: str) -> Measurement:
    """A case in its own process; the time is the one it reports for its conversion call."""
    measured = run_measured([PY, "-m", "bench.cases", *args], env=os.environ.copy())
    report = json.loads(measured.stdout.strip().splitlines()[-1])
    measured.wall_seconds = report.get("seconds", measured.wall_seconds)
    measured.stdout = json.dumps(report)
    return measured


def interleaved_best(repeat: int, runs: dict[str, Callable[[], Measurement]]) -> dict:
    """Each run ``repeat`` times, taking turns, keeping each one's fastest.

    Taking turns spreads other load on the machine evenly over the cases being compared.
    """
    results: dict[str, list[Measurement]] = {key: [] for key in runs}
    for _ in range(repeat):
        for key, run in runs.items():
            results[key].append(run())
    return {key: min(found, key=lambda m: m.wall_seconds) for key, found in results.items()}


def raw_ffmpeg(source: Path, info: media.MediaInfo, audio_format: str, target: Path):
    output = {"format": audio_format, "bitrate": BITRATE}
    command = media.build_command(
        media.MediaInput(str(source), inputs.demuxer(source)),
        output=output,
        source=info,
        title="bench",
    )
    command[-1] = str(target)  # the same settings, into a local file instead of a pipe
    return run_measured(command)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _store_job(db, source: Path, audio_format: str = "mp3", publish: dict | None = None) -> dict:
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


def _post_job(url: str, job: dict):
    import requests

    from video2audio.infra.events import VIDEO_UPLOADED, build_event, to_http_binary

    data = {"job_id": job["_id"], "video_fid": str(job["video_fid"]), "owner": "bench"}
    headers, body = to_http_binary(build_event(VIDEO_UPLOADED, data, source="/bench"))
    response = requests.post(url, headers=headers, data=body, timeout=7200)
    if response.status_code != 200:
        raise RuntimeError(f"convert answered {response.status_code}: {response.text}")
    return response


def _delete_job(db, job: dict, *, keep_video: bool = False) -> None:
    from video2audio.infra.storage import AUDIO, VIDEOS, delete_file
    from video2audio.jobs.repository import JOBS

    stored = db[JOBS].find_one({"_id": job["_id"]}) or {}
    if stored.get("audio_fid") is not None:
        delete_file(db, AUDIO, stored["audio_fid"])
    if not keep_video:
        delete_file(db, VIDEOS, job["video_fid"])
    db[JOBS].delete_one({"_id": job["_id"]})


def convert_function_case(
    source: Path, repeat: int, audio_format: str = "mp3", publish: dict | None = None
) -> tuple[Measurement, dict]:
    """(e): a functions-framework server, warmed up by one small conversion, then the input
    (``publish``: the job's publishing form fields, as for (m), an M4A with its cover).

    The video is stored in GridFS before each request (not timed). Returns the fastest request
    with the highest memory peak seen, and the job of the last run (its video kept).
    """
    import requests

    from video2audio.infra.clients import mongo_database

    db = mongo_database()
    port = free_port()
    command = [str(Path(PY).with_name("functions-framework")), "--target", "convert"]
    command += ["--signature-type", "cloudevent", "--port", str(port)]
    command += ["--source", str(ROOT / "functions" / "convert" / "main.py")]
    server = subprocess.Popen(command, env=os.environ.copy(), cwd=ROOT)
    url = f"http://127.0.0.1:{port}/"
    runs: list[Measurement] = []
    try:
        for _ in range(150):
            try:
                requests.get(url, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        warm_up = _store_job(db, inputs.warm_up_clip(WORK))
        _post_job(url, warm_up)
        _delete_job(db, warm_up)
        for attempt in range(repeat):
            job = _store_job(db, source, audio_format, publish)
            measured, _ = measure_call(server.pid, lambda job=job: _post_job(url, job))
            runs.append(measured)
            _delete_job(db, job, keep_video=attempt == repeat - 1)
    finally:
        server.terminate()
        server.wait(timeout=30)
    best = min(runs, key=lambda m: m.wall_seconds)
    best.peak_rss_mb = max(m.peak_rss_mb for m in runs)
    best.peak_pss_mb = max(m.peak_pss_mb for m in runs)
    best.disk_write_bytes = max(m.disk_write_bytes or 0 for m in runs)
    return best, job


def bench_input(label: str, source: Path, cases: set[str], repeat: int) -> list[Row]:
    from video2audio.infra.clients import mongo_database
    from video2audio.infra.storage import VIDEOS, delete_file

    info = media.probe(
        media.MediaInput(str(source), "mov"), size=source.stat().st_size, timeout=600
    )
    duration = info.duration or 60.0
    tag = label.replace(" ", "")
    out = WORK / "out"
    out.mkdir(exist_ok=True)
    rows: list[Row] = []

    def add(key: str, name: str, measured: Measurement, note: str = "") -> None:
        rows.append(Row(label, key, name, measured.wall_seconds, duration, measured, note))
        print(f"  {label:7} {key:6} {name:48} {measured.wall_seconds:8.2f} s", flush=True)

    raw_mp3, raw_m4a = out / f"a-{tag}.mp3", out / f"f-{tag}.m4a"
    timed = {"a": lambda: raw_ffmpeg(source, info, "mp3", raw_mp3)}
    if "d" in cases:
        timed["d"] = lambda: python_case("core", str(source), "mp3", BITRATE)
    if "f" in cases:
        timed["f-raw"] = lambda: raw_ffmpeg(source, info, "m4a", raw_m4a)
        timed["f"] = lambda: python_case("core", str(source), "m4a", BITRATE)
    best = interleaved_best(repeat, timed)
    add("a", "raw ffmpeg, mp3 192k (the floor)", best["a"])
    if "b" in cases:
        target = out / f"b-{tag}.mp3"
        add(
            "b",
            "MoviePy write_audiofile, mp3 192k",
            python_case("moviepy", str(source), str(target), BITRATE),
        )
    if "c" in cases:
        target = out / f"c-{tag}.mp3"
        add(
            "c",
            "pydub from_file().export(), mp3 192k",
            python_case("pydub", str(source), str(target), BITRATE),
        )
    if "d" in cases:
        add("d", "core: file -> ffmpeg -> GridFS, mp3 192k", best["d"])
    if "e" in cases:
        measured, job = convert_function_case(source, repeat)
        written = measured.disk_write_bytes or 0
        note = f"{written} bytes written to disk by the tree during the conversion"
        add("e", "convert function: CloudEvent/HTTP, GridFS in+out, mp3", measured, note)
        fid = str(job["video_fid"])
        gridfs = python_case("gridfs-rw", fid, str(raw_mp3))
        report = json.loads(gridfs.stdout)
        read_s, write_s = report["read_seconds"], report["write_seconds"]
        gridfs.wall_seconds = best["a"].wall_seconds + read_s + write_s
        note = f"GridFS read {read_s:.2f} s + write {write_s:.2f} s"
        add("e-ref", "(a) + raw GridFS read of video, write of audio", gridfs, note)
        if "g" in cases:
            read = python_case("gridfs-read", fid, str(repeat))
            add("g", "raw GridFS sequential read of the video, alone", read)
        delete_file(mongo_database(), VIDEOS, job["video_fid"])
    if "f" in cases:
        add("f-raw", "raw ffmpeg, m4a stream copy", best["f-raw"])
        add("f", "core: m4a stream copy -> GridFS", best["f"])
    if "m" in cases:
        # The common M4A: from a video, so with the automatic cover, rewritten as it streams.
        measured, job = convert_function_case(source, repeat, "m4a", publish={})
        note = f"{measured.disk_write_bytes or 0} bytes written to disk by the tree"
        add("m", "convert function: m4a copy + automatic cover (covr)", measured, note)
        delete_file(mongo_database(), VIDEOS, job["video_fid"])
    if "l" in cases:
        plain, normalised, note = loudness.compare(
            source, BITRATE, repeat, python_case=python_case, interleaved_best=interleaved_best
        )
        add("l-ref", "core: mp3 192k, plain (same run as l)", plain)
        add("l", "core: mp3 192k, loudness -16 LUFS (2 passes)", normalised, note)
    if "copies" in cases:
        rows += copy_rows(label, source, repeat)
    return rows


def copy_rows(label: str, video: Path, repeat: int) -> list[Row]:
    """(f-<format>): audio already in the asked codec, copied: raw ffmpeg and the core."""
    rows: list[Row] = []
    for audio_format in inputs.COPY_AUDIO:
        source = inputs.with_audio(WORK, video, audio_format)
        info = media.probe(
            media.MediaInput(str(source), inputs.demuxer(source)),
            size=source.stat().st_size,
            timeout=600,
        )
        target = WORK / "out" / f"copy-{label.replace(' ', '')}.{audio_format}"
        best = interleaved_best(
            repeat,
            {
                "raw": lambda s=source, i=info, f=audio_format, t=target: raw_ffmpeg(s, i, f, t),
                "core": lambda s=source, f=audio_format: python_case("core", str(s), f, BITRATE),
            },
        )
        codec = info.audio_codec
        for key, name in (("raw", "raw ffmpeg"), ("core", "core: -> GridFS")):
            rows.append(
                Row(
                    label,
                    f"f-{audio_format}{'-raw' if key == 'raw' else ''}",
                    f"{name}, {codec} -> {audio_format} stream copy",
                    best[key].wall_seconds,
                    info.duration or 60.0,
                    best[key],
                )
            )
            print(f"  {label:7} copy {audio_format:5} {key:5} {best[key].wall_seconds:8.2f} s")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs of (a), (d), (e), (f), (g)")
    parser.add_argument("--short-cases", default="b,c,d,e,f,g,l,m,copies", help="10-min input")
    parser.add_argument("--long-cases", default="d,e,f,g,copies", help="60-min input")
    parser.add_argument("--real-cases", default="d,e,f,g", help="3-min 720p30 input")
    parser.add_argument("--skip-long", action="store_true", help="not the 60-minute input")
    parser.add_argument("--skip-real", action="store_true", help="not the 3-minute 720p30 input")
    parser.add_argument("--skip-short", action="store_true", help="not the 10-minute input")
    args = parser.parse_args()
    started = time.time()
    plan = []
    if not args.skip_short:
        plan.append(("10 min", lambda: inputs.video(WORK, 10), args.short_cases, args.repeat))
    if not args.skip_real:
        plan.append(("3 min 720p30", lambda: inputs.realistic(WORK), args.real_cases, args.repeat))
    if not args.skip_long:
        plan.append(("60 min", lambda: inputs.video(WORK, 60), args.long_cases, 1))
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}"
    rows: list[Row] = []
    for label, source, cases, repeat in plan:
        rows += bench_input(label, source(), set(cases.split(",")), repeat)
        # Written after each input, so a run cut short still leaves what it measured.
        table = write_results(rows, ROOT / "bench" / "results.md", machine=machine)
    print(table)
    print(f"bench took {time.time() - started:.0f} s; results in bench/results.md")


if __name__ == "__main__":
    main()
