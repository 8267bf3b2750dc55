"""The container image builds, runs as non-root, becomes healthy and cleans a page over HTTP.

Uses podman and the image built by the session fixtures of tests/e2e/conftest.py (set up as
tests/e2e/podman.py says; skipped with the reason when podman cannot be set up here).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from tests.e2e.conftest import ROOT, free_port
from tests.e2e.podman import Podman
from tests.http.test_fixtures import check_answer

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.timeout(1200)]

# gunicorn start plus one warm extraction process per core, inside the container.
READY_TIMEOUT_S = 120.0
APP_UID = "10001"
CASE = ROOT / "fixtures" / "text-seed-news-recent-posts"
EXPECTED_TITLE = (
    "Regulators recommend that Chinese developers abandon Nvidia accelerators in favor of Chinese analogues"
)


@dataclass
class Container:
    name: str
    url: str


@pytest.fixture(scope="module")
def container(podman: Podman, service_image: str) -> Iterator[Container]:
    port = free_port()
    name = f"pagecleaner-e2e-{uuid.uuid4().hex[:8]}"
    try:
        yield Container(name=name, url=podman.start_service(service_image, name, port, READY_TIMEOUT_S))
    finally:
        podman.run("rm", "--force", "--time", "10", name)  # stops, then removes
        assert podman.run("container", "exists", name).returncode == 1, f"{name} was not removed"


# The effective uid of every process in the container (no ps in slim images).
_EFFECTIVE_UIDS = (
    "import pathlib\n"
    "for status in pathlib.Path('/proc').glob('[0-9]*/status'):\n"
    "    try: print(next(l.split()[2] for l in status.read_text().splitlines() if l.startswith('Uid:')))\n"
    "    except OSError: pass\n"
)


def test_container_cleans_a_fixture_over_http(container: Container) -> None:
    response = requests.post(
        container.url + "/v1/extract",
        data=(CASE / "input.txt").read_bytes(),
        params={"explain": "true"},
        headers={"Content-Type": "text/plain; charset=utf-8"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["title"] == EXPECTED_TITLE
    assert answer["authors"] == ["admin"]
    check_answer(answer, json.loads((CASE / "expected.json").read_text(encoding="utf-8")))


def test_container_health_endpoints(container: Container) -> None:
    assert requests.get(container.url + "/healthz", timeout=5).json() == {"status": "ok"}
    ready = requests.get(container.url + "/readyz", timeout=5).json()
    assert ready == {"status": "ready", "extractors": 2}


def test_service_runs_as_non_root(podman: Podman, container: Container, service_image: str) -> None:
    assert podman.run("exec", container.name, "id", "-u").stdout.strip() == APP_UID
    user = podman.run("image", "inspect", "--format", "{{.Config.User}}", service_image).stdout.strip()
    assert user == f"{APP_UID}:{APP_UID}"
    # Every process in the container, gunicorn's workers and the extraction processes included.
    listed = podman.run("exec", container.name, "python3", "-c", _EFFECTIVE_UIDS)
    uids = listed.stdout.split()
    assert len(uids) >= 3, listed.stdout + listed.stderr  # arbiter, web worker, extractors
    assert set(uids) == {APP_UID}


def test_image_healthcheck_passes(podman: Podman, container: Container, service_image: str) -> None:
    check = json.loads(podman.run("image", "inspect", "--format", "{{json .Config.Healthcheck}}", service_image).stdout)
    assert check["Test"][:2] == ["CMD", "python3"]
    assert "/healthz" in check["Test"][-1]
    ran = podman.run("healthcheck", "run", container.name)
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_container_environment_defaults(podman: Podman, container: Container) -> None:
    env = dict(
        line.split("=", 1) for line in podman.run("exec", container.name, "env").stdout.splitlines() if "=" in line
    )
    assert env["HOST"] == "0.0.0.0"
    assert env["CLEANER_ALLOW_OPEN"] == "1"


def test_cli_runs_in_the_image(podman: Podman, container: Container) -> None:
    # The package's command, from a working directory other than the code's.
    ran = podman.run(
        "exec", "-i", "--workdir", "/tmp", container.name, "pagecleaner", "extract", "--text", "-",
        stdin=(CASE / "input.txt").read_bytes(),
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    answer = json.loads(ran.stdout)
    assert answer["title"] == EXPECTED_TITLE
    assert answer["authors"] == ["admin"]
