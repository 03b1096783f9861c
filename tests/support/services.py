"""Controlling the private local services (scripts/services.sh) from tests."""

from __future__ import annotations

import os
import subprocess

from tests.support.paths import SCRIPTS


def run_services(command: str, *, timeout: float = 300) -> str:
    """``scripts/services.sh <command>`` for this test run's instances; returns what it printed.

    Without MONGO_URL, which would make the script treat MongoDB as an external server.
    """
    env = {key: value for key, value in os.environ.items() if key != "MONGO_URL"}
    result = subprocess.run(
        ["bash", str(SCRIPTS / "services.sh"), command],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(f"services.sh {command} failed:\n{result.stderr}")
    return result.stdout
