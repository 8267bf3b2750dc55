"""The real service of ``bench/load.py``: gunicorn started on a free port, its processes, their RSS.

``run_server`` starts the service as ``make run`` does (from this checkout or another one, for
``bench/compare_serving.py``) and yields a ``Server`` once ``/readyz`` passes; ``RssMonitor``
samples the memory of its processes. Separate from ``bench/load.py`` because it is the service's
lifecycle alone: it measures nothing and sends no load (that is ``bench/load_http.py``).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.load_mix import ROOT, MixPage

READY_TIMEOUT_S = 60.0
READY_POLL_S = 0.05
RSS_SAMPLE_S = 0.25
HTTP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
MB = 2**20


# --- the real service ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_request(host: str, port: int, target: str, body: bytes, content_type: str) -> bytes:
    """The bytes of one keep-alive POST (built once per page, not per request)."""
    head = (
        f"POST {target} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nAccept-Encoding: identity\r\n\r\n"
    )
    return head.encode("latin-1") + body


@dataclass
class Server:
    popen: subprocess.Popen[bytes]
    port: int
    startup_s: float
    log_path: Path

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def request(
        self, method: str, target: str, body: bytes | None = None, ctype: str | None = None
    ) -> tuple[int, bytes, dict[str, str]]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=HTTP_TIMEOUT_S)
        try:
            conn.request(method, target, body=body, headers={"Content-Type": ctype} if ctype else {})
            response = conn.getresponse()
            return response.status, response.read(), dict(response.getheaders())
        finally:
            conn.close()

    def post_bytes(self, page: MixPage, body: bytes | None = None) -> bytes:
        """``page`` (or ``body`` in its place) as a POST to this server, for ``LeanConnection``."""
        content = page.body if body is None else body
        return build_request(self.host, self.port, page.target(), content, page.content_type)

    def processes(self) -> ServerProcesses:
        """The server's processes alive now, by role."""
        found = ServerProcesses([], [], [])
        try:
            found.web.extend(psutil.Process(self.popen.pid).children())
        except psutil.Error:
            return found
        for worker in found.web:
            with contextlib.suppress(psutil.Error):
                found.fork_servers.extend(worker.children())
        for fork_server in found.fork_servers:
            with contextlib.suppress(psutil.Error):
                found.extractors.extend(fork_server.children())
        return found


@dataclass
class ServerProcesses:
    """gunicorn's web workers; each one's extraction fork server; the extraction processes (its
    children)."""

    web: list[psutil.Process]
    fork_servers: list[psutil.Process]
    extractors: list[psutil.Process]

    def roles(self) -> list[tuple[str, list[psutil.Process]]]:
        return [("web", self.web), ("fork server", self.fork_servers), ("extractor", self.extractors)]


def wsgi_app(root: Path) -> str:
    """The WSGI app of checkout ``root``: ``service.http.wsgi:app``, or ``service.wsgi:app`` in
    checkouts from before issue 23's layout (``bench/compare_serving.py`` runs older tags)."""
    return "service.http.wsgi:app" if (root / "service" / "http" / "wsgi.py").exists() else "service.wsgi:app"


def gunicorn_config(root: Path) -> str:
    """gunicorn's ``--config`` for checkout ``root``: the packaged module, or the root file of older tags."""
    packaged = root / "service" / "http" / "gunicorn_conf.py"
    return "python:service.http.gunicorn_conf" if packaged.exists() else "gunicorn.conf.py"


@contextlib.contextmanager
def run_server(
    env_overrides: dict[str, str],
    log_dir: Path,
    root: Path = ROOT,
    command_for_port: Callable[[int], list[str]] | None = None,
) -> Iterator[Server]:
    """gunicorn as ``make run`` starts it from checkout ``root`` (or ``command_for_port(port)``),
    on a free port; yields once ``/readyz`` passes."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEANER_")}
    env.update({"HOST": "127.0.0.1", "PORT": str(port), **env_overrides})
    log_path = log_dir / f"gunicorn-{port}.log"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = (
        command_for_port(port)
        if command_for_port
        else [str(gunicorn), "--config", gunicorn_config(root), wsgi_app(root)]
    )
    with log_path.open("wb") as log:
        started = time.perf_counter()
        popen = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            startup = wait_ready(popen, port, started)
            yield Server(popen, port, startup, log_path)
        finally:
            popen.send_signal(signal.SIGTERM)
            try:
                popen.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait()


def wait_ready(popen: subprocess.Popen[bytes], port: int, started: float) -> float:
    deadline = started + READY_TIMEOUT_S
    while time.perf_counter() < deadline:
        if popen.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {popen.returncode} before /readyz passed")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/readyz")
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(READY_POLL_S)
    raise RuntimeError(f"/readyz did not pass within {READY_TIMEOUT_S:g} s")


class RssMonitor:
    """Samples the RSS of every web worker and extraction process; keeps each pid's peak."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.peak: dict[int, float] = {}
        self.role: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> RssMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sample()
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(RSS_SAMPLE_S):
            self.sample()

    def sample(self) -> None:
        for role, group in self.server.processes().roles():
            for proc in group:
                with contextlib.suppress(psutil.Error):
                    rss = max(proc.memory_info().rss, _vm_hwm(proc.pid)) / MB
                    self.peak[proc.pid] = max(self.peak.get(proc.pid, 0.0), rss)
                    self.role[proc.pid] = role

    def peaks(self, role: str) -> list[float]:
        return sorted((mb for pid, mb in self.peak.items() if self.role[pid] == role), reverse=True)


def _vm_hwm(pid: int) -> int:
    """The kernel's peak resident set of ``pid`` in bytes (0 when unavailable)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0
