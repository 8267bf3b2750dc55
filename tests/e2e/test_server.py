"""The real gunicorn server answers over HTTP exactly as the app does under the test client."""

from __future__ import annotations

import json
import os

import psutil
import pytest
import requests

from tests.conftest import fixture_cases, load_case
from tests.e2e.conftest import LiveServer
from tests.http.test_fixtures import check_answer

pytestmark = pytest.mark.e2e


def test_health_endpoints_answer(live_server: LiveServer) -> None:
    assert requests.get(live_server.url + "/healthz", timeout=5).json() == {"status": "ok"}
    ready = requests.get(live_server.url + "/readyz", timeout=5)
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    version = requests.get(live_server.url + "/version", timeout=5).json()
    assert version["trafilatura"].startswith("2.3.")


@pytest.mark.parametrize("case_dir", fixture_cases(), ids=lambda p: p.name)
def test_fixture_over_http(live_server: LiveServer, case_dir) -> None:  # type: ignore[no-untyped-def]
    case = load_case(case_dir)
    params = dict(case["query"])
    if case["expected"].get("removed"):
        params["explain"] = "true"
    response = requests.post(
        live_server.url + "/v1/extract",
        data=case["body"],
        params=params,
        headers={"Content-Type": case["content_type"]},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    check_answer(response.json(), case["expected"])


def test_request_id_is_echoed(live_server: LiveServer) -> None:
    response = requests.get(live_server.url + "/healthz", headers={"X-Request-ID": "crawler-42"}, timeout=5)
    assert response.headers["X-Request-ID"] == "crawler-42"


def test_with_one_extraction_process_per_cpu_each_has_its_own_cpu(live_server: LiveServer) -> None:
    """Under gunicorn, as configured: extraction processes pinned one per CPU; the web worker and
    the fork server left free to use them all."""
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) != 2:  # the live server runs CLEANER_EXTRACTORS=2
        pytest.skip("the live server pins only on a machine with two CPUs")
    (web_worker,) = psutil.Process(live_server.process.pid).children()
    (fork_server,) = web_worker.children()
    extractors = fork_server.children()
    assert sorted(cpu for p in extractors for cpu in p.cpu_affinity()) == allowed
    assert all(len(p.cpu_affinity()) == 1 for p in extractors)
    assert sorted(web_worker.cpu_affinity()) == allowed
    assert sorted(fork_server.cpu_affinity()) == allowed


def test_a_batch_streams_every_item_in_order_under_gunicorn(live_server: LiveServer) -> None:
    """More items than the extraction processes hold at once (gevent's threads and semaphore)."""
    text = "A plain text note about a batch under the real server, with several words. " * 4
    items = [{"id": n, "text": text} for n in range(12)] + [{"id": "bad", "html": 42}]
    body = "".join(json.dumps(item) + "\n" for item in items)
    response = requests.post(
        live_server.url + "/v1/extract/batch",
        data=body.encode(),
        headers={"Content-Type": "application/x-ndjson"},
        timeout=60,
    )
    assert response.status_code == 200
    answers = [json.loads(line) for line in response.text.splitlines()]
    assert [a["id"] for a in answers] == [*range(12), "bad"]
    assert all("batch under the real server" in a["text"] for a in answers[:12])
    assert answers[-1]["error"]["code"] == "invalid-field"


def test_the_longest_url_the_app_allows_reaches_it_and_a_longer_one_gets_a_problem(live_server: LiveServer) -> None:
    """gunicorn itself must not refuse a request line the app accepts (8,192-character URLs)."""
    page = b"<html><body><article><p>" + b"A sentence of an ordinary article. " * 20 + b"</p></article></body></html>"
    longest = "https://example.org/" + "a" * (8192 - len("https://example.org/"))
    accepted = requests.post(
        live_server.url + "/v1/extract",
        params={"url": longest},
        data=page,
        headers={"Content-Type": "text/html"},
        timeout=30,
    )
    assert accepted.status_code == 200
    assert accepted.json()["url"] == longest
    refused = requests.post(
        live_server.url + "/v1/extract",
        params={"url": longest + "a"},
        data=page,
        headers={"Content-Type": "text/html"},
        timeout=30,
    )
    assert refused.status_code == 400
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "invalid-field"
