"""The small chaos run: ten jobs while every component is killed at least once (make chaos runs
the full one). It ends with the stack up again, as `make up` leaves it."""

from __future__ import annotations

from chaos.run import run_chaos


def test_every_job_ends_done_once_while_every_component_is_killed(stack):
    summary = run_chaos(jobs=10, seconds=45, seed=20261130)
    assert summary["kinds_killed"] == 12
    assert summary["problems"] == []
