"""Expire fixtures: files and jobs made directly through storage/jobs, with backdated uploads."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from pymongo.database import Database

from video2audio.infra.clients import mongo_client


@pytest.fixture
def scratch_db() -> Iterator[Database]:
    """A database of its own, so a sweep's counts are exactly this test's files."""
    db = mongo_client()[f"v2a_expire_{uuid.uuid4().hex[:12]}"]
    yield db
    mongo_client().drop_database(db.name)
