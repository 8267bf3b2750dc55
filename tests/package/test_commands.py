"""The ``pagecleaner`` command: ``serve`` plus the offline commands, the same as ``python -m service``."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import requests

from service import __version__
from service.commands import COMMANDS, main
from service.http import serve
from tests.conftest import ROOT
from tests.e2e.conftest import STARTUP_TIMEOUT_S, free_port
from tests.offline.test_cli import run_cli


def test_the_command_offers_serve_extract_batch_and_warc() -> None:
    assert [command.NAME for command in COMMANDS] == ["serve", "extract", "batch", "warc"]


def test_help_lists_every_command() -> None:
    completed = run_cli("--help")
    assert completed.returncode == 0
    for name in ("serve", "extract", "batch", "warc"):
        assert name in completed.stdout.decode()


def test_version_is_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"pagecleaner {__version__}"


def test_serve_runs_gunicorn_with_the_packaged_config() -> None:
    argv = serve.gunicorn_argv()
    assert argv[:3] == [sys.executable, "-m", "gunicorn"]
    assert argv[argv.index("--config") + 1] == "python:service.http.gunicorn_conf"
    assert argv[-1] == "service.http.wsgi:app"


def test_serve_refuses_a_bad_setting_before_starting_gunicorn() -> None:
    completed = run_cli("serve", CLEANER_EXTRACTORS="many")
    assert completed.returncode == 2
    assert "CLEANER_EXTRACTORS" in completed.stderr.decode()
    assert "gunicorn" not in completed.stderr.decode().lower()


@pytest.mark.slow
@pytest.mark.e2e
def test_serve_answers_with_the_service_config_on_the_given_port() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "CLEANER_EXTRACTORS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        answer = _wait_ready(f"http://127.0.0.1:{port}", process)
        version = requests.get(f"http://127.0.0.1:{port}/version", timeout=5)
    finally:
        process.terminate()
        process.wait(timeout=30)
    # The config's post_fork hook replaces gunicorn's banner: proof that the package's config ran.
    assert answer.headers["Server"] == "pagecleaner"
    assert version.json()["service"] == __version__


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> requests.Response:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, f"serve exited with {process.returncode}"
        try:
            answer = requests.get(url + "/readyz", timeout=5)
            if answer.status_code == 200:
                return answer
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"serve did not become ready in {STARTUP_TIMEOUT_S} s")
