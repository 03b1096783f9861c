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
os.environ.setdefault("MONGO_DB", "video2audio_test")
os.environ.setdefault("LOG_LEVEL", "WARNING")


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
