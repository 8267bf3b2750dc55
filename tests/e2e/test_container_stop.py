"""``podman stop`` on an idle container: gunicorn (PID 1) exits on SIGTERM by itself, quickly,
with status 0, never killed by the runtime's SIGKILL (137) after its 10 s (issue 24 item 13)."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.e2e.conftest import free_port
from tests.e2e.podman import Podman
from tests.e2e.test_shutdown import IDLE_SHUTDOWN_S

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.timeout(1200)]

READY_TIMEOUT_S = 120.0
# What `podman stop` itself adds around the server's own exit (signal delivery, state updates).
PODMAN_OVERHEAD_S = 1.0


def test_podman_stop_of_an_idle_container_exits_cleanly_within_two_seconds(podman: Podman, service_image: str) -> None:
    port = free_port()
    name = f"pagecleaner-stop-{uuid.uuid4().hex[:8]}"
    try:
        podman.start_service(service_image, name, port, READY_TIMEOUT_S)
        began = time.monotonic()
        stopped = podman.run("stop", "--time", "10", name)
        elapsed = time.monotonic() - began
        assert stopped.returncode == 0, stopped.stderr
        code = podman.run("container", "inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
        logs = podman.logs(name)[-3000:]
    finally:
        podman.run("rm", "--force", "--time", "0", name)
    assert code == "0", f"exit code {code} (137: SIGKILLed)\n{logs}"
    assert elapsed < IDLE_SHUTDOWN_S + PODMAN_OVERHEAD_S, f"{elapsed:.2f} s\n{logs}"
