"""Does pinning each extraction process to its own CPU serve more pages/s? One server, alternating.

``bench/compare_serving.py`` compares fresh servers, each bracketed by the in-process pipeline;
its run-to-run noise (about ±4 %, mostly the in-process base) is larger than this effect. Here
one server (default settings, cache off) serves every run, and between runs the extraction
processes' CPU affinity is switched with psutil: "pinned" (process k on CPU k, what
``CLEANER_PIN_EXTRACTORS`` does) or "free" (every CPU), in the order free, pinned, pinned, free,
... so that the machine's drift hits both alike. No in-process base is needed: the two sides
differ only in the affinity. Prints each run and the means (pages/s, CPU ms per page of the
extraction processes and of the web worker).

    .venv/bin/python -m bench.pinning_ab --clients 4 --pairs 6      # ~1.5 min
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import DEFAULT_SAMPLE, build_mix, default_datasets, drive, run_server  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--pairs", type=int, default=4)
    ap.add_argument("--duration", type=float, default=6.0, help="seconds per run")
    args = ap.parse_args(argv)
    mix = build_mix(default_datasets(), DEFAULT_SAMPLE)
    cpus = sorted(os.sched_getaffinity(0))
    runs: dict[str, list[tuple[float, float, float]]] = {"free": [], "pinned": []}
    with run_server({"CLEANER_CACHE_ENTRIES": "0", "CLEANER_PIN_EXTRACTORS": "0"}, Path("/tmp")) as server:
        drive(server, mix, 1, requests=len(mix))  # warm every process up
        for pair in range(args.pairs):
            for mode in ("free", "pinned") if pair % 2 == 0 else ("pinned", "free"):
                # Set before every run: a process recycled meanwhile starts with every CPU.
                for k, process in enumerate(server.processes().extractors):
                    process.cpu_affinity([cpus[k % len(cpus)]] if mode == "pinned" else cpus)
                result = drive(server, mix, args.clients, duration=args.duration)
                row = (
                    result.pages_per_s,
                    result.cpu_ms_per_page("extractor"),
                    result.cpu_ms_per_page("web"),
                )
                runs[mode].append(row)
                print(f"{mode:6} pages/s {row[0]:6.1f}  extraction ms {row[1]:6.2f}  web ms {row[2]:5.3f}", flush=True)
    for mode, rows in runs.items():
        means = [statistics.mean(row[i] for row in rows) for i in range(3)]
        print(f"mean {mode:6} pages/s {means[0]:6.1f}  extraction ms {means[1]:6.2f}  web ms {means[2]:5.3f}")
    wins = sum(p[0] > f[0] for f, p in zip(runs["free"], runs["pinned"], strict=True))
    print(f"pinned above free in {wins} of {args.pairs} pairs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
