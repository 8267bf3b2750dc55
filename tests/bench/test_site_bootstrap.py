"""The site bootstrap of both validation protocols (bench/sites.py): sites are drawn whole."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench import sites

TRUTH = "the quick brown fox jumps over the lazy dog and runs far away into the dark green wood"


@dataclass
class _Page:
    set_name: str
    id: str
    truth: dict[str, Any]


def _pages(hosts: list[str]) -> list[Any]:
    return [
        _Page("fundus", f"p{i}", {"url": f"https://{host}/a{i}", "meta": {}, "text": TRUTH})
        for i, host in enumerate(hosts)
    ]


def test_interval_of_a_perfect_answer_is_one() -> None:
    pages = _pages(["a.com", "b.com", "c.com"])
    low, high = sites.site_bootstrap(pages, [TRUTH] * 3, draws=50)["fundus"]
    assert low == pytest.approx(1.0)
    assert high == pytest.approx(1.0)


def test_interval_spreads_with_the_sites_and_pairs_the_draws() -> None:
    pages = _pages(["a.com", "b.com", "c.com", "d.com"])
    answers = [TRUTH, TRUTH, "", "nothing of the kind at all here"]
    low, high = sites.site_bootstrap(pages, answers, draws=200)["fundus"]
    assert 0.0 <= low < high <= 1.0
    # Against itself the paired difference is exactly zero on every draw.
    assert sites.site_bootstrap(pages, answers, answers, draws=50)["fundus"] == (0.0, 0.0)
    better = [TRUTH] * 4
    low, high = sites.site_bootstrap(pages, better, answers, draws=200)["fundus"]
    assert 0.0 <= low <= high
    assert high > 0.0


def test_pages_of_one_site_are_drawn_together() -> None:
    # Two sites: one all right, one all wrong. Drawn by page, a draw could mix them in any
    # share; drawn by site, a draw holds 0, 2 or 4 right pages of 4.
    pages = _pages(["a.com", "a.com", "b.com", "b.com"])
    answers = [TRUTH, TRUTH, "", ""]
    scorer = sites.set_f1(pages, answers)
    possible = {round(scorer(drawn), 6) for drawn in ([0, 1, 0, 1], [0, 1, 2, 3], [2, 3, 2, 3])}
    low, high = sites.site_bootstrap(pages, answers, draws=100)["fundus"]
    assert round(low, 6) in possible
    assert round(high, 6) in possible


def test_a_runs_saved_answers_pair_with_the_next_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pages = _pages(["a.com", "b.com", "c.com", "d.com"])
    saved = tmp_path / "base.json"
    sites.report_intervals(pages, [TRUTH, TRUTH, "", ""], save_to=saved)
    assert json.loads(saved.read_text(encoding="utf-8"))["fundus/p2"] == ""
    capsys.readouterr()
    sites.report_intervals(pages, [TRUTH] * 4, against=saved)
    paired = capsys.readouterr().out.splitlines()[-1]
    assert paired.startswith("minus --against, 95 % interval over sites: fundus +")
    assert "-0." not in paired  # every draw gains: the better answers are never worse
