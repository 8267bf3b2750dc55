"""Rules of both validation protocols' split (bench/sites.py): folds hold whole sites."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest

from bench import sites


@dataclass
class _Page:
    set_name: str
    id: str
    truth: dict[str, Any]


def _page(set_name: str, page_id: str, url: str | None, publisher: str | None = None, file: str | None = None) -> _Page:
    meta = {"publisher": publisher} if publisher else {}
    if file:
        meta["file"] = file
    return _Page(set_name, page_id, {"url": url, "meta": meta, "text": "x"})


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
        ("recall::elnuevoherald.com-miami.html", None, "a", {"id:a"}),  # no file name in meta: the id
    ],
)
def test_a_page_is_tied_to_its_site(url: str | None, publisher: str | None, page_id: str, expected: set[str]) -> None:
    assert sites.site_keys(page_id, _page("s", page_id, url, publisher).truth) == expected


def test_pages_of_one_site_share_a_fold_across_sets() -> None:
    pages = [_page("a", f"a{i}", f"https://site{i % 7}.example/{i}") for i in range(40)]
    # fundus pages tied to the others by hostname, and to each other by publisher
    pages += [
        _page("b", "b1", "https://site3.example/x", "Three"),
        _page("b", "b2", "https://other.example/", "Three"),
    ]
    pages += [_page("c", f"nytimes-{i}", None) for i in range(1, 4)]
    folds = sites.assign_folds(pages, 5)
    by_key: dict[str, set[int]] = {}
    for page, fold in zip(pages, folds, strict=True):
        for key in sites.site_keys(page.id, page.truth):
            by_key.setdefault(key, set()).add(fold)
    assert all(len(f) == 1 for f in by_key.values())
    assert folds[41] == folds[3]  # b2 goes with b1 (publisher), b1 with a3 (site3.example)


def test_each_set_is_spread_over_the_folds() -> None:
    pages = [_page("big", f"a{i}", f"https://s{i}.example/") for i in range(50)]
    pages += [_page("small", f"b{i}", f"https://t{i}.example/") for i in range(10)]
    folds = sites.assign_folds(pages, 5)
    counts = Counter((page.set_name, fold) for page, fold in zip(pages, folds, strict=True))
    assert {counts["big", f] for f in range(5)} == {10}
    assert {counts["small", f] for f in range(5)} == {2}


def test_a_file_named_page_is_tied_to_the_host_in_its_file_name() -> None:
    page = _page("s", "a", "recall::elnuevoherald.com-miami.html", file="elnuevoherald.com-miami.html")
    assert sites.site_keys(page.id, page.truth) == {"elnuevoherald.com"}


@pytest.mark.parametrize("workers", [1, 2])
def test_each_fold_is_fitted_without_its_pages_and_the_in_sample_fit_on_all(workers: int) -> None:
    folds = [0, 1, 2, 0, 1, 2, 1]
    data = [f"page{i}" for i in range(len(folds))]  # what a fit reads, inherited by the forked workers

    def fit(train: list[int]) -> tuple[list[str], int]:
        return [data[i] for i in train], os.getpid()

    models, in_sample = sites.fit_per_fold(fit, folds, workers)
    assert in_sample[0] == data
    assert [m[0] for m in models] == [[d for d, f in zip(data, folds, strict=True) if f != k] for k in range(3)]
    pids = {pid for _, pid in [*models, in_sample]}
    assert (pids == {os.getpid()}) if workers == 1 else (os.getpid() not in pids)
