"""The deployment files agree with each other and with the docs: pod, Secret, compose, crawler.

Read as YAML and text only (fast); tests/e2e/test_sidecar_pod.py runs the pod for real.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
POD = yaml.safe_load((DEPLOY / "kubernetes" / "pod.yaml").read_text())
SECRET = yaml.safe_load((DEPLOY / "kubernetes" / "secret.yaml").read_text())
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
CRAWLER_SCRIPT = DEPLOY / "crawler" / "crawler.py"
CLEANER, CRAWLER = "pagecleaner", "crawler"
# Sizing rule of docs/container.md: gunicorn's arbiter and web worker with the answer cache,
# plus CLEANER_EXTRACTOR_RSS_MB (default 512: the RSS above which a process is recycled) per
# extraction process.
BASE_MEMORY_MB = 300
EXTRACTOR_RSS_MB = 512
DOCS = [ROOT / "README.md", ROOT / "docs" / "container.md"]
# Variables the crawler, not the service, reads; the rest of a sidecar example's are the service's.
CRAWLER_VARIABLES = {"PAGECLEANER_URL", "PAGECLEANER_API_KEY"}
# A command line of an example (prose that names a command starts otherwise).
RUN_COMMAND = re.compile(r"^\s*(?:docker|podman|\$PODMAN) run .*$", flags=re.MULTILINE)


def container(name: str, pod: dict[str, Any] = POD) -> dict[str, Any]:
    return next(c for c in pod["spec"]["containers"] if c["name"] == name)


def env(spec: dict[str, Any]) -> dict[str, Any]:
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in spec.get("env", [])}


def mebibytes(quantity: str) -> int:
    """Kubernetes (1536Mi, 2Gi) and Compose (1536m, 2g) memory quantities, in MiB."""
    number, unit = re.fullmatch(r"(\d+)([A-Za-z]*)", quantity).groups()  # type: ignore[union-attr]
    return int(number) * {"Mi": 1, "m": 1, "Gi": 1024, "g": 1024}[unit]


def test_sidecar_extractors_match_its_cpu_limit() -> None:
    cleaner = container(CLEANER)
    extractors = int(env(cleaner)["CLEANER_EXTRACTORS"])
    assert int(cleaner["resources"]["limits"]["cpu"]) == extractors
    assert int(cleaner["resources"]["requests"]["cpu"]) == extractors


def test_sidecar_memory_limit_covers_every_extraction_process() -> None:
    cleaner = container(CLEANER)
    extractors = int(env(cleaner)["CLEANER_EXTRACTORS"])
    limit_mib = mebibytes(cleaner["resources"]["limits"]["memory"])
    assert limit_mib * 2**20 >= (BASE_MEMORY_MB + extractors * EXTRACTOR_RSS_MB) * 10**6


def test_pod_is_guaranteed_qos() -> None:
    for spec in POD["spec"]["containers"]:
        assert spec["resources"]["requests"] == spec["resources"]["limits"], spec["name"]


def test_sidecar_probes_liveness_on_healthz_and_readiness_on_readyz() -> None:
    cleaner = container(CLEANER)
    port = int(env(cleaner)["PORT"])
    assert [p["containerPort"] for p in cleaner["ports"]] == [port]
    probes = {kind: cleaner[kind]["httpGet"] for kind in ("livenessProbe", "readinessProbe", "startupProbe")}
    assert {kind: probe["path"] for kind, probe in probes.items()} == {
        "livenessProbe": "/healthz",
        "readinessProbe": "/readyz",
        "startupProbe": "/readyz",
    }
    assert {probe["port"] for probe in probes.values()} == {port}  # a number: podman reads no names


def test_both_containers_take_the_key_from_the_secret() -> None:
    reference = {"name": SECRET["metadata"]["name"], "key": next(iter(SECRET["stringData"]))}
    assert env(container(CLEANER))["CLEANER_API_KEYS"] == {"secretKeyRef": reference}
    assert env(container(CRAWLER))["PAGECLEANER_API_KEY"] == {"secretKeyRef": reference}
    assert env(container(CLEANER))["CLEANER_ALLOW_OPEN"] == "0"  # no key: no start


def test_crawler_calls_the_sidecar_on_localhost() -> None:
    port = env(container(CLEANER))["PORT"]
    assert env(container(CRAWLER))["PAGECLEANER_URL"] == f"http://127.0.0.1:{port}"


def test_compose_names_the_same_variables_port_and_limits_as_the_pod() -> None:
    services = COMPOSE["services"]
    for name in (CLEANER, CRAWLER):
        pod_env = env(container(name))
        compose_env = services[name]["environment"]
        assert set(compose_env) == set(pod_env)
        plain = {key: value for key, value in pod_env.items() if isinstance(value, str)}
        assert {key: compose_env[key] for key in plain} == plain
    assert (
        services[CLEANER]["environment"]["CLEANER_API_KEYS"] == services[CRAWLER]["environment"]["PAGECLEANER_API_KEY"]
    )
    assert services[CLEANER]["ports"] == [
        f"127.0.0.1:{env(container(CLEANER))['PORT']}:{env(container(CLEANER))['PORT']}"
    ]
    assert services[CRAWLER]["network_mode"] == f"service:{CLEANER}"  # localhost, as in the pod
    limits = container(CLEANER)["resources"]["limits"]
    assert services[CLEANER]["cpus"] == int(limits["cpu"])
    assert mebibytes(services[CLEANER]["mem_limit"]) == mebibytes(limits["memory"])
    for service in services.values():
        assert (ROOT / service["build"] / "Dockerfile").is_file()


def test_crawler_reads_the_url_variable_of_the_manifests(tmp_path: Path) -> None:
    unreachable = "http://127.0.0.1:9"  # discard: nothing listens there
    ran = subprocess.run(
        [sys.executable, str(CRAWLER_SCRIPT)],
        env={"PAGECLEANER_URL": unreachable, "CRAWLER_READY_TIMEOUT_S": "0"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert ran.returncode == 2
    assert f"{unreachable}/readyz" in ran.stderr


def test_the_crawlers_page_is_the_fixture_the_pod_test_checks() -> None:
    page = DEPLOY / "crawler" / "pages" / "seed-wordpress-news.html"
    assert page.read_bytes() == (ROOT / "fixtures" / "html-seed-wordpress-news" / "input.html").read_bytes()


def sidecar_examples() -> list[tuple[str, Any]]:
    """Every YAML example in the docs that configures the service's container."""
    examples = []
    for doc in DOCS:
        for block in re.findall(r"```yaml\n(.*?)```", doc.read_text(), flags=re.DOTALL):
            if "CLEANER_EXTRACTORS" in block:
                examples.append((doc.name, yaml.safe_load(block)))
    return examples


