"""Settings every test process shares: the private local services and fast bcrypt.

Set before any function module is imported, since functions read settings on first use.
"""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest

os.environ.setdefault("APP_ENV", "development")
os.environ.setdefault("BCRYPT_ROUNDS", "4")
# Databases of the tests' own, apart from the ones `make up` (and the e2e tests) use.
os.environ.setdefault("MONGO_DB", "video2audio_test")
os.environ.setdefault("DATABASE_URL", "postgresql://postgres@127.0.0.1:55432/video2audio_test")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# Every in-process request comes from 127.0.0.1: the tests of the per-address throttle set
# their own limit and addresses; the others must not trip it together.
os.environ.setdefault("LOGIN_MAX_FAILURES_PER_ADDRESS", "100000")
# Nothing converts what the upload tests upload: the tests of the per-user limits set their own.
os.environ.setdefault("MAX_ACTIVE_JOBS_PER_USER", "100000")
os.environ.setdefault("MAX_UPLOADS_PER_HOUR", "100000")


@pytest.fixture
def unique_name() -> str:
    return f"user-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (cert and key paths), made with openssl."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)
