"""The CLI refuses a bad command line before any work, and fails with a problem, never a traceback.

Found by the s20 audit (/work/runs/s20/cli/findings.md): ``batch X X`` emptied X, flag values out
of range exited 1 (or were accepted), and full disks, closed pipes and Ctrl-C printed tracebacks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from service.offline.cli.common import EXIT_INTERRUPTED, EXIT_PIPE_CLOSED, EXIT_REJECTED, EXIT_USAGE
from service.offline.warc.writer import Response, write_warc
from tests.conftest import ROOT
from tests.http.test_extract_api import ARTICLE
from tests.offline.test_cli import SEED, problem_of, run_cli, write_lines

PAGE = str(SEED / "input.txt")
DEV_FULL = Path("/dev/full")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return write_lines(tmp_path / "in.jsonl", [{"id": 1, "html": ARTICLE}, {"id": 2, "html": ARTICLE}])


@pytest.mark.parametrize("link", ["same", "symlink", "hardlink"])
def test_batch_refuses_an_output_that_is_its_input_and_keeps_the_input(source: Path, tmp_path: Path, link: str) -> None:
    """Opening OUT truncated IN before a line was read: the input was lost, exit 0."""
    before = source.read_bytes()
    output = source
    if link == "symlink":
        output = tmp_path / "out.jsonl"
        output.symlink_to(source)
    elif link == "hardlink":
        output = tmp_path / "out.jsonl"
        os.link(source, output)
    completed = run_cli("batch", str(source), str(output))
    assert completed.returncode == EXIT_USAGE, completed.stderr
    problem = problem_of(completed)
    assert problem["code"] == "output-is-input"
    assert problem["instance"] == str(output)
    assert source.read_bytes() == before


def test_batch_refuses_an_output_that_is_its_standard_input(source: Path) -> None:
    before = source.read_bytes()
    with source.open("rb") as stdin:
        completed = subprocess.run(
            [sys.executable, "-m", "service", "batch", "-", str(source)],
            cwd=ROOT,
            stdin=stdin,
            capture_output=True,
            timeout=60,
            check=False,
        )
    assert completed.returncode == EXIT_USAGE
    assert source.read_bytes() == before


def _warc(tmp_path: Path) -> str:
    path = tmp_path / "a.warc.gz"
    write_warc(str(path), [Response("https://a.example/", ARTICLE.encode())])
    return str(path)


@pytest.mark.parametrize(
    ("command", "flags", "flag"),
    [
        ("extract", ["--timeout", "-1"], "--timeout"),
        ("extract", ["--budget", "5", "--timeout", "6"], "--timeout"),
        ("extract", ["--include", "[[["], "--include"),
        ("batch", ["--include", "[[["], "--include"),
        ("batch", ["--timeout", "100"], "--timeout"),
        ("batch", ["--processes", "0"], "--processes"),
        ("batch", ["--processes", "-1"], "--processes"),
        ("warc", ["--timeout", "100"], "--timeout"),
        ("warc", ["--workers", "0"], "--workers"),
        ("warc", ["--chunk-records", "0"], "--chunk-records"),
    ],
)
def test_a_flag_value_out_of_range_is_a_usage_error_naming_the_flag_before_any_work(
    source: Path, tmp_path: Path, command: str, flags: list[str], flag: str
) -> None:
    output = tmp_path / "out"
    positional = {
        "extract": [PAGE],
        "batch": [str(source), str(output)],
        "warc": [_warc(tmp_path), "--out", str(output)],
    }
    completed = run_cli(command, *positional[command], *flags)
    assert completed.returncode == EXIT_USAGE, completed.stderr
    problem = problem_of(completed)
    assert (problem["code"], problem["option"]) == ("invalid-option", flag)
    assert problem["detail"].startswith(f"{flag}: ")
    assert not output.exists()  # refused before any output was opened


def test_warc_refuses_an_out_that_is_a_file_before_starting_a_cluster(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text("not a directory")
    completed = run_cli("warc", _warc(tmp_path), "--out", str(out), "--no-progress")
    assert completed.returncode == EXIT_REJECTED, completed.stderr
    problem = problem_of(completed)
    assert (problem["code"], problem["instance"]) == ("output-unwritable", str(out))
    assert b"Dask" not in completed.stderr


@pytest.mark.skipif(not DEV_FULL.exists(), reason="needs /dev/full")
@pytest.mark.parametrize("command", ["extract", "batch"])
def test_a_full_disk_is_output_unwritable_not_a_traceback(source: Path, command: str) -> None:
    if command == "extract":
        with DEV_FULL.open("wb") as full:
            completed = subprocess.run(
                [sys.executable, "-m", "service", "extract", PAGE],
                cwd=ROOT,
                stdout=full,
                stderr=subprocess.PIPE,
                timeout=120,
                check=False,
            )
        instance = "-"
    else:
        completed = run_cli("batch", str(source), str(DEV_FULL))
        instance = str(DEV_FULL)
    assert b"Traceback" not in completed.stderr, completed.stderr.decode()
    assert completed.returncode == EXIT_REJECTED
    problem = problem_of(completed)
    assert (problem["code"], problem["instance"]) == ("output-unwritable", instance)


def test_batch_into_a_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    """``batch big.jsonl - | head -1``: a BrokenPipeError traceback before."""
    # Lines refused by validation (no id) are answered without extraction: fast, and enough of
    # them to fill the pipe's buffer once the reader is gone.
    lines = [{"html": "<p>x</p>", "padding": "p" * 400}] * 3000
    source = write_lines(tmp_path / "big.jsonl", lines)
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "batch", str(source), "-", "--processes", "1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.readline()
    process.stdout.close()
    with process.stderr:
        stderr = process.stderr.read()
    assert process.wait(timeout=60) == EXIT_PIPE_CLOSED
    assert b"Traceback" not in stderr, stderr.decode()
    assert b"Exception ignored" not in stderr


@pytest.mark.slow
def test_ctrl_c_during_batch_exits_130_quietly_leaving_no_process(tmp_path: Path) -> None:
    # Enough pages to take about 15 s on 2 processes: Ctrl-C comes while pages are in flight.
    source = write_lines(tmp_path / "in.jsonl", [{"id": n, "html": ARTICLE} for n in range(4000)])
    out = tmp_path / "out.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "batch", str(source), str(out), "--processes", "2"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, which Ctrl-C signals as a whole
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not out.exists() or out.stat().st_size == 0):
        time.sleep(0.05)  # the first 8 KiB of answers are written: the pool is at work
    os.killpg(process.pid, signal.SIGINT)
    _stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == EXIT_INTERRUPTED, stderr.decode()
    assert b"Traceback" not in stderr, stderr.decode()
    assert b"interrupted" in stderr
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _group_alive(process.pid):
        time.sleep(0.1)
    assert not _group_alive(process.pid)  # no extraction process is left behind


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True
