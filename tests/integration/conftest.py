"""Integration fixtures: the real local services, and functions served through their app."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import functions_framework
import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "scripts" / "services.sh"


def function_app(name: str, signature_type: str = "http"):
    return functions_framework.create_app(
        target=name,
        source=str(ROOT / "functions" / name / "main.py"),
        signature_type=signature_type,
    )


@pytest.fixture(scope="session")
def auth_client():
    return function_app("auth").test_client()


def run_services(command: str) -> None:
    subprocess.run(["bash", str(SERVICES), command], check=True, env=os.environ.copy())


@pytest.fixture
def registered_user(auth_client, unique_name):
    password = "correct horse battery"
    response = auth_client.post("/register", json={"username": unique_name, "password": password})
    assert response.status_code == 201
    return unique_name, password
