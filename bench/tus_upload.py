"""A 2 GB resumable (tus) upload, throttled and interrupted twice, measuring the upload
function's memory: the figure in the README's "Big videos" section.

    make up && python -m bench.tus_upload [--gigabytes 2] [--mb-per-second 40]

Against the stack as `make up` runs it (auth 8081, upload 8082, convert through the local
eventing). The video is made on the fly: a short MP4 (index first) followed by a `free` box of
zeros up to the size, which every MP4 reader skips, so it converts in seconds while its bytes
cross the whole upload path. The client is a plain socket (the bytes never sit in its memory):
it creates the upload, sends at the given rate, drops the connection at 1/3 and 2/3 as a
crashed client would, asks HEAD where to resume, and finishes; then the job is followed to
`done`. The upload function's worker is sampled every 0.2 s (VmRSS), and its peak (VmHWM) is
read at the end. A benchmark, not a test: it fails only if the upload or conversion does.
"""

from __future__ import annotations

import argparse
import base64
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
AUTH, UPLOAD = "http://127.0.0.1:8081", "http://127.0.0.1:8082"
PASSWORD = "bench-password-1"  # noqa: S105 - the benchmark user's own
TUS = {"Tus-Resumable": "1.0.0"}
PIECE = 256 * 1024


def small_mp4(work: Path) -> bytes:
    path = work / "head.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y",
         "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
         "-t", "5", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
         "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip
    return path.read_bytes()


def video_bytes(head: bytes, total: int, start: int, end: int):
    """Bytes ``start`` to ``end`` of the video: ``head``, then a ``free`` box up to ``total``."""
    box_header = (total - len(head)).to_bytes(4, "big") + b"free"
    prefix = head + box_header
    position = start
    zeros = bytes(PIECE)
    while position < end:
        if position < len(prefix):
            piece = prefix[position : min(end, len(prefix))]
        else:
            piece = zeros[: min(PIECE, end - position)]
        yield piece
        position += len(piece)


def token() -> str:
    username = f"bench-{uuid.uuid4().hex[:10]}"
    body = {"username": username, "password": PASSWORD}
    requests.post(f"{AUTH}/register", json=body, timeout=60).raise_for_status()
    return requests.post(f"{AUTH}/login", json=body, timeout=60).json()["token"]


def upload_pid() -> int:
    """The gunicorn worker serving port 8082 (the arbiter's child)."""
    arbiter = int((ROOT / ".run" / "stack" / "upload.pid").read_text())
    children = Path(f"/proc/{arbiter}/task/{arbiter}/children").read_text().split()
    for child in children:
        grandchildren = Path(f"/proc/{child}/task/{child}/children").read_text().split()
        if grandchildren:
            return int(grandchildren[0])
    return int(children[0]) if children else arbiter


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise KeyError(field)


def patch(url: str, bearer: str, head: bytes, total: int, start: int, stop: int, rate: float):
    """PATCH from ``start``; send up to ``stop`` at ``rate`` bytes/s, then drop if unfinished."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=120)
    request = (
        f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {bearer}\r\n"
        f"Tus-Resumable: 1.0.0\r\nUpload-Offset: {start}\r\n"
        f"Content-Type: application/offset+octet-stream\r\nContent-Length: {total - start}\r\n\r\n"
    )
    sock.sendall(request.encode())
    began, sent = time.monotonic(), 0
    for piece in video_bytes(head, total, start, stop):
        sock.sendall(piece)
        sent += len(piece)
        ahead = sent / rate - (time.monotonic() - began)
        if ahead > 0:
            time.sleep(ahead)
    if stop < total:
        sock.close()  # a crashed client: the rest never comes
        return None
    answer = sock.recv(4096).decode(errors="replace")
    sock.close()
    return answer.split("\r\n", 1)[0]


def offset(url: str, headers: dict[str, str]) -> int:
    return int(requests.head(url, headers={**headers, **TUS}, timeout=30).headers["Upload-Offset"])


def run(gigabytes: float, rate: float) -> dict[str, float]:
    total = int(gigabytes * 1024**3)
    with tempfile.TemporaryDirectory() as work:
        head = small_mp4(Path(work))
    bearer = token()
    headers = {"Authorization": f"Bearer {bearer}"}
    pid = upload_pid()
    samples: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append(status_kib(pid, "VmRSS"))
            time.sleep(0.2)

    before = status_kib(pid, "VmRSS")
    threading.Thread(target=sample, daemon=True).start()
    started = time.monotonic()
    metadata = f"filename {base64.b64encode(b'big.mp4').decode()}"
    created = requests.post(
        f"{UPLOAD}/files/",
        headers={**headers, **TUS, "Upload-Length": str(total), "Upload-Metadata": metadata},
        timeout=30,
    )
    created.raise_for_status()
    url = created.headers["Location"]
    job_id = created.headers["Video2Audio-Job-Id"]
    stops = [total // 3, 2 * total // 3, total]
    resumed_at = []
    for stop in stops:
        time.sleep(1)  # the server records what arrived once it sees the drop
        start = offset(url, headers)
        resumed_at.append(start)
        status = patch(url, bearer, head, total, start, stop, rate)
    uploaded = time.monotonic() - started
    done.set()
    if status is None or " 204" not in status:
        raise SystemExit(f"the last PATCH answered {status!r}")
    while True:
        job = requests.get(f"{UPLOAD}/jobs/{job_id}", headers=headers, timeout=30).json()
        if job["status"] in {"done", "failed"}:
            break
        time.sleep(1)
    if job["status"] != "done":
        raise SystemExit(f"the conversion failed: {job.get('error')}")
    figures = {
        "bytes": total,
        "upload_seconds": round(uploaded, 1),
        "resumed_at": resumed_at,
        "rss_before_mib": round(before / 1024, 1),
        "rss_peak_sampled_mib": round(max(samples) / 1024, 1),
        "vmhwm_mib": round(status_kib(pid, "VmHWM") / 1024, 1),
        "converted_seconds": round(time.monotonic() - started, 1),
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gigabytes", type=float, default=2.0)
    parser.add_argument("--mb-per-second", type=float, default=40.0)
    args = parser.parse_args()
    figures = run(args.gigabytes, args.mb_per_second * 1024 * 1024)
    for name, value in figures.items():
        print(f"{name:24} {value}")


if __name__ == "__main__":
    main()
