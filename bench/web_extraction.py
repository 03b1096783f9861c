"""The web page with a phone video, sending only its sound and sending the whole video: bytes
sent, wall time to the finished MP3, the tab's memory, and whether both MP3s are the same.

    make up && python -m bench.web_extraction --input /path/to/phone-1080p-8min.mp4

Against the stack as `make up` runs it (auth 8081, upload 8082, convert through the local
eventing), in headless Chromium (Debian's, driven by Playwright) as a person would use the page:
log in, choose the file, MP3, the default options (cover: a frame of the video), "Upload and
convert", until the page shows the result. Bytes sent are counted twice: the request bodies the
page sent to /upload and /files/ (Playwright's request sizes) and the length of the file the
upload function stored (GridFS). While the page works, the tab is sampled every 0.2 s: its
JavaScript heap (Chrome DevTools Protocol, Performance.getMetrics) and the RSS of its renderer
process and of the browser process, which holds the page's blobs (/proc). The extraction phase
is the time from the click to the first upload request. A benchmark, not a test: it fails only
if an upload or a conversion does.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests
from playwright.sync_api import Page, Request, sync_playwright
from pymongo import MongoClient

from bench.measure import process_tree

ROOT = Path(__file__).resolve().parents[1]
AUTH, UPLOAD = "http://127.0.0.1:8081", "http://127.0.0.1:8082"
MONGO_URL, MONGO_DB = "mongodb://127.0.0.1:57017/", "video2audio"
CHROMIUM = "/usr/bin/chromium"  # Debian's, as the end-to-end tests use
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "bench-password-1"  # noqa: S105 - the benchmark user's own
WORK = ROOT / ".run" / "bench"
RESULTS = ROOT / "bench" / "web_extraction_results.md"
SAMPLE_SECONDS = 0.2
TIMEOUT_SECONDS = 3600
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Run:
    mode: str
    seconds: float = 0.0
    extraction_seconds: float = 0.0
    request_bytes: int = 0
    stored_bytes: int = 0
    note: str = ""
    heap_before: int = 0
    renderer_before: int = 0
    heap_peak: int = 0
    heap_peak_extracting: int = 0
    renderer_peak: int = 0
    renderer_peak_extracting: int = 0
    browser_peak: int = 0
    duration: float = 0.0
    sound_digest: str = ""
    requests: list[int] = field(default_factory=list)


def chromium_processes() -> tuple[list[int], list[int]]:
    """(browser processes, renderer processes) of the Chromium this process launched."""
    browsers, renderers = [], []
    for pid in process_tree(os.getpid()):
        try:
            # Zygote-forked children rewrite their title: one string, not NUL-separated arguments.
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if command.split(b"\0")[0].split(b" ")[0].rsplit(b"/", 1)[-1] != b"chromium":
            continue
        if b"--type=renderer" in command:
            renderers.append(pid)
        elif b"--type=" not in command:
            browsers.append(pid)
    return browsers, renderers


def rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def register(username: str) -> str:
    body = {"username": username, "password": PASSWORD}
    response = requests.post(f"{AUTH}/register", json=body, timeout=30)
    response.raise_for_status()
    response = requests.post(f"{AUTH}/login", json=body, timeout=30)
    response.raise_for_status()
    return response.json()["token"]


def log_in(page: Page, username: str) -> None:
    page.goto(f"{UPLOAD}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.locator("#session-user").filter(has_text=username).wait_for()


def decoded_digest(path: Path) -> tuple[float, str]:
    """The MP3's duration and a digest of its decoded samples (the cover is not sound)."""
    duration = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        check=True, capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    pcm = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0", "-f", "s16le", "-"],
        check=True, capture_output=True, timeout=600,
    ).stdout  # fmt: skip
    return float(duration), hashlib.sha256(pcm).hexdigest()[:16]


def sample(run: Run, cdp, extracting: bool) -> None:
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    heap = int(metrics.get("JSHeapUsedSize", 0))
    browsers, renderers = chromium_processes()
    # One tab is open at a time; Chromium keeps a spare renderer or two besides it, and which
    # process is the tab's is not exposed: all renderers together, an upper bound of the tab's.
    renderer = sum(rss(pid) for pid in renderers)
    if not run.renderer_before:
        run.heap_before, run.renderer_before = heap, renderer
    run.heap_peak = max(run.heap_peak, heap)
    run.renderer_peak = max(run.renderer_peak, renderer)
    run.browser_peak = max(run.browser_peak, max((rss(pid) for pid in browsers), default=0))
    if extracting:
        run.heap_peak_extracting = max(run.heap_peak_extracting, heap)
        run.renderer_peak_extracting = max(run.renderer_peak_extracting, renderer)


