"""The ``video2audio`` command: register, log in, convert videos and manage jobs from a terminal."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from video2audio.core.text import human_size
from video2audio_cli import resumable, transfer
from video2audio_cli.api import Api
from video2audio_cli.errors import FAILED, USAGE, CliError
from video2audio_cli.session import Session, clear_session, load_session, save_session

FORMATS = ("mp3", "m4a", "opus", "flac", "wav")
# What `status` shows; `received` says whether only the sound or the whole video arrived.
STATUS_KEYS = ("job_id", "filename", "received", "status", "progress", "format", "bitrate", "error")
PASSWORD_ENV = "VIDEO2AUDIO_PASSWORD"  # noqa: S105 - a variable name, not a secret


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--auth-url",
    envvar="VIDEO2AUDIO_AUTH_URL",
    default="http://127.0.0.1:8081",
    show_default=True,
    help="Auth function URL (env VIDEO2AUDIO_AUTH_URL).",
)
@click.option(
    "--upload-url",
    envvar="VIDEO2AUDIO_UPLOAD_URL",
    default="http://127.0.0.1:8082",
    show_default=True,
    help="Upload function URL (env VIDEO2AUDIO_UPLOAD_URL).",
)
@click.pass_context
def cli(ctx: click.Context, auth_url: str, upload_url: str) -> None:
    """Convert videos to audio with a Video2Audio server.

    Exit codes: 0 success, 1 conversion or request failed, 2 usage error,
    3 authentication problem, 4 server unreachable.
    """
    ctx.obj = {"auth_url": auth_url, "upload_url": upload_url}


def _api(ctx: click.Context, *, logged_in: bool = True) -> Api:
    token = load_session().token if logged_in else None
    return Api(ctx.obj["auth_url"], ctx.obj["upload_url"], token)


def _password(confirm: bool) -> str:
    # From the environment for scripts; otherwise prompted without echo (getpass underneath).
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    return click.prompt("Password", hide_input=True, confirmation_prompt=confirm, err=True)


username_option = click.option(
    "-u", "--username", envvar="VIDEO2AUDIO_USERNAME", help="Env VIDEO2AUDIO_USERNAME."
)


@cli.command()
@username_option
@click.option("--email", help="Address for notifications (default: the username if an email).")
@click.pass_context
def register(ctx: click.Context, username: str | None, email: str | None) -> None:
    """Create an account (password from VIDEO2AUDIO_PASSWORD or prompted)."""
    username = username or click.prompt("Username", err=True)
    _api(ctx, logged_in=False).register(username, _password(confirm=True), email)
    click.echo(f"registered {username}; now run `video2audio login`", err=True)


@cli.command()
@username_option
@click.pass_context
def login(ctx: click.Context, username: str | None) -> None:
    """Log in and keep the token in the user config directory (mode 0600)."""
    username = username or click.prompt("Username", err=True)
    answer = _api(ctx, logged_in=False).login(username, _password(confirm=False))
    expires_at = time.time() + float(answer.get("expires_in", 3600))
    path = save_session(Session(username, answer["token"], expires_at))
    click.echo(f"logged in as {username} (token in {path})", err=True)


@cli.command()
def logout() -> None:
    """Forget the stored token."""
    click.echo("logged out" if clear_session() else "was not logged in", err=True)


@cli.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "-f",
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="mp3",
    show_default=True,
    help="Audio format (opus is written as .ogg).",
)
@click.option("-b", "--bitrate", help="For mp3, m4a, opus: 32k-320k (server default if omitted).")
@click.option("--start", help="Trim: start, in seconds or [hh:]mm:ss[.fff].")
@click.option("--end", help="Trim: end, in seconds or [hh:]mm:ss[.fff] (past the end: the end).")
@click.option("--loudness", help="Normalise to this integrated loudness in LUFS (-31 to -9).")
@click.option("--true-peak", help="True-peak ceiling in dBTP with --loudness (default -1).")
@click.option("--title", help="Title tag (default: the file name without extension).")
@click.option("--artist", help="Artist tag.")
@click.option("--album", help="Album tag.")
@click.option("--year", help="Year tag (four digits).")
@click.option("--comment", help="Comment tag.")
@click.option("--cover", help="Cover art: auto (a video frame, default), none, or an image PATH.")
@click.option(
    "--send-video",
    is_flag=True,
    help="Upload the whole video. By default, with ffmpeg on PATH, only its audio track is "
    "sent (copied out locally, not re-encoded; the cover frame is taken locally too).",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Output file or directory.")
@click.option("--no-wait", is_flag=True, help="Only upload; print the job ids.")
@click.option("--timeout", type=float, default=3600, show_default=True, help="Seconds per job.")
@click.option(
    "--busy-wait",
    type=click.FloatRange(min=0),
    envvar="VIDEO2AUDIO_BUSY_WAIT",
    default=resumable.DEFAULT_BUSY_WAIT_SECONDS,
    show_default=True,
    help="Seconds a resumed upload waits while the server finishes an earlier run's request"
    " (env VIDEO2AUDIO_BUSY_WAIT).",
)
@click.pass_context
def convert(
    ctx: click.Context,
    files: tuple[Path, ...],
    output_format: str,
    bitrate: str | None,
    output: Path | None,
    no_wait: bool,
    timeout: float,
    busy_wait: float,
    send_video: bool,
    **options: str | None,
) -> None:
    """Upload FILES one after another, wait for each conversion and download the audio."""
    fields, cover = transfer.publishing_fields(options)
    api = _api(ctx)
    many = len(files) > 1
    if many and output is not None and output.exists() and not output.is_dir():
        raise CliError("with several files, -o must be a directory", USAGE)
    failures = 0
    for source in files:
        try:
            accepted = transfer.upload(
                api,
                source,
                output_format=output_format,
                bitrate=bitrate,
                fields=fields,
                cover=cover,
                busy_wait_seconds=busy_wait,
                send_video=send_video,
            )
            if no_wait:
                click.echo(accepted["job_id"])
                continue
            job = transfer.wait(api, accepted["job_id"], timeout=timeout)
            target = transfer.output_path(source, output_format, output, many=many)
            click.echo(transfer.download(api, job, target))
        except CliError as error:
            if error.exit_code != FAILED or not many:
                raise  # auth, usage and unreachable problems stop the whole run
            failures += 1
            click.echo(f"video2audio: {source}: {error.format_message()}", err=True)
    if failures:
        raise CliError(f"{failures} of {len(files)} conversions failed")


@cli.command()
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True, help="Print the job as JSON.")
@click.pass_context
def status(ctx: click.Context, job_id: str, as_json: bool) -> None:
    """Show one job."""
    job = _api(ctx).job(job_id)
    if as_json:
        click.echo(json.dumps(job, indent=2))
        return
    for key in STATUS_KEYS:
        if job.get(key) not in (None, ""):
            click.echo(f"{key:<10} {job[key]}")
    if job.get("audio"):
        click.echo(f"{'size':<10} {_size(job['audio'].get('size'))}")
    for key in ("created_at", "expires_at"):
        if job.get(key):
            click.echo(f"{key:<10} {_time(job[key])}")
    if job.get("status") == "failed":
        sys.exit(FAILED)


@cli.command()
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the jobs as JSON.")
@click.pass_context
def jobs(ctx: click.Context, limit: int, as_json: bool) -> None:
    """List your recent jobs, newest first."""
    listed = _api(ctx).jobs(limit)
    if as_json:
        click.echo(json.dumps(listed, indent=2))
        return
    click.echo(f"{'JOB':<32}  {'STATUS':<10}  {'FORMAT':<6}  {'SIZE':>9}  {'EXPIRES':<16}  FILE")
    for job in listed:
        size = _size((job.get("audio") or {}).get("size"))
        click.echo(
            f"{job['job_id']:<32}  {job.get('status', ''):<10}  {job.get('format') or '':<6}  "
            f"{size:>9}  {_time(job.get('expires_at')):<16}  {job.get('filename') or ''}"
        )


@cli.command()
@click.argument("job_id")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Output file.")
@click.pass_context
def download(ctx: click.Context, job_id: str, output: Path | None) -> None:
    """Download a finished job's audio."""
    api = _api(ctx)
    job = api.job(job_id)
    stem = Path(job.get("filename") or job_id).stem or job_id
    name = f"{stem}.{transfer.audio_extension(job.get('format') or 'mp3')}"
    target = output / name if output is not None and output.is_dir() else output or Path(name)
    click.echo(transfer.download(api, job, target))


