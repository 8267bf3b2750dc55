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
