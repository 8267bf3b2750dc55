"""The extraction pool keeps its time budget by killing, replaces dead processes, recycles old ones."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from service.errors import NotAPage, TimeBudgetExceeded
from service.models import Job
from service.pipeline import Limits
from service.workers import forkserver as extraction_forkserver
from service.workers import pool as extraction_pool
from service.workers.pool import ExtractionPool
from service.workers.process import Process
from tests.conftest import ROOT, make_settings

PAGE = b"<html><body><article><p>" + b"A sentence of an ordinary article. " * 20 + b"</p></article></body></html>"
# Big enough that no machine extracts it within TINY_BUDGET_S.
HEAVY_PAGE = b"<html><body>" + b"<div><p>Some words in a paragraph, again.</p></div>" * 20000 + b"</body></html>"
TINY_BUDGET_S = 0.05
# A server budget HEAVY_PAGE overruns (the settings' minimum is 0.1 s).
SHORT_SERVER_BUDGET_S = 0.2
# A replacement process imports trafilatura and warms up: allow it this long on a busy machine.
RESPAWN_WAIT_S = 30.0


@pytest.fixture
def pool() -> Iterator[ExtractionPool]:
    pool = ExtractionPool(make_settings(extractors=1, max_jobs_per_extractor=1000))
    pool.start()
    yield pool
    pool.close()


def wait_until_alive(pool: ExtractionPool, count: int) -> None:
    deadline = time.monotonic() + RESPAWN_WAIT_S
    while pool.alive < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool.alive >= count


def test_answer_comes_back_with_the_extraction_time(pool: ExtractionPool) -> None:
    answer, seconds = pool.submit(Job(mode="html", body=PAGE))
    assert "ordinary article" in answer["text"]
    assert 0 < seconds < 10


def test_page_errors_cross_the_process_boundary_as_themselves(pool: ExtractionPool) -> None:
    with pytest.raises(NotAPage):
        pool.submit(Job(mode="html", body=b"\x89PNG\r\n\x1a\n" + b"\0" * 64))
    assert pool.alive == 1  # a client error does not cost the process


def test_overrun_is_killed_within_the_budget_and_replaced() -> None:
    pool = ExtractionPool(make_settings(extractors=1, time_budget_s=SHORT_SERVER_BUDGET_S))
    pool.start()
    try:
        victim = pool.idle_pids()[0]
        started = time.monotonic()
        with pytest.raises(TimeBudgetExceeded):
            pool.submit(Job(mode="html", body=HEAVY_PAGE))
        assert time.monotonic() - started < SHORT_SERVER_BUDGET_S + 1.0
        assert pool.stats.timeouts == 1
        wait_until_alive(pool, 1)
        answer, _ = pool.submit(Job(mode="html", body=PAGE))
        assert "ordinary article" in answer["text"]
        assert pool.idle_pids()[0] != victim
    finally:
        pool.close()


def test_a_shorter_request_timeout_ends_the_wait_not_the_page(pool: ExtractionPool) -> None:
    # Killing at each request's own deadline cost a process restart per page: one client sending
    # timeout=0.001 cut another's answers by 75-80 %. The page now finishes (within the server's
    # budget) and the same process takes the next one.
    worker = pool.idle_pids()[0]
    started = time.monotonic()
    with pytest.raises(TimeBudgetExceeded):
        pool.submit(Job(mode="html", body=HEAVY_PAGE), budget_s=TINY_BUDGET_S)
    assert time.monotonic() - started < TINY_BUDGET_S + 1.0
    answer, _ = pool.submit(Job(mode="html", body=PAGE))  # waits for the abandoned page's end
    assert "ordinary article" in answer["text"]
    assert (pool.stats.timeouts, pool.stats.abandoned, pool.idle_pids()) == (0, 1, [worker])


def test_a_page_for_a_process_that_died_idle_is_answered_by_its_replacement(pool: ExtractionPool) -> None:
    # The page never reached the dead process, so it is no crash of this page: it answered 500.
    victim = pool.idle_pids()[0]
    os.kill(victim, signal.SIGKILL)
    time.sleep(0.2)
    answer, _ = pool.submit(Job(mode="html", body=PAGE))
    assert "ordinary article" in answer["text"]
    assert pool.idle_pids() != [victim]
    assert (pool.stats.crashes, pool.stats.spawns) == (1, 2)


def test_processes_are_recycled_after_their_page_quota() -> None:
    pool = ExtractionPool(make_settings(extractors=1, max_jobs_per_extractor=2))
    pool.start()
    try:
        first = pool.idle_pids()[0]
        for _ in range(3):
            pool.submit(Job(mode="html", body=PAGE))
            wait_until_alive(pool, 1)
        assert pool.stats.recycles >= 1
        assert pool.idle_pids()[0] != first
    finally:
        pool.close()


def test_waiting_for_a_busy_pool_counts_against_the_budget(pool: ExtractionPool) -> None:
    (held,) = pool._live
    held.retiring = True  # the only process takes no page
    try:
        started = time.monotonic()
        with pytest.raises(TimeBudgetExceeded):
            pool.submit(Job(mode="html", body=PAGE), budget_s=0.2)
        assert time.monotonic() - started < 1.0
    finally:
        held.retiring = False


# --- pipelining: a page waits in a busy process's pipe ---------------------------------------

# ~0.15 s of extraction, and small enough that a page fits behind it in the pipe.
SLOW_PAGE = b"<html><body>" + b"<div><p>Some words in a paragraph, again.</p></div>" * 5000 + b"</body></html>"


def _numbered_page(n: int) -> bytes:
    return f"<html><body><article><p>Page number {n} of the run. ".encode() + PAGE[24:]


def _submit_all(pool: ExtractionPool, jobs: dict[str, Job]) -> dict[str, Any]:
    """Submit every job at once, one thread each; the answer or the exception of each."""
    results: dict[str, Any] = {}

    def one(name: str) -> None:
        try:
            results[name] = pool.submit(jobs[name])[0]
        except Exception as error:  # the test inspects it
            results[name] = error

    threads = [threading.Thread(target=one, args=(name,)) for name in jobs]
    for thread in threads:
        thread.start()
        time.sleep(0.005)  # in this order: the first one heads the lane, the others queue
    for thread in threads:
        thread.join(60)
    return results


def test_pages_queued_behind_a_busy_process_each_get_their_own_answer(pool: ExtractionPool) -> None:
    jobs = {f"page {n}": Job(mode="html", body=_numbered_page(n)) for n in range(6)}
    jobs = {"slow": Job(mode="html", body=SLOW_PAGE), **jobs}
    results = _submit_all(pool, jobs)
    for n in range(6):
        assert f"Page number {n} of the run" in results[f"page {n}"]["text"]
    assert not isinstance(results["slow"], Exception)
    assert pool.stats.jobs == 7
    assert pool.alive == 1


def test_a_page_waiting_behind_a_long_one_is_withdrawn_and_still_answered(
    pool: ExtractionPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extraction_pool, "QUEUE_PATIENCE_S", 0.02)  # the slow page takes longer
    results = _submit_all(pool, {"slow": Job(mode="html", body=SLOW_PAGE), "next": Job(mode="html", body=PAGE)})
    assert pool.stats.withdrawals == 1
    assert pool.stats.late_withdrawals == 0  # the process skipped the copy in its pipe
    assert "ordinary article" in results["next"]["text"]
    # The process answered "withdrawn" for the copy in its pipe: it is in step for what follows.
    assert "Page number 7" in pool.submit(Job(mode="html", body=_numbered_page(7)))[0]["text"]
    assert pool.alive == 1
    assert pool.stats.crashes == 0
    assert pool.stats.timeouts == 0


def test_a_page_queued_behind_a_killed_one_is_placed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extraction_pool, "QUEUE_PATIENCE_S", 120.0)  # it stays queued until the kill
    pool = ExtractionPool(make_settings(extractors=1, time_budget_s=SHORT_SERVER_BUDGET_S))
    pool.start()
    slow = Job(mode="html", body=SLOW_PAGE)
    results: dict[str, Any] = {}

    def run_slow() -> None:
        try:
            pool.submit(slow)  # overruns the server's budget: killed
        except TimeBudgetExceeded as error:
            results["slow"] = error

    try:
        thread = threading.Thread(target=run_slow)
        thread.start()
        time.sleep(0.01)
        started = time.monotonic()
        answer, _ = pool.submit(Job(mode="html", body=PAGE), budget_s=120.0)
        # Placed again as soon as its process was killed, not after its patience ran out.
        assert time.monotonic() - started < RESPAWN_WAIT_S
        thread.join(10)
        assert isinstance(results["slow"], TimeBudgetExceeded)
        assert pool.stats.timeouts == 1
        assert "ordinary article" in answer["text"]  # run by the replacement process
    finally:
        pool.close()


def _slow_page_in_the_only_process(pool: ExtractionPool) -> tuple[threading.Thread, dict[str, Any]]:
    """Submit SLOW_PAGE in a thread; return once it is being extracted and a page may queue
    behind it. The thread's outcome lands in the dict (``slow``: the answer or the exception)."""
    results: dict[str, Any] = {}

    def run_slow() -> None:
        try:
            results["slow"] = pool.submit(Job(mode="html", body=SLOW_PAGE))[0]
        except Exception as error:  # the test inspects it
            results["slow"] = error

    thread = threading.Thread(target=run_slow)
    thread.start()
    while pool.idle_pids():  # the slow page heads the process's lane
        time.sleep(0.001)
    time.sleep(0.01)  # and was written: a page may queue behind it
    return thread, results


