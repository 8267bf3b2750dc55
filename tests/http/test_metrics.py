"""``GET /metrics``: exact increments after real traffic (in-process, single-process registry)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from service.http.app import create_app
from service.workers.runtime import Runtime
from tests.conftest import json_object, make_settings
from tests.http.test_batch import HEAVY_PAGE, PAGE, TEXT, ndjson

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
RESPAWN_WAIT_S = 30.0


def scrape(client: FlaskClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.data.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_requests_bodies_and_latency_are_counted_exactly(client: FlaskClient) -> None:
    before = scrape(client)
    page, text = PAGE.encode(), TEXT.encode()
    assert client.post("/v1/extract", data=page, content_type="text/html").status_code == 200
    assert client.post("/v1/extract", data=page, content_type="text/html").status_code == 200
    assert client.post("/v1/extract", data=text, content_type="text/plain").status_code == 200
    assert client.post("/v1/extract?favor=no", data=text, content_type="text/plain").status_code == 400
    assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/path").status_code == 404
    after = scrape(client)

    requests = "pagecleaner_http_requests_total"
    assert delta(before, after, requests, endpoint="/v1/extract", mode="html", status="200") == 2
    assert delta(before, after, requests, endpoint="/v1/extract", mode="text", status="200") == 1
    assert delta(before, after, requests, endpoint="/v1/extract", mode="none", status="400") == 1
    assert delta(before, after, requests, endpoint="/healthz", mode="none", status="200") == 1
    assert delta(before, after, requests, endpoint="unmatched", mode="none", status="404") == 1
    # Every body read is measured, the rejected one too.
    body = "pagecleaner_request_body_bytes"
    assert delta(before, after, body + "_count", endpoint="/v1/extract") == 4
    assert delta(before, after, body + "_sum", endpoint="/v1/extract") == 2 * len(page) + 2 * len(text)
    assert max(len(page), len(text)) <= 1024
    assert delta(before, after, body + "_bucket", endpoint="/v1/extract", le="1024.0") == 4
    latency = "pagecleaner_extraction_duration_seconds_count"
    assert delta(before, after, latency, endpoint="/v1/extract", mode="html") == 2
    assert delta(before, after, latency, endpoint="/v1/extract", mode="text") == 1
    # Cache off (tests): every extraction went to a process.
    assert delta(before, after, "pagecleaner_extractor_jobs_total") == 3


def test_every_request_lands_in_the_duration_histogram_by_endpoint_and_status(client: FlaskClient) -> None:
    """Latency by status (issue 24 item 16): 4xx and health checks too, not only extractions."""
    before = scrape(client)
    assert client.post("/v1/extract", data=PAGE.encode(), content_type="text/html").status_code == 200
    assert client.post("/v1/extract?favor=no", data=TEXT.encode(), content_type="text/plain").status_code == 400
    assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/path").status_code == 404
    after = scrape(client)

    duration = "pagecleaner_http_request_duration_seconds"
    for endpoint, status in (("/v1/extract", "200"), ("/v1/extract", "400"), ("/healthz", "200"), ("unmatched", "404")):
        assert delta(before, after, duration + "_count", endpoint=endpoint, status=status) == 1, (endpoint, status)
        assert delta(before, after, duration + "_bucket", endpoint=endpoint, status=status, le="+Inf") == 1
    assert delta(before, after, duration + "_sum", endpoint="/v1/extract", status="200") > 0


def test_batch_items_are_counted_by_outcome(client: FlaskClient) -> None:
    before = scrape(client)
    body = ndjson({"id": 1, "html": PAGE}, {"id": 2, "text": TEXT}, "nope", {"id": 4, "html": ""})
    response = client.post("/v1/extract/batch", data=body, content_type="application/x-ndjson")
    assert response.status_code == 200
    assert len(response.data.splitlines()) == 4  # items are counted as they stream
    after = scrape(client)
    items = "pagecleaner_batch_items_total"
    assert delta(before, after, items, mode="html", outcome="ok") == 1
    assert delta(before, after, items, mode="text", outcome="ok") == 1
    assert delta(before, after, items, mode="none", outcome="invalid-json") == 1
    assert delta(before, after, items, mode="html", outcome="not-a-page") == 1
    requests = "pagecleaner_http_requests_total"
    assert delta(before, after, requests, endpoint="/v1/extract/batch", mode="batch", status="200") == 1
    latency = "pagecleaner_extraction_duration_seconds_count"
    assert delta(before, after, latency, endpoint="/v1/extract/batch", mode="html") == 2
    assert delta(before, after, "pagecleaner_request_body_bytes_sum", endpoint="/v1/extract/batch") == len(body)


def test_admission_rejections_are_counted(client: FlaskClient, runtime: Runtime) -> None:
    before = scrape(client)
    runtime.admission.in_flight = runtime.admission.limit
    try:
        assert client.post("/v1/extract", data=TEXT, content_type="text/plain").status_code == 429
        batch = ndjson({"id": 1, "text": TEXT})
        assert client.post("/v1/extract/batch", data=batch, content_type="application/x-ndjson").status_code == 429
    finally:
        runtime.admission.in_flight = 0
    after = scrape(client)
    rejected = "pagecleaner_admission_rejected_total"
    assert delta(before, after, rejected, endpoint="/v1/extract") == 1
    assert delta(before, after, rejected, endpoint="/v1/extract/batch") == 1
    assert (
        delta(before, after, "pagecleaner_http_requests_total", endpoint="/v1/extract", mode="text", status="429") == 1
    )


@pytest.fixture(scope="module")
def tight_app() -> Iterator[Flask]:
    """One extraction process, 0.1 s budget, recycled after every page."""
    runtime = Runtime.start(make_settings(extractors=1, time_budget_s=0.1, max_jobs_per_extractor=1))
    yield create_app(runtime=runtime)
    wait_for_extractors(runtime, 1)
    runtime.close()


def wait_for_extractors(runtime: Runtime, alive: int) -> None:
    deadline = time.monotonic() + RESPAWN_WAIT_S
    while runtime.pool.alive < alive or len(runtime.pool.idle_pids()) < alive:
        assert time.monotonic() < deadline, "the extraction process was not replaced"
        time.sleep(0.05)


def test_time_budget_hits_kills_and_recycles_are_counted(tight_app: Flask) -> None:
    client = tight_app.test_client()
    runtime: Runtime = tight_app.extensions["cleaner"]
    wait_for_extractors(runtime, 1)
    before = scrape(client)
    response = client.post("/v1/extract", data=HEAVY_PAGE, content_type="text/html")
    assert response.status_code == 503
    assert json_object(response)["code"] == "time-budget-exceeded"
    wait_for_extractors(runtime, 1)
    assert client.post("/v1/extract", data="Short text note.", content_type="text/plain").status_code == 200
    wait_for_extractors(runtime, 1)
    after = scrape(client)
    events = "pagecleaner_extractor_events_total"
    assert delta(before, after, "pagecleaner_time_budget_exceeded_total", endpoint="/v1/extract") == 1
    assert delta(before, after, events, event="kill_timeout") == 1
    assert delta(before, after, events, event="recycle") == 1
    assert delta(before, after, events, event="spawn") == 2  # one replacement each
    assert delta(before, after, events, event="kill_crash") == 0
    assert value(after, "pagecleaner_extractors_alive") == 1
