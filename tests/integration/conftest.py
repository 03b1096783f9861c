"""Integration fixtures: the real local services, and functions served through their app."""

from __future__ import annotations

import pytest

from tests.support.functions import function_app


@pytest.fixture(scope="session")
def auth_client():
    return function_app("auth").test_client()


@pytest.fixture
def registered_user(auth_client, unique_name):
    password = "correct horse battery"
    response = auth_client.post("/register", json={"username": unique_name, "password": password})
    assert response.status_code == 201
    return unique_name, password
