"""deploy/kubernetes/pod.yaml runs under `podman kube play`: the crawler gets its article from the sidecar.

The images are built from this checkout (the service's Dockerfile and deploy/crawler/), the
Secret's key is a fresh random one, and the manifest is played as written but for what
`played_manifest` changes so that runs on one machine cannot collide (names, images, the host
port podman publishes).
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import yaml

from tests.e2e.conftest import ROOT, free_port
from tests.e2e.podman import CHECKOUT_TAG, Podman
from tests.http.test_fixtures import check_answer
from tests.test_deploy_manifests import CLEANER, CRAWLER, container, env, mebibytes

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.timeout(1200)]

POD_MANIFEST = ROOT / "deploy" / "kubernetes" / "pod.yaml"
SECRET_MANIFEST = ROOT / "deploy" / "kubernetes" / "secret.yaml"
CRAWLER_CONTEXT = ROOT / "deploy" / "crawler"
CASE = ROOT / "fixtures" / "html-seed-wordpress-news"
# The crawler waits for the sidecar's /readyz (gunicorn start, one warm-up page per extraction
# process: ~5 s here, more while other tests load the machine), then cleans one page.
CRAWL_TIMEOUT_S = 180.0


@dataclass
class PlayedPod:
    name: str
    manifest: dict[str, Any]
    url: str  # the sidecar as podman publishes it on the host
    api_key: str

    def container(self, name: str) -> str:
        return f"{self.name}-{name}"  # podman kube play's naming


def played_manifest(
    manifest: dict[str, Any], suffix: str, images: dict[str, str], secret_name: str, host_port: int
) -> dict[str, Any]:
    """The manifest with only what a shared machine needs changed, each for the reason given."""
    played = copy.deepcopy(manifest)
    played["metadata"]["name"] += f"-{suffix}"  # pods are global to the machine
    for spec in played["spec"]["containers"]:
        spec["image"] = images[spec["name"]]  # built here: no registry
        for item in spec["env"]:
            if "secretKeyRef" in item.get("valueFrom", {}):
                item["valueFrom"]["secretKeyRef"]["name"] = secret_name  # secrets are global too
    # podman (4.3) publishes every containerPort on the host at the same number, where 8080 may
    # be taken; Kubernetes publishes none. A free host port also lets the test call the sidecar.
    for port in container(CLEANER, played)["ports"]:
        port["hostPort"] = host_port
    return played


def podman_secret(secret: dict[str, Any], api_key: str) -> bytes:
    """The Secret as the podman secret a secretKeyRef reads: a JSON object of base64 values.

    podman 4.3 cannot read back a Secret that `kube play` stored from YAML (it stores the YAML
    and parses JSON); later versions read both forms.
    """
    return json.dumps({key: base64.b64encode(api_key.encode()).decode() for key in secret["stringData"]}).encode()


@pytest.fixture(scope="module")
def crawler_image(podman: Podman) -> str:
    return podman.build(f"localhost/pagecleaner-crawler:e2e-{CHECKOUT_TAG}", CRAWLER_CONTEXT)


@pytest.fixture(scope="module")
def pod(
    podman: Podman, service_image: str, crawler_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlayedPod]:
    suffix = uuid.uuid4().hex[:8]
    api_key = secrets.token_hex(32)
    secret = yaml.safe_load(SECRET_MANIFEST.read_text())
    secret_name = f"{secret['metadata']['name']}-{suffix}"
    created = podman.run("secret", "create", secret_name, "-", stdin=podman_secret(secret, api_key))
    assert created.returncode == 0, created.stderr
    host_port = free_port()
    manifest = played_manifest(
        yaml.safe_load(POD_MANIFEST.read_text()),
        suffix,
        {CLEANER: service_image, CRAWLER: crawler_image},
        secret_name,
        host_port,
    )
    path = tmp_path_factory.mktemp("pod") / "pod.yaml"
    path.write_text(yaml.safe_dump(manifest))
    try:
        played = podman.run("kube", "play", str(path), timeout=300)
        assert played.returncode == 0, played.stdout + played.stderr
        yield PlayedPod(manifest["metadata"]["name"], manifest, f"http://127.0.0.1:{host_port}", api_key)
    finally:
        started = time.monotonic()
        podman.run("kube", "down", str(path), timeout=120)  # SIGTERM, the grace period, removal
        print(f"\nkube down: {time.monotonic() - started:.1f} s")
        podman.run("secret", "rm", secret_name)
        assert podman.run("pod", "exists", manifest["metadata"]["name"]).returncode == 1, "the pod was not removed"


def wait_exited(podman: Podman, container: str, timeout_s: float) -> int:
    """The container's first exit code (restartPolicy OnFailure restarts it after a failure)."""
    state_format = "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status, code, restarts = podman.run("container", "inspect", "--format", state_format, container).stdout.split()
        if int(restarts) > 0:
            return 1  # it failed at least once; its logs say why
        if status == "exited":
            return int(code)
        time.sleep(1)
    pytest.fail(f"{container} still runs after {timeout_s} s:\n{podman.logs(container)}")


