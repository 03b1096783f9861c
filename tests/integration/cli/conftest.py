"""Fixtures for the CLI's local work with the real ffmpeg (no services needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.convert_media import generate


@pytest.fixture(scope="package")
def media(tmp_path_factory) -> dict[str, Path]:
    return generate(tmp_path_factory.mktemp("cli-media"))
