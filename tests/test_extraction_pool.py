"""The extraction pool keeps its time budget by killing, replaces dead processes, recycles old ones."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from service.errors import ExtractorCrashed, NotAPage, TimeBudgetExceeded
from service.extraction_pool import ExtractionPool
from service.models import Job
from tests.conftest import make_settings

PAGE = b"<html><body><article><p>" + b"A sentence of an ordinary article. " * 20 + b"</p></article></body></html>"
# Big enough that no machine extracts it within TINY_BUDGET_S.
HEAVY_PAGE = b"<html><body>" + b"<div><p>Some words in a paragraph, again.</p></div>" * 20000 + b"</body></html>"
TINY_BUDGET_S = 0.05
# A replacement process imports trafilatura and warms up: allow it this long on a busy machine.
RESPAWN_WAIT_S = 30.0


@pytest.fixture
def pool() -> Iterator[ExtractionPool]:
    pool = ExtractionPool(make_settings(extractors=1, max_jobs_per_extractor=1000))
    pool.start()
    yield pool
    pool.close()


def wait_until_alive(pool: ExtractionPool, count: int) -> None:
    deadline = time.monotonic() + RESPAWN_WAIT_S
    while pool.alive < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool.alive >= count


def test_answer_comes_back_with_the_extraction_time(pool: ExtractionPool) -> None:
    answer, seconds = pool.submit(Job(mode="html", body=PAGE))
    assert "ordinary article" in answer["text"]
    assert 0 < seconds < 10


def test_page_errors_cross_the_process_boundary_as_themselves(pool: ExtractionPool) -> None:
    with pytest.raises(NotAPage):
        pool.submit(Job(mode="html", body=b"\x89PNG\r\n\x1a\n" + b"\0" * 64))
    assert pool.alive == 1  # a client error does not cost the process


def test_overrun_is_killed_within_the_budget_and_replaced(pool: ExtractionPool) -> None:
    victim = pool._idle.queue[0].pid
    started = time.monotonic()
    with pytest.raises(TimeBudgetExceeded):
        pool.submit(Job(mode="html", body=HEAVY_PAGE), budget_s=TINY_BUDGET_S)
    assert time.monotonic() - started < TINY_BUDGET_S + 1.0
    assert pool.stats.timeouts == 1
    wait_until_alive(pool, 1)
    answer, _ = pool.submit(Job(mode="html", body=PAGE))
    assert "ordinary article" in answer["text"]
    assert pool._idle.queue[0].pid != victim


def test_a_dead_process_is_replaced(pool: ExtractionPool) -> None:
    os.kill(pool._idle.queue[0].pid, signal.SIGKILL)
    time.sleep(0.2)
    with pytest.raises(ExtractorCrashed):
        pool.submit(Job(mode="html", body=PAGE))
    wait_until_alive(pool, 1)
    answer, _ = pool.submit(Job(mode="html", body=PAGE))
    assert "ordinary article" in answer["text"]


def test_processes_are_recycled_after_their_page_quota() -> None:
    pool = ExtractionPool(make_settings(extractors=1, max_jobs_per_extractor=2))
    pool.start()
    try:
        first = pool._idle.queue[0].pid
        for _ in range(3):
            pool.submit(Job(mode="html", body=PAGE))
            wait_until_alive(pool, 1)
        assert pool.stats.recycles >= 1
        assert pool._idle.queue[0].pid != first
    finally:
        pool.close()


def test_waiting_for_a_busy_pool_counts_against_the_budget(pool: ExtractionPool) -> None:
    held = pool._idle.get()  # the only process is "busy"
    try:
        started = time.monotonic()
        with pytest.raises(TimeBudgetExceeded):
            pool.submit(Job(mode="html", body=PAGE), budget_s=0.2)
        assert time.monotonic() - started < 1.0
    finally:
        pool._idle.put(held)
