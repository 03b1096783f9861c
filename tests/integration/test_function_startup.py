"""A function with settings it cannot run with refuses to start, with a clear message."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.support.functions import SIGNATURES
from tests.support.paths import FUNCTIONS, SERVE


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_production_with_the_development_secret_refuses_to_start(name, tmp_path):
    env = {**os.environ, "APP_ENV": "production"}
    env.pop("JWT_SECRET", None)
    completed = subprocess.run(
        [str(SERVE), "--target", name, "--source", str(FUNCTIONS / name / "main.py"),
         "--signature-type", SIGNATURES[name], "--port", "0"],
        env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert completed.returncode != 0
    assert "JWT_SECRET is the built-in development secret" in completed.stderr
