"""Probes: /readyz proves an extraction works, but a flood of it costs at most one canary a second."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask

from service.http import health
from service.http.app import create_app
from service.workers.runtime import Runtime


@pytest.fixture
def canaries(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Times at which a canary page went to the extraction pool."""
    submitted: list[float] = []
    submit = runtime.pool.submit

    def counting(*args: Any, **kwargs: Any) -> Any:
        submitted.append(time.monotonic())
        return submit(*args, **kwargs)

    monkeypatch.setattr(runtime.pool, "submit", counting)
    return submitted


@pytest.fixture
def fresh_app(runtime: Runtime) -> Flask:
    return create_app(runtime=runtime)  # its own readiness memo


def test_a_flood_of_readyz_runs_one_canary_per_interval(fresh_app: Flask, canaries: list[float]) -> None:
    """Issue 24: 6 unkeyed clients flooding /readyz cut keyed throughput from 88 to 18 pages/s."""
    client = fresh_app.test_client()
    started = time.monotonic()
    answers = [client.get("/readyz") for _ in range(30)]
    assert time.monotonic() - started < health.READY_MEMO_S
    assert {answer.status_code for answer in answers} == {200}
    assert len(canaries) == 1


def test_concurrent_readyz_share_the_canary_in_flight(fresh_app: Flask, canaries: list[float]) -> None:
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: fresh_app.test_client().get("/readyz").status_code, range(16)))
    assert set(statuses) == {200}
    assert len(canaries) == 1


def test_readiness_is_checked_again_after_the_interval(fresh_app: Flask, canaries: list[float]) -> None:
    client = fresh_app.test_client()
    assert client.get("/readyz").status_code == 200
    time.sleep(health.READY_MEMO_S + 0.05)
    assert client.get("/readyz").status_code == 200
    assert len(canaries) == 2
