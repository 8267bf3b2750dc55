"""``POST /v1/extract/batch``: NDJSON in, NDJSON out, in order, per-item errors, limits, admission."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.http.app import create_app
from service.http.batch import ITEMS_IN_FLIGHT_PER_PROCESS
from service.workers.admission import Admission
from service.workers.cache import AnswerCache
from service.workers.runtime import Runtime
from tests.conftest import json_object, make_settings

NDJSON = "application/x-ndjson"
MARKER = "Zanzibarquokka"  # a word that must never reach a log line
PAGE = (
    "<html><head><title>Batch page</title></head><body><article><p>"
    + f"The {MARKER} article has enough words to be kept by the extractor as main content. " * 8
    + "</p></article></body></html>"
)
TEXT = f"A plain text note about {MARKER} with several words in one sentence. " * 6
# Many thousands of blocks: far more than a 0.1 s budget allows.
HEAVY_PAGE = (
    "<html><body>" + "<div><p>Some words in a paragraph that goes on and on.</p></div>" * 40_000 + "</body></html>"
)


def ndjson(*items: Any) -> str:
    return "\n".join(item if isinstance(item, str) else json.dumps(item) for item in items) + "\n"


def lines(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


def post_batch(client: FlaskClient, body: str | bytes, query: str = "", **kwargs: Any) -> Any:
    # Buffered: the stream is read and closed inside the request, not whenever GC gets to it
    # (a generator closed later pops the wrong request context).
    kwargs.setdefault("buffered", True)
    return client.post(f"/v1/extract/batch{query}", data=body, content_type=NDJSON, **kwargs)


def test_results_stream_in_order_with_ids_and_the_single_answer_keys(client: FlaskClient) -> None:
    response = post_batch(
        client,
        ndjson(
            {"id": "a", "html": PAGE, "url": "https://example.org/a"},
            {"id": 2, "text": TEXT},
            {"id": "c", "html": PAGE, "options": {"format": ["markdown"]}},
        ),
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-ndjson; charset=utf-8"
    assert response.headers["X-Batch-Items"] == "3"
    results = lines(response.data)
    assert [r["id"] for r in results] == ["a", 2, "c"]
    single = json_object(client.post("/v1/extract?url=https://example.org/a", data=PAGE, content_type="text/html"))
    first = dict(results[0])
    assert first.pop("id") == "a"
    assert set(first) == set(single)
    assert {k: v for k, v in first.items() if k != "timing_ms"} == {k: v for k, v in single.items() if k != "timing_ms"}
    assert results[0]["url"] == "https://example.org/a"
    assert MARKER in results[1]["text"]
    assert "markdown" in results[2]
    assert "markdown" not in results[0]


def test_one_bad_item_never_fails_the_others(client: FlaskClient) -> None:
    response = post_batch(
        client,
        ndjson(
            {"id": 1, "html": PAGE},
            "{not json",
            {"html": PAGE},
            {"id": 4, "html": PAGE, "options": {"favor": "speed"}},
            {"id": 5, "html": ""},
            {"id": True, "text": TEXT},
            "[1, 2]",
            {"id": 8, "text": TEXT},
        ),
    )
    assert response.status_code == 200
    results = lines(response.data)
    assert [r["id"] for r in results] == [1, None, None, 4, 5, None, None, 8]
    assert "error" not in results[0]
    assert "error" not in results[7]
    errors = {index: results[index]["error"] for index in (1, 2, 3, 4, 5, 6)}
    assert errors[1] == {
        "type": "urn:pagecleaner:problem:invalid-json",
        "code": "invalid-json",
        "title": "Malformed JSON body",
        "status": 400,
        "detail": errors[1]["detail"],
        "instance": "/v1/extract/batch",
        "line": 2,
    }
    assert errors[2]["code"] == "invalid-field"
    assert errors[2]["field"] == "id"
    assert errors[2]["line"] == 3
    assert errors[3]["code"] == "invalid-option"
    assert errors[3]["option"] == "favor"
    assert errors[3]["line"] == 4
    assert errors[4]["code"] == "not-a-page"
    assert errors[4]["status"] == 422
    assert errors[4]["line"] == 5
    assert errors[5]["code"] == "invalid-field"
    assert errors[5]["field"] == "id"
    assert errors[6]["code"] == "invalid-field"
    assert errors[6]["line"] == 7
    assert set(results[3]) == {"id", "error"}


def test_blank_lines_are_skipped_but_line_numbers_kept(client: FlaskClient) -> None:
    body = "\ufeff" + json.dumps({"id": "x", "text": TEXT}) + "\n\n  \n" + "oops\n"
    results = lines(post_batch(client, body.encode("utf-8")).data)
    assert [r["id"] for r in results] == ["x", None]
    assert results[1]["error"]["line"] == 4


def test_query_options_are_defaults_that_items_override(client: FlaskClient) -> None:
    response = post_batch(
        client,
        ndjson({"id": 1, "html": PAGE}, {"id": 2, "html": PAGE, "options": {"format": "text"}}),
        query="?format=markdown&format=html",
    )
    first, second = lines(response.data)
    assert "markdown" in first
    assert "html" in first
    assert "markdown" not in second
    assert "html" not in second


@pytest.mark.parametrize(
    ("query", "content_type", "body", "status", "code"),
    [
        ("?url=https://example.org", NDJSON, ndjson({"id": 1, "text": TEXT}), 400, "invalid-option"),
        ("?colour=red", NDJSON, ndjson({"id": 1, "text": TEXT}), 400, "invalid-option"),
        ("", "application/json", ndjson({"id": 1, "text": TEXT}), 415, "unsupported-media-type"),
        ("", NDJSON, "\n \n", 400, "bad-request"),
    ],
)
def test_batch_wide_errors_are_problems(
    client: FlaskClient, query: str, content_type: str, body: str, status: int, code: str
) -> None:
    response = client.post(f"/v1/extract/batch{query}", data=body, content_type=content_type)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    assert json_object(response)["code"] == code


@pytest.fixture(scope="module")
def small_batch_app(runtime: Runtime) -> Flask:
    """The session's pool behind a 1 KiB batch limit."""
    settings = make_settings(max_batch_bytes=1024)
    small = dataclasses.replace(runtime, settings=settings, cache=AnswerCache(0, 0), admission=Admission(4))
    return create_app(runtime=small)


