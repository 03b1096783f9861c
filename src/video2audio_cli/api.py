"""The HTTP API as the CLI uses it: every failure becomes a :class:`CliError` with its exit code."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import requests
from requests_toolbelt import MultipartEncoder, MultipartEncoderMonitor

from video2audio_cli.errors import AUTH, FAILED, UNREACHABLE, USAGE, CliError

TIMEOUT = (10, 60)  # connect, read (seconds between bytes, not the whole transfer)
CHUNK = 1024 * 1024

# Words a person understands for the statuses that have a usual cause.
STATUS_WORDS = {
    401: "not logged in or the session has expired; run `video2audio login`",
    404: "no such job (or it belongs to another user)",
    410: "the audio has expired and was deleted",
    413: "the file is larger than the server accepts",
    415: "the file is not a video or audio file the server can read",
    429: "too many failed attempts; wait a few minutes",
}


def _server_message(response: requests.Response) -> str:
    try:
        detail = response.json().get("error")
    except (ValueError, AttributeError):
        detail = None
    words = STATUS_WORDS.get(response.status_code)
    if response.status_code in (400, 409) and detail:
        return str(detail)
    if words:
        return words
    return f"server answered {response.status_code}" + (f": {detail}" if detail else "")


class Api:
    def __init__(self, auth_url: str, upload_url: str, token: str | None = None) -> None:
        self.auth_url = auth_url.rstrip("/")
        self.upload_url = upload_url.rstrip("/")
        self._http = requests.Session()
        self._http.headers["User-Agent"] = "video2audio-cli"
        if token:
            self._http.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, url: str, *, ok: tuple[int, ...], **kwargs: Any):
        """A request to the service; an answer not in ``ok`` is a :class:`CliError`."""
        return self._call(method, url, ok=ok, **kwargs)

    def _call(self, method: str, url: str, *, ok: tuple[int, ...], **kwargs: Any):
        where = url.split("?")[0]
        try:
            response = self._http.request(method, url, timeout=TIMEOUT, **kwargs)
        except requests.ConnectionError:
            raise CliError(f"cannot reach the server at {where}", UNREACHABLE) from None
        except requests.Timeout:
            raise CliError(f"the server at {where} did not answer in time", UNREACHABLE) from None
        if response.status_code in ok:
            return response
        message = _server_message(response)
        response.close()
        if response.status_code == 401:
            raise CliError(message, AUTH)
        if response.status_code in (502, 503, 504):
            raise CliError(f"the service is unavailable ({message}); try again", UNREACHABLE)
        if response.status_code in (400, 409):
            raise CliError(message, USAGE)
        raise CliError(message, FAILED)

    # ---- auth --------------------------------------------------------------------------------
    def register(self, username: str, password: str, email: str | None) -> None:
        body = {"username": username, "password": password}
        if email:
            body["email"] = email
        self._call("POST", f"{self.auth_url}/register", ok=(201,), json=body)

    def login(self, username: str, password: str) -> dict[str, Any]:
        body = {"username": username, "password": password}
        try:
            return self._call("POST", f"{self.auth_url}/login", ok=(200,), json=body).json()
        except CliError as error:
            if error.exit_code == AUTH:
                raise CliError("wrong username or password", AUTH) from None
            raise

    # ---- jobs --------------------------------------------------------------------------------
    def upload(
        self,
        path: Path,
        *,
        output_format: str,
        bitrate: str | None,
        on_progress: Callable[[int, int], None],
        fields: Mapping[str, str] | None = None,
        cover: Path | None = None,
        filename: str | None = None,
    ) -> dict[str, Any]:
        """Stream ``path`` from disk (never read whole into memory) and return the 202 body.

        ``fields`` are further form fields (trim, loudness, tags); ``cover`` an image to send
        as the ``cover_image`` part; ``filename`` the name to send it under (default its own).
        """
        with contextlib.ExitStack() as files:
            handle = files.enter_context(path.open("rb"))
            form: dict[str, Any] = {**(fields or {}), "format": output_format}
            if bitrate:
                form["bitrate"] = bitrate
            if cover is not None:
                image = files.enter_context(cover.open("rb"))
                form["cover_image"] = (cover.name, image, "application/octet-stream")
            # The video last: the server checks the fields before it stores the video.
            form["file"] = (filename or path.name, handle, "application/octet-stream")
            encoder = MultipartEncoder(fields=form)
            monitor = MultipartEncoderMonitor(
                encoder, lambda m: on_progress(m.bytes_read, encoder.len)
            )
            response = self._call(
                "POST",
                f"{self.upload_url}/upload",
                ok=(202,),
                data=monitor,
                headers={"Content-Type": monitor.content_type},
            )
        return response.json()

    def job(self, job_id: str) -> dict[str, Any]:
        return self._call("GET", f"{self.upload_url}/jobs/{_segment(job_id)}", ok=(200,)).json()

    def jobs(self, limit: int) -> list[dict[str, Any]]:
        response = self._call("GET", f"{self.upload_url}/jobs", ok=(200,), params={"limit": limit})
        return response.json().get("jobs", [])

    def delete(self, job_id: str) -> None:
        self._call("DELETE", f"{self.upload_url}/jobs/{_segment(job_id)}", ok=(204,))

    @contextlib.contextmanager
    def download(self, audio_fid: str) -> Iterator[tuple[int | None, Iterator[bytes]]]:
        """Yield (length, chunks) of the audio, streamed, never held whole in memory."""
        response = self._call(
            "GET", f"{self.upload_url}/download", ok=(200,), params={"fid": audio_fid}, stream=True
        )
        with response:
            length = response.headers.get("Content-Length")
            try:
                yield (int(length) if length else None, response.iter_content(CHUNK))
            except requests.RequestException:
                raise CliError("the download was interrupted", UNREACHABLE) from None


def _segment(job_id: str) -> str:
    # A job id is one path segment; anything else is a usage error, not a request elsewhere.
    if not job_id or "/" in job_id or job_id in {".", ".."} or os.sep in job_id:
        raise CliError(f"not a job id: {job_id!r}", USAGE)
    return requests.utils.quote(job_id, safe="")
