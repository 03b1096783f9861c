"""Where the CLI keeps its login: a small JSON file in the user's config directory, mode 0600."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from video2audio_cli.errors import AUTH, CliError

APP_NAME = "video2audio"


def config_dir() -> Path:
    # click follows XDG_CONFIG_HOME on POSIX (default ~/.config/video2audio).
    return Path(click.get_app_dir(APP_NAME))


def session_path() -> Path:
    return config_dir() / "session.json"


@dataclass(frozen=True)
class Session:
    username: str
    token: str
    expires_at: float

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at


def save_session(session: Session) -> Path:
    path = session_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Created with 0600 from the start, so the token is never readable by others, not even briefly.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(asdict(session), handle)
    return path


def load_session() -> Session:
    """The stored, unexpired login, or a :class:`CliError` (exit 3) that says to log in."""
    path = session_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        session = Session(str(raw["username"]), str(raw["token"]), float(raw["expires_at"]))
    except FileNotFoundError:
        raise CliError("not logged in; run `video2audio login`", AUTH) from None
    except (OSError, ValueError, KeyError, TypeError):
        raise CliError(f"the stored login in {path} is unreadable; log in again", AUTH) from None
    if session.expired:
        raise CliError("your session has expired; run `video2audio login`", AUTH)
    return session


def clear_session() -> bool:
    try:
        session_path().unlink()
    except FileNotFoundError:
        return False
    return True
