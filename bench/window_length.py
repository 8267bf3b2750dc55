"""Does the length of a timed service run move its ratio to the in-process pipeline?

``bench/load.py`` runs each client level for 8 s between two 4 s in-process brackets. Session 7
measured the same service with 2 s windows alternating with in-process ones and got a ratio ~3
points lower, unexplained. This script puts the two window lengths side by side on one server:
bracket, short run, bracket, long run, bracket, ... (the order of short and long alternating from
round to round, so that the machine's drift hits both), each run's ratio taken against the
brackets on either side of it, mix-weighted as in ``bench/load.py`` (run it with ``-m`` from the
repository root):

    .venv/bin/python -m bench.window_length --rounds 6
    .venv/bin/python -m bench.window_length --short 2 --long 8 --clients 16

It prints each run (ratio, its base before -> after, CPU ms per page of the extraction processes
and the web worker) and the mean and median ratio of each length.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

from bench import load


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=6, help="runs of each length")
    ap.add_argument("--short", type=float, default=2.0, help="seconds of a short run")
    ap.add_argument("--long", type=float, default=8.0, help="seconds of a long run (bench/load.py's default)")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--processes", type=int, default=2, help="in-process workers (the service's extractors)")
    ap.add_argument("datasets", nargs="*", type=Path, default=[])
    args = ap.parse_args(argv)
    mix = load.build_mix(args.datasets or load.default_datasets(), load.DEFAULT_SAMPLE)
    weights = load.mix_weights(load.sequential_pass(mix, names=("pipeline",))["pipeline"])
    by_name = load.weights_by_name(mix, weights)

    def bracket() -> float:
        found = load.inproc_throughput(
            mix, args.processes, load.DEFAULT_BRACKET_DURATION_S, names=("pipeline",), weights=weights
        )
        return found["pipeline_weighted"]

    ratios: dict[str, list[float]] = {"short": [], "long": []}
    with load.run_server({"CLEANER_CACHE_ENTRIES": "0"}, Path("/tmp")) as server:
        load.drive(server, mix, args.clients, requests=len(mix))  # warm every process up
        before = bracket()
        for round_ in range(args.rounds):
            for length in ("short", "long") if round_ % 2 == 0 else ("long", "short"):
                run = load.drive(server, mix, args.clients, duration=args.short if length == "short" else args.long)
                after = bracket()
                ratio = run.weigh(by_name) / ((before + after) / 2)
                ratios[length].append(ratio)
                print(
                    f"{length:5} {ratio:.3f}  base {before:6.1f} -> {after:6.1f}  "
                    f"extraction {run.cpu_ms_per_page('extractor'):5.2f} ms  web {run.cpu_ms_per_page('web'):4.2f} ms",
                    flush=True,
                )
                before = after
    for length, values in ratios.items():
        mean, median = statistics.mean(values), statistics.median(values)
        print(f"{length}: mean {mean:.3f}, median {median:.3f}, {len(values)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
