"""Exit codes and the one error type the CLI reports (one line on stderr, never a traceback)."""

from __future__ import annotations

import click

OK, FAILED, USAGE, AUTH, UNREACHABLE = 0, 1, 2, 3, 4


class CliError(click.ClickException):
    def __init__(self, message: str, exit_code: int = FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code
