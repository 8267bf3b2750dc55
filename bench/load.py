"""Throughput, latency, cache, start-up and memory of pagecleaner, against in-process baselines.

One run, one page mix (the project's ``fixtures/*/input.*`` plus a small deterministic sample of
the public benchmark pages when ``../shared/bench`` is there, or the dataset folders given):

1. in-process, one process per core: pages/s of (a) ``service.pipeline.run`` with default
   options called as a function and (b) trafilatura's ``extract(include_comments=False)``;
   plus one sequential pass, both extractors interleaved page by page, for per-page times;
2. the real service (gunicorn with the package's ``service/http/gunicorn_conf.py``, default settings, free port)
   started twice:
   * cache on (defaults): start-up time until ``/readyz`` passes, then the same page posted
     repeatedly (cache hits) against fresh extractions (the same page made unique by a trailing
     HTML comment, so it misses the cache but costs the same work);
   * cache off (``CLEANER_CACHE_ENTRIES=0``): bounded-time runs at 1, 4 and 16 concurrent
     keep-alive clients (threads, each with a lean HTTP/1.1 connection: ``LeanConnection``), then
     optionally ``--requests N`` of the mix for a memory soak;
   before and after each client level, the in-process pipeline's pages/s again (the "bracket"
   each level's ratio is taken against), so that load from elsewhere on a shared machine that
   changes within the minute hits both sides of the ratio alike;
3. a table: pages/s, p50/p95/p99 latency, failures by status, peak RSS of each web worker and
   each extraction process (sampled with psutil, plus the kernel's high-water mark), the ratios
   service / in-process pipeline (serving overhead; also mix-weighted, see ``mix_weights``: the
   target is checked on that one), pipeline / trafilatura and service / bare
   trafilatura on the same cores, and per level the
   CPU per page of the web worker, the extraction processes and the load client, against the
   in-process CPU per page: the ratio a saturated machine would give, and where the rest goes.

    .venv/bin/python -m bench.load                      # defaults: well under 2 minutes
    .venv/bin/python -m bench.load --requests 10000     # plus the memory soak
    .venv/bin/python -m bench.load --json load.json ../shared/bench/trafilatura

The machine's cores are shared with the load client, so the service is measured slightly
pessimistically; every target is a ratio measured within the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script (python bench/load.py) as well as with -m
    sys.path.insert(0, str(ROOT))

from bench.load_http import LeanConnection, LoadResult, drive, percentile  # noqa: E402 - after the path set-up above
from bench.load_mix import (  # noqa: E402
    MixPage,
    build_mix,
    default_datasets,
    inproc_throughput,
    mix_weights,
    pipeline_call,
    refused_in_process,
    safe_call,
    sequential_pass,
    weights_by_name,
)
from bench.load_server import HTTP_TIMEOUT_S, MB, RssMonitor, Server, run_server  # noqa: E402

DEFAULT_SAMPLE = 30  # pages per dataset folder: real pages must outweigh the small synthetic fixtures
DEFAULT_CONCURRENCY = (1, 4, 16)
DEFAULT_DURATION_S = 8.0  # per concurrency level
DEFAULT_INPROC_DURATION_S = 6.0  # per in-process extractor
DEFAULT_BRACKET_DURATION_S = 4.0  # in-process pipeline before/after each client level
WARMUP_REQUESTS = 8
PAIRED_PASSES = 2  # 1-client latency: each page over HTTP then in-process, this many times
CACHE_MISSES = 8
CACHE_HITS = 50
SOAK_CLIENTS = 4
SOAK_WARMUP_SHARE = 0.1  # the soak's first tenth warms up; RSS is compared after it

# Targets the README states; the table marks each as met or not.
TARGET_SERVICE_RATIO = 0.90  # service pages/s >= 0.90 x in-process pipeline pages/s (4, 16 clients)
TARGET_P50_EXTRA_MS = 3.0  # p50 at 1 client <= in-process p50 + 3 ms
TARGET_PIPELINE_VS_TRAF = 1.5  # pipeline time per page <= 1.5 x trafilatura's
TARGET_SERVICE_VS_TRAF = 0.6  # service pages/s >= 0.6 x bare trafilatura's on the same cores
TARGET_CACHE_SPEEDUP = 10.0  # a cache hit >= 10 x faster than a fresh extraction
TARGET_STARTUP_S = 5.0  # until /readyz passes
TARGET_RSS_GROWTH = 0.20  # soak: RSS growth after warm-up < 20 %


# --- 1 client, paired with in-process calls -----------------------------------------------------


def paired_latency(server: Server, mix: Sequence[MixPage], passes: int = PAIRED_PASSES) -> dict[str, float]:
    """Each page posted (1 client) and then run in-process, back to back, so that machine noise
    hits both alike: the p50 of each and the median per-page difference, in ms."""
    call = pipeline_call()
    conn = LeanConnection(server.host, server.port, timeout=HTTP_TIMEOUT_S)
    raws = {page.name: server.post_bytes(page) for page in mix}
    http_s: dict[str, list[float]] = {}
    inproc_s: dict[str, list[float]] = {}
    for _ in range(passes):
        for page in mix:
            started = time.perf_counter()
            conn.request(raws[page.name])
            http_s.setdefault(page.name, []).append(time.perf_counter() - started)
            started = time.perf_counter()
            safe_call(call, page)
            inproc_s.setdefault(page.name, []).append(time.perf_counter() - started)
    conn.close()
    per_http = [statistics.median(v) for v in http_s.values()]
    per_inproc = [statistics.median(inproc_s[name]) for name in http_s]
    return {
        "http_p50_ms": 1000 * statistics.median(per_http),
        "inproc_p50_ms": 1000 * statistics.median(per_inproc),
        "overhead_ms": 1000 * statistics.median(h - i for h, i in zip(per_http, per_inproc, strict=True)),
    }


# --- cache, start-up, soak -----------------------------------------------------------------------


def cache_check(server: Server, page: MixPage) -> dict[str, float]:
    """Median latency of fresh extractions (unique bytes) vs cache hits of the same page.

    The misses are spread among the hits (one before every ``CACHE_HITS // CACHE_MISSES`` hits),
    so that a slow spell of the machine lands on both sides of the ratio. Measured one block
    after the other, one run's hits met such a spell: 0.56 ms instead of the usual 0.28, and
    9.8x for a target of 10x. Spread out, hits are also ~15 % slower than in a block of hits,
    because the web worker is colder after a fresh page. That is closer to a crawler's mix
    of repeats and new pages (measured in session 10; see the tag handoff-final README, "Performance")."""
    conn = LeanConnection(server.host, server.port, timeout=HTTP_TIMEOUT_S)

    def post(body: bytes) -> tuple[float, str]:
        raw = server.post_bytes(page, body)
        started = time.perf_counter()
        _, headers, _ = conn.request(raw)
        return time.perf_counter() - started, headers.get("x-cache", "")

    marker = b"\n" if page.as_text else b"<!-- %d -->"
    post(page.body)  # fills the cache
    misses: list[float] = []
    hits: list[float] = []
    labels: Counter[str] = Counter()
    every = max(1, CACHE_HITS // CACHE_MISSES)
    for n in range(CACHE_HITS):
        if n % every == 0 and len(misses) < CACHE_MISSES:
            body = page.body + (marker * (n + 1) if page.as_text else marker % (time.time_ns() + n))
            misses.append(post(body)[0])
        elapsed, label = post(page.body)
        hits.append(elapsed)
        labels[label] += 1
    conn.close()
    miss_ms, hit_ms = 1000 * statistics.median(misses), 1000 * statistics.median(hits)
    return {
        "miss_ms": miss_ms,
        "hit_ms": hit_ms,
        "speedup": miss_ms / hit_ms,
        "hit_share": labels["hit"] / CACHE_HITS,
    }


def rss_snapshot(server: Server) -> dict[str, list[float]]:
    snap: dict[str, list[float]] = {"web": [], "fork server": [], "extractor": []}
    for role, group in server.processes().roles():
        for proc in group:
            with contextlib.suppress(psutil.Error):
                snap[role].append(proc.memory_info().rss / MB)
    return {role: sorted(values, reverse=True) for role, values in snap.items()}


def soak(server: Server, mix: Sequence[MixPage], requests: int, refused: set[str]) -> dict[str, Any]:
    """``requests`` of the mix; RSS per process role after the warm-up share and at the end."""
    warm = max(1, int(requests * SOAK_WARMUP_SHARE))
    first = drive(server, mix, SOAK_CLIENTS, requests=warm, refused=refused)
    after_warmup = rss_snapshot(server)
    rest = drive(server, mix, SOAK_CLIENTS, requests=requests - warm, refused=refused)
    at_end = rss_snapshot(server)
    growth = {}
    for role in ("web", "extractor"):
        pairs = list(zip(after_warmup[role], at_end[role], strict=False))  # slot k = k-th largest
        growth[role] = max(((end - start) / start for start, end in pairs if start), default=0.0)
    return {
        "requests": first.ok + first.failed + rest.ok + rest.failed,
        "failed": first.failed + rest.failed,
        "statuses": dict(first.statuses + rest.statuses),
        "rss_after_warmup_mb": after_warmup,
        "rss_end_mb": at_end,
        "max_growth": growth,
        "pages_per_s": rest.pages_per_s,
    }


# --- report --------------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{1000 * seconds:7.1f}"


def _mark(ok: bool) -> str:
    return "ok " if ok else "MISS"


def _ratio(run: LoadResult) -> float:
    return run.pages_per_s / run.inproc_pages_per_s if run.inproc_pages_per_s else 0.0


def _weighted_ratio(run: LoadResult) -> float:
    """The serving-overhead ratio the target is checked on (see ``mix_weights``)."""
    return run.weighted_pages_per_s / run.inproc_weighted if run.inproc_weighted else 0.0


def report(data: dict[str, Any], runs: list[LoadResult]) -> str:
    cores = data["processes"]
    inproc = data["inproc_pages_per_s"]
    seq = data["sequential_ms"]
    lines = [
        f"pagecleaner load benchmark: {len(data['mix'])} pages in the mix, {cores} processes "
        f"(cores), {len(data['refused_in_process'])} refused (422) in-process too, "
        f"python {platform.python_version()}",
        "",
        "in-process, one process per core:",
        f"  pipeline (default options)  {inproc['pipeline']:7.1f} pages/s   "
        f"sequential p50 {seq['pipeline_p50']:6.1f} ms  mean {seq['pipeline_mean']:6.1f} ms",
        f"  trafilatura extract()       {inproc['trafilatura']:7.1f} pages/s   "
        f"sequential p50 {seq['trafilatura_p50']:6.1f} ms  mean {seq['trafilatura_mean']:6.1f} ms",
    ]
    ratio = inproc["trafilatura"] / inproc["pipeline"] if inproc["pipeline"] else float("inf")
    seq_ratio = seq["pipeline_mean"] / seq["trafilatura_mean"] if seq["trafilatura_mean"] else float("inf")
    lines.append(
        f"  pipeline / trafilatura time: {ratio:.2f} x (throughput), {seq_ratio:.2f} x (sequential, "
        f"interleaved)   target <= {TARGET_PIPELINE_VS_TRAF} x  {_mark(ratio <= TARGET_PIPELINE_VS_TRAF)}"
    )
    header = (
        f"{'clients':>7} {'pages/s':>8} {'inproc':>7} {'x inproc':>8} {'weighted':>8} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'ok':>6} {'failed':>6}  answers other than 200 (429: shed by admission control, retried)"
    )
    lines += [
        "",
        "service over HTTP (cache off); inproc = in-process pipeline pages/s measured right before and after",
        "each run (same process count), the base of x inproc; weighted = x inproc with each page counted",
        "as its share of the mix's work (its in-process time / the mean page's), whichever pages the window held:",
        header,
        "-" * len(header),
    ]
    for run in runs:
        failures = ", ".join(f"{k}: {v}" for k, v in sorted(run.statuses.items()) if k != "200") or "-"
        lines.append(
            f"{run.clients:7d} {run.pages_per_s:8.1f} {run.inproc_pages_per_s:7.1f} {_ratio(run):8.2f} "
            f"{_weighted_ratio(run):8.2f} "
            f"{_ms(percentile(run.latencies, 50))} {_ms(percentile(run.latencies, 95))} "
            f"{_ms(percentile(run.latencies, 99))} {run.ok:6d} {run.failed:6d}  {failures}"
        )
    brackets = data.get("inproc_brackets", [])
    if len(brackets) == len(runs) + 1:
        # The base is the mean of the brackets around a level: when they differ by several
        # percent, the machine's speed moved during that level and its ratio moved with it.
        lines += ["", "drift of the base (mix-weighted in-process pages/s before -> after each level):"]
        for run, before, after in zip(runs, brackets, brackets[1:], strict=False):
            b, a = before["pipeline_weighted"], after["pipeline_weighted"]
            lines.append(f"  {run.clients:2d} clients: {b:6.1f} -> {a:6.1f}  ({(a - b) / b:+.1%})")
    lines += [
        "",
        "CPU per page answered, ms (less sensitive than pages/s to other load on the machine); ceiling =",
        "in-process CPU per page / the sum of the three: the ratio if the cores were always busy:",
    ]
    for run in runs:
        web, ext, client = (run.cpu_ms_per_page(role) for role in ("web", "extractor", "client"))
        ceiling = run.inproc_cpu_ms / (web + ext + client) if web + ext + client else 0.0
        lines.append(
            f"  {run.clients:2d} clients: web worker {web:5.2f}, extraction {ext:6.2f} (in-process "
            f"{run.inproc_cpu_ms:6.2f}), client {client:4.2f}; ceiling {ceiling:.2f}"
        )
    lines.append("")
    lines.append("targets:")
    for run in runs:
        if run.clients >= 4:
            x = _weighted_ratio(run)
            lines.append(
                f"  {run.clients:2d} clients: service / in-process pipeline = {x:.3f} mix-weighted, "
                f"{_ratio(run):.3f} by pages/s (target >= {TARGET_SERVICE_RATIO} mix-weighted)  "
                f"{_mark(x >= TARGET_SERVICE_RATIO)}"
            )
    for run in runs:
        if run.clients >= 4 and inproc["trafilatura"]:
            x = run.pages_per_s / inproc["trafilatura"]
            lines.append(
                f"  {run.clients:2d} clients: service / bare trafilatura in-process = {x:.2f} "
                f"(target >= {TARGET_SERVICE_VS_TRAF})  {_mark(x >= TARGET_SERVICE_VS_TRAF)}"
            )
    paired = data["paired_1_client"]
    met = paired["http_p50_ms"] <= paired["inproc_p50_ms"] + TARGET_P50_EXTRA_MS
    lines.append(
        f"  1 client, paired with in-process calls: p50 {paired['http_p50_ms']:.1f} ms vs in-process "
        f"{paired['inproc_p50_ms']:.1f} ms (target <= +{TARGET_P50_EXTRA_MS:g} ms)  {_mark(met)}; "
        f"median per-page overhead {paired['overhead_ms']:.1f} ms"
    )
    failed = sum(run.failed for run in runs)
    shed = sum(run.shed for run in runs)
    lines.append(f"  failed requests: {failed} (target 0)  {_mark(failed == 0)}; shed with 429 and retried: {shed}")
    cache = data["cache"]
    lines.append(
        f"  cache: hit {cache['hit_ms']:.2f} ms vs fresh {cache['miss_ms']:.1f} ms "
        f"= {cache['speedup']:.0f} x "
        f"(hits {cache['hit_share']:.0%}; target >= {TARGET_CACHE_SPEEDUP:g} x)  "
        f"{_mark(cache['speedup'] >= TARGET_CACHE_SPEEDUP)}"
    )
    startup = max(data["startup_s"])
    lines.append(
        f"  start-up until /readyz: {', '.join(f'{s:.2f}' for s in data['startup_s'])} s "
        f"(target <= {TARGET_STARTUP_S:g} s)  {_mark(startup <= TARGET_STARTUP_S)}"
    )
    lines += ["", "peak RSS (MB) during the HTTP runs, each process that lived:"]
    lines.append("  web workers:         " + ", ".join(f"{mb:.0f}" for mb in data["peak_rss_mb"]["web"]))
    lines.append("  fork server:          " + ", ".join(f"{mb:.0f}" for mb in data["peak_rss_mb"]["fork server"]))
    lines.append("  extraction processes: " + ", ".join(f"{mb:.0f}" for mb in data["peak_rss_mb"]["extractor"]))
    if "soak" in data:
        s = data["soak"]
        lines += [
            "",
            f"memory soak: {s['requests']} requests at {SOAK_CLIENTS} clients, {s['failed']} failed",
        ]
        for role in ("web", "extractor"):
            before = ", ".join(f"{mb:.0f}" for mb in s["rss_after_warmup_mb"][role])
            after = ", ".join(f"{mb:.0f}" for mb in s["rss_end_mb"][role])
            growth = s["max_growth"][role]
            lines.append(
                f"  {role:9} RSS after warm-up [{before}] MB -> end [{after}] MB, max growth {growth:+.0%} "
                f"(target < {TARGET_RSS_GROWTH:.0%})  {_mark(growth < TARGET_RSS_GROWTH)}"
            )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "datasets",
        nargs="*",
        type=Path,
        help="dataset folders to sample pages from "
        "(default: ../shared/bench/mozilla-readability and trafilatura, when present)",
    )
    ap.add_argument("--sample", type=int, default=DEFAULT_SAMPLE, help="pages per dataset folder")
    ap.add_argument("--clients", type=int, nargs="+", default=list(DEFAULT_CONCURRENCY))
    ap.add_argument("--duration", type=float, default=DEFAULT_DURATION_S, help="seconds per client level")
    ap.add_argument("--inproc-duration", type=float, default=DEFAULT_INPROC_DURATION_S)
    ap.add_argument(
        "--bracket-duration",
        type=float,
        default=DEFAULT_BRACKET_DURATION_S,
        help="seconds of in-process pipeline throughput measured before and after each client level",
    )
    ap.add_argument(
        "--processes",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="in-process workers (default: cores; the service's default extractor count)",
    )
    ap.add_argument("--requests", type=int, help="also run a memory soak of N requests of the mix")
    ap.add_argument("--json", type=Path, help="write the numbers here")
    ap.add_argument("--log-dir", type=Path, default=Path("/tmp"), help="where gunicorn's stderr goes")
    return ap.parse_args(argv)


def _bracket(mix: Sequence[MixPage], args: argparse.Namespace, weights: Sequence[float]) -> dict[str, float]:
    print(f"in-process pipeline: {args.processes} processes x {args.bracket_duration:g} s ...", file=sys.stderr)
    return inproc_throughput(mix, args.processes, args.bracket_duration, names=("pipeline",), weights=weights)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    datasets = args.datasets or default_datasets()
    mix = build_mix(datasets, args.sample)
    print(f"mix: {len(mix)} pages, {sum(len(p.body) for p in mix) / MB:.1f} MB", file=sys.stderr)

    print("in-process: sequential pass ...", file=sys.stderr)
    seq = sequential_pass(mix)
    weights = mix_weights(seq["pipeline"])
    by_name = weights_by_name(mix, weights)
    refused = refused_in_process(mix)
    print(f"in-process: {args.processes} processes x {args.inproc_duration:g} s each ...", file=sys.stderr)
    inproc = inproc_throughput(mix, args.processes, args.inproc_duration)
    data: dict[str, Any] = {
        "mix": [p.name for p in mix],
        "refused_in_process": sorted(refused),
        "processes": args.processes,
        "inproc_pages_per_s": inproc,
        "sequential_ms": {
            f"{name}_{stat}": 1000 * fn(times)
            for name, times in seq.items()
            for stat, fn in (("p50", statistics.median), ("mean", statistics.mean))
        },
        "startup_s": [],
        "mix_weights": by_name,
    }

    print("service, cache on: start-up and cache ...", file=sys.stderr)
    with run_server({}, args.log_dir) as server:
        data["startup_s"].append(server.startup_s)
        median_page = sorted(mix, key=lambda p: len(p.body))[len(mix) // 2]
        data["cache"] = cache_check(server, median_page)

    runs: list[LoadResult] = []
    with run_server({"CLEANER_CACHE_ENTRIES": "0"}, args.log_dir) as server:
        data["startup_s"].append(server.startup_s)
        drive(server, mix, 1, requests=WARMUP_REQUESTS)
        with RssMonitor(server) as monitor:
            print("service, cache off: 1 client paired with in-process calls ...", file=sys.stderr)
            data["paired_1_client"] = paired_latency(server, mix)
            # In-process throughput right before and after each run (the service idle meanwhile):
            # the machine is shared, and load from elsewhere that changes over the minute would
            # otherwise bias the ratio of a run against a baseline measured a minute earlier.
            brackets = [_bracket(mix, args, weights)]
            for clients in args.clients:
                print(f"service, cache off: {clients} clients x {args.duration:g} s ...", file=sys.stderr)
                run = drive(server, mix, clients, duration=args.duration, refused=refused)
                brackets.append(_bracket(mix, args, weights))
                run.inproc_pages_per_s = (brackets[-2]["pipeline"] + brackets[-1]["pipeline"]) / 2
                run.inproc_cpu_ms = (brackets[-2]["pipeline_cpu_ms"] + brackets[-1]["pipeline_cpu_ms"]) / 2
                run.inproc_weighted = (brackets[-2]["pipeline_weighted"] + brackets[-1]["pipeline_weighted"]) / 2
                run.weighted_pages_per_s = run.weigh(by_name)
                runs.append(run)
            data["inproc_brackets"] = brackets
        data["peak_rss_mb"] = {role: monitor.peaks(role) for role in ("web", "fork server", "extractor")}
        if args.requests:
            print(f"service, cache off: soak of {args.requests} requests ...", file=sys.stderr)
            data["soak"] = soak(server, mix, args.requests, refused)

    data["http"] = [
        {
            "clients": run.clients,
            "seconds": run.window_s,
            "pages_per_s": run.pages_per_s,
            "inproc_pages_per_s": run.inproc_pages_per_s,
            "weighted_pages_per_s": run.weighted_pages_per_s,
            "inproc_weighted_pages_per_s": run.inproc_weighted,
            "ratio": _ratio(run),
            "weighted_ratio": _weighted_ratio(run),
            "inproc_cpu_ms_per_page": run.inproc_cpu_ms,
            "cpu_ms_per_page": {role: run.cpu_ms_per_page(role) for role in ("web", "extractor", "client")},
            "p50_ms": 1000 * percentile(run.latencies, 50),
            "p95_ms": 1000 * percentile(run.latencies, 95),
            "p99_ms": 1000 * percentile(run.latencies, 99),
            "statuses": dict(run.statuses),
        }
        for run in runs
    ]
    print(report(data, runs))
    if args.json:
        args.json.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