def test_batch_over_its_own_limit_is_413(small_batch_app: Flask) -> None:
    client = small_batch_app.test_client()
    assert post_batch(client, ndjson({"id": 1, "text": "x" * 900})).status_code == 200
    response = post_batch(client, ndjson({"id": 1, "text": "x" * 1100}))
    assert response.status_code == 413
    assert response.json["code"] == "body-too-large"
    assert "1024 bytes" in response.json["detail"]


def test_admission_is_held_while_streaming_and_released_after(app: Flask, runtime: Runtime) -> None:
    client = app.test_client()
    assert runtime.admission.in_flight == 0
    response = post_batch(client, ndjson(*({"id": i, "text": TEXT} for i in range(5))), buffered=False)
    stream: Iterator[bytes] = response.response
    first = next(iter(stream))
    assert json.loads(first)["id"] == 0
    # min(5 items, 2 per extraction process: the page it extracts and one waiting in its pipe)
    assert runtime.admission.in_flight == min(5, ITEMS_IN_FLIGHT_PER_PROCESS * runtime.pool.size)
    rest = b"".join(stream)
    response.close()
    assert [r["id"] for r in lines(first + rest)] == [0, 1, 2, 3, 4]
    assert runtime.admission.in_flight == 0


@pytest.fixture(scope="module")
def slow_item_app() -> Iterator[Flask]:
    """Two extraction processes and an element cap that lets HEAVY_PAGE take ~1.5 s on a quiet
    machine; on a busy one (a CI runner beside other jobs) it took over the 10 s default budget,
    so the budget here is a minute: the test is about order and idle processes, not time."""
    runtime = Runtime.start(make_settings(max_elements=200_000, time_budget_s=60.0))
    yield create_app(runtime=runtime)
    runtime.close()


