"""A page whose process the container's OOM killer ends answers 422 page-too-complex, not a 500
that clients retry with the same page (s20 audit); the extraction processes are its first choice.

The kernel's kill is played by the test: a SIGKILL the pool did not send, and the cgroup's
``oom_kill`` counter (a temporary file here) one higher.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.errors import ExtractorCrashed, PageTooComplex, ServiceError, TimeBudgetExceeded
from service.models import Job
from service.workers import oom
from service.workers import pool as extraction_pool
from service.workers.pool import ExtractionPool
from tests.conftest import make_settings

# Seconds of extraction on any machine: it is still running when the test kills its process.
LONG_PAGE = b"<html><body>" + b"<div><p>Some words in a paragraph, again.</p></div>" * 20000 + b"</body></html>"
V2_EVENTS = "low 0\nhigh 0\nmax 12\noom 3\noom_kill {kills}\noom_group_kill 0\n"
V1_OOM_CONTROL = "oom_kill_disable 0\nunder_oom 0\noom_kill {kills}\n"


@pytest.fixture
def events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cgroup's memory.events the pool reads: a file the test writes (2 kills so far)."""
    path = tmp_path / "memory.events"
    path.write_text(V2_EVENTS.format(kills=2))
    monkeypatch.setattr(extraction_pool, "memory_events_path", lambda: path)
    return path


@pytest.fixture
def pool(events: Path) -> Iterator[ExtractionPool]:
    pool = ExtractionPool(make_settings(extractors=1))
    pool.start()
    yield pool
    pool.close()


def _die_during_a_page(pool: ExtractionPool, signum: int, before_death: Path | None = None) -> ServiceError | None:
    """Submit LONG_PAGE, and while it runs, count one more OOM kill in ``before_death`` (if
    given) and send ``signum`` to its process; what the page answered (None: it succeeded)."""
    outcome: list[ServiceError | None] = []

    def submit() -> None:
        try:
            pool.submit(Job(mode="html", body=LONG_PAGE))
            outcome.append(None)
        except ServiceError as error:
            outcome.append(error)

    victim = pool.idle_pids()[0]
    thread = threading.Thread(target=submit)
    thread.start()
    while pool.idle_pids():  # the page heads the process's lane
        time.sleep(0.001)
    time.sleep(0.05)  # and the process is extracting it
    if before_death is not None:
        before_death.write_text(V2_EVENTS.format(kills=3))
    os.kill(victim, signum)
    thread.join(30)
    return outcome[0]


def test_a_process_the_oom_killer_ends_answers_page_too_complex(pool: ExtractionPool, events: Path) -> None:
    assert isinstance(_die_during_a_page(pool, signal.SIGKILL, before_death=events), PageTooComplex)
    assert (pool.stats.oom_kills, pool.stats.crashes) == (1, 0)


def test_a_sigkill_without_an_oom_kill_is_still_a_crash(pool: ExtractionPool) -> None:
    assert isinstance(_die_during_a_page(pool, signal.SIGKILL), ExtractorCrashed)
    assert (pool.stats.oom_kills, pool.stats.crashes) == (0, 1)


def test_the_pools_own_kill_at_the_time_budget_stays_a_timeout(events: Path) -> None:
    events.write_text(V2_EVENTS.format(kills=5))  # kills the pool has not accounted for
    pool = ExtractionPool(make_settings(extractors=1, time_budget_s=0.2))
    events.write_text(V2_EVENTS.format(kills=6))
    pool.start()
    try:
        with pytest.raises(TimeBudgetExceeded):
            pool.submit(Job(mode="html", body=LONG_PAGE))
        assert (pool.stats.timeouts, pool.stats.oom_kills) == (1, 0)
    finally:
        pool.close()


def test_extraction_processes_are_the_oom_killers_first_choice(pool: ExtractionPool) -> None:
    pid = pool.idle_pids()[0]
    assert Path(f"/proc/{pid}/oom_score_adj").read_text().strip() == str(oom.OOM_SCORE_ADJ)
    assert Path("/proc/self/oom_score_adj").read_text().strip() != str(oom.OOM_SCORE_ADJ)  # not the web worker


# -- reading the cgroup's counter ---------------------------------------------------------------


@pytest.mark.parametrize("text", [V2_EVENTS, V1_OOM_CONTROL], ids=["v2-memory.events", "v1-memory.oom_control"])
def test_the_oom_kill_count_is_read_from_either_cgroup_version(tmp_path: Path, text: str) -> None:
    events = tmp_path / "events"
    events.write_text(text.format(kills=7))
    assert oom.oom_kills(events) == 7


def test_no_counter_reads_as_none(tmp_path: Path) -> None:
    assert oom.oom_kills(tmp_path / "missing") is None
    (tmp_path / "other").write_text("low 0\nhigh 0\n")
    assert oom.oom_kills(tmp_path / "other") is None


def test_each_oom_kill_is_accounted_for_once(tmp_path: Path) -> None:
    events = tmp_path / "memory.events"
    events.write_text(V2_EVENTS.format(kills=4))
    counter = oom.OomKillCounter(events)  # kills before it was made are not its own
    assert not counter.new_kill()
    events.write_text(V2_EVENTS.format(kills=6))  # two processes killed at once
    assert (counter.new_kill(), counter.new_kill(), counter.new_kill()) == (True, True, False)
    assert not oom.OomKillCounter(None).new_kill()  # no cgroup: never an OOM kill


def _cgroup_tree(root: Path, *files: str) -> None:
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(V2_EVENTS.format(kills=0))


@pytest.mark.parametrize(
    ("proc_cgroup", "files", "found"),
    [
        ("0::/kubepods/pod1/c1\n", ["kubepods/pod1/c1/memory.events"], "kubepods/pod1/c1/memory.events"),
        ("0::/\n", ["memory.events"], "memory.events"),  # a container with its own cgroup namespace
        (
            "4:memory:/libpod_parent/libpod-1\n0::/\n",  # cgroup v1 (hybrid), no cgroup namespace
            ["memory/memory.oom_control"],
            "memory/memory.oom_control",
        ),
        (
            "4:memory:/a/b\n1:cpu:/\n0::/\n",
            ["memory/a/b/memory.oom_control", "memory/memory.oom_control"],
            "memory/a/b/memory.oom_control",
        ),
        ("0::/x\n", [], None),  # no memory controller mounted
    ],
)
def test_the_counter_is_found_through_proc_self_cgroup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, proc_cgroup: str, files: list[str], found: str | None
) -> None:
    monkeypatch.setattr(oom, "CGROUP_ROOT", tmp_path / "cgroup")
    _cgroup_tree(tmp_path / "cgroup", *files)
    (tmp_path / "cgroup-file").write_text(proc_cgroup)
    expected = None if found is None else tmp_path / "cgroup" / found
    assert oom.memory_events_path(tmp_path / "cgroup-file") == expected
