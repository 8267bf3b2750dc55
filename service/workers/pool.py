"""A supervised pool of extraction processes: the only way pages reach the pipeline in serving.

Why processes, and why supervised (issue 2, issue 4):
- trafilatura is not thread-safe (trafilatura#840, #925): one page at a time per process;
- some pages make it run for minutes and a timer exception does not stop it (it catches them):
  only killing the process keeps the time budget, so an overrun process gets SIGKILL and a
  replacement is started in the background while the others keep serving;
- its memory ratchets over many pages: a process is recycled after ``max_jobs`` pages (with
  jitter, so they do not all restart together) or as soon as its RSS passes the ceiling.
Processes are forked from a warm fork server (``workers.forkserver``), so a replacement is
ready in milliseconds, not after ~0.75 s of CPU spent importing and warming up.

CPU pinning: with one process per CPU this process may use (the default), each process is pinned
to its own CPU (a replacement takes the CPU its predecessor left). The web worker runs on the
same cores, and without pinning the scheduler moves extraction processes between cores, away
from the L2 cache they filled: pinned, pages/s rose ~2.5 % on average, the extraction CPU per
page fell about as much (a removed one-off A/B script: 8 experiments at 4 and 16 clients, 4-6
alternating pairs each on one server, from -0.8 % to +5.9 %). Not pinned when other processes
share the CPUs (CLEANER_PIN_EXTRACTORS=0), or when there are fewer processes than CPUs (e.g. a
CPU quota): the scheduler places them better.

Pipelining: when every process is busy, a page is written to the pipe of a busy process, behind
the page it is extracting, instead of waiting in the web worker until a process is free. The
process then starts it the moment it has written its previous answer, without waiting for the
web worker to be scheduled, to read that answer and to send the next page: at 4 clients on 2
cores, idle ~3 % of the time before and ~1 % with pipelining (0.874x -> 0.90x of the in-process
pipeline's pages/s over 7 alternating pairs of runs, 0.877x -> 0.939x at 16 clients).

At most one page waits per process (its "lane" holds ``LANE_PAGES``, two), only behind a page
that started less than ``QUEUE_PATIENCE_S`` ago and only if both fit in the pipe at once (the
write never waits).
A page still waiting after ``QUEUE_PATIENCE_S`` is withdrawn (``workers.child``: the process
answers "withdrawn" instead of running it) and placed again, so one slow page holds up no other
page for long; a page queued behind a process that is killed (budget) or dies never started
there: it is placed again with what is left of its budget.

The pool uses only blocking stdlib calls (subprocess, socket, select, threading), so it works in a plain
threaded program (CLI, tests) and, unchanged, under gunicorn's gevent worker, whose
monkey-patching makes each of those calls cooperative.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import pickle
import random
import select
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from service.errors import ExtractorCrashed, ExtractorUnavailable, ServiceError, TimeBudgetExceeded
from service.models import Job
from service.settings import Settings
from service.workers.child import HEADER, JOB_HEADER
from service.workers.forkserver import Forked, ForkServer, ForkServerDown

log = logging.getLogger(__name__)

# How long a new extraction process may take to import and warm up before it counts as failed.
SPAWN_TIMEOUT_S = 60.0
# Pause before retrying a failed spawn, so a broken install does not spin the CPU.
SPAWN_RETRY_PAUSE_S = 1.0
# How often a caller waiting for a free process re-checks the pool (a replacement is spawning).
CAPACITY_POLL_S = 0.05
# How long a recycled process may take to finish and exit before it is killed.
STOP_GRACE_S = 10.0
# Recycle thresholds are spread by this fraction so processes do not all restart at once.
RECYCLE_JITTER = 0.10
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
# Pipe capacity asked for (Linux F_SETPIPE_SZ; the default is 64 KiB): the mix's median page
# (~100 KB) then goes to the extraction process in one write, with no wait for it to drain the
# pipe half-way, and its answer comes back in one read.
PIPE_BYTES = 1024 * 1024
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
# Largest single read of answers (the rest of a frame comes in further calls; bytes of the next
# answer stay in the process's inbox).
_READ_CHUNK = 1024 * 1024
_F_GETPIPE_SZ = getattr(fcntl, "F_GETPIPE_SZ", 1032)
# A page waits behind a busy process's page only if that page started less than this long ago,
# and is withdrawn and placed again if it still waits this long (pages take ~10 ms; p99 ~0.1 s).
QUEUE_PATIENCE_S = 0.5
# Pages a process holds at once: the one it extracts and one waiting behind it in its pipe.
LANE_PAGES = 2


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
    withdrawals: int = 0  # pages taken back from behind a long page and placed again
    late_withdrawals: int = 0  # of those, pages the process had already started (run twice)


# A ticket's states: the process is extracting it (or about to), it waits behind the head, it was
# taken back (withdrawn: its answer, "withdrawn" or a result, is drained and dropped), or its
# process died before it started (orphaned: it is placed again).
HEAD, QUEUED, WITHDRAWN, ORPHANED = "head", "queued", "withdrawn", "orphaned"


@dataclass(eq=False)
class _Ticket:
    """One page's place in a process's lane."""

    seq: int
    deadline: float
    size: int  # bytes of its frame in the pipe
    state: str
    written: bool = False
    since: float = field(default_factory=time.monotonic)  # became head / was queued
    turn: threading.Event = field(default_factory=threading.Event)  # set when it leaves QUEUED


@dataclass(eq=False)
class _Process:
    forked: Forked
    recycle_after: int
    jobs_done: int = 0
    lane: list[_Ticket] = field(default_factory=list)  # [head, queued]: answers come in this order
    retiring: bool = False  # takes no new page; stopped when its lane is empty
    next_seq: int = 0
    inbox: bytearray = field(default_factory=bytearray)  # answer bytes read ahead of their turn
    pid: int = field(init=False)
    to_child: int = field(init=False)
    from_child: int = field(init=False)
    cpu: int | None = None  # the CPU it is pinned to (None: not pinned, or already given back)
    pipe_bytes: int = field(init=False, default=64 * 1024)
    _statm: int = field(init=False, default=-1)

    def __post_init__(self) -> None:
        self.pid = self.forked.pid
        self.to_child = self.forked.to_child
        self.from_child = self.forked.from_child
        # Set once here, not per frame: every page then costs no fcntl calls, and the frame
        # functions try the syscall first and only wait (select) when the pipe is full/empty.
        for fd in (self.to_child, self.from_child):
            os.set_blocking(fd, False)
            _grow_pipe(fd)
        with contextlib.suppress(OSError):
            self.pipe_bytes = fcntl.fcntl(self.to_child, _F_GETPIPE_SZ)
        with contextlib.suppress(OSError):
            self._statm = os.open(f"/proc/{self.pid}/statm", os.O_RDONLY | os.O_CLOEXEC)

    def kill(self) -> None:
        """SIGKILL, through the pidfd when there is one (a pid alone may have been reused)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if self.forked.pidfd >= 0:
                signal.pidfd_send_signal(self.forked.pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)

    def close_input(self) -> None:
        """EOF on the job pipe: the process finishes its page, if any, and exits."""
        if self.to_child >= 0:
            os.close(self.to_child)
            self.to_child = -1

    def wait_exit(self, timeout: float) -> bool:
        """Wait until the process has exited (its answer pipe reaches EOF: only it writes there)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if not os.read(self.from_child, _READ_CHUNK):
                    return True
            except BlockingIOError:
                try:
                    _wait(self.from_child, False, deadline)
                except _Timeout:
                    return False
            except OSError:
                return True

    def close_fds(self) -> None:
        self.close_input()
        for fd in (self.from_child, self.forked.pidfd, self._statm):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.from_child = self._statm = -1

    def rss_mb(self) -> float:
        # Checked after every page: one pread on a file kept open (not open/read/close).
        try:
            return int(os.pread(self._statm, 128, 0).split()[1]) * _PAGE_SIZE / 2**20
        except (OSError, IndexError, ValueError):
            return 0.0

    def may_queue(self, size: int, now: float) -> bool:
        """May a page of ``size`` frame bytes wait behind this process's only page?"""
        if len(self.lane) != LANE_PAGES - 1 or self.retiring:
            return False
        head = self.lane[0]
        return (
            head.written
            and now - head.since < QUEUE_PATIENCE_S
            # Both pages and a withdrawal fit in the pipe at once: no write to it ever waits.
            and head.size + size + JOB_HEADER.size <= self.pipe_bytes
        )


