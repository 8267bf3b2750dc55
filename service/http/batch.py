"""``POST /v1/extract/batch``: many pages in one request, for crawlers (NDJSON in, NDJSON out).

The body is ``application/x-ndjson``: one JSON object per line, ``{"id", "html" | "text", "url",
"options"}`` (the JSON form of ``/v1/extract`` plus a required ``id``). The answer streams back
one line per item, in the items' order, each carrying its ``id``:

- a result: ``{"id": ..., <the /v1/extract answer keys>, "timing_ms": ...}``;
- or a per-item error: ``{"id": ..., "error": {<problem+json fields>, "line": n}}``.

One bad item never fails the others. The batch as a whole can still fail before the first line
(problem+json): a wrong Content-Type (415), a body over ``CLEANER_MAX_BATCH_BYTES`` (413), a
slow body (408), no items (400), or no room in admission control (429: no reading slot for
the upload, or no extraction slots for the items).

Items run concurrently on the extraction pool, at most two per extraction process at a time
(the page it extracts and one waiting in its pipe, as for concurrent ``/v1/extract`` requests:
``workers.pool``, "pipelining"), and lines go out in the items' order. Items are started up
to ``REORDER_ITEMS_PER_PROCESS`` per process ahead of the oldest unsent one, so one slow item
does not leave the other processes idle while its followers wait to be sent; memory holds at
most that many finished-but-unsent answers. Each item has its own time budget
(``CLEANER_TIME_BUDGET_S``). The batch holds ``min(valid items, 2 x pool size, admission
limit)`` admission slots (what it can occupy at once) until the last line is sent or the client
leaves. Measured with a one-off script since removed (400 items of the benchmark mix, 2
processes, against 4 concurrent clients of ``/v1/extract`` in the same minutes): 0.74-0.84x
their pages/s with one item per process and a window of that size, 0.91-1.03x with this.

A client that leaves (``client_gone``, watched while the batch streams) stops its items'
fetches, and the batch starts no more items; the batch's summary on the service log
(``batch-done``) says ``"error": "client-closed"`` (its access line, written when the stream
began, keeps the 200 the client was sent).
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, current_app, g, request, stream_with_context
from werkzeug.datastructures import MultiDict
from werkzeug.http import parse_options_header

from service.answers import answer_record, encode_json, error_record, seconds_ms
from service.batch_items import BatchItem, parse_items
from service.errors import (
    BadRequest,
    ClientClosed,
    InvalidOption,
    ServiceError,
    TimeBudgetExceeded,
    UnsupportedMediaType,
)
from service.fetch import fetch_job
from service.http import metrics_registry as metrics
from service.http.body import read_body
from service.http.client_gone import ClientWatch
from service.models import Job
from service.request_forms import options_from_query
from service.workers.pool import LANE_PAGES
from service.workers.runtime import Runtime

blueprint = Blueprint("batch", __name__)
log = logging.getLogger(__name__)

BATCH_ENDPOINT = "/v1/extract/batch"
NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson"})
NDJSON_CONTENT_TYPE = "application/x-ndjson; charset=utf-8"
# Batch-wide defaults for every item's options; a page URL only makes sense per item.
BATCH_QUERY_EXCLUDED = frozenset({"url"})
BATCH_MODE = "batch"
# After a client disconnects, running items get their budget plus this to finish before the
# batch's admission slots are given back (they still occupy extraction processes until then).
DRAIN_GRACE_S = 1.0
# Items running at once per extraction process: what its lane holds (one extracting, one
# waiting in its pipe).
ITEMS_IN_FLIGHT_PER_PROCESS = LANE_PAGES
# How far past the oldest unsent item the batch may start items (finished answers wait in memory).
REORDER_ITEMS_PER_PROCESS = 8


@dataclass
class _Running:
    item: BatchItem
    started: float = field(default_factory=time.perf_counter)
    thread: threading.Thread | None = None
    done: threading.Event = field(default_factory=threading.Event)
    answer: dict[str, Any] | None = None
    error: ServiceError | None = None
    seconds: float = 0.0


@blueprint.post(BATCH_ENDPOINT)
def extract_batch() -> Response:
    runtime: Runtime = current_app.extensions["cleaner"]
    settings = runtime.settings
    mimetype = parse_options_header(request.headers.get("Content-Type", ""))[0].lower()
    if mimetype not in NDJSON_TYPES:
        shown = mimetype or "none"
        raise UnsupportedMediaType(f"Content-Type {shown!r} is not supported here; send application/x-ndjson.")
    query_options = batch_query_options(request.args)
    g.mode = BATCH_MODE
    with runtime.reading.admit():  # an upload holds a reading slot, as for /v1/extract
        body = read_body(request.environ, settings.max_batch_bytes, settings.read_timeout_s)
    g.bytes_in = len(body)
    items = parse_items(body, query_options)
    if not items:
        raise BadRequest("The batch has no items; send one JSON object per line.")
    runnable = sum(1 for item in items if item.job is not None)
    # Never more slots than admission control allows in all (CLEANER_MAX_IN_FLIGHT may be low).
    concurrency = max(1, min(runnable, ITEMS_IN_FLIGHT_PER_PROCESS * runtime.pool.size, runtime.admission.limit))
    admission = runtime.admission.admit(weight=concurrency)
    admission.__enter__()  # raises Overloaded (429) before any line is sent
    client = ClientWatch(request.environ)  # the body is read: what the socket reads now is the client's leaving

    def give_back() -> None:
        client.close()
        admission.__exit__(None, None, None)

    release = _once(give_back)
    stream = _stream(
        runtime,
        client,
        items,
        concurrency,
        REORDER_ITEMS_PER_PROCESS * runtime.pool.size,
        settings.time_budget_s,
        release,
        g.get("request_id"),
    )
    response = Response(stream_with_context(stream), status=200, content_type=NDJSON_CONTENT_TYPE)
    # A stream that is never iterated never runs its ``finally``: close() gives the slots back.
    response.call_on_close(release)
    response.headers["X-Batch-Items"] = str(len(items))
    response.headers["X-Accel-Buffering"] = "no"  # proxies: pass lines on as they come
    return response


def batch_query_options(query: MultiDict[str, str]) -> dict[str, Any]:
    """Options given in the query string: defaults for every item (an item's own options win).

    Raises:
        InvalidOption: an unknown or repeated parameter, or ``url`` (per item only).
    """
    for name in BATCH_QUERY_EXCLUDED:
        if name in query:
            raise InvalidOption(name, "give the page URL per item in the batch body")
    return options_from_query(query)


def _stream(
    runtime: Runtime,
    client: ClientWatch,
    items: list[BatchItem],
    concurrency: int,
    reorder: int,
    budget_s: float,
    release: Callable[[], None],
    request_id: str | None,
) -> Iterator[bytes]:
    """Start items (at most ``concurrency`` running, at most ``reorder`` started but unsent) and
    yield their lines in order, until ``client`` is gone."""
    started = time.perf_counter()
    window: deque[_Running] = deque()  # started, not sent yet, in order
    lanes = threading.Semaphore(concurrency)  # a permit per running item
    errors = 0
    try:
        for item in items:
            # Send what is done at the head; wait for the head only when the window is full.
            while window and (window[0].done.is_set() or len(window) >= reorder):
                line, failed = _finish(window.popleft())
                errors += failed
                yield line
            if item.job is not None:
                lanes.acquire()  # until a running item ends (within its budget; a fetch when the client leaves)
            if client.gone:
                break  # nobody reads the rest: start no more items
            window.append(_start(runtime, client, item, budget_s, lanes.release))
        while window and not client.gone:
            line, failed = _finish(window.popleft())
            errors += failed
            yield line
    finally:
        # Normal end: the window is empty. Client gone: let running items end within their budget
        # (plus their fetch's time, for items with only a URL, if the client's leaving was seen
        # only by a failed write rather than by ``client``).
        fetch_s = runtime.settings.fetch_timeout_s if runtime.settings.fetch else 0.0
        for running in window:
            if running.thread is not None:
                running.thread.join(budget_s + fetch_s + DRAIN_GRACE_S)
        release()
        summary = {
            "event": "batch-done",
            "request_id": request_id,
            "items": len(items),
            "errors": errors,
            "unsent": len(window),
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        }
        if client.gone:  # as the access log says it of a single request (its line here was a 200)
            summary["error"] = ClientClosed.code
        log.info(json.dumps(summary))


def _start(
    runtime: Runtime, client: ClientWatch, item: BatchItem, budget_s: float, ended: Callable[[], None]
) -> _Running:
    """Run ``item`` in a thread (an item without a job is done at once); ``ended`` is called
    when it has run."""
    running = _Running(item=item)
    if item.job is None:
        running.done.set()
        return running
    job = item.job

    def work() -> None:
        try:
            running.answer = _answer(runtime, client, job, budget_s)
        except ServiceError as error:
            running.error = error
        except Exception:
            log.exception("unexpected error on batch item at line %s", item.line)
            running.error = ServiceError("An unexpected error occurred; it has been logged.")
        finally:  # whatever happened, its lane is free again (the stream may be waiting for one)
            running.seconds = time.perf_counter() - running.started
            running.done.set()
            ended()

    running.thread = threading.Thread(target=work, name=f"batch-item-{item.line}", daemon=True)
    running.thread.start()
    return running


def _answer(runtime: Runtime, client: ClientWatch, job: Job, budget_s: float) -> dict[str, Any]:
    """One item's answer; an item with only a ``url`` is fetched first, as by ``/v1/extract``
    (stopped if the client leaves)."""
    if not job.fetch:
        return runtime.extract(job, budget_s)[0]
    with runtime.reading.admit():
        fetched = client.run(functools.partial(fetch_job, job, runtime.settings))
    answer, _cached = runtime.extract(fetched.job, fetched.within(budget_s))
    return {**answer, "fetch": fetched.page.summary()}


def _finish(running: _Running) -> tuple[bytes, int]:
    """The item's NDJSON line and 1 if it is an error (0 otherwise); waits for the item."""
    if running.thread is not None:
        running.thread.join()
    item = running.item
    error = item.error or running.error
    mode = item.job.mode if item.job is not None else metrics.NO_MODE
    record: dict[str, Any]
    if error is not None or running.answer is None:
        error = error or ServiceError()
        record = error_record(error, {"id": item.id}, BATCH_ENDPOINT, line=item.line)
        metrics.BATCH_ITEMS.labels(mode=mode, outcome=error.code).inc()
        if error.code == TimeBudgetExceeded.code:
            metrics.TIME_BUDGET_EXCEEDED.labels(endpoint=BATCH_ENDPOINT).inc()
    else:
        record = answer_record(running.answer, seconds_ms(running.seconds), {"id": item.id})
        metrics.BATCH_ITEMS.labels(mode=mode, outcome="ok").inc()
    if item.job is not None:
        metrics.EXTRACTION_SECONDS.labels(endpoint=BATCH_ENDPOINT, mode=mode).observe(running.seconds)
    line = encode_json(record) + "\n"
    return line.encode("utf-8"), int(error is not None)


def _once(action: Callable[[], None]) -> Callable[[], None]:
    """``action`` callable any number of times, run only the first time (thread-safe)."""
    lock = threading.Lock()
    done = False

    def run() -> None:
        nonlocal done
        with lock:
            if done:
                return
            done = True
        action()

    return run
