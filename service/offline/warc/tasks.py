"""What a Dask worker runs: one chunk of a WARC file through the pipeline, within the time budget.

Each worker process holds one ``ExtractionPool`` (created lazily by the first task, one
extraction process per worker thread): a page runs in an extraction process, and one that
overruns the budget is killed and replaced, exactly as in the server (trafilatura catches timer
exceptions, so nothing short of killing keeps the budget). A page's failure is recorded on its
own line and never fails the task; the task fails only when the worker cannot work at all (no
extraction process starts), and then Dask retries it (``runner.TASK_RETRIES``).

The worker thread mostly waits on a pipe while its extraction process computes, so a Dask
worker with one thread per core keeps every core busy.
"""

from __future__ import annotations

import atexit
import gzip
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from service.answers import answer_record, elapsed_ms, encode_json, error_record
from service.errors import InvalidField, ServiceError
from service.models import Job, Options
from service.offline.warc.records import Chunk, Page, Refused, Skipped, read_chunk
from service.offline.warc.summary import Summary
from service.request_forms import page_url
from service.settings import Settings
from service.workers.capacity import CapacityGate
from service.workers.pool import ExtractionPool

# Compression of each chunk's gzip member (zlib's default: ~3x on JSON at ~50 MB/s a core).
OUTPUT_GZIP_LEVEL = 6


@dataclass
class ChunkResult:
    """A chunk's answers (one gzip member of JSON lines) and its counts."""

    path: str
    index: int
    data: bytes
    summary: Summary = field(default_factory=Summary)
    seconds: float = 0.0


def clean_chunk(chunk: Chunk, options: Options, settings: Settings) -> ChunkResult:
    """Clean every page of ``chunk``; runs on a Dask worker (or anywhere, for tests).

    Raises:
        ExtractorUnavailable: no extraction process could be started here (Dask retries).
    """
    started = time.monotonic()
    pool, capacity = _worker_pool(settings)
    summary = Summary()
    lines: list[str] = []
    for item in read_chunk(chunk, settings.max_body_bytes):
        if isinstance(item, Skipped):
            summary.skip(item.reason)
            if item.detail is not None:  # an unreadable record: the input stays incomplete
                summary.read_errors.append(item.detail)
            continue
        if isinstance(item, Refused):  # before the pipeline: too large, unknown content coding
            summary.fail(item.error.code)
            lines.append(_dump(error_record(item.error, _record_fields(item))))
            continue
        line = _clean_page(item, options, settings, pool, capacity)
        if "error" in line:
            summary.fail(line["error"]["code"])
        else:
            summary.clean()
        lines.append(_dump(line))
    data = gzip.compress("".join(lines).encode("utf-8"), OUTPUT_GZIP_LEVEL) if lines else b""
    return ChunkResult(chunk.path, chunk.index, data, summary, time.monotonic() - started)


def record_url(target_uri: str | None) -> tuple[str | None, bool]:
    """The page address of a record (its WARC-Target-URI) and whether one was dropped: anything
    the API would refuse as ``url`` (malformed, control characters) or ignore (not http(s)) is
    dropped and said as ``url-ignored``, as the API does for a non-http(s) one. A crawler's odd
    header must not cost the record's article, nor reach the pipeline (a bad IPv6 host crashed it)."""
    try:
        return page_url(target_uri, "url")
    except InvalidField:
        return None, True


def _clean_page(
    page: Page, options: Options, settings: Settings, pool: ExtractionPool, capacity: CapacityGate
) -> dict[str, Any]:
    """The output line of one page: the API's answer, or its problem, with the record's fields."""
    record = _record_fields(page)
    url, url_ignored = record_url(page.target_uri)
    job = Job(
        mode="html", body=page.body, options=options, url=url, url_ignored=url_ignored, declared_charset=page.charset
    )
    try:
        with capacity.slot():
            started = time.perf_counter()
            answer, _seconds = pool.submit(job, job.options.budget_s(settings.time_budget_s))
        timing_ms = elapsed_ms(started)
    except ServiceError as error:
        return error_record(error, record)
    return answer_record(answer, timing_ms, record)


def _record_fields(item: Page | Refused) -> dict[str, Any]:
    return {"warc_target_uri": item.target_uri, "warc_record_id": item.record_id, "warc_date": item.date}


def _dump(line: dict[str, Any]) -> str:
    return encode_json(line) + "\n"


# -- the per-process pool ------------------------------------------------------------------------

_lock = threading.Lock()
_pool: ExtractionPool | None = None
_pool_config: tuple[Any, ...] | None = None
_capacity: CapacityGate | None = None


def _threads_here() -> int:
    """Threads of the Dask worker running this task (1 outside a worker)."""
    try:
        from distributed import get_worker

        return max(1, int(get_worker().state.nthreads))
    except (ImportError, ValueError, AttributeError):
        return 1


def _worker_pool(settings: Settings) -> tuple[ExtractionPool, CapacityGate]:
    """This process's pool, started on first use (and restarted if the limits changed)."""
    global _pool, _pool_config, _capacity
    config = (
        settings.max_elements,
        settings.max_depth,
        settings.extractor_memory_limit_mb,
        settings.max_jobs_per_extractor,
        settings.extractor_rss_mb,
    )
    with _lock:
        if _pool is None or _pool_config != config:
            if _pool is not None:
                _pool.close()
            pool = ExtractionPool(settings, size=_threads_here())
            pool.start()
            _pool, _pool_config, _capacity = pool, config, CapacityGate(pool)
        assert _capacity is not None
        return _pool, _capacity


def warm_up(settings: Settings) -> int:
    """Start this process's pool now (e.g. ``client.run(warm_up, settings)``); returns its size."""
    pool, _capacity = _worker_pool(settings)
    return pool.size


def close_pool() -> None:
    """Stop this process's extraction processes (at exit; tests)."""
    global _pool, _pool_config, _capacity
    with _lock:
        if _pool is not None:
            _pool.close()
        _pool, _pool_config, _capacity = None, None, None


atexit.register(close_pool)
