"""Settings every test process shares: the private local services and fast bcrypt.

Set before any function module is imported, since functions read settings on first use.
"""

from __future__ import annotations

import os
import uuid

import pytest

os.environ.setdefault("APP_ENV", "development")
os.environ.setdefault("BCRYPT_ROUNDS", "4")
os.environ.setdefault("MONGO_DB", "video2audio_test")
os.environ.setdefault("LOG_LEVEL", "WARNING")


@pytest.fixture
def unique_name() -> str:
    return f"user-{uuid.uuid4().hex[:12]}"
