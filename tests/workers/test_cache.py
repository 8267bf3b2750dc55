"""The answer cache stays within its entry and byte budgets (issue 24 item 14)."""

from __future__ import annotations

import tracemalloc
from typing import Any

from service.settings import Settings
from service.workers.cache import AnswerCache

BUDGET_BYTES = 1_000_000


def big_answer(i: int, chars: int) -> dict[str, Any]:
    # Non-ASCII text: 2 bytes a character in memory (and 3 bytes a character once encoded).
    return {"text": f"{i} " + "é" * chars, "html": "<p>" + "x" * chars + "</p>", "warnings": [], "word_count": i}


def test_answers_held_stay_within_the_byte_budget() -> None:
    """25 large answers used to be all kept (175 MB for 25 pages of 2.5 MB as html+markdown)."""
    cache = AnswerCache(max_entries=256, max_bytes=BUDGET_BYTES)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(25):
            cache.put(f"key-{i}", big_answer(i, 100_000))
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < BUDGET_BYTES * 1.1, f"{held / 1e6:.1f} MB held"
    assert cache.held_bytes <= BUDGET_BYTES
    assert cache.get("key-24") is not None  # the most recent stay
    assert cache.get("key-0") is None


def test_an_answer_larger_than_the_budget_is_not_kept_and_evicts_nothing() -> None:
    cache = AnswerCache(max_entries=256, max_bytes=BUDGET_BYTES)
    cache.put("small", big_answer(1, 1000))
    cache.put("huge", big_answer(2, BUDGET_BYTES))
    assert cache.get("huge") is None
    assert cache.get("small") is not None


def test_the_entry_cap_still_holds() -> None:
    cache = AnswerCache(max_entries=3, max_bytes=BUDGET_BYTES)
    for i in range(5):
        cache.put(f"key-{i}", big_answer(i, 10))
    assert [cache.get(f"key-{i}") is not None for i in range(5)] == [False, False, True, True, True]


def test_the_byte_budget_comes_from_the_settings() -> None:
    settings = Settings.from_env(environ={"CLEANER_CACHE_MB": "3"})
    assert AnswerCache.from_settings(settings).max_bytes == 3 * 1024 * 1024
