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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from video2audio_cli.api import Api
from video2audio_cli.errors import CliError
from video2audio_cli.session import config_dir

TUS = {"Tus-Resumable": "1.0.0"}
CHUNK_BYTES = 16 * 1024 * 1024
DEFAULT_THRESHOLD = 64 * 1024 * 1024


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
    api: Api, path: Path, output_format: str, bitrate: str | None, *, source: Path | None = None
) -> str:
    """Which upload ``path`` continues; ``source`` is the video it was copied out of, if any."""
    named = source or path
    stat = named.stat()
    where = named.resolve()
    key = f"{api.upload_url}|{where}|{stat.st_size}|{stat.st_mtime_ns}|{output_format}|{bitrate}"
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


def upload(
    api: Api,
    path: Path,
    *,
    output_format: str,
    bitrate: str | None,
    on_progress: Callable[[int, int], None],
    source: Path | None = None,
) -> dict[str, Any]:
    """Upload ``path`` resumably; the job it became (as ``/upload``'s answer names it).

    ``source``: the video whose sound ``path`` is; its name is the one the job gets.
    """
    size = path.stat().st_size
    key = _key(api, path, output_format, bitrate, source=source)
    filename = (source or path).name
    state = _load()
    url = state.get(key)
    offset = _offset(api, url) if url else None
    if url is None or offset is None:
        headers = {
            **TUS,
            "Upload-Length": str(size),
            "Upload-Metadata": _metadata(filename=filename, format=output_format, bitrate=bitrate),
        }
        created = api.call("POST", f"{api.upload_url}/files/", ok=(201,), headers=headers)
        url, offset = created.headers["Location"], 0
        state[key] = url
        _save(state)
    on_progress(offset, size)
    with path.open("rb") as handle:
        handle.seek(offset)
        while offset < size:
            chunk = handle.read(CHUNK_BYTES)
            headers = {
                **TUS,
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            }
            answer = api.call("PATCH", url, ok=(204,), headers=headers, data=chunk)
            offset = int(answer.headers["Upload-Offset"])
            on_progress(offset, size)
    state = _load()
    state.pop(key, None)
    _save(state)
    job_id = url.rstrip("/").rsplit("/", 1)[-1]
    return {"job_id": job_id}
