"""``/metrics`` under two gunicorn web workers: counts are summed across workers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import STARTUP_TIMEOUT_S, LiveServer, start_server, stop_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

WEB_WORKERS = 2
EXTRACTORS = 1
REQUESTS = 40
PAGE = (
    "<html><body><article><p>"
    + "A short article that the cleaner keeps as it is. " * 10
    + "</p></article></body></html>"
)


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Path]]:
    tmp = tmp_path_factory.mktemp("multiproc")
    metrics_dir = tmp / "prometheus"
    server = start_server(
        tmp,
        CLEANER_WEB_WORKERS=str(WEB_WORKERS),
        CLEANER_EXTRACTORS=str(EXTRACTORS),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        CLEANER_MAX_IN_FLIGHT="64",  # queue on the pool instead of answering 429
    )
    # /readyz passed on the first worker to boot; the other may still be starting its extraction
    # process, and its samples would be missing from the sums below.
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while scrape(server.url).get(("pagecleaner_web_workers_started_total", frozenset()), 0) < WEB_WORKERS:
        assert time.monotonic() < deadline, "the second web worker did not start"
        time.sleep(0.2)
    yield server, metrics_dir
    stop_server(server)


def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = requests.get(url + "/metrics", timeout=10)
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_counts_are_summed_across_web_workers(two_workers: tuple[LiveServer, Path]) -> None:
    server, metrics_dir = two_workers
    before = scrape(server.url)
    key = (
        "pagecleaner_http_requests_total",
        frozenset({"endpoint": "/v1/extract", "mode": "html", "status": "200"}.items()),
    )

    def post(_: int) -> int:
        # A new connection each time, so both workers' accept loops get a share.
        with requests.Session() as session:
            return session.post(
                server.url + "/v1/extract", data=PAGE, headers={"Content-Type": "text/html"}, timeout=30
            ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(post, range(REQUESTS))) == [200] * REQUESTS
    after = scrape(server.url)

    assert after.get(key, 0) - before.get(key, 0) == REQUESTS
    # Each worker counted its own start and its own extraction process: only a sum gives these.
    assert after[("pagecleaner_web_workers_started_total", frozenset())] == WEB_WORKERS
    assert after[("pagecleaner_extractor_events_total", frozenset({"event": "spawn"}.items()))] == (
        WEB_WORKERS * EXTRACTORS
    )
    # Both workers wrote their samples to the directory service/http/gunicorn_conf.py prepared.
    counter_files = sorted(p.name for p in metrics_dir.glob("counter_*.db"))
    assert len(counter_files) == WEB_WORKERS, counter_files


def test_event_counters_are_exported_at_zero_before_their_first_event(two_workers: tuple[LiveServer, Path]) -> None:
    """A rate() or an alert on a counter needs its series from the start (issue 24 item 16)."""
    server, _metrics_dir = two_workers
    samples = scrape(server.url)
    for endpoint in ("/v1/extract", "/v1/extract/batch"):
        for counter in ("pagecleaner_time_budget_exceeded_total", "pagecleaner_admission_rejected_total"):
            assert samples.get((counter, frozenset({"endpoint": endpoint}.items()))) == 0, (counter, endpoint)
    for event in ("spawn_failure", "recycle", "kill_timeout", "kill_crash", "withdraw", "withdraw_late", "abandon"):
        # Present; not necessarily 0: the test above may have had a page withdrawn.
        assert ("pagecleaner_extractor_events_total", frozenset({"event": event}.items())) in samples, event
