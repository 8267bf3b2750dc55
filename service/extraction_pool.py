"""A supervised pool of extraction processes: the only way pages reach the pipeline in serving.

Why processes, and why supervised (issue 2, issue 4):
- trafilatura is not thread-safe (trafilatura#840, #925): one page at a time per process;
- some pages make it run for minutes and a timer exception does not stop it (it catches them):
  only killing the process keeps the time budget, so an overrun process gets SIGKILL and a
  replacement is started in the background while the others keep serving;
- its memory ratchets over many pages: a process is recycled after ``max_jobs`` pages (with
  jitter, so they do not all restart together) or as soon as its RSS passes the ceiling.

The pool uses only blocking stdlib calls (subprocess, select, queue, threading), so it works in
a plain threaded program (CLI, tests) and, unchanged, under gunicorn's gevent worker, whose
monkey-patching makes each of those calls cooperative.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import pickle
import queue
import random
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from service.errors import ExtractorCrashed, ExtractorUnavailable, ServiceError, TimeBudgetExceeded
from service.extraction_worker import HEADER
from service.models import Job
from service.settings import Settings

log = logging.getLogger(__name__)

# How long a new extraction process may take to import and warm up before it counts as failed.
SPAWN_TIMEOUT_S = 60.0
# Pause before retrying a failed spawn, so a broken install does not spin the CPU.
SPAWN_RETRY_PAUSE_S = 1.0
# How often a caller waiting for a free process re-checks the pool (a replacement is spawning).
CAPACITY_POLL_S = 0.05
# Recycle thresholds are spread by this fraction so processes do not all restart at once.
RECYCLE_JITTER = 0.10
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
# Pipe capacity asked for (Linux F_SETPIPE_SZ; the default is 64 KiB): the mix's median page
# (~100 KB) then goes to the extraction process in one write, with no wait for it to drain the
# pipe half-way, and its answer comes back in one read.
PIPE_BYTES = 1024 * 1024
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
# Largest single read of an answer (what is left of the frame is read in further calls).
_READ_CHUNK = 1024 * 1024


class _Timeout(Exception):
    pass


class _Dead(Exception):
    pass


@dataclass
class PoolStats:
    jobs: int = 0
    timeouts: int = 0
    crashes: int = 0
    recycles: int = 0
    spawns: int = 0
    spawn_failures: int = 0


@dataclass
class _Process:
    popen: subprocess.Popen[bytes]
    recycle_after: int
    jobs_done: int = 0
    pid: int = field(init=False)
    to_child: int = field(init=False)
    from_child: int = field(init=False)
    _statm: int = field(init=False, default=-1)

    def __post_init__(self) -> None:
        self.pid = self.popen.pid
        assert self.popen.stdin is not None
        assert self.popen.stdout is not None
        self.to_child = self.popen.stdin.fileno()
        self.from_child = self.popen.stdout.fileno()
        # Set once here, not per frame: every page then costs no fcntl calls, and the frame
        # functions try the syscall first and only wait (select) when the pipe is full/empty.
        for fd in (self.to_child, self.from_child):
            os.set_blocking(fd, False)
            _grow_pipe(fd)
        with contextlib.suppress(OSError):
            self._statm = os.open(f"/proc/{self.pid}/statm", os.O_RDONLY | os.O_CLOEXEC)

    def rss_mb(self) -> float:
        # Checked after every page: one pread on a file kept open (not open/read/close).
        try:
            return int(os.pread(self._statm, 128, 0).split()[1]) * _PAGE_SIZE / 2**20
        except (OSError, IndexError, ValueError):
            return 0.0

    def close_statm(self) -> None:
        if self._statm >= 0:
            with contextlib.suppress(OSError):
                os.close(self._statm)
            self._statm = -1


class ExtractionPool:
    """``size`` extraction processes behind one queue of idle ones."""

    def __init__(self, settings: Settings, size: int | None = None) -> None:
        self.settings = settings
        self.size = size or settings.extractors
        self.stats = PoolStats()
        self._idle: queue.Queue[_Process] = queue.Queue()
        self._lock = threading.Lock()
        self._alive = 0
        self._closed = False
        self._config = json.dumps(
            {
                "max_elements": settings.max_elements,
                "max_depth": settings.max_depth,
                "memory_limit_mb": settings.extractor_memory_limit_mb,
            }
        )

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start every process and wait until they are warm.

        Raises:
            ExtractorUnavailable: not a single process could be started.
        """
        threads = [threading.Thread(target=self._spawn_until_up, daemon=True) for _ in range(self.size)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + SPAWN_TIMEOUT_S
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._alive == 0:
            raise ExtractorUnavailable("No extraction process could be started.")

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                process = self._idle.get_nowait()
            except queue.Empty:
                break
            self._stop(process, kill=False)

    @property
    def alive(self) -> int:
        return self._alive

    # -- work ---------------------------------------------------------------------------------

    def submit(self, job: Job, budget_s: float | None = None) -> tuple[dict[str, Any], float]:
        """Run ``job`` in a free process within ``budget_s``; returns (response, seconds).

        Raises:
            TimeBudgetExceeded: no answer within the budget (the process was killed).
            ExtractorCrashed: the process died on this page.
            ServiceError: what the pipeline raised for this page (e.g. NotAPage).
        """
        budget = self.settings.time_budget_s if budget_s is None else budget_s
        deadline = time.monotonic() + budget
        try:
            process = self._idle.get(timeout=budget)
        except queue.Empty:
            raise TimeBudgetExceeded(f"No extraction process became free within the {budget:g} s budget.") from None
        try:
            _write_frame(process.to_child, job, deadline)
            answer = _read_frame(process.from_child, deadline)
        except _Timeout:
            self.stats.timeouts += 1
            self._replace(process, kill=True)
            raise TimeBudgetExceeded(f"The page was not cleaned within the {budget:g} s budget.") from None
        except (_Dead, OSError, pickle.UnpicklingError, EOFError):
            self.stats.crashes += 1
            self._replace(process, kill=True)
            raise ExtractorCrashed("The extraction process died on this page.") from None
        self.stats.jobs += 1
        process.jobs_done += 1
        self._release(process)
        # Yield once (gevent patches time.sleep): a page waiting for a free process is written to
        # this one now, not after this answer has been encoded, logged and sent (at 4 clients the
        # cores were idle 7 % of the time before, 3-4 % after: 4 % more pages answered).
        time.sleep(0)
        kind = answer[0]
        if kind == "ok":
            return answer[1], float(answer[2])
        error = answer[1]
        if isinstance(error, ServiceError):
            raise error
        raise ExtractorCrashed("The extraction failed on this page.")

    # -- internals ----------------------------------------------------------------------------

    def _release(self, process: _Process) -> None:
        rss = process.rss_mb()
        if process.jobs_done >= process.recycle_after or rss > self.settings.extractor_rss_mb:
            log.info(
                "recycling extraction process %s after %s pages (rss %.0f MB)", process.pid, process.jobs_done, rss
            )
            self.stats.recycles += 1
            self._replace(process, kill=False)
        else:
            self._idle.put(process)

    def _replace(self, process: _Process, kill: bool) -> None:
        with self._lock:
            self._alive -= 1
        threading.Thread(target=self._stop, args=(process, kill), daemon=True).start()
        if not self._closed:
            threading.Thread(target=self._spawn_until_up, daemon=True).start()

    def _stop(self, process: _Process, kill: bool) -> None:
        try:
            if kill:
                process.popen.send_signal(signal.SIGKILL)
            else:
                assert process.popen.stdin is not None
                process.popen.stdin.close()  # the worker's loop ends on EOF
            process.popen.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            process.popen.kill()
            process.popen.wait()
        finally:
            for stream in (process.popen.stdin, process.popen.stdout):
                if stream is not None and not stream.closed:
                    stream.close()
            process.close_statm()

    def _spawn_until_up(self) -> None:
        while not self._closed:
            process = self._spawn()
            if process is not None and self._closed:  # the pool closed while this one warmed up
                self._stop(process, kill=False)
                return
            if process is not None:
                with self._lock:
                    self._alive += 1
                self._idle.put(process)
                return
            self.stats.spawn_failures += 1
            time.sleep(SPAWN_RETRY_PAUSE_S)

    def _spawn(self) -> _Process | None:
        popen = subprocess.Popen(
            [sys.executable, "-m", "service.extraction_worker", self._config],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        jitter = 1 + random.uniform(-RECYCLE_JITTER, RECYCLE_JITTER)
        process = _Process(popen=popen, recycle_after=max(1, round(self.settings.max_jobs_per_extractor * jitter)))
        try:
            hello = _read_frame(process.from_child, time.monotonic() + SPAWN_TIMEOUT_S)
        except (_Timeout, _Dead, OSError, pickle.UnpicklingError, EOFError):
            hello = None
        if not (isinstance(hello, tuple) and hello[0] == "ready"):
            log.error("extraction process %s failed to start", popen.pid)
            self._stop(process, kill=True)
            return None
        self.stats.spawns += 1
        return process


def _grow_pipe(fd: int) -> None:
    """Ask for a PIPE_BYTES pipe; keep the default where the kernel says no (per-user limits)."""
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, _F_SETPIPE_SZ, PIPE_BYTES)


def _wait(fd: int, writing: bool, deadline: float) -> None:
    """Block (cooperatively under gevent: select is patched) until ``fd`` is ready, or time out."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _Timeout
    ready = select.select([], [fd], [], remaining)[1] if writing else select.select([fd], [], [], remaining)[0]
    if not ready:
        raise _Timeout


def _write_frame(fd: int, message: Any, deadline: float) -> None:
    """Write one frame to the non-blocking ``fd``: the header and the pickle in one writev."""
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    header = HEADER.pack(len(payload))
    total, sent = HEADER.size + len(payload), 0
    while sent < total:
        if time.monotonic() >= deadline:  # e.g. the budget went waiting for a free process
            raise _Timeout
        try:
            if sent < HEADER.size:  # writev: no header + payload concatenation (a copy of the page)
                sent += os.writev(fd, [header[sent:], payload])
            else:
                sent += os.write(fd, memoryview(payload)[sent - HEADER.size :])
        except BlockingIOError:  # the pipe is full: wait until the process drains it
            _wait(fd, True, deadline)
        except BrokenPipeError:
            raise _Dead from None


def _read_frame(fd: int, deadline: float) -> Any:
    """Read one frame from the non-blocking ``fd``: usually one wait and one read.

    Reading more than the header at once is safe: a process writes nothing after a frame until
    it is sent the next job.
    """
    data = bytearray()
    need = 0  # the frame's size, once its header is in
    while True:
        if time.monotonic() >= deadline:  # an answer that arrives late is a late answer
            raise _Timeout
        try:
            chunk = os.read(fd, need - len(data) if need else _READ_CHUNK)
        except BlockingIOError:  # nothing yet: the page is still being extracted
            _wait(fd, False, deadline)
            continue
        if not chunk:
            raise _Dead
        data += chunk
        if not need and len(data) >= HEADER.size:
            need = HEADER.size + HEADER.unpack_from(data)[0]
        if need and len(data) >= need:
            return pickle.loads(memoryview(data)[HEADER.size : need])


class CapacityGate:
    """Start a page's clock only when an extraction process is free for it (bulk callers).

    ``ExtractionPool.submit`` counts the wait for a free process against the page's budget: right
    for the API (the client's budget is wall-clock), wrong for a bulk job, where after a kill the
    pool is one short until the replacement is warm (~1 s) and the next page would lose its
    budget waiting. Bulk callers (the batch and warc commands) hold a slot around ``submit``.
    """

    def __init__(self, pool: ExtractionPool) -> None:
        self.pool = pool
        self.busy = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one process's worth of capacity for the block (waits at most SPAWN_TIMEOUT_S)."""
        deadline = time.monotonic() + SPAWN_TIMEOUT_S
        while True:
            with self._lock:
                if self.busy < self.pool.alive or time.monotonic() > deadline:
                    self.busy += 1
                    break
            time.sleep(CAPACITY_POLL_S)
        try:
            yield
        finally:
            with self._lock:
                self.busy -= 1
