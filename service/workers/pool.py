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

CPU pinning: ``workers.cpus``. The pool's handle of one process (its lane, its pipes): ``workers.process``.

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
there: it is placed again with what is left of its budget. A page whose budget runs out before it
was written (it waited for its turn to write) is taken out of its lane: its process may be
extracting another request's page, so it is never killed for it.

The pool uses only blocking stdlib calls (subprocess, socket, select, threading), so it works in a plain
threaded program (CLI, tests) and, unchanged, under gunicorn's gevent worker, whose
monkey-patching makes each of those calls cooperative.
"""

from __future__ import annotations

import contextlib
import json
import logging
import pickle
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

from service.errors import ExtractorCrashed, ExtractorUnavailable, PageTooComplex, ServiceError, TimeBudgetExceeded
from service.models import Job
from service.settings import Settings
from service.workers.child import JOB_HEADER
from service.workers.cpus import CpuPins, cpus_to_pin
from service.workers.forkserver import ForkServer, ForkServerDown
from service.workers.oom import OomKillCounter, memory_events_path
from service.workers.process import (
    HEAD,
    LANE_PAGES,
    ORPHANED,
    QUEUED,
    WITHDRAWN,
    NothingWritten,
    Process,
    ProcessDead,
    ProcessOomKilled,
    ProcessTimeout,
    Ticket,
    read_frame,
    write_frame,
)

__all__ = ["LANE_PAGES", "ExtractionPool", "PoolStats"]

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
# A page waits behind a busy process's page only if that page started less than this long ago,
# and is withdrawn and placed again if it still waits this long (pages take ~10 ms; p99 ~0.1 s).
QUEUE_PATIENCE_S = 0.5
# A process answers "withdrawn" as soon as it reaches a withdrawn page, but not in no time: its
# answer is awaited at least this long, even when that page's own budget is gone (killing the
# process for it cost a kill and a respawn per page of a client with a tiny budget).
WITHDRAWN_ANSWER_GRACE_S = 0.25


@dataclass
class PoolStats:
    jobs: int = 0
    timeouts: int = 0
    crashes: int = 0
    oom_kills: int = 0  # processes the kernel's OOM killer ended (the container's memory ran out)
    recycles: int = 0
    spawns: int = 0
    spawn_failures: int = 0
    withdrawals: int = 0  # pages taken back from behind a long page and placed again
    late_withdrawals: int = 0  # of those, pages the process had already started (run twice)
    abandoned: int = 0  # pages whose request's own timeout ran out; finished within the server's


class ExtractionPool:
    """``size`` extraction processes, each with a lane of at most two pages (see the module doc)."""

    def __init__(self, settings: Settings, size: int | None = None) -> None:
        self.settings = settings
        self.size = size or settings.extractors
        self.stats = PoolStats()
        self._lock = threading.Lock()  # _alive
        # Guards every lane and ``_live``; notified whenever a process may take a page.
        self._changed = threading.Condition()
        self._live: list[Process] = []  # started, not stopping
        self._alive = 0
        self._closed = False
        self._cpus = CpuPins(cpus_to_pin(settings, self.size))
        self._oom_kills = OomKillCounter(memory_events_path())
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
        """Let every process finish its pages and exit, all at once (one STOP_GRACE_S for all,
        then SIGKILL), then stop the fork server."""
        self._closed = True
        with self._changed:
            live, self._live = self._live, []
        for process in live:
            process.close_input()
        deadline = time.monotonic() + STOP_GRACE_S
        for process in live:
            self._stop(process, kill=False, deadline=deadline)
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
            PageTooComplex: the kernel's OOM killer ended the process during this page (the
                container's memory ran out): a retry would only kill again.
            ExtractorCrashed: the process died on this page.
            ServiceError: what the pipeline raised for this page (e.g. NotAPage).
        """
        budget = self.settings.time_budget_s if budget_s is None else budget_s
        started = time.monotonic()
        deadline, server_deadline = started + budget, started + self.settings.time_budget_s
        payload = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        while True:  # again only when the page was withdrawn, orphaned or not read before it started
            placed = self._place(payload, deadline, budget)
            if placed is None:
                continue
            process, ticket = placed
            try:
                if not self._await_turn(process, ticket, budget):
                    continue
                answer = self._next_answer(process, ticket.deadline, server_deadline)
            except ProcessTimeout:
                raise TimeBudgetExceeded(f"The page was not cleaned within the {budget:g} s budget.") from None
            except ProcessOomKilled:
                raise PageTooComplex(
                    "The container's memory limit was reached during this page: its extraction process was killed."
                ) from None
            except ProcessDead:
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

    def _place(self, payload: bytes, deadline: float, budget: float) -> tuple[Process, Ticket] | None:
        """Put the page in a lane and write it to that process's pipe; None if that process
        died before it could read the page (it never started: place it again).

        Raises:
            TimeBudgetExceeded: no process could take it before ``deadline``.
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
            ticket = Ticket(process.next_seq, deadline, size, HEAD if not process.lane else QUEUED)
            process.next_seq += 1
            process.lane.append(ticket)
        try:
            write_frame(process, JOB_HEADER.pack(len(payload), ticket.seq), payload, deadline)
        except NothingWritten:  # the budget went before the write: the process never saw the page
            self._take_back(process, ticket)
            raise TimeBudgetExceeded(f"The page was not cleaned within the {budget:g} s budget.") from None
        except ProcessTimeout:  # half-written: only a head writes more than the pipe holds, so
            self._kill(process, overran=True)  # the process has no other page
            raise TimeBudgetExceeded(f"The page was not cleaned within the {budget:g} s budget.") from None
        except ProcessDead:
            # The process was gone before it could read the page (died idle: a sibling's OOM
            # kill, a signal from outside), so the page never ran: it is placed again, on the
            # replacement if need be, within its budget. It answered 500 before.
            if ticket.state == HEAD:  # else the page ahead of it is being read: its reader kills
                self._kill(process, overran=False)
            return None
        with self._changed:
            ticket.written = True
            if ticket.state == HEAD:
                self._changed.notify()  # a page may now queue behind this one
        return process, ticket

    def _take_back(self, process: Process, ticket: Ticket) -> None:
        """Take a page that was never written out of its lane, touching nothing else: the process
        may be extracting another request's page, which goes on (killing it for this page's
        budget once failed that other request with 500 extractor-crashed)."""
        with self._changed:
            if ticket not in process.lane:
                return  # its process was killed meanwhile: the lane is already empty
            process.lane.remove(ticket)
            self._changed.notify()  # its slot is free
        self._recycle_if_retiring(process)  # its head's reader left the recycling to this page

    def _choose(self, size: int, now: float) -> Process | None:
        """A free process; else the busy one whose page started last, if a page may wait there."""
        behind: Process | None = None
        for process in self._live:
            if not process.lane and not process.retiring:
                return process
            if process.may_queue(size, now, QUEUE_PATIENCE_S) and (
                behind is None or process.lane[0].since > behind.lane[0].since
            ):
                behind = process
        return behind

    def _await_turn(self, process: Process, ticket: Ticket, budget: float) -> bool:
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
            with contextlib.suppress(ProcessDead, ProcessTimeout):  # a dead process: its head finds out
                write_frame(process, JOB_HEADER.pack(0, ticket.seq), b"", time.monotonic() + 1.0)
            if time.monotonic() >= ticket.deadline:
                raise TimeBudgetExceeded(f"No extraction process became free within the {budget:g} s budget.")
            return False
        return ticket.state == HEAD  # ORPHANED: its process died before it started

    def _next_in_lane(self, process: Process) -> None:
        """The head's answer is in: the page behind it, if any, heads the lane now (a withdrawn
        one still gets an answer from the process, drained in the background)."""
        with self._changed:
            if process.lane:  # empty: the process was killed meanwhile, and its lane cleared
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

    def _drain(self, process: Process, ticket: Ticket) -> None:
        """Read and drop the answer to a withdrawn page ("withdrawn", or a result if the
        withdrawal came after the process had started it), within that page's budget."""
        try:
            answer = self._next_answer(process, max(ticket.deadline, time.monotonic() + WITHDRAWN_ANSWER_GRACE_S))
        except (ProcessTimeout, ProcessDead):
            return
        if answer[0] != "withdrawn":
            self.stats.late_withdrawals += 1
        self._after_answer(process)

    def _finish_abandoned(self, process: Process, server_deadline: float) -> None:
        """Read and drop the answer to a head whose request stopped waiting (``_next_answer``)."""
        try:
            self._next_answer(process, server_deadline)
        except (ProcessTimeout, ProcessDead):
            return
        self.stats.abandoned += 1
        process.jobs_done += 1
        self._after_answer(process)

    # -- internals ----------------------------------------------------------------------------

    def _after_answer(self, process: Process) -> None:
        """An answer of ``process`` was read (its head's, or a drained withdrawn page's): retire
        it if due, give its lane slot to the page behind, and recycle it once its lane is empty,
        in that order (see ``_retire_if_due``)."""
        self._retire_if_due(process)
        self._next_in_lane(process)
        self._recycle_if_retiring(process)

    def _retire_if_due(self, process: Process) -> None:
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

    def _recycle_if_retiring(self, process: Process) -> None:
        """Once a retiring process's lane is empty: take it out and start its replacement."""
        with self._changed:
            if not process.retiring or process.lane or process not in self._live:
                return  # not due, or the last page in its lane comes back here
            self._live.remove(process)
        self.stats.recycles += 1
        self._replace(process, kill=False)

    def _next_answer(self, process: Process, deadline: float, server_deadline: float = 0.0) -> Any:
        """The next answer of ``process``, read by its lane's head.

        A request's own ``timeout`` shorter than the server's budget ends its wait, not its page:
        past ``deadline`` the page finishes in the background until ``server_deadline`` (killed
        only then). Killing at each short deadline cost a process kill and restart per page: a
        client sending ``timeout=0.001`` cut another client's answers by 75-80 % (s20 audit);
        now such a page costs one extraction, as any other.

        Raises:
            ProcessTimeout: none by ``deadline`` (the process was killed, or left to finish).
            ProcessOomKilled: the kernel's OOM killer ended the process.
            ProcessDead: the process died or sent garbage (it was killed).
        """
        try:
            return read_frame(process, deadline)
        except ProcessTimeout:
            if server_deadline > time.monotonic():
                threading.Thread(target=self._finish_abandoned, args=(process, server_deadline), daemon=True).start()
            else:
                self._kill(process, overran=True)
            raise
        except (ProcessDead, OSError, pickle.UnpicklingError, EOFError):
            oom_killed = self._oom_killed(process)
            self._kill(process, overran=False, oom_killed=oom_killed)
            raise ProcessOomKilled if oom_killed else ProcessDead from None

    def _oom_killed(self, process: Process) -> bool:
        """Did the kernel's OOM killer end ``process``: a death the pool did not cause (it takes
        a process out of ``_live`` before it stops it) with one more OOM kill in the cgroup?
        The extraction processes are the killer's first choice (``oom.volunteer_for_oom_kill``),
        so the kill the counter shows is theirs; that a crash lands on the same moment is not
        worth asking the fork server (the processes' parent) how each one died."""
        with self._changed:
            if process not in self._live:
                return False
        return self._oom_kills.new_kill()

    def _kill(self, process: Process, overran: bool, oom_killed: bool = False) -> None:
        """Count (a budget overrun, an OOM kill or a crash), kill and replace ``process``; a page
        queued behind its head never started there, so it is placed again."""
        with self._changed:
            if process not in self._live:
                return  # already killed (its head and a drain can both find it dead)
            self._live.remove(process)
            if overran:
                self.stats.timeouts += 1
            elif oom_killed:
                self.stats.oom_kills += 1
            else:
                self.stats.crashes += 1
            for ticket in process.lane[1:]:
                if ticket.state == QUEUED:
                    ticket.state = ORPHANED
                    ticket.turn.set()
            process.lane.clear()
        self._replace(process, kill=True)

    def _replace(self, process: Process, kill: bool) -> None:
        self._cpus.free(process)  # before the replacement chooses its CPU
        with self._lock:
            self._alive -= 1
        threading.Thread(target=self._stop, args=(process, kill), daemon=True).start()
        if not self._closed:
            threading.Thread(target=self._spawn_until_up, daemon=True).start()

    def _stop(self, process: Process, kill: bool, deadline: float | None = None) -> None:
        """Kill ``process``, or let it finish and exit (EOF on its job pipe; killed if it is still
        there at ``deadline``, by default STOP_GRACE_S from now). The fork server, its parent,
        reaps it."""
        try:
            if kill:
                process.kill()
            else:
                process.close_input()
                if not process.wait_exit(deadline or time.monotonic() + STOP_GRACE_S):
                    process.kill()
        finally:
            process.close_fds()
            self._cpus.free(process)

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

    def _spawn(self) -> Process | None:
        cpu = self._cpus.reserve()
        try:
            forked = self._forkserver.spawn(cpu)
        except ForkServerDown as error:
            log.error("no extraction process could be started: %s", error)
            self._cpus.unreserve(cpu)
            return None
        jitter = 1 + random.uniform(-RECYCLE_JITTER, RECYCLE_JITTER)
        process = Process(
            forked=forked, recycle_after=max(1, round(self.settings.max_jobs_per_extractor * jitter)), cpu=cpu
        )
        try:
            hello = read_frame(process, time.monotonic() + SPAWN_TIMEOUT_S)
        except (ProcessTimeout, ProcessDead, OSError, pickle.UnpicklingError, EOFError):
            hello = None
        if not (isinstance(hello, tuple) and hello[0] == "ready"):
            log.error("extraction process %s failed to start", process.pid)
            self._stop(process, kill=True)
            return None
        self.stats.spawns += 1
        return process
