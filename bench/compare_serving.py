"""Which of two versions of the service serves more pages per second? Alternating runs.

On a shared 2-core machine a single ``bench/load.py`` run moves by several points from run to
run (the in-process base itself drifts by up to 10 % within a minute), more than most serving
changes are worth. This script answers "is B better than A" the way the numbers in the README
were decided: it runs A and B alternately (A B B A A B ...), each run a fresh server at a fixed
number of clients, bracketed by the in-process pipeline right before and after (as in
``bench/load.py``), and prints each run and the means.

A version is a checkout of this repository (``git worktree add /tmp/b <commit>``) with optional
environment settings for its server:

    .venv/bin/python -m bench.compare_serving . /tmp/b --clients 4 --reps 3
    .venv/bin/python -m bench.compare_serving . . --env-b CLEANER_MAX_IN_FLIGHT=8 --clients 16

Columns: ratio (service / in-process pages/s), weighted (the same, mix-weighted: see
``bench.load_mix.mix_weights``; the pairs are compared on it), pages/s, in-process base, CPU ms per page of the
web worker, the extraction processes and the in-process pipeline, and the share of the
machine's time its cores were idle during the HTTP run (from /proc/stat).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import DEFAULT_BRACKET_DURATION_S, DEFAULT_SAMPLE  # noqa: E402 - after the path set-up above
from bench.load_http import drive  # noqa: E402
from bench.load_mix import (  # noqa: E402
    MixPage,
    build_mix,
    default_datasets,
    inproc_throughput,
    mix_weights,
    sequential_pass,
    weights_by_name,
)
from bench.load_server import run_server  # noqa: E402

COLUMNS = ("ratio", "weighted", "pages_per_s", "base", "web_ms", "extraction_ms", "inproc_ms", "idle")


def _cpu_ticks() -> list[int]:
    with open("/proc/stat") as stat:
        return [int(x) for x in stat.readline().split()[1:]]


def one_run(
    root: Path,
    env_overrides: dict[str, str],
    mix: Sequence[MixPage],
    weights: Sequence[float],
    clients: int,
    seconds: float,
    command_for_port: Callable[[int], list[str]] | None = None,
) -> dict[str, float]:
    """A fresh server from ``root`` (started by ``command_for_port``, if given) driven by
    ``clients`` for ``seconds``, bracketed in-process."""
    env = {"CLEANER_CACHE_ENTRIES": "0", **env_overrides}
    with run_server(env, Path("/tmp"), root, command_for_port) as server:
        drive(server, mix, 1, requests=len(mix))  # warm every process up
        before = inproc_throughput(mix, 2, DEFAULT_BRACKET_DURATION_S, names=("pipeline",), weights=weights)
        ticks = _cpu_ticks()
        result = drive(server, mix, clients, duration=seconds)
        spent = [b - a for a, b in zip(ticks, _cpu_ticks(), strict=True)]
        after = inproc_throughput(mix, 2, DEFAULT_BRACKET_DURATION_S, names=("pipeline",), weights=weights)
    base = (before["pipeline"] + after["pipeline"]) / 2
    weighted_base = (before["pipeline_weighted"] + after["pipeline_weighted"]) / 2
    by_name = weights_by_name(mix, weights)
    return {
        "ratio": result.pages_per_s / base,
        "weighted": result.weigh(by_name) / weighted_base,
        "pages_per_s": result.pages_per_s,
        "base": base,
        "web_ms": result.cpu_ms_per_page("web"),
        "extraction_ms": result.cpu_ms_per_page("extractor"),
        "inproc_ms": (before["pipeline_cpu_ms"] + after["pipeline_cpu_ms"]) / 2,
        "idle": spent[3] / max(1, sum(spent)),
    }


def _env(pairs: Sequence[str]) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in pairs)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", type=Path, help="checkout of version A")
    ap.add_argument("b", type=Path, help="checkout of version B")
    ap.add_argument("--env-a", nargs="*", default=[], metavar="NAME=VALUE")
    ap.add_argument("--env-b", nargs="*", default=[], metavar="NAME=VALUE")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--reps", type=int, default=3, help="runs of each version")
    ap.add_argument("--duration", type=float, default=8.0, help="seconds per HTTP run")
    ap.add_argument("datasets", nargs="*", type=Path, default=[])
    args = ap.parse_args(argv)
    mix = build_mix(args.datasets or default_datasets(), DEFAULT_SAMPLE)
    weights = mix_weights(sequential_pass(mix, names=("pipeline",))["pipeline"])
    versions = {"A": (args.a.resolve(), _env(args.env_a)), "B": (args.b.resolve(), _env(args.env_b))}
    runs: dict[str, list[dict[str, float]]] = {"A": [], "B": []}
    for rep in range(args.reps):
        for name in ("A", "B") if rep % 2 == 0 else ("B", "A"):  # A B B A A B ...: drift hits both
            root, env = versions[name]
            run = one_run(root, env, mix, weights, args.clients, args.duration)
            runs[name].append(run)
            print(name, " ".join(f"{key} {run[key]:.3f}" for key in COLUMNS), flush=True)
    for name, results in runs.items():
        means = " ".join(f"{key} {statistics.mean(r[key] for r in results):.3f}" for key in COLUMNS)
        print(f"mean {name} ({len(results)} runs): {means}")
    wins = sum(b["weighted"] > a["weighted"] for a, b in zip(runs["A"], runs["B"], strict=True))
    print(f"B's mix-weighted ratio above A's in {wins} of {args.reps} pairs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
