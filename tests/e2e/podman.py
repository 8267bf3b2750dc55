"""podman for the container tests: set up through container-env.sh, images built, commands run.

There is no Docker engine on these machines and no registry: /work/shared/tools/container-env.sh
installs podman with apt when it is missing and imports a local stand-in for python:3.11-slim.
The tests prepare their own tools this way, and are skipped (with the reason) only when that
preparation fails, e.g. without root or apt.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

CONTAINER_ENV = Path(os.environ.get("CONTAINER_ENV_SCRIPT", "/work/shared/tools/container-env.sh"))
# First run installs podman and bootstraps the base image (~2 minutes), then pip installs.
SETUP_TIMEOUT_S = 900.0
BUILD_TIMEOUT_S = 900.0
# Image tags are global to the machine: one per checkout, so two worktrees never build over each
# other's image while the other's test runs it.
CHECKOUT_TAG = hashlib.sha256(str(Path(__file__).resolve().parents[2]).encode()).hexdigest()[:8]


@dataclass
class Podman:
    command: list[str]
    base_image: str
    host_ca: str

    def run(self, *args: str, timeout: float = 120.0, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.command, *args],
            input=stdin.decode() if stdin is not None else None,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def build(self, tag: str, context: Path) -> str:
        """Builds ``context``'s Dockerfile on the stand-in base image as ``tag``; returns the tag."""
        started = time.monotonic()
        built = self.run(
            "build",
            "--format", "docker",  # OCI images drop HEALTHCHECK
            "--from", self.base_image,  # stand-in for python:3.11-slim: no registry here
            "--network", "host",
            "-v", f"{self.host_ca}:{self.host_ca}:ro",
            "-t", tag,
            str(context),
            timeout=BUILD_TIMEOUT_S,
        )  # fmt: skip
        assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
        print(f"\nbuild of {tag}: {time.monotonic() - started:.1f} s")
        return tag

    def wait_ready(self, url: str, container: str, timeout_s: float) -> None:
        """Returns once ``url``/readyz answers 200; fails with the container's logs if it exits first."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if requests.get(url + "/readyz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            state = self.run("container", "inspect", "--format", "{{.State.Running}}", container)
            if state.stdout.strip() != "true":
                break  # exited: its logs say why
            time.sleep(0.5)
        logs = self.logs(container)[-4000:]
        pytest.fail(f"{container} did not become ready at {url} in {timeout_s} s:\n{logs}")

    def start_service(
        self, image: str, name: str, port: int, ready_timeout_s: float, extractors: int = 2, *run_options: str
    ) -> str:
        """Runs ``image`` detached as ``name`` on the host's network at ``port`` with ``extractors``
        extraction processes (and ``run_options`` for ``podman run``); returns its URL once it is ready."""
        started = self.run(
            "run", "--detach", "--network", "host", "--name", name,
            "-e", f"PORT={port}", "-e", f"CLEANER_EXTRACTORS={extractors}", *run_options,
            image,
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        url = f"http://127.0.0.1:{port}"
        self.wait_ready(url, name, ready_timeout_s)
        return url

    def logs(self, container: str) -> str:
        logged = self.run("logs", container)
        return logged.stdout + logged.stderr


def prepare_podman() -> Podman:
    """podman, set up by container-env.sh; skips the calling test when that is impossible here."""
    if not CONTAINER_ENV.exists():
        pytest.skip(f"{CONTAINER_ENV} is missing: no way to set up podman on this machine")
    prepared = subprocess.run(
        [str(CONTAINER_ENV)], capture_output=True, text=True, timeout=SETUP_TIMEOUT_S, check=False
    )
    if prepared.returncode != 0:
        pytest.skip(f"podman could not be set up by {CONTAINER_ENV}:\n{prepared.stderr[-2000:]}")
    printed = subprocess.run(
        [
            "bash",
            "-c",
            f'source <({shlex.quote(str(CONTAINER_ENV))} --print-env) && printf "%s\\0" '
            '"$PODMAN" "$BASE_IMAGE" "$HOST_CA"',
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    command, base_image, host_ca = printed.stdout.split("\0")[:3]
    return Podman(command=shlex.split(command), base_image=base_image, host_ca=host_ca)
