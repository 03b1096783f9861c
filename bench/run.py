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
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".run" / "bench"
BITRATE = "192k"
CROWD_VIDEOS = 4  # other users' videos stored beside the one converted, for (e-crowd)
BENCH_ENV = {
    "MONGO_DB": "video2audio_bench",
    "NOTIFY_QUEUE": "video2audio.notify.bench",
    "CONVERT_TIMEOUT_SECONDS": "7200",
    "LOG_LEVEL": "WARNING",
    # MoviePy brings its own ffmpeg build; the same system ffmpeg for everyone keeps it fair.
    "IMAGEIO_FFMPEG_EXE": "ffmpeg",
}
os.environ.update(BENCH_ENV)

from bench import crowded, inputs, loudness  # noqa: E402 - after the environment the clients read
from bench.floor import raw_ffmpeg  # noqa: E402
from bench.function_case import convert_function_case, phases  # noqa: E402
from bench.measure import Measurement, run_measured  # noqa: E402
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
        note = f"{written} bytes written to disk by the tree during the conversion; "
        note += phases(measured)
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
    if "crowd" in cases:
        others = CROWD_VIDEOS
        indexed, scanned = crowded.crowded_conversions(source, others, repeat)
        size = f"{others} other videos of {source.stat().st_size / 1e6:.0f} MB in the bucket"
        add("e-crowd", f"(e), {size}", indexed, f"GIN twins in place; {phases(indexed)}")
        add("e-crowd-scan", f"(e), {size}, twins dropped", scanned, phases(scanned))
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
    parser.add_argument("--real-cases", default="d,e,f,g,crowd", help="3-min 720p30 input")
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
