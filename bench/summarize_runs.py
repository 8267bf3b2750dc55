"""Several ``bench/load.py`` runs read together: each level's mean ratio, its spread and a 95 % CI.

One run of ``bench/load.py`` moves its throughput ratio by a few points either way on a shared
machine (its base drifts by up to ±10 % within a minute), about as much as the margin between
the service and its target. This reads the ``--json`` files of several runs and prints, for each
client level, every run's mix-weighted ratio, their mean, standard deviation and a 95 %
confidence interval of the mean (Student's t), and how many runs met the target; and for the
1-client latency target, every run's p50 difference:

    for i in 1 2 3 4 5; do .venv/bin/python -m bench.load --json runs/$i.json; done
    .venv/bin/python -m bench.summarize_runs runs/*.json
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load import TARGET_P50_EXTRA_MS, TARGET_SERVICE_RATIO

# Two-sided 95 % quantiles of Student's t for 1..30 degrees of freedom; beyond, the normal's.
_T_975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
_Z_975 = 1.960


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float
    stdev: float
    low: float  # 95 % CI of the mean
    high: float
    met: int  # runs at or above the target


def summarize(values: Sequence[float], target: float) -> Summary:
    """Mean, sample standard deviation and 95 % CI of ``values``; a single value has no spread."""
    n = len(values)
    if n == 0:
        raise ValueError("no values")
    mean, met = statistics.fmean(values), sum(v >= target for v in values)
    if n == 1:
        return Summary(1, mean, math.nan, math.nan, math.nan, met)
    stdev = statistics.stdev(values)
    half = (_T_975[n - 2] if n - 1 <= len(_T_975) else _Z_975) * stdev / math.sqrt(n)
    return Summary(n, mean, stdev, mean - half, mean + half, met)


def _ratios(run: dict[str, Any]) -> dict[int, float]:
    """One run's mix-weighted service / in-process ratio by client level."""
    return {level["clients"]: level["weighted_ratio"] for level in run.get("http", [])}


def level_ratios(runs: Sequence[dict[str, Any]], clients: int) -> list[float]:
    """The mix-weighted service / in-process ratio of ``clients`` in each run that has that level."""
    return [ratios[clients] for ratios in map(_ratios, runs) if clients in ratios]


def p50_differences(runs: Sequence[dict[str, Any]]) -> list[float]:
    """Each run's 1-client p50 minus its paired in-process p50, in ms."""
    return [
        run["paired_1_client"]["http_p50_ms"] - run["paired_1_client"]["inproc_p50_ms"]
        for run in runs
        if run.get("paired_1_client")
    ]


def _every_level_met(run: dict[str, Any], levels: Sequence[int]) -> bool:
    ratios = _ratios(run)
    return all(ratios.get(clients, 0.0) >= TARGET_SERVICE_RATIO for clients in levels)


def report(runs: Sequence[dict[str, Any]], levels: Sequence[int]) -> list[str]:
    lines = [f"{len(runs)} runs of bench/load.py; service / in-process pipeline, mix-weighted:"]
    for clients in levels:
        ratios = level_ratios(runs, clients)
        if not ratios:
            lines.append(f"  {clients:2} clients: no run has this level")
            continue
        s = summarize(ratios, TARGET_SERVICE_RATIO)
        spread = "" if s.n == 1 else f", sd {s.stdev:.3f}, 95 % CI of the mean [{s.low:.3f}, {s.high:.3f}]"
        lines.append(
            f"  {clients:2} clients: mean {s.mean:.3f}{spread}; at or above {TARGET_SERVICE_RATIO} in {s.met} of {s.n}"
        )
        lines.append("              runs: " + " ".join(f"{r:.3f}" for r in ratios))
    together = sum(_every_level_met(run, levels) for run in runs)
    lines.append(f"  every level at or above {TARGET_SERVICE_RATIO} in the same run: {together} of {len(runs)}")
    diffs = p50_differences(runs)
    if diffs:
        within = sum(d <= TARGET_P50_EXTRA_MS for d in diffs)
        lines.append(
            f"1 client, p50 minus paired in-process p50: mean {statistics.fmean(diffs):+.1f} ms, "
            f"range {min(diffs):+.1f} to {max(diffs):+.1f} ms; "
            f"within +{TARGET_P50_EXTRA_MS:g} ms in {within} of {len(diffs)}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path, help="JSON files written by bench/load.py --json")
    ap.add_argument("--clients", nargs="+", type=int, default=[4, 16], help="levels the target applies to")
    args = ap.parse_args(argv)
    runs = [json.loads(path.read_text()) for path in args.runs]
    print("\n".join(report(runs, args.clients)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