def test_a_page_out_of_budget_before_it_was_written_fails_alone(pool: ExtractionPool) -> None:
    # A budget of 0 runs out between the page taking its place in the lane and its write: the
    # process holds another client's page (busy) or none (idle). Either way that page must not
    # be touched: before, the pool killed the process and the page it was extracting crashed.
    (pid,) = pool.idle_pids()
    with pytest.raises(TimeBudgetExceeded):  # idle: nothing is extracted, nothing killed
        pool.submit(Job(mode="html", body=PAGE), budget_s=0.0)
    thread, results = _slow_page_in_the_only_process(pool)
    with pytest.raises(TimeBudgetExceeded):
        pool.submit(Job(mode="html", body=PAGE), budget_s=0.0)
    thread.join(30)
    assert not isinstance(results["slow"], Exception), results["slow"]
    assert pool.stats.timeouts == 0
    assert pool.stats.crashes == 0
    assert pool.idle_pids() == [pid]  # the same process, and nothing left in its lane
    assert "Page number 1" in pool.submit(Job(mode="html", body=_numbered_page(1)))[0]["text"]


def test_a_withdrawn_page_out_of_budget_does_not_cost_its_process(
    pool: ExtractionPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The page queued behind the slow one is withdrawn when its budget runs out, and the budget
    # is gone by the time the process reaches it and answers "withdrawn". Before, reading that
    # answer already counted as late, so the process was killed (under load: a kill_timeout for
    # every such page, and a page queued behind the withdrawn one placed again).
    monkeypatch.setattr(extraction_pool, "QUEUE_PATIENCE_S", 0.2)  # longer than the short budget
    (pid,) = pool.idle_pids()
    thread, _ = _slow_page_in_the_only_process(pool)
    with pytest.raises(TimeBudgetExceeded):
        pool.submit(Job(mode="html", body=PAGE), budget_s=0.05)
    assert pool.stats.withdrawals == 1
    thread.join(30)
    deadline = time.monotonic() + 5
    while pool.idle_pids() != [pid] and pool.stats.timeouts == 0:  # the drain has read "withdrawn"
        assert time.monotonic() < deadline, (pool.stats, pool.idle_pids())
        time.sleep(0.01)
    assert pool.stats.timeouts == 0


def test_a_process_due_for_recycling_takes_no_new_page_meanwhile(monkeypatch: pytest.MonkeyPatch) -> None:
    # The memory check after each answer is made slow, to widen the moment between an answer and
    # the process being marked as retiring. A page waiting in another thread must not take the
    # freed slot of a process that is due: with recycling after every page, a process answers at
    # most its page and the one already queued behind it, so 5 pages need at least 3 processes.
    # (Marked only after the slot was freed, one process answered all 5.)
    real_rss = Process.rss_mb

    def slow_rss(process: Process) -> float:
        time.sleep(0.05)
        return real_rss(process)

    monkeypatch.setattr(Process, "rss_mb", slow_rss)
    pool = ExtractionPool(make_settings(extractors=1, max_jobs_per_extractor=1))
    pool.start()
    try:
        results = _submit_all(pool, {f"page {n}": Job(mode="html", body=_numbered_page(n)) for n in range(5)})
        for n in range(5):
            assert f"Page number {n} of the run" in results[f"page {n}"]["text"]
        assert pool.stats.recycles >= 3
    finally:
        wait_until_alive(pool, 1)
        pool.close()


def test_a_process_due_for_recycling_first_answers_the_page_queued_behind() -> None:
    pool = ExtractionPool(make_settings(extractors=1, max_jobs_per_extractor=1))  # recycle after each page
    pool.start()
    try:
        jobs = {f"page {n}": Job(mode="html", body=_numbered_page(n)) for n in range(3)}
        results = _submit_all(pool, {"slow": Job(mode="html", body=SLOW_PAGE), **jobs})
        for n in range(3):
            assert f"Page number {n} of the run" in results[f"page {n}"]["text"]
        assert pool.stats.recycles >= 2
        assert pool.stats.crashes == 0
    finally:
        wait_until_alive(pool, 1)
        pool.close()


# --- the fork server: every extraction process is a fork of one warm process ------------------


def _parent(pid: int) -> int:
    ppid: int = psutil.Process(pid).ppid()
    return ppid


def _gone(pid: int) -> bool:
    try:
        # psutil has no type information: say what its status values are.
        status: str = psutil.Process(pid).status()
        zombie: str = psutil.STATUS_ZOMBIE
        return status == zombie
    except psutil.NoSuchProcess:
        return True


def _wait_gone(pids: list[int], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return all(_gone(pid) for pid in pids)


@contextlib.contextmanager
def started_pool(**settings: Any) -> Iterator[ExtractionPool]:
    pool = ExtractionPool(make_settings(**settings))
    pool.start()
    try:
        yield pool
    finally:
        pool.close()


def test_processes_and_their_replacements_are_forks_of_one_fork_server() -> None:
    with started_pool(extractors=2) as pool:
        server = pool._forkserver.pid
        assert server is not None
        first = sorted(pool.idle_pids())
        assert [_parent(pid) for pid in first] == [server, server]
        os.kill(pool.idle_pids()[0], signal.SIGKILL)  # the one the next page goes to
        time.sleep(0.2)
        assert "ordinary article" in pool.submit(Job(mode="html", body=PAGE))[0]["text"]  # placed again
        wait_until_alive(pool, 2)
        now = sorted(pool.idle_pids())
        assert len(set(now) - set(first)) == 1
        assert [_parent(pid) for pid in now] == [server, server]
        assert pool._forkserver.pid == server  # the same server: no new import and warm-up
        assert "ordinary article" in pool.submit(Job(mode="html", body=PAGE))[0]["text"]
    assert _wait_gone([server, *now])


def test_a_dead_fork_server_is_started_again_and_running_processes_keep_serving() -> None:
    with started_pool(extractors=1) as pool:
        old_server = pool._forkserver.pid
        assert old_server is not None
        (worker,) = pool.idle_pids()
        os.kill(old_server, signal.SIGKILL)
        assert _wait_gone([old_server])
        # Its process watches the pool's process, not the server: it still answers.
        assert "ordinary article" in pool.submit(Job(mode="html", body=PAGE))[0]["text"]
        assert pool.idle_pids() == [worker]
        # The next spawn finds the server dead and starts a new one.
        os.kill(worker, signal.SIGKILL)
        time.sleep(0.2)
        # The page meant for the dead process waits for its replacement, from a new server.
        assert "ordinary article" in pool.submit(Job(mode="html", body=PAGE))[0]["text"]
        assert pool._forkserver.pid not in (None, old_server)
        assert _parent(pool.idle_pids()[0]) == pool._forkserver.pid


_OWNER = """
import sys, threading, time
from service.workers.pool import ExtractionPool
from service.workers.process import Process
from service.models import Job
from service.pipeline import Limits
from tests.conftest import make_settings
from tests.hostile_corpus import block_elements
# No element cap: this page then takes its process ~12 s (2 cores, 2026).
pool = ExtractionPool(make_settings(extractors=2, time_budget_s=600, max_elements=10**7))
pool.start()
idle, busy = pool.idle_pids()
threading.Thread(target=pool.submit, args=(Job(mode="html", body=block_elements(400_000)),)).start()
time.sleep(0.5)  # the long page has reached its process
print(pool._forkserver.pid, idle, busy, flush=True)
time.sleep(600)
"""


def test_the_fork_server_and_extraction_processes_exit_when_their_owner_dies() -> None:
    """Even the one in the middle of a page that would run for many seconds more."""
    owner = subprocess.Popen([sys.executable, "-c", _OWNER], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert owner.stdout is not None
    try:
        pids = [int(pid) for pid in owner.stdout.readline().split()]
        assert len(pids) == 3
        assert all(not _gone(pid) for pid in pids)
    finally:
        owner.kill()  # SIGKILL: no clean-up code runs in it
        owner.wait()
        owner.stdout.close()
    # The server sees its control socket close; the idle process, EOF on its job pipe; the busy
    # one, its owner's pidfd (at once: well before its page could end).
    assert _wait_gone(pids, timeout_s=3.0)


def test_close_leaves_no_process_behind() -> None:
    with started_pool(extractors=2) as pool:
        pids = [pool._forkserver.pid, *pool.idle_pids()]
    assert _wait_gone([pid for pid in pids if pid is not None])
    # A replacement racing the close does not start a new server.
    with pytest.raises(extraction_forkserver.ForkServerDown, match="closed"):
        pool._forkserver.spawn()
    assert pool._forkserver.pid is None


def test_a_refused_fork_is_reported_and_the_fork_server_keeps_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's loop run in a thread here, with a fork that always fails (EAGAIN)."""

    def no_fork() -> int:
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server = threading.Thread(target=extraction_forkserver._serve_forks, args=(theirs, {}, Limits(), os.getpid()))
    server.start()
    client = extraction_forkserver.ForkServer("{}")
    client._control = ours
    ours.settimeout(5.0)  # as ForkServer._start leaves it
    try:
        for cpu in (None, 0):  # refused twice, answered both times: the server is still there
            with pytest.raises(extraction_forkserver.ForkServerDown, match="refused"):
                client._request(cpu)
        assert server.is_alive()
    finally:
        ours.close()
        server.join(5)
        theirs.close()
    assert not server.is_alive()  # it ends when its control socket closes


def _affinity(pid: int) -> list[int]:
    return sorted(psutil.Process(pid).cpu_affinity())


@pytest.fixture
def two_cpus(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Two CPUs this process may use, made to look like all of them (so a pool of two processes
    is "one per CPU" on any machine)."""
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        pytest.skip("needs two CPUs")
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(allowed[:2]))
    return allowed[:2]


def test_one_process_per_cpu_each_pinned_to_its_own_and_a_replacement_takes_the_freed_cpu(
    two_cpus: list[int],
) -> None:
    with started_pool(extractors=2) as pool:
        pinned = pool.pinned_cpus()
        assert sorted(cpu for cpu in pinned.values() if cpu is not None) == two_cpus
        assert {pid: _affinity(pid) for pid in pinned} == {pid: [cpu] for pid, cpu in pinned.items()}
        # The process on the last CPU: a replacement that took the first free-looking CPU in
        # order, instead of the one given back, would land next to its sibling.
        (victim,) = [pid for pid, cpu in pinned.items() if cpu == two_cpus[-1]]
        os.kill(victim, signal.SIGKILL)
        time.sleep(0.2)
        # The pool finds the death when a page goes there: two pages at once, one per process
        # (the one meant for the dead process is placed again).
        threads = [
            threading.Thread(
                target=pool.submit, args=(Job(mode="html", body=HEAVY_PAGE[:200_000] + b"</div></body></html>"),)
            )
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert pool.stats.crashes == 1
        wait_until_alive(pool, 2)
        (replacement,) = set(pool.pinned_cpus()) - set(pinned)
        assert _affinity(replacement) == [two_cpus[-1]]
        assert "ordinary article" in pool.submit(Job(mode="html", body=PAGE))[0]["text"]


def test_processes_are_not_pinned_when_turned_off_or_not_one_per_cpu(two_cpus: list[int]) -> None:
    for settings in ({"extractors": 2, "pin_extractors": False}, {"extractors": 1}):
        with started_pool(**settings) as pool:
            pinned = pool.pinned_cpus()
            assert set(pinned.values()) == {None}
            assert all(_affinity(pid) == sorted(psutil.Process().cpu_affinity()) for pid in pinned)


def test_the_extraction_processes_do_not_inherit_the_api_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    # They parse untrusted pages: code run there must find no key to read (s20 audit).
    monkeypatch.setenv("CLEANER_API_KEYS", "s3cret-key")
    pool = ExtractionPool(make_settings(extractors=1))
    pool.start()
    try:
        (pid,) = pool.idle_pids()
        environment = Path(f"/proc/{pid}/environ").read_bytes()
        assert b"s3cret-key" not in environment
        assert b"PATH=" in environment  # the rest of it is inherited
    finally:
        pool.close()
