"""The client side of a WARC job: the Dask cluster, the chunks in flight, the outputs, progress.

Cluster: a ``LocalCluster`` on this machine by default (``workers`` worker processes of one
thread each, one per core), or any running cluster given its scheduler's address. Workers are
processes with a nanny, so a worker that dies is restarted by Dask and its task rescheduled.

Flow: each input is scanned lazily into chunks (``records.ChunkScanner``) and at most
``WINDOW_PER_THREAD`` chunks per worker thread are in flight, so the client holds offsets and
the answers of the finished chunks only, whatever the size of the inputs. A finished chunk's
gzip member is appended to its input's partial output; when an input's last chunk is in, the
output is renamed into place and its summary written (``output``). Inputs whose output is already
complete are skipped, so re-running an interrupted job does only what is left.

Retries: a task that raises (its worker could not start an extraction process, a file read
failed on that machine) is retried ``TASK_RETRIES`` times; a task whose worker died is
rescheduled by the scheduler on its own (up to ``distributed.scheduler.allowed-failures``, 3 by
default). A chunk that still fails is recorded in the summary and the input is left incomplete.
"""

from __future__ import annotations

import importlib.util
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distributed import Client, Future, LocalCluster, as_completed
from tqdm import tqdm

from service.models import Options
from service.offline.warc.output import OutputFile, OutputPaths, run_fingerprint
from service.offline.warc.records import DEFAULT_CHUNK_RECORDS, Chunk, ChunkScanner
from service.offline.warc.summary import SKIP_TASK_FAILED, Summary
from service.offline.warc.tasks import ChunkResult, clean_chunk
from service.settings import Settings

log = logging.getLogger(__name__)

# Retries of a task that raised (a page's own failure never raises; see ``tasks``).
TASK_RETRIES = 2
# Chunks in flight per worker thread: one running and one queued on the worker, so a thread
# never waits for the client between chunks.
WINDOW_PER_THREAD = 2
# LocalCluster: one thread per worker process (the thread drives one extraction process).
THREADS_PER_LOCAL_WORKER = 1
# A free port for the LocalCluster's HTTP server (dashboard when bokeh is installed): Dask's
# usual 8787 is often taken on a shared machine (another cluster, a notebook).
LOCAL_DASHBOARD_ADDRESS = ":0"
# How long to wait for a remote cluster's first worker before giving up.
WAIT_FOR_WORKERS_S = 60.0


@dataclass(frozen=True)
class WarcJob:
    inputs: list[str]
    out_dir: Path
    options: Options
    settings: Settings
    chunk_records: int = DEFAULT_CHUNK_RECORDS

    def fingerprint(self, path: str) -> dict[str, Any]:
        """What an output of ``path`` must have been made from to be skipped (``output``)."""
        return run_fingerprint(path, self.options, self.settings)


@dataclass
class InputReport:
    """What happened to one input: done now, or skipped because its output was complete."""

    input: str
    paths: OutputPaths
    summary: Summary = field(default_factory=Summary)
    already_complete: bool = False
    seconds: float = 0.0
    fingerprint: dict[str, Any] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        if self.already_complete:
            # "skipped" stays the counts by reason: the printed line has the shape of the first run's.
            return {
                "input": self.input,
                "output": str(self.paths.jsonl),
                **self.paths.read_summary(),
                "already_complete": True,
            }
        return self.summary.to_dict(
            input=self.input,
            output=str(self.paths.jsonl),
            seconds=round(self.seconds, 2),
            fingerprint=self.fingerprint,
        )


@dataclass
class _InputState:
    report: InputReport
    output: OutputFile | None
    scanner: ChunkScanner
    started: float
    submitted: int = 0
    finished: int = 0
    scanned: bool = False
    closed: bool = False

    @property
    def ready(self) -> bool:
        return self.scanned and not self.closed and self.finished == self.submitted


def bokeh_on_scheduler(client: Client) -> bool:
    """Whether the scheduler's process can import bokeh (asked there: it may be another machine).

    The probe is importlib's own function: nothing of ``service`` needs to be importable there."""
    try:
        return client.run_on_scheduler(importlib.util.find_spec, "bokeh") is not None  # type: ignore[no-untyped-call]
    except Exception:  # the scheduler refused to run it (e.g. a locked-down cluster): assume not
        return False


@contextmanager
def dask_client(scheduler: str | None, workers: int) -> Iterator[Client]:
    """A client of the cluster at ``scheduler``, or of a new LocalCluster of ``workers`` processes."""
    if scheduler:
        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS_S)
            yield client
        return
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=THREADS_PER_LOCAL_WORKER,
            processes=True,
            dashboard_address=LOCAL_DASHBOARD_ADDRESS,
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        yield client