def page_run(browser, source: Path, *, whole: bool, mongo, work: Path) -> Run:
    run = Run("whole video" if whole else "sound only")
    username = f"bench-web-{uuid.uuid4().hex[:8]}"
    token = register(username)
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_SECONDS * 1000)
    log_in(page, username)
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    uploads: list[Request] = []

    def record(request: Request) -> None:
        sending = "/upload" in request.url or "/files/" in request.url
        if sending and request.method in {"POST", "PATCH"}:
            uploads.append(request)

    page.on("request", record)
    page.get_by_label("Video file").set_input_files(source)
    page.get_by_label("Output format").select_option("mp3")
    if whole:
        page.get_by_label("Send the whole video").check()
    sample(run, cdp, extracting=False)  # the tab before the click
    started = time.monotonic()
    page.get_by_role("button", name="Upload and convert").click()
    while not page.locator("#result").is_visible():
        if page.locator("#message.error").is_visible():
            raise RuntimeError(page.locator("#message").inner_text())
        if time.monotonic() - started > TIMEOUT_SECONDS:
            raise RuntimeError("the page did not finish in time")
        extracting = not uploads
        sample(run, cdp, extracting)
        if extracting:
            run.extraction_seconds = time.monotonic() - started
        page.wait_for_timeout(SAMPLE_SECONDS * 1000)
    run.seconds = time.monotonic() - started
    run.note = page.locator("#upload-note").inner_text()
    # The body's length as sent (a Blob's bytes are not visible to Playwright, its length is).
    run.requests = [int(request.all_headers().get("content-length", 0)) for request in uploads]
    run.request_bytes = sum(run.requests)
    jobs = requests.get(
        f"{UPLOAD}/jobs", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ).json()["jobs"]
    job = jobs[0]
    video_fid = mongo.jobs.find_one({"_id": job["job_id"]})["video_fid"]
    run.stored_bytes = int(mongo["videos.files"].find_one({"_id": video_fid})["length"])
    mp3 = work / f"{'whole' if whole else 'sound'}.mp3"
    answer = requests.get(
        f"{UPLOAD}/download", params={"fid": job["audio_fid"]},
        headers={"Authorization": f"Bearer {token}"}, timeout=600,
    )  # fmt: skip
    answer.raise_for_status()
    mp3.write_bytes(answer.content)
    run.duration, run.sound_digest = decoded_digest(mp3)
    requests.delete(
        f"{UPLOAD}/jobs/{job['job_id']}", headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    context.close()
    return run


def mib(value: int) -> str:
    return f"{value / 1024**2:.1f} MiB"


def report(source: Path, sound: Run, whole: Run, load: tuple[str, str]) -> str:
    size = source.stat().st_size
    frame = 1 / 30
    same_duration = abs(sound.duration - whole.duration) <= frame
    fewer = whole.request_bytes / max(sound.request_bytes, 1)
    rows = [
        ("bytes the page sent (request bodies)", sound.request_bytes, whole.request_bytes),
        ("bytes the upload function stored (GridFS)", sound.stored_bytes, whole.stored_bytes),
        ("upload requests", len(sound.requests), len(whole.requests)),
        ("wall time, click to finished MP3", f"{sound.seconds:.1f} s", f"{whole.seconds:.1f} s"),
        ("of which taking the sound out (click to first upload request)",
         f"{sound.extraction_seconds:.1f} s", "-"),
        ("tab JS heap (JSHeapUsedSize) before the click",
         mib(sound.heap_before), mib(whole.heap_before)),
        ("tab JS heap peak", mib(sound.heap_peak), mib(whole.heap_peak)),
        ("tab JS heap peak while taking the sound out", mib(sound.heap_peak_extracting), "-"),
        ("renderers' RSS (the tab's and Chromium's spares) before the click",
         mib(sound.renderer_before), mib(whole.renderer_before)),
        ("renderers' RSS peak", mib(sound.renderer_peak), mib(whole.renderer_peak)),
        ("renderers' RSS peak while taking the sound out",
         mib(sound.renderer_peak_extracting), "-"),
        ("browser process RSS peak (holds the page's blobs)",
         mib(sound.browser_peak), mib(whole.browser_peak)),
        ("MP3 duration", f"{sound.duration:.3f} s", f"{whole.duration:.3f} s"),
        ("MP3 decoded samples (sha256, first 16)", sound.sound_digest, whole.sound_digest),
    ]  # fmt: skip
    lines = [
        "| figure | sound only (default) | whole video (checkbox) |",
        "|---|---|---|",
        *[f"| {name} | {a} | {b} |" for name, a, b in rows],
        "",
        f"Input: `{source.name}`, {size} bytes. The page's note: \"{sound.note}\"",
        "",
        f"- Fewer bytes sent: {fewer:.0f}x (target: at least 20x): "
        f"{'met' if fewer >= 20 else 'NOT met'}.",
        f"- Same MP3: durations {'within' if same_duration else 'NOT within'} one frame "
        f"(1/30 s; they differ by {abs(sound.duration - whole.duration) * 1000:.1f} ms); decoded "
        f"samples {'identical' if sound.sound_digest == whole.sound_digest else 'different'}.",
        f"- Time to the MP3: {whole.seconds / sound.seconds:.1f}x faster with only the sound, "
        "over loopback; on a real uplink the upload of the whole video dominates (1 GB at "
        "20 Mbit/s is about 7 minutes).",
        f"- Machine load (uptime) before: {load[0]}; after: {load[1]}.",
    ]  # fmt: skip
    return "\n".join(lines)


def uptime() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--input", type=Path, help="the MP4 to send (default: bench/inputs.py's phone recording)"
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write the table")
    parser.add_argument(
        "--sound-only", action="store_true", help="only the default run (prints its figures)"
    )
    args = parser.parse_args()
    if args.input is None:
        from bench import inputs

        WORK.mkdir(parents=True, exist_ok=True)
        source = inputs.phone_recording_1080p(WORK)
    else:
        source = args.input.resolve()
    load_before = uptime()
    client = MongoClient(MONGO_URL, serverSelectionTimeoutMS=5000)
    with tempfile.TemporaryDirectory(prefix="v2a-web-bench-") as work, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            sound = page_run(browser, source, whole=False, mongo=client[MONGO_DB], work=Path(work))
            print(f"sound only: {sound}", flush=True)
            if args.sound_only:
                return
            whole = page_run(browser, source, whole=True, mongo=client[MONGO_DB], work=Path(work))
            print(f"whole video: {whole}", flush=True)
        finally:
            browser.close()
            client.close()
    text = report(source, sound, whole, (load_before, uptime()))
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    heading = f"# The web page sends only the sound (bench/web_extraction.py), {stamp}\n\n"
    args.results.write_text(heading + text + "\n")
    print(text)


if __name__ == "__main__":
    main()