class ExtractionPool:
    """``size`` extraction processes, each with a lane of at most two pages (see the module doc)."""

    def __init__(self, settings: Settings, size: int | None = None) -> None:
        self.settings = settings
        self.size = size or settings.extractors
        self.stats = PoolStats()
        self._lock = threading.Lock()  # _alive, _cpu_users
        # Guards every lane and ``_live``; notified whenever a process may take a page.
        self._changed = threading.Condition()
        self._live: list[_Process] = []  # started, not stopping
        self._alive = 0
        self._closed = False
        self._cpu_users = dict.fromkeys(_cpus_to_pin(settings, self.size), 0)  # pinned processes per CPU
        self._forkserver = ForkServer(
            json.dumps(
                {
                    "max_elements": settings.max_elements,
                    "max_depth": settings.max_depth,
                    "memory_limit_mb": settings.extractor_memory_limit_mb,
                }
            )
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
        with self._changed:
            live, self._live = self._live, []
        for process in live:
            self._stop(process, kill=False)
        self._forkserver.close()

    @property
    def alive(self) -> int:
        return self._alive

    def idle_pids(self) -> list[int]:
        """Processes with no page (in tests: which process the next page goes to)."""
        with self._changed:
            return [p.pid for p in self._live if not p.lane and not p.retiring]

    def pinned_cpus(self) -> dict[int, int | None]:
        """pid -> the CPU each live process is pinned to (None: not pinned)."""
        with self._changed:
            return {p.pid: p.cpu for p in self._live}

    # -- work ---------------------------------------------------------------------------------

    def submit(self, job: Job, budget_s: float | None = None) -> tuple[dict[str, Any], float]:
        """Run ``job`` in a process within ``budget_s``; returns (response, seconds).

        Raises:
            TimeBudgetExceeded: no answer within the budget (the process was killed).
            ExtractorCrashed: the process died on this page.
            ServiceError: what the pipeline raised for this page (e.g. NotAPage).
        """
        budget = self.settings.time_budget_s if budget_s is None else budget_s
        deadline = time.monotonic() + budget
        payload = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        while True:  # again only when the page was withdrawn or orphaned before it started
            placed = self._place(payload, deadline, budget)
            if placed is None:
                continue
            process, ticket = placed
            try:
                if not self._await_turn(process, ticket, budget):
                    continue
                answer = self._next_answer(process, ticket.deadline)
            except _Timeout:
                raise TimeBudgetExceeded(f"The page was not cleaned within the {budget:g} s budget.") from None
            except _Dead:
                raise ExtractorCrashed("The extraction process died on this page.") from None
            break
        self.stats.jobs += 1
        process.jobs_done += 1
        self._after_answer(process)
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

    # -- placing pages --------------------------------------------------------------------------

    def _place(self, payload: bytes, deadline: float, budget: float) -> tuple[_Process, _Ticket] | None:
        """Put the page in a lane and write it to that process's pipe; None if that process
        died under a page this one was queued behind (it never started: place it again).

        Raises:
            TimeBudgetExceeded: no process could take it before ``deadline``.
            ExtractorCrashed: the process it was to head died.
        """
        size = JOB_HEADER.size + len(payload)
        with self._changed:
            while True:
                now = time.monotonic()
                process = self._choose(size, now)
                if process is not None:
                    break
                if now >= deadline:
                    raise TimeBudgetExceeded(f"No extraction process became free within the {budget:g} s budget.")
                self._changed.wait(deadline - now)  # woken when a lane has room
            ticket = _Ticket(process.next_seq, deadline, size, HEAD if not process.lane else QUEUED)
            process.next_seq += 1
            process.lane.append(ticket)
        try:
            _write_frame(process, JOB_HEADER.pack(len(payload), ticket.seq), payload, deadline)
        except _Timeout:  # only a head writes more than the pipe holds, and its deadline passed
            self._kill(process, overran=True)
            raise TimeBudgetExceeded(f"The page was not cleaned within the {budget:g} s budget.") from None
        except _Dead:
            if ticket.state != HEAD:  # the page ahead of it is being read: its reader kills
                return None
            self._kill(process, overran=False)
            raise ExtractorCrashed("The extraction process died on this page.") from None
        with self._changed:
            ticket.written = True
            if ticket.state == HEAD:
                self._changed.notify()  # a page may now queue behind this one
        return process, ticket

    def _choose(self, size: int, now: float) -> _Process | None:
        """A free process; else the busy one whose page started last, if a page may wait there."""
        behind: _Process | None = None
        for process in self._live:
            if not process.lane and not process.retiring:
                return process
            if process.may_queue(size, now) and (behind is None or process.lane[0].since > behind.lane[0].since):
                behind = process
        return behind

    def _await_turn(self, process: _Process, ticket: _Ticket, budget: float) -> bool:
        """Wait until ``ticket`` heads its lane: True; False if it must be placed again.

        Raises:
            TimeBudgetExceeded: the budget ran out while it waited (it was withdrawn).
        """
        if ticket.state == HEAD:
            return True
        patience_end = min(ticket.deadline, ticket.since + QUEUE_PATIENCE_S)
        ticket.turn.wait(max(0.0, patience_end - time.monotonic()))
        with self._changed:
            # Its head runs long: take the page back.
            withdraw = ticket.state == QUEUED
            if withdraw:
                ticket.state = WITHDRAWN
                self.stats.withdrawals += 1
        if withdraw:
            with contextlib.suppress(_Dead, _Timeout):  # a dead process: its head finds out
                _write_frame(process, JOB_HEADER.pack(0, ticket.seq), b"", time.monotonic() + 1.0)
            if time.monotonic() >= ticket.deadline:
                raise TimeBudgetExceeded(f"No extraction process became free within the {budget:g} s budget.")
            return False
        return ticket.state == HEAD  # ORPHANED: its process died before it started

    def _next_in_lane(self, process: _Process) -> None:
        """The head's answer is in: the page behind it, if any, heads the lane now (a withdrawn
        one still gets an answer from the process, drained in the background)."""
        with self._changed:
            process.lane.pop(0)
            if process.lane:
                following = process.lane[0]
                following.since = time.monotonic()
                if following.state == QUEUED:
                    following.state = HEAD
                    following.turn.set()
                else:  # WITHDRAWN
                    threading.Thread(target=self._drain, args=(process, following), daemon=True).start()
            # One placement became possible: a free process, or room behind a new head. (One
            # waiter, not all: with 16 clients, waking every waiter per page cost ~0.2 ms.)
            self._changed.notify()

    def _drain(self, process: _Process, ticket: _Ticket) -> None:
        """Read and drop the answer to a withdrawn page ("withdrawn", or a result if the
        withdrawal came after the process had started it), within that page's budget."""
        try:
            answer = self._next_answer(process, ticket.deadline)
        except (_Timeout, _Dead):
            return
        if answer[0] != "withdrawn":
            self.stats.late_withdrawals += 1
        self._after_answer(process)

    # -- internals ----------------------------------------------------------------------------

    def _after_answer(self, process: _Process) -> None:
        """An answer of ``process`` was read (its head's, or a drained withdrawn page's): retire
        it if due, give its lane slot to the page behind, and recycle it once its lane is empty,
        in that order (see ``_retire_if_due``)."""
        self._retire_if_due(process)
        self._next_in_lane(process)
        self._recycle_if_retiring(process)

    def _retire_if_due(self, process: _Process) -> None:
        """After an answer, before its lane slot is given back: a process due for recycling takes
        no new page from now on (the page already queued behind it still runs there).

        Marked before ``_next_in_lane`` frees the slot: marked after, a page waiting in another
        thread could take the slot of a due process in between, again and again (seen in tests:
        a process due after 1 page did 4).
        """
        if process.retiring:
            return
        rss = process.rss_mb()
        if process.jobs_done < process.recycle_after and rss <= self.settings.extractor_rss_mb:
            return
        with self._changed:
            if process.retiring:
                return  # another thread's answer found it due first
            process.retiring = True
        log.info("recycling extraction process %s after %s pages (rss %.0f MB)", process.pid, process.jobs_done, rss)

    def _recycle_if_retiring(self, process: _Process) -> None:
        """Once a retiring process's lane is empty: take it out and start its replacement."""
        with self._changed:
            if not process.retiring or process.lane or process not in self._live:
                return  # not due, or the last page in its lane comes back here
            self._live.remove(process)
        self.stats.recycles += 1
        self._replace(process, kill=False)

    def _next_answer(self, process: _Process, deadline: float) -> Any:
        """The next answer of ``process``, read by its lane's head.

        Raises:
            _Timeout: none by ``deadline`` (the process was killed).
            _Dead: the process died or sent garbage (it was killed).
        """
        try:
            return _read_frame(process, deadline)
        except _Timeout:
            self._kill(process, overran=True)
            raise
        except (_Dead, OSError, pickle.UnpicklingError, EOFError):
            self._kill(process, overran=False)
            raise _Dead from None

    def _kill(self, process: _Process, overran: bool) -> None:
        """Count (a budget overrun or a crash), kill and replace ``process``; a page queued behind
        its head never started there, so it is placed again."""
        with self._changed:
            if process not in self._live:
                return  # already killed (its head and a drain can both find it dead)
            self._live.remove(process)
            if overran:
                self.stats.timeouts += 1
            else:
                self.stats.crashes += 1
            for ticket in process.lane[1:]:
                if ticket.state == QUEUED:
                    ticket.state = ORPHANED
                    ticket.turn.set()
            process.lane.clear()
        self._replace(process, kill=True)

    def _replace(self, process: _Process, kill: bool) -> None:
        self._free_cpu(process)  # before the replacement chooses its CPU
        with self._lock:
            self._alive -= 1
        threading.Thread(target=self._stop, args=(process, kill), daemon=True).start()
        if not self._closed:
            threading.Thread(target=self._spawn_until_up, daemon=True).start()

    def _stop(self, process: _Process, kill: bool) -> None:
        """Kill ``process``, or let it finish and exit (EOF on its job pipe; killed if it takes
        longer than STOP_GRACE_S). The fork server, its parent, reaps it."""
        try:
            if kill:
                process.kill()
            else:
                process.close_input()
                if not process.wait_exit(STOP_GRACE_S):
                    process.kill()
        finally:
            process.close_fds()
            self._free_cpu(process)

    def _spawn_until_up(self) -> None:
        while not self._closed:
            process = self._spawn()
            if process is not None and self._closed:  # the pool closed while this one warmed up
                self._stop(process, kill=False)
                return
            if process is not None:
                with self._lock:
                    self._alive += 1
                with self._changed:
                    self._live.append(process)
                    self._changed.notify()
                return
            self.stats.spawn_failures += 1
            time.sleep(SPAWN_RETRY_PAUSE_S)

    def _spawn(self) -> _Process | None:
        cpu = self._reserve_cpu()
        try:
            forked = self._forkserver.spawn(cpu)
        except ForkServerDown as error:
            log.error("no extraction process could be started: %s", error)
            self._unreserve_cpu(cpu)
            return None
        jitter = 1 + random.uniform(-RECYCLE_JITTER, RECYCLE_JITTER)
        process = _Process(
            forked=forked, recycle_after=max(1, round(self.settings.max_jobs_per_extractor * jitter)), cpu=cpu
        )
        try:
            hello = _read_frame(process, time.monotonic() + SPAWN_TIMEOUT_S)
        except (_Timeout, _Dead, OSError, pickle.UnpicklingError, EOFError):
            hello = None
        if not (isinstance(hello, tuple) and hello[0] == "ready"):
            log.error("extraction process %s failed to start", process.pid)
            self._stop(process, kill=True)
            return None
        self.stats.spawns += 1
        return process

    def _reserve_cpu(self) -> int | None:
        """The CPU with the fewest pinned processes, counted as taken; None when not pinning."""
        if not self._cpu_users:
            return None
        with self._lock:
            cpu = min(self._cpu_users, key=self._cpu_users.__getitem__)
            self._cpu_users[cpu] += 1
            return cpu

    def _unreserve_cpu(self, cpu: int | None) -> None:
        if cpu is not None:
            with self._lock:
                self._cpu_users[cpu] -= 1

    def _free_cpu(self, process: _Process) -> None:
        """Give ``process``'s CPU back, once (its stop and its replacement both call this)."""
        with self._lock:
            cpu, process.cpu = process.cpu, None
        self._unreserve_cpu(cpu)


def _cpus_to_pin(settings: Settings, size: int) -> list[int]:
    """The CPUs to pin the pool's processes to, one each: only when there is one process per CPU
    this process may use (with fewer, e.g. under a CPU quota, the scheduler places them best)."""
    if not settings.pin_extractors or not hasattr(os, "sched_getaffinity"):
        return []
    allowed = sorted(os.sched_getaffinity(0))
    return allowed if size == len(allowed) > 1 else []


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


def _write_frame(process: _Process, header: bytes, payload: bytes, deadline: float) -> None:
    """Write one frame to the process's non-blocking job pipe: header and payload in one writev.

    The pipe's fd is read afresh after every wait: a process stopped meanwhile has -1 there
    (EBADF: dead), never a number the kernel may have given to another pipe since.
    """
    total, sent = len(header) + len(payload), 0
    while sent < total:
        if time.monotonic() >= deadline:  # e.g. the budget went waiting for a free process
            raise _Timeout
        try:
            if sent < len(header):  # writev: no header + payload concatenation (a copy of the page)
                sent += os.writev(process.to_child, [header[sent:], payload])
            else:
                sent += os.write(process.to_child, memoryview(payload)[sent - len(header) :])
        except BlockingIOError:  # the pipe is full: wait until the process drains it
            _wait(process.to_child, True, deadline)
        except OSError:  # EPIPE: the process died; EBADF: it was stopped
            raise _Dead from None


def _read_frame(process: _Process, deadline: float) -> Any:
    """Read the next answer of ``process``: usually one wait and one read.

    A read may also bring (part of) the answer after it, when a page queued behind finished
    quickly: those bytes stay in the process's inbox for the next call.
    """
    data = process.inbox
    need = 0  # the frame's size, once its header is in
    while True:
        if not need and len(data) >= HEADER.size:
            need = HEADER.size + HEADER.unpack_from(data)[0]
        if need and len(data) >= need:
            with memoryview(data) as view, view[HEADER.size : need] as frame:
                answer = pickle.loads(frame)
            del data[:need]
            return answer
        if time.monotonic() >= deadline:  # an answer that arrives late is a late answer
            raise _Timeout
        try:
            chunk = os.read(process.from_child, _READ_CHUNK)
        except BlockingIOError:  # nothing yet: the page is still being extracted
            _wait(process.from_child, False, deadline)
            continue
        if not chunk:
            raise _Dead
        data += chunk


class CapacityGate:
    """Start a page's clock only when an extraction process is free for it (bulk callers).

    ``ExtractionPool.submit`` counts the wait for a free process against the page's budget: right
    for the API (the client's budget is wall-clock), wrong for a bulk job, where after a kill the
    pool is one short until the replacement is up (a fork: milliseconds; longer if the fork
    server itself had to be started again, ~1 s) and the next page would lose its budget waiting.
    Bulk callers (the batch and warc commands) hold a slot around ``submit``.
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
