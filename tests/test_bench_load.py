"""The throughput arithmetic of ``bench/load.py``: mix weights and mix-weighted pages/s."""

from __future__ import annotations

import pytest

from bench import load
from bench.load import LoadResult, MixPage, inproc_throughput, mix_weights


def test_mix_weights_are_each_pages_share_of_the_mean_page() -> None:
    assert mix_weights([0.001, 0.003]) == pytest.approx([0.5, 1.5])
    assert sum(mix_weights([0.002, 0.010, 0.050])) == pytest.approx(3.0)
    assert mix_weights([0.0, 0.0]) == [1.0, 1.0]  # no times: every page counts one
    assert mix_weights([]) == []


def test_a_run_is_weighed_by_the_pages_it_answered_inside_its_window() -> None:
    run = LoadResult(clients=4, window_s=2.0)
    run.by_page = {"cheap": [0.01] * 6, "dear": [0.05] * 2}
    assert run.weigh({"cheap": 0.5, "dear": 2.5}) == pytest.approx((6 * 0.5 + 2 * 2.5) / 2.0)


def _counted_worker(args: tuple[str, int, float, float]) -> tuple[int, float, float]:
    """In place of a real in-process worker: worker at offset 0 does 3 pages, at offset 2 does 2."""
    _name, offset, _start, _duration = args
    return (3 if offset == 0 else 2), 1.0, 0.1


def test_in_process_workers_are_weighed_by_the_pages_each_one_did(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two workers start at offsets 0 and 2 of a 4-page mix and go on in order, wrapping around:
    # pages 0, 1, 2 and pages 2, 3.
    monkeypatch.setattr(load, "_inproc_worker", _counted_worker)
    mix = [MixPage(f"p{i}", b"<p>x</p>", "text/html", None) for i in range(4)]
    result = inproc_throughput(mix, processes=2, duration=1.0, names=("pipeline",), weights=[1.0, 2.0, 3.0, 4.0])
    assert result["pipeline"] == pytest.approx(5.0)
    assert result["pipeline_weighted"] == pytest.approx((1 + 2 + 3) + (3 + 4))
