"""``bench/summarize_runs.py``: several load runs read together."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from bench import summarize_runs
from bench.summarize_runs import level_ratios, p50_differences, summarize


def _run(ratios: dict[int, float], http_p50: float = 12.0, inproc_p50: float = 10.0) -> dict[str, Any]:
    """The parts of a ``bench/load.py --json`` file the summary reads."""
    return {
        "http": [{"clients": clients, "weighted_ratio": ratio} for clients, ratio in ratios.items()],
        "paired_1_client": {"http_p50_ms": http_p50, "inproc_p50_ms": inproc_p50},
    }


def test_the_interval_is_the_mean_plus_or_minus_t_times_the_standard_error() -> None:
    s = summarize([0.88, 0.90, 0.92, 0.94], target=0.90)
    assert s.mean == pytest.approx(0.91)
    assert s.stdev == pytest.approx(math.sqrt(((0.03**2 + 0.01**2) * 2) / 3))
    half = 3.182 * s.stdev / 2  # t(0.975, 3 degrees of freedom) * sd / sqrt(4)
    assert (s.low, s.high) == pytest.approx((0.91 - half, 0.91 + half))
    assert s.met == 3  # 0.90 itself meets the target


def test_many_runs_use_the_normal_quantile_and_one_run_has_no_spread() -> None:
    values = [0.90, 0.92] * 20
    s = summarize(values, target=0.91)
    assert s.high - s.mean == pytest.approx(1.960 * s.stdev / math.sqrt(40))
    assert s.met == 20
    single = summarize([0.93], target=0.90)
    assert (single.mean, single.met) == (0.93, 1)
    assert math.isnan(single.low)
    assert math.isnan(single.stdev)
    with pytest.raises(ValueError, match="no values"):
        summarize([], target=0.90)


def test_each_level_and_the_latency_are_read_from_every_run_that_has_them() -> None:
    runs = [_run({1: 0.45, 4: 0.91, 16: 0.89}), _run({4: 0.93}, http_p50=15.5, inproc_p50=12.0)]
    assert level_ratios(runs, 4) == [0.91, 0.93]
    assert level_ratios(runs, 16) == [0.89]
    assert p50_differences(runs) == pytest.approx([2.0, 3.5])


def test_the_report_counts_runs_meeting_the_target_per_level_and_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = [_run({4: 0.92, 16: 0.91}), _run({4: 0.89, 16: 0.95}), _run({4: 0.95, 16: 0.90}, http_p50=14.0)]
    paths = []
    for i, run in enumerate(runs):
        paths.append(tmp_path / f"{i}.json")
        paths[-1].write_text(json.dumps(run))
    assert summarize_runs.main([str(p) for p in paths]) == 0
    out = capsys.readouterr().out
    assert "4 clients: mean 0.920" in out
    assert "at or above 0.9 in 2 of 3" in out
    assert "16 clients: mean 0.920" in out
    assert "at or above 0.9 in 3 of 3" in out
    assert "every level at or above 0.9 in the same run: 2 of 3" in out
    assert "within +3 ms in 2 of 3" in out  # the third run's p50 is 4 ms above its in-process p50