def test_crawler_gets_the_article_from_its_sidecar(podman: Podman, pod: PlayedPod) -> None:
    crawler = pod.container(CRAWLER)
    code = wait_exited(podman, crawler, CRAWL_TIMEOUT_S)
    printed = podman.run("logs", crawler)
    cleaner_log = podman.logs(pod.container(CLEANER))[-3000:]
    assert code == 0, printed.stdout + printed.stderr + "\n--- sidecar:\n" + cleaner_log
    answers = [json.loads(line) for line in printed.stdout.splitlines() if line.startswith("{")]
    assert [answer["page"] for answer in answers] == ["seed-wordpress-news.html"]
    expected = json.loads((CASE / "expected.json").read_text(encoding="utf-8"))
    # `removed` needs ?explain=true, which the crawler does not ask for.
    check_answer(answers[0], {rule: value for rule, value in expected.items() if rule != "removed"})


def test_sidecar_takes_its_key_from_the_secret(podman: Podman, pod: PlayedPod) -> None:
    page = (CASE / "input.html").read_bytes()
    html = {"Content-Type": "text/html; charset=utf-8"}
    podman.wait_ready(pod.url, pod.container(CLEANER), CRAWL_TIMEOUT_S)
    assert requests.post(pod.url + "/v1/extract", data=page, headers=html, timeout=30).status_code == 401
    wrong = {**html, "Authorization": "Bearer " + secrets.token_hex(32)}
    assert requests.post(pod.url + "/v1/extract", data=page, headers=wrong, timeout=30).status_code == 401
    keyed = {**html, "Authorization": f"Bearer {pod.api_key}"}
    assert requests.post(pod.url + "/v1/extract", data=page, headers=keyed, timeout=30).status_code == 200
    # The probes' paths need no key: the kubelet has none.
    assert requests.get(pod.url + "/healthz", timeout=5).status_code == 200


def test_sidecar_runs_with_the_manifests_limits(podman: Podman, pod: PlayedPod) -> None:
    spec = container(CLEANER, pod.manifest)
    extractors = int(env(spec)["CLEANER_EXTRACTORS"])
    podman.wait_ready(pod.url, pod.container(CLEANER), CRAWL_TIMEOUT_S)
    assert requests.get(pod.url + "/readyz", timeout=5).json() == {"status": "ready", "extractors": extractors}
    cleaner = pod.container(CLEANER)
    inspected = podman.run(
        "container", "inspect", "--format",
        "{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}} {{.HostConfig.ReadonlyRootfs}} {{.Config.User}}",
        cleaner,
    )  # fmt: skip
    nano_cpus, memory, read_only, user = inspected.stdout.split()
    limits = spec["resources"]["limits"]
    assert int(nano_cpus) == int(float(limits["cpu"]) * 1e9) == extractors * 10**9
    assert int(memory) == mebibytes(limits["memory"]) * 2**20
    assert (read_only, user) == ("true", str(spec["securityContext"]["runAsUser"]))
    used = podman.run("stats", "--no-stream", "--format", "{{.MemUsage}}", cleaner).stdout.strip()
    print(f"\nsidecar memory after the crawl: {used}")
