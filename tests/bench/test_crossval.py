"""Which pages each fold of bench/crossval.py fits on: never the pages it answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from bench import block_data, crossval


@dataclass
class _Page:
    set_name: str
    id: str
    truth: dict[str, Any]


def _pages() -> list[Any]:
    hosts = {"trafilatura": ["a.com", "b.com", "c.com"], "fundus": ["d.com", "e.com"], "mozilla-readability": ["f.com"]}
    return [
        _Page(set_name, f"{set_name}-{i}", {"url": f"https://{host}/{i}", "meta": {}})
        for set_name, names in hosts.items()
        for i, host in enumerate(names)
    ]


@pytest.mark.parametrize("by_set", [False, True])
def test_each_page_is_answered_by_a_model_fitted_without_it(monkeypatch: pytest.MonkeyPatch, by_set: bool) -> None:
    fitted_on: list[set[str]] = []

    def fit(records: list[Any]) -> int:  # the "model" is the number of the fit
        fitted_on.append({r.id for r in records})
        return len(fitted_on)

    monkeypatch.setattr(block_data, "fit", fit)
    monkeypatch.setattr(crossval, "describe", lambda model: f"model {model}")
    monkeypatch.setattr(block_data, "predict", lambda model, record: f"{model}")
    pages = _pages()
    answers, _decisions, shipped = crossval.cross_validate(pages, by_set=by_set)
    assert fitted_on[int(str(shipped)) - 1] == {p.id for p in pages}  # the in-sample model: every page
    for page, answer in zip(pages, answers, strict=True):
        assert page.id not in fitted_on[int(answer) - 1]
    if by_set:  # one fold per set: the other sets are the whole training data
        assert len(fitted_on) == 3 + 1
        for page, answer in zip(pages, answers, strict=True):
            assert fitted_on[int(answer) - 1] == {p.id for p in pages if p.set_name != page.set_name}
