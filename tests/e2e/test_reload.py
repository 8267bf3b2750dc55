"""``kill -HUP`` on the real server (a sidecar is reloaded so): no request waits for the new web workers."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import psutil
import pytest
import requests

from tests.e2e.conftest import start_server, stop_server

pytestmark = pytest.mark.e2e

# The old web workers used to stop accepting at once while the new ones still built their apps
# and warmed their extraction pools: a /healthz waited ~3 s (2 cores, idle) to over 5 s (loaded).
# Served by the old workers meanwhile, it takes milliseconds; the bound leaves room for the CPU
# the new workers' start-up takes from them.
MAX_HEALTHZ_S = 1.0
POLL_EVERY_S = 0.05
# The new workers' start-up, and the old workers' graceful stop after it (they are idle).
RELOAD_S = 60.0


def test_no_request_waits_for_the_new_web_workers_during_a_hup(tmp_path: Path) -> None:
    server = start_server(tmp_path, CLEANER_WEB_WORKERS="2")
    master = psutil.Process(server.process.pid)
    latencies: list[tuple[float, int | str]] = []
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            started = time.monotonic()
            try:
                status: int | str = requests.get(server.url + "/healthz", timeout=RELOAD_S).status_code
            except requests.RequestException as error:
                status = type(error).__name__
            latencies.append((time.monotonic() - started, status))
            done.wait(POLL_EVERY_S)

    poller = threading.Thread(target=poll)
    try:
        old = {worker.pid for worker in master.children()}
        poller.start()
        time.sleep(0.5)
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + RELOAD_S
        while old & {worker.pid for worker in master.children()} and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # and a few requests to the new workers alone
    finally:
        done.set()
        if poller.is_alive():
            poller.join()
        new = {worker.pid for worker in master.children()}
        stop_server(server)
    assert len(new) == 2, server.log()
    assert not new & old, f"the web workers were not replaced: {old} -> {new}\n{server.log()}"
    assert {status for _, status in latencies} == {200}
    slowest = max(seconds for seconds, _ in latencies)
    assert slowest < MAX_HEALTHZ_S, f"a /healthz took {slowest:.2f} s\n{server.log()}"
