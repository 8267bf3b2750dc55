"""Rules of the text mode's validation protocol (scripts/text_cv.py): folds hold whole sites."""

from __future__ import annotations

from collections import Counter
from types import ModuleType

import pytest

from tests.modules import load_script


@pytest.fixture(scope="module")
def cv() -> ModuleType:
    return load_script("text_cv")


def _page(cv: ModuleType, set_name: str, page_id: str, url: str | None, publisher: str | None = None) -> object:
    meta = {"publisher": publisher} if publisher else {}
    return cv.Page(set_name, page_id, "", {"url": url, "meta": meta, "text": "x"})


@pytest.mark.parametrize(
    ("url", "publisher", "page_id", "expected"),
    [
        ("https://www.bbc.com/news/1", None, "a", {"bbc.com"}),
        ("https://web.archive.org/web/2008/http://www.dimido.de/2008/x/", None, "a", {"dimido.de"}),
        ("hard::blog.python.org.html", None, "a", {"blog.python.org"}),
        ("hard::100noticias.com-millones.html", None, "a", {"100noticias.com"}),
        ("https://www.faz.net/a", "FAZ", "a", {"faz.net", "publisher:FAZ"}),
        (None, None, "nytimes-4", {"id:nytimes"}),
        (None, None, "001", {"id:001"}),
    ],
)
def test_a_page_is_tied_to_its_site(
    cv: ModuleType, url: str | None, publisher: str | None, page_id: str, expected: set[str]
) -> None:
    assert cv.site_keys(_page(cv, "s", page_id, url, publisher)) == expected


def test_pages_of_one_site_share_a_fold_across_sets(cv: ModuleType) -> None:
    pages = [_page(cv, "a", f"a{i}", f"https://site{i % 7}.example/{i}") for i in range(40)]
    # fundus pages tied to the others by hostname, and to each other by publisher
    pages += [
        _page(cv, "b", "b1", "https://site3.example/x", "Three"),
        _page(cv, "b", "b2", "https://other.example/", "Three"),
    ]
    pages += [_page(cv, "c", f"nytimes-{i}", None) for i in range(1, 4)]
    folds = cv.assign_folds(pages, 5)
    by_key: dict[str, set[int]] = {}
    for page, fold in zip(pages, folds, strict=True):
        for key in cv.site_keys(page):
            by_key.setdefault(key, set()).add(fold)
    assert all(len(f) == 1 for f in by_key.values())
    assert folds[41] == folds[3]  # b2 goes with b1 (publisher), b1 with a3 (site3.example)


def test_each_set_is_spread_over_the_folds(cv: ModuleType) -> None:
    pages = [_page(cv, "big", f"a{i}", f"https://s{i}.example/") for i in range(50)]
    pages += [_page(cv, "small", f"b{i}", f"https://t{i}.example/") for i in range(10)]
    folds = cv.assign_folds(pages, 5)
    counts = Counter((page.set_name, fold) for page, fold in zip(pages, folds, strict=True))  # type: ignore[attr-defined]
    assert {counts["big", f] for f in range(5)} == {10}
    assert {counts["small", f] for f in range(5)} == {2}


def test_the_snippet_and_shingle_sets_are_scored_by_their_own_metric(cv: ModuleType) -> None:
    snippet = cv.Page("trafilatura-text", "1", "", {"with": ["kept text"], "without": ["menu"]})
    shingle = cv.Page("fundus-text", "2", "", {"with": None, "text": "one two three four five"})
    scores = cv.score([snippet, shingle], ["kept text and menu", "one two three four five"])
    assert scores == {"trafilatura-text": pytest.approx(2 / 3), "fundus-text": 1.0}
