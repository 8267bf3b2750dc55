"""The service's Prometheus metrics, correct under several gunicorn web workers.

Multiprocess mode: service/http/gunicorn_conf.py points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory
before any worker starts; each worker then writes its samples to memory-mapped files there and
``/metrics`` (answered by any one worker) sums them across workers. Without that variable (tests,
a plain ``flask run``) the metrics live in this process's default registry.

The pool's counters (``PoolStats``) are plain integers owned by each worker's extraction pool;
``sync_pool_stats`` turns their growth since the last call into counter increments, so
spawns, recycles and kills are counted once, where they happened, and sum across workers.
"""

from __future__ import annotations

import os
import threading
import weakref
from dataclasses import fields
from functools import lru_cache
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

# ``*_created`` timestamps double the output and are not kept in multiprocess mode anyway.
disable_created_metrics()  # type: ignore[no-untyped-call]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
PREFIX = "pagecleaner"
# The classic text format every Prometheus version reads (our names are plain ASCII).
METRICS_CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
# Label value for requests that matched no route (404/405): raw paths would be unbounded.
UNMATCHED_ENDPOINT = "unmatched"
# Label value for requests that carry no extraction mode (health, docs, metrics...).
NO_MODE = "none"

# Extraction latency: a cache hit takes ~1 ms, a large page seconds; the budget caps it (10 s default).
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Body sizes from a tweet-sized text to the 50 MB batch limit.
BODY_BUCKETS_BYTES = (
    1024,
    4 * 1024,
    16 * 1024,
    64 * 1024,
    256 * 1024,
    1024**2,
    4 * 1024**2,
    10 * 1024**2,
    50 * 1024**2,
)

# PoolStats field -> (counter, label value). Every field of PoolStats that means a process
# started or ended is mapped; ``jobs`` is the pool's work counter.
POOL_EVENTS = {
    "spawns": "spawn",
    "spawn_failures": "spawn_failure",
    "recycles": "recycle",
    "timeouts": "kill_timeout",
    "crashes": "kill_crash",
    "oom_kills": "kill_oom",
    "withdrawals": "withdraw",
    "late_withdrawals": "withdraw_late",
    "abandoned": "abandon",
}

REQUESTS = Counter(
    f"{PREFIX}_http_requests",
    "HTTP requests answered, by route, extraction mode and status.",
    ["endpoint", "mode", "status"],
)
REQUEST_SECONDS = Histogram(
    f"{PREFIX}_http_request_duration_seconds",
    "Time to answer one HTTP request (from its head read to its answer), by route and status.",
    ["endpoint", "status"],
    buckets=LATENCY_BUCKETS_S,
)
EXTRACTION_SECONDS = Histogram(
    f"{PREFIX}_extraction_duration_seconds",
    "Time to answer one page: the whole request for /v1/extract, one item for the batch.",
    ["endpoint", "mode"],
    buckets=LATENCY_BUCKETS_S,
)
BODY_BYTES = Histogram(
    f"{PREFIX}_request_body_bytes",
    "Size of request bodies read (after decompression).",
    ["endpoint"],
    buckets=BODY_BUCKETS_BYTES,
)
TIME_BUDGET_EXCEEDED = Counter(
    f"{PREFIX}_time_budget_exceeded",
    "Extractions answered 503 time-budget-exceeded (per request, or per batch item).",
    ["endpoint"],
)
ADMISSION_REJECTED = Counter(
    f"{PREFIX}_admission_rejected",
    "Requests refused with 429 overloaded by admission control.",
    ["endpoint"],
)
BATCH_ITEMS = Counter(
    f"{PREFIX}_batch_items",
    "Batch items answered, by mode and outcome ('ok' or the problem code).",
    ["mode", "outcome"],
)
EXTRACTOR_EVENTS = Counter(
    f"{PREFIX}_extractor_events",
    "Extraction process events: spawn, spawn_failure, recycle, kill_timeout, kill_crash, kill_oom (the "
    "kernel's OOM killer: the container's memory ran out); withdraw "
    "(a page queued behind a long one, placed again), withdraw_late (and already run there).",
    ["event"],
)
EXTRACTOR_JOBS = Counter(f"{PREFIX}_extractor_jobs", "Pages run through an extraction process (cache misses).")
WEB_WORKERS_STARTED = Counter(f"{PREFIX}_web_workers_started", "Web workers (apps) that started serving.")
EXTRACTORS_ALIVE = Gauge(
    f"{PREFIX}_extractors_alive",
    "Live extraction processes, summed over live web workers.",
    multiprocess_mode="livesum",
)


