"""Upload, wait and download, each with a progress bar (tqdm, on stderr when it is a terminal)."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from video2audio_cli import extract, resumable
from video2audio_cli.api import Api
from video2audio_cli.errors import FAILED, USAGE, CliError

EXTENSIONS = {"opus": "ogg"}
POLL_SECONDS = 1.0


def audio_extension(output_format: str) -> str:
    return EXTENSIONS.get(output_format, output_format)


def output_path(source: Path, output_format: str, out: Path | None, *, many: bool) -> Path:
    """``talk.mp4`` → ``talk.mp3`` next to the input, or inside ``out`` when it is a directory."""
    name = f"{source.stem}.{audio_extension(output_format)}"
    if out is None:
        target = source.with_name(name)
    elif many or out.is_dir():
        target = out / name
    else:
        target = out
    if target.resolve() == source.resolve():  # never overwrite the input (wav → wav)
        target = target.with_name(f"{source.stem}.converted.{audio_extension(output_format)}")
    return target


PUBLISHING_OPTIONS = (
    "start", "end", "loudness", "true_peak", "title", "artist", "album", "year", "comment"
)  # fmt: skip


def publishing_fields(options: Mapping[str, str | None]) -> tuple[dict[str, str], Path | None]:
    """The upload form fields for the given options, and the cover image file to send, if any.

    ``--cover`` is ``auto``, ``none`` or the path of a JPEG/PNG image (checked by the server).
    """
    fields = {name: value for name in PUBLISHING_OPTIONS if (value := options.get(name))}
    cover = options.get("cover")
    if not cover:
        return fields, None
    if cover.strip().lower() in {"auto", "none"}:
        fields["cover"] = cover.strip().lower()
        return fields, None
    path = Path(cover)
    if not path.is_file():
        raise CliError(f"--cover: {cover} is not auto, none or an image file", USAGE)
    return fields, path


def upload(
    api: Api,
    source: Path,
    *,
    output_format: str,
    bitrate: str | None,
    fields: Mapping[str, str] | None = None,
    cover: Path | None = None,
    busy_wait_seconds: float = resumable.DEFAULT_BUSY_WAIT_SECONDS,
    send_video: bool = False,
) -> dict[str, Any]:
    """Upload ``source`` (its sound only, unless ``send_video`` or that cannot be had) and
    return the accepted job; the copied-out sound and cover live in a temporary directory
    until the upload ends."""
    form = dict(fields or {})
    with tempfile.TemporaryDirectory(prefix="video2audio-") as work:
        work_dir = Path(work)
        sending = extract.prepare(source, work_dir, send_video=send_video)
        if sending.fallback:
            click.echo(
                f"video2audio: {source.name}: uploading the whole video: {sending.fallback}",
                err=True,
            )
        size = sending.path.stat().st_size
        # A large file goes resumably: running the same command again continues it.
        resumably = size >= resumable.threshold(api)
        if sending.extracted and extract.wants_frame(output_format, form, cover):
            cover = extract.cover_frame(sending, work_dir)
            if cover is not None:
                form.pop("cover", None)  # the image part says it: cover=upload
        what = f"{source.name} (sound only)" if sending.extracted else source.name
        with _upload_bar(size, what) as (progress, say):
            if resumably:
                return resumable.upload(
                    api,
                    sending.path,
                    output_format=output_format,
                    bitrate=bitrate,
                    on_progress=progress,
                    fields=form,
                    cover=cover,
                    busy_wait_seconds=busy_wait_seconds,
                    say=say,
                    source=source if sending.extracted else None,
                )
            return api.upload(
                sending.path,
                output_format=output_format,
                bitrate=bitrate,
                on_progress=progress,
                fields=form,
                cover=cover,
                filename=sending.filename,
            )


@contextlib.contextmanager
def _upload_bar(
    size: int, what: str
) -> Iterator[tuple[Callable[[int, int], None], Callable[[str], None]]]:
    """A progress callback of the bytes actually sent, drawn as a bar on a terminal, and a way
    to say something without breaking the bar."""
    with tqdm(
        total=size,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=f"upload {what}",
        leave=False,
        disable=None,
    ) as bar:

        def progress(sent: int, total: int) -> None:
            bar.total = total
            bar.update(sent - bar.n)

        def say(message: str) -> None:
            bar.write(f"video2audio: {message}", file=sys.stderr)

        yield progress, say


def wait(api: Api, job_id: str, *, timeout: float) -> dict[str, Any]:
    """Poll the job until it is done; a failed or expired job is a :class:`CliError` (exit 1)."""
    deadline = time.monotonic() + timeout
    with tqdm(
        total=100,
        desc="convert",
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}",
        leave=False,
        disable=None,
    ) as bar:
        while True:
            job = api.job(job_id)
            bar.update(max(0, int(job.get("progress") or 0) - bar.n))
            status = job.get("status")
            if status == "done":
                bar.update(100 - bar.n)
                return job
            if status == "failed":
                raise CliError(f"conversion failed: {job.get('error') or 'no reason given'}")
            if status == "expired":
                raise CliError("the job has expired")
            if time.monotonic() > deadline:
                raise CliError(f"still {status} after {timeout:.0f}s; check `video2audio status`")
            time.sleep(POLL_SECONDS)


def download(api: Api, job: dict[str, Any], target: Path) -> Path:
    """Stream the job's audio into ``target`` (through a ``.part`` file, renamed when complete)."""
    if job.get("status") != "done" or not job.get("audio_fid"):
        raise CliError(f"job {job.get('job_id')} is {job.get('status')}, not done", FAILED)
    partial = target.with_name(f".{target.name}.part")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with (
            api.download(job["audio_fid"]) as (length, chunks),
            partial.open("wb") as handle,
            tqdm(
                total=length,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=f"download {target.name}",
                leave=False,
                disable=None,
            ) as bar,
        ):
            for chunk in chunks:
                handle.write(chunk)
                bar.update(len(chunk))
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target