def dashboard_line(client: Client) -> str:
    # Without bokeh the scheduler still serves its HTTP port, whose /status page is no dashboard.
    services = client.scheduler_info().get("services", {})
    if "dashboard" in services and bokeh_on_scheduler(client):
        return f"Dask dashboard: {client.dashboard_link}"
    return "Dask dashboard unavailable (install bokeh>=3.1 where the scheduler runs to get one)"


def cluster_threads(client: Client) -> int:
    workers = client.scheduler_info().get("workers", {})
    return max(1, sum(int(info.get("nthreads", 1)) for info in workers.values()))


class WarcRunner:
    """Runs one ``WarcJob`` on a connected client."""

    def __init__(self, job: WarcJob, client: Client, bar: tqdm[Any] | None = None) -> None:
        self.job = job
        self.client = client
        self.bar = bar
        self.run_id = uuid.uuid4().hex[:8]
        self._futures: dict[Future[ChunkResult], tuple[_InputState, Chunk]] = {}

    def run(self) -> list[InputReport]:
        """Process every input whose output is not complete yet; one report per input, in order."""
        reports: list[InputReport] = []
        states: list[_InputState] = []
        for path in self.job.inputs:
            paths = OutputPaths.for_input(self.job.out_dir, path)
            report = InputReport(path, paths, fingerprint=self.job.fingerprint(path))
            reports.append(report)
            if paths.is_complete(report.fingerprint):
                report.already_complete = True
                continue
            states.append(_InputState(report, None, ChunkScanner(path, self.job.chunk_records), 0.0))
        try:
            self._run(states)
        except BaseException:
            for state in states:
                if state.output is not None and not state.closed:
                    state.output.abort()
            self.client.cancel(list(self._futures))  # type: ignore[no-untyped-call]
            raise
        return reports

    def _chunks(self, states: list[_InputState]) -> Iterator[tuple[_InputState, Chunk]]:
        for state in states:
            state.output = OutputFile(state.report.paths)
            state.started = time.monotonic()
            for chunk in state.scanner:
                if self.bar is not None:
                    self.bar.total = (self.bar.total or 0) + chunk.count
                    self.bar.refresh()
                yield state, chunk
            if state.scanner.error:
                state.report.summary.read_errors.append(state.scanner.error)
            state.scanned = True
            self._finish_ready(states)

    def _run(self, states: list[_InputState]) -> None:
        window = WINDOW_PER_THREAD * cluster_threads(self.client)
        source = self._chunks(states)
        done = as_completed()  # type: ignore[no-untyped-call]
        in_flight = 0
        exhausted = False
        while True:
            while not exhausted and in_flight < window:
                item = next(source, None)
                if item is None:
                    exhausted = True
                    break
                state, chunk = item
                future = self.client.submit(
                    clean_chunk,
                    chunk,
                    self.job.options,
                    self.job.settings,
                    key=f"warc-chunk-{self.run_id}-{states.index(state)}-{chunk.index}",
                    retries=TASK_RETRIES,
                    pure=False,
                )
                self._futures[future] = (state, chunk)
                done.add(future)  # type: ignore[no-untyped-call]
                state.submitted += 1
                in_flight += 1
            if in_flight == 0:
                break
            future = next(done)
            in_flight -= 1
            self._collect(future)
            self._finish_ready(states)

    def _collect(self, future: Future[ChunkResult]) -> None:
        state, chunk = self._futures.pop(future)
        state.finished += 1
        try:
            result: ChunkResult = future.result()
        except Exception as error:  # after its retries: record, leave the input incomplete
            log.error("chunk %s of %s failed: %r", chunk.index, chunk.path, error)
            state.report.summary.skip(SKIP_TASK_FAILED, chunk.count)
            state.report.summary.failed_chunks.append(
                {"chunk": chunk.index, "offset": chunk.offset, "records": chunk.count, "error": repr(error)}
            )
        else:
            if result.data:
                assert state.output is not None
                state.output.append(result.data)
            state.report.summary.merge(result.summary)
        finally:
            future.release()  # type: ignore[no-untyped-call]
        if self.bar is not None:
            self.bar.update(chunk.count)

    def _finish_ready(self, states: list[_InputState]) -> None:
        for state in states:
            if state.ready:
                state.report.seconds = time.monotonic() - state.started
                assert state.output is not None
                state.output.finish(state.report.document())
                state.closed = True