class PoolStatsSync:
    """Turns one pool's cumulative ``PoolStats`` into counter increments (idempotent per value)."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}
        self._alive: int | None = None
        self._fields: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def sync(self, stats: Any, alive: int) -> None:
        # Runs after every request: plain attribute reads (not dataclasses.asdict, which deep-copies),
        # and the gauge's shared-memory write only when the value changed.
        with self._lock:
            if not self._fields:
                self._fields = tuple(f.name for f in fields(stats))
            for name in self._fields:
                value = getattr(stats, name)
                delta = value - self._seen.get(name, 0)
                if delta <= 0:
                    continue
                self._seen[name] = value
                if name in POOL_EVENTS:
                    EXTRACTOR_EVENTS.labels(event=POOL_EVENTS[name]).inc(delta)
                elif name == "jobs":
                    EXTRACTOR_JOBS.inc(delta)
            if alive != self._alive:
                self._alive = alive
                EXTRACTORS_ALIVE.set(alive)


@lru_cache(maxsize=1024)
def request_counter(endpoint: str, mode: str, status: str) -> Any:
    """``REQUESTS``'s child for these labels, looked up once (``labels()`` costs a lock and a
    tuple per call). Bounded: endpoints are routes and statuses a few codes."""
    return REQUESTS.labels(endpoint=endpoint, mode=mode, status=status)


@lru_cache(maxsize=1024)
def request_histogram(endpoint: str, status: str) -> Any:
    """``REQUEST_SECONDS``'s child for these labels (bounded as ``request_counter``'s)."""
    return REQUEST_SECONDS.labels(endpoint=endpoint, status=status)


def export_counters_at_zero(extraction_endpoints: tuple[str, ...]) -> None:
    """Create every event counter's series now, at 0: a series that appears only with its first
    event makes ``rate()`` and ``increase()`` miss that event and alerts see no data (issue 24,
    item 16). Labels of unbounded sets (statuses, problem codes) appear as they happen."""
    for endpoint in extraction_endpoints:
        TIME_BUDGET_EXCEEDED.labels(endpoint=endpoint)
        ADMISSION_REJECTED.labels(endpoint=endpoint)
    for event in POOL_EVENTS.values():
        EXTRACTOR_EVENTS.labels(event=event)


@lru_cache(maxsize=64)
def body_histogram(endpoint: str) -> Any:
    return BODY_BYTES.labels(endpoint=endpoint)


@lru_cache(maxsize=64)
def extraction_histogram(endpoint: str, mode: str) -> Any:
    return EXTRACTION_SECONDS.labels(endpoint=endpoint, mode=mode)


_SYNCS: weakref.WeakKeyDictionary[Any, PoolStatsSync] = weakref.WeakKeyDictionary()
_SYNCS_LOCK = threading.Lock()


def sync_pool_stats(pool: Any) -> None:
    """Count what ``pool`` did since the last call (one tracker per pool, shared by its apps)."""
    with _SYNCS_LOCK:
        tracker = _SYNCS.get(pool)
        if tracker is None:
            tracker = _SYNCS[pool] = PoolStatsSync()
    tracker.sync(pool.stats, pool.alive)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def exposition() -> bytes:
    """The text exposition of every metric: summed over workers in multiprocess mode."""
    directory = multiprocess_dir()
    if directory is None:
        return generate_latest(REGISTRY)
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry)