def test_a_slow_item_leaves_no_process_idle_behind_it(slow_item_app: Flask) -> None:
    """The items after a slow one are extracted on the other process while it runs, and wait in
    memory to be sent after it, in order."""
    runtime: Runtime = slow_item_app.extensions["cleaner"]
    fast = [{"id": i, "text": TEXT} for i in range(1, 9)]
    jobs_before = runtime.pool.stats.jobs
    response = post_batch(slow_item_app.test_client(), ndjson({"id": 0, "html": HEAVY_PAGE}, *fast), buffered=False)
    stream: Iterator[bytes] = response.response
    # The stream pauses at each line it yields (the test client may already have taken the
    # first): what was extracted by then ran while the slow item did.
    first = next(iter(stream))
    extracted_by_then = runtime.pool.stats.jobs - jobs_before
    rest = b"".join(stream)
    response.close()
    assert [r["id"] for r in lines(first + rest)] == list(range(9))
    assert all("error" not in r for r in lines(first + rest))
    assert extracted_by_then == 9  # the slow item and all eight after it


def test_unread_stream_gives_its_slots_back_on_close(app: Flask, runtime: Runtime) -> None:
    response = post_batch(app.test_client(), ndjson({"id": 1, "text": TEXT}), buffered=False)
    assert runtime.admission.in_flight == 1
    response.close()
    assert runtime.admission.in_flight == 0


def test_batch_that_cannot_be_admitted_is_429(client: FlaskClient, runtime: Runtime) -> None:
    runtime.admission.in_flight = runtime.admission.limit  # as if that many requests were running
    try:
        response = post_batch(client, ndjson({"id": 1, "text": TEXT}))
    finally:
        runtime.admission.in_flight = 0
    assert response.status_code == 429
    assert response.json["code"] == "overloaded"
    assert response.headers["Retry-After"] == "1"


@pytest.fixture(scope="module")
def tight_budget_app() -> Iterator[Flask]:
    """One extraction process, 0.1 s per item: a heavy page overruns it."""
    runtime = Runtime.start(make_settings(extractors=1, time_budget_s=0.1))
    yield create_app(runtime=runtime)
    settle(runtime)
    runtime.close()


def settle(runtime: Runtime, timeout_s: float = 30.0) -> None:
    """Wait until a killed extraction process has been replaced, so close() stops them all."""
    deadline = time.monotonic() + timeout_s
    while len(runtime.pool.idle_pids()) < runtime.pool.size and time.monotonic() < deadline:
        time.sleep(0.05)


def test_each_item_has_its_own_time_budget(tight_budget_app: Flask) -> None:
    client = tight_budget_app.test_client()
    response = post_batch(
        client, ndjson({"id": "light", "text": "Short note with a few words."}, {"id": "heavy", "html": HEAVY_PAGE})
    )
    light, heavy = lines(response.data)
    assert "error" not in light
    assert light["id"] == "light"
    assert heavy["id"] == "heavy"
    assert heavy["error"]["code"] == "time-budget-exceeded"
    assert heavy["error"]["status"] == 503


def test_no_page_content_is_logged(client: FlaskClient) -> None:
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    handler = Keep(level=logging.DEBUG)
    loggers = [logging.getLogger(name) for name in ("service", "service.access", "service.http.batch", "")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        post_batch(client, ndjson({"id": 1, "html": PAGE}, {"id": 2, "text": TEXT}, "{bad " + MARKER))
        client.post("/v1/extract", data=PAGE, content_type="text/html")
        client.post("/v1/extract", json={"text": TEXT, "options": {"favor": MARKER}})
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    assert len(records) >= 3  # the access lines did arrive
    assert not [record for record in records if MARKER in record]
