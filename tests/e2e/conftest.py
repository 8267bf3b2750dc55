"""A real gunicorn server on a free port, started once per test session (end-to-end tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from service.http import serve
from tests.e2e.podman import CHECKOUT_TAG, Podman, prepare_podman

ROOT = Path(__file__).resolve().parents[2]
# Starting gunicorn, importing trafilatura in each extraction process and warming up.
STARTUP_TIMEOUT_S = 60.0


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(tmp_dir: Path, **env_overrides: str) -> LiveServer:
    port = free_port()
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "CLEANER_EXTRACTORS": "2",
        **env_overrides,
    }
    log_path = tmp_dir / f"gunicorn-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            serve.gunicorn_argv(),  # what `pagecleaner serve` runs, without its settings check
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{server.log()}")
        try:
            if requests.get(server.url + "/readyz", timeout=5).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise RuntimeError(f"gunicorn did not become ready in {STARTUP_TIMEOUT_S} s:\n{server.log()}")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("server"))
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def podman() -> Podman:
    return prepare_podman()


@pytest.fixture(scope="session")
def service_image(podman: Podman) -> str:
    """The service's image, built once per test session from this checkout's Dockerfile."""
    return podman.build(f"localhost/pagecleaner:e2e-{CHECKOUT_TAG}", ROOT)
