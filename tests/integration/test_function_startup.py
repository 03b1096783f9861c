"""A function with settings it cannot run with refuses to start, with a clear message."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = {"auth": "http", "upload": "http", "convert": "cloudevent", "notify": "cloudevent",
             "expire": "cloudevent"}  # fmt: skip


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_production_with_the_development_secret_refuses_to_start(name, tmp_path):
    env = {**os.environ, "APP_ENV": "production"}
    env.pop("JWT_SECRET", None)
    completed = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "functions-framework"), "--target", name,
         "--source", str(ROOT / "functions" / name / "main.py"),
         "--signature-type", FUNCTIONS[name], "--port", "0"],
        env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert completed.returncode != 0
    assert "JWT_SECRET is the built-in development secret" in completed.stderr
