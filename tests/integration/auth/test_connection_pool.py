"""More requests at once than pooled database connections: they wait their turn, no 503."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.support.functions import function_app
from video2audio.infra.clients import reset_clients


def test_a_burst_larger_than_the_pool_waits_instead_of_failing(monkeypatch, registered_user):
    monkeypatch.setenv("DATABASE_POOL_SIZE", "2")
    reset_clients()
    try:
        app = function_app("auth")
        username, password = registered_user

        def log_in(_: int) -> int:
            body = {"username": username, "password": password}
            return app.test_client().post("/login", json=body).status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            answers = list(pool.map(log_in, range(12)))
    finally:
        monkeypatch.undo()
        reset_clients()
    assert answers == [200] * 12