@cli.command()
@click.argument("job_id")
@click.pass_context
def delete(ctx: click.Context, job_id: str) -> None:
    """Delete a job and its files now."""
    _api(ctx).delete(job_id)
    click.echo(f"deleted {job_id}", err=True)


def _time(iso: str | None) -> str:
    """An API timestamp in the user's local time, to the minute."""
    if not iso:
        return "-"
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def _size(size: Any) -> str:
    return human_size(int(size)) if isinstance(size, int | float) else "-"


def main() -> None:
    """Console-script entry point: one line on stderr and an exit code, never a traceback."""
    try:
        code = cli.main(prog_name="video2audio", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("video2audio: aborted", err=True)
        sys.exit(FAILED)
    except click.UsageError as error:
        hint = f" (see `{error.ctx.command_path} --help`)" if error.ctx else ""
        click.echo(f"video2audio: {error.format_message()}{hint}", err=True)
        sys.exit(USAGE)
    except click.ClickException as error:
        click.echo(f"video2audio: {error.format_message()}", err=True)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        click.echo("video2audio: interrupted", err=True)
        sys.exit(130)
    except OSError as error:
        click.echo(f"video2audio: {error.strerror or error}: {error.filename or ''}", err=True)
        sys.exit(FAILED)
    except Exception as error:
        click.echo(f"video2audio: unexpected error: {type(error).__name__}: {error}", err=True)
        sys.exit(FAILED)
    sys.exit(code if isinstance(code, int) else 0)
