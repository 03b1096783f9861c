"""Resumable uploads (tus 1.0.0 at the server's /files/) for large files, with requests only.

The upload's URL is remembered in the config directory under the file (path, size, modification
time) and the output asked for, so running the same ``convert`` again after an interruption
(Ctrl-C, a dropped connection, a closed laptop) continues where the server's stored bytes end.
When only the sound of a video is sent, the video names the upload, with the size and digest of
the sound copied out of it: copied again the same way on the next run, it finds the same upload
(a copy that came out different starts a new one instead of mixing two files' bytes).
The file is read one chunk at a time: memory stays at a chunk whatever the file's size.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import requests

from video2audio_cli.api import Api
from video2audio_cli.errors import USAGE, CliError
from video2audio_cli.session import config_dir

TUS = {"Tus-Resumable": "1.0.0"}
CHUNK_BYTES = 16 * 1024 * 1024
DEFAULT_THRESHOLD = 64 * 1024 * 1024
# A rerun right after a killed run may find the server still busy with the killed run's request.
DEFAULT_BUSY_WAIT_SECONDS = 120.0
FIRST_PAUSE_SECONDS, MAX_PAUSE_SECONDS = 0.5, 8.0


def state_path() -> Path:
    return config_dir() / "uploads.json"


def _load() -> dict[str, str]:
    try:
        raw = json.loads(state_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return raw if isinstance(raw, dict) else {}


def _save(state: dict[str, str]) -> None:
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(json.dumps(state), encoding="utf-8")


def _key(
    api: Api,
    path: Path,
    output_format: str,
    bitrate: str | None,
    options: str = "",
    *,
    source: Path | None = None,
) -> str:
    """Which upload ``path`` continues; ``source`` is the video it was copied out of, if any."""
    named = source or path
    stat = named.stat()
    where = named.resolve()
    key = f"{api.upload_url}|{where}|{stat.st_size}|{stat.st_mtime_ns}|{output_format}|{bitrate}"
    if options:
        key += f"|{options}"
    if source is not None:
        key += f"|sound {path.stat().st_size} {_digest(path)}"
    return key


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def _metadata(**fields: str | None) -> str:
    return ",".join(
        f"{name} {base64.b64encode(value.encode()).decode()}"
        for name, value in fields.items()
        if value
    )


def threshold(api: Api) -> int:
    """From what size the server wants resumable uploads (its page's setting)."""
    try:
        config = api.call("GET", f"{api.upload_url}/config.json", ok=(200,)).json()
        return int(config.get("resumable_upload_threshold_bytes") or DEFAULT_THRESHOLD)
    except (CliError, ValueError, TypeError):
        return DEFAULT_THRESHOLD


def _offset(api: Api, url: str) -> int | None:
    """The stored offset of a remembered upload; None when the server no longer has it."""
    try:
        response = api.call("HEAD", url, ok=(200,), headers=TUS)
    except CliError:
        return None
    return int(response.headers["Upload-Offset"])


class Patience:
    """How long a resumed upload waits while the server still holds the lock of a request
    that ended (a killed ``convert`` whose PATCH the server has not finished with yet)."""

    def __init__(
        self,
        seconds: float,
        *,
        say: Callable[[str], None],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.seconds = seconds
        self.say = say
        self.sleep = sleep
        self.deadline: float | None = None
        self.pause = FIRST_PAUSE_SECONDS
        self.stale = 0

    def conflict(self, answer: requests.Response) -> None:
        """Wait before the next try, or raise once waiting is no use."""
        message = _error_of(answer)
        if answer.headers.get("Retry-After") is None:
            self.stale += 1
            if self.stale > 1:  # the offset was just read again: it is not the offset
                raise CliError(message, USAGE)
            return
        self.stale = 0  # what was stored may still change while the upload is busy
        moment = time.monotonic()
        if self.deadline is None:
            self.deadline = moment + self.seconds
            self.say(
                f"the server is still finishing an earlier request for this upload ({message});"
                f" waiting up to {self.seconds:g} s"
            )
        if moment >= self.deadline:
            raise CliError(
                f"the upload stayed busy for {self.seconds:g} s ({message}); try again later"
                " or raise --busy-wait",
                USAGE,
            )
        pause = min(self.pause, self.deadline - moment, MAX_PAUSE_SECONDS)
        self.sleep(max(pause, 0.0))
        self.pause *= 2

    def reset(self) -> None:
        self.deadline, self.pause, self.stale = None, FIRST_PAUSE_SECONDS, 0


def _error_of(answer: requests.Response) -> str:
    try:
        return str(answer.json().get("error") or answer.status_code)
    except (ValueError, AttributeError):
        return str(answer.status_code)


def _attach_cover(api: Api, url: str, cover: Path, waiting: Patience) -> None:
    """The cover image goes in a request of its own (a header cannot carry it), before the
    last byte; sending it again on a resume replaces it with the same picture."""
    kind = mimetypes.guess_type(cover.name)[0] or "application/octet-stream"
    while True:
        with cover.open("rb") as image:  # streamed: the server judges its size and kind
            answer = api.call(
                "PUT", f"{url}/cover", ok=(204, 409), headers={"Content-Type": kind}, data=image
            )
        if answer.status_code == 204:
            waiting.reset()
            return
        waiting.conflict(answer)


def upload(
    api: Api,
    path: Path,
    *,
    output_format: str,
    bitrate: str | None,
    on_progress: Callable[[int, int], None],
    fields: Mapping[str, str] | None = None,
    cover: Path | None = None,
    busy_wait_seconds: float = DEFAULT_BUSY_WAIT_SECONDS,
    say: Callable[[str], None] = lambda message: None,
    source: Path | None = None,
) -> dict[str, Any]:
    """Upload ``path`` resumably; the job it became (as ``/upload``'s answer names it).

    ``source``: the video whose sound ``path`` is; its name is the one the job gets.
    """
    size = path.stat().st_size
    # The options travel as Upload-Metadata, validated by the server at creation.
    metadata = _metadata(
        filename=(source or path).name, format=output_format, bitrate=bitrate, **dict(fields or {})
    )
    options = json.dumps(dict(fields or {}), sort_keys=True)
    key = _key(api, path, output_format, bitrate, options, source=source)
    state = _load()
    url = state.get(key)
    offset = _offset(api, url) if url else None
    if url is None or offset is None:
        headers = {
            **TUS,
            "Upload-Length": str(size),
            "Upload-Metadata": metadata,
        }
        created = api.call("POST", f"{api.upload_url}/files/", ok=(201,), headers=headers)
        url, offset = created.headers["Location"], 0
        state[key] = url
        _save(state)
    on_progress(offset, size)
    waiting = Patience(busy_wait_seconds, say=say)
    if cover is not None and offset < size:
        _attach_cover(api, url, cover, waiting)
    with path.open("rb") as handle:
        while offset < size:
            handle.seek(offset)
            chunk = handle.read(CHUNK_BYTES)
            headers = {
                **TUS,
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            }
            answer = api.call("PATCH", url, ok=(204, 409), headers=headers, data=chunk)
            if answer.status_code == 409:
                # A busy upload (Retry-After) is waited for; any other 409 is a stale offset.
                waiting.conflict(answer)
                stored = _offset(api, url)
                if stored is None:
                    raise CliError("the server no longer has this upload; run the command again")
                offset = stored
            else:
                waiting.reset()
                offset = int(answer.headers["Upload-Offset"])
            on_progress(offset, size)
    state = _load()
    state.pop(key, None)
    _save(state)
    job_id = url.rstrip("/").rsplit("/", 1)[-1]
    return {"job_id": job_id}
