"""``warc --scheduler``: the same job on a real Dask cluster (a ``dask scheduler`` and two
``dask worker`` processes on loopback, started from the venv's own ``dask`` command).

This is the deployment docs/at_scale.md describes, shrunk to one machine: the workers import
this repository (PYTHONPATH) exactly as a cluster's workers must.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import free_port
from tests.offline.test_warc import build_archive, check_run, run_job

DASK = str(Path(sys.executable).with_name("dask"))
WORKERS = 2
# Scheduler start plus each worker's import of distributed; generous for a loaded machine.
CLUSTER_START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + CLUSTER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dask scheduler exited with {process.returncode}:\n{log.read_text()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"dask scheduler did not listen on {port}:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def start_cluster(tmp_path: Path, env: dict[str, str], cwd: Path) -> Iterator[str]:
    """The address of a scheduler with two single-thread workers, all on 127.0.0.1."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    processes: list[subprocess.Popen[bytes]] = []
    scheduler_log = tmp_path / "scheduler.log"
    try:
        with scheduler_log.open("wb") as log:
            processes.append(
                subprocess.Popen(
                    [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"],
                    cwd=cwd,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        _wait_for_port(port, processes[0], scheduler_log)
        for number in range(WORKERS):
            with (tmp_path / f"worker-{number}.log").open("wb") as log:
                processes.append(
                    subprocess.Popen(
                        [
                            DASK,
                            "worker",
                            address,
                            "--host",
                            "127.0.0.1",
                            "--nthreads",
                            "1",
                            "--nworkers",
                            "1",
                            "--name",
                            f"w{number}",
                            "--local-directory",
                            str(tmp_path / f"w{number}"),
                        ],
                        cwd=cwd,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        _wait_for_workers(address, WORKERS)
        yield address
    finally:
        for process in reversed(processes):
            _stop(process)


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """Workers that import this repository (PYTHONPATH), as docs/at_scale.md describes."""
    with start_cluster(tmp_path, {**os.environ, "PYTHONPATH": str(ROOT)}, ROOT) as address:
        yield address


@pytest.fixture
def bare_dask_cluster(tmp_path: Path) -> Iterator[str]:
    """Workers started by hand, elsewhere: ``service`` is not importable there (issue 24 item 15)."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with start_cluster(tmp_path, env, elsewhere) as address:
        yield address


def _wait_for_workers(address: str, count: int) -> None:
    from distributed import Client

    # distributed leaves Client.__init__ unannotated.
    with Client(address, timeout=CLUSTER_START_TIMEOUT_S) as client:  # type: ignore[no-untyped-call]
        client.wait_for_workers(count, timeout=CLUSTER_START_TIMEOUT_S)


@pytest.mark.slow
def test_the_same_job_runs_on_a_dask_cluster_through_scheduler(dask_cluster: str, tmp_path: Path) -> None:
    archive = build_archive(tmp_path / "crawl-00002.warc.gz")
    out_dir = tmp_path / "out"
    result = run_job(archive, out_dir, "--scheduler", dask_cluster)
    assert result.returncode == 0, result.stderr[-4000:]
    check_run(archive, out_dir)
    assert "Dask dashboard" in result.stderr


@pytest.mark.slow
def test_workers_that_cannot_import_the_service_get_it_shipped(bare_dask_cluster: str, tmp_path: Path) -> None:
    archive = build_archive(tmp_path / "crawl-00003.warc.gz")
    out_dir = tmp_path / "out"
    result = run_job(archive, out_dir, "--scheduler", bare_dask_cluster)
    assert result.returncode == 0, result.stderr[-4000:]
    check_run(archive, out_dir)
