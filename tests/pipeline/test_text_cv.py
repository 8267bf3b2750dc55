"""The text mode's validation data (scripts/text_cv.py): each set is scored by its own metric."""

from __future__ import annotations

from types import ModuleType

import pytest

from tests.modules import load_script


@pytest.fixture(scope="module")
def cv() -> ModuleType:
    return load_script("text_cv")


def test_the_snippet_and_shingle_sets_are_scored_by_their_own_metric(cv: ModuleType) -> None:
    snippet = cv.Page("trafilatura-text", "1", "", {"with": ["kept text"], "without": ["menu"]})
    shingle = cv.Page("fundus-text", "2", "", {"with": None, "text": "one two three four five"})
    scores = cv.score([snippet, shingle], ["kept text and menu", "one two three four five"])
    assert scores == {"trafilatura-text": pytest.approx(2 / 3), "fundus-text": 1.0}


def test_a_page_collapses_when_it_scores_0_3_below_the_reference(cv: ModuleType) -> None:
    snippet = [cv.Page("trafilatura-text", str(i), "", {"with": ["a b", "c d"], "without": ["menu"]}) for i in range(3)]
    shingle = cv.Page("fundus-text", "9", "", {"with": None, "text": "one two three four five six"})
    reference = ["a b c d menu", "a b c d menu", "a b", "one two three four five six"]
    # F1 against the reference's: 0 vs 0.8 (collapsed), 0.5 vs 0.8 (0.3 below: collapsed),
    # 0.67 vs 0.67 (level); the shingle page misses everything.
    ours = ["nothing", "a b menu", "a b", ""]
    counts = cv.collapsed([*snippet, shingle], ours, reference)
    assert counts == {"trafilatura-text": 2, "fundus-text": 1}
    assert cv.collapsed([*snippet, shingle], reference, reference) == {"trafilatura-text": 0, "fundus-text": 0}