def containers_in(example: Any) -> list[dict[str, Any]]:
    if isinstance(example, dict):
        found = [example] if "image" in example and "name" in example else []
        return found + [c for value in example.values() for c in containers_in(value)]
    if isinstance(example, list):
        return [c for value in example for c in containers_in(value)]
    return []


def test_container_docs_agree_with_the_pod_on_memory_and_the_url_variable() -> None:
    memory = container(CLEANER)["resources"]["limits"]["memory"]
    guide = (ROOT / "docs" / "container.md").read_text()
    assert f"memory: {memory}" in guide
    assert all(f"`{name}`" in guide for name in CRAWLER_VARIABLES)
    # A sidecar example copied into a doc must not drift from the manifest.
    for doc, example in sidecar_examples():
        for spec in containers_in(example):
            names = set(env(spec))
            if "CLEANER_EXTRACTORS" in names:
                assert spec["resources"]["limits"]["memory"] == memory, f"{doc}: memory differs from pod.yaml"
            else:
                assert names <= CRAWLER_VARIABLES, f"{doc}: the crawler reads none of {names - CRAWLER_VARIABLES}"


def run_commands() -> list[Any]:
    """Every `docker run` / `podman run` command line in the docs' examples, continuations joined."""
    commands = []
    for doc in [*DOCS, ROOT / "docs" / "cli.md"]:
        text = doc.read_text().replace("\\\n", " ")
        found = RUN_COMMAND.findall(text)
        commands += [pytest.param(doc.name, command.strip(), id=f"{doc.name}-{n}") for n, command in enumerate(found)]
    return commands


@pytest.mark.parametrize(("doc", "command"), run_commands())
def test_docs_never_publish_the_port_beyond_loopback_without_a_key(doc: str, command: str) -> None:
    published = re.findall(r"(?:-p|--publish)[ =](\S+)", command)
    open_to_the_network = [p for p in published if not p.startswith(("127.0.0.1:", "[::1]:"))]
    if open_to_the_network:
        assert "CLEANER_API_KEYS" in command, f"{doc}: {command!r} publishes {open_to_the_network} without a key"
