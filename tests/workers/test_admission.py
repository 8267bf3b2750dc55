"""Admission control: beyond the in-flight limit the answer is 429 at once, then service resumes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask

from service.http.app import create_app
from service.workers.runtime import Runtime
from tests.conftest import make_settings

# A page big enough to keep an extraction process busy for a noticeable while.
SLOW_PAGE = (
    b"<html><body>"
    + b"".join(
        b"<div class='c%d'><p>Paragraph %d with a handful of ordinary words in it, and a comma.</p></div>" % (i, i)
        for i in range(6000)
    )
    + b"</body></html>"
)
BURST = 8


@pytest.fixture(scope="module")
def narrow_app() -> Iterator[Flask]:
    runtime = Runtime.start(make_settings(extractors=1, max_in_flight=2, time_budget_s=30.0))
    yield create_app(runtime=runtime)
    runtime.close()


def test_burst_beyond_the_limit_gets_429_with_retry_after(narrow_app: Flask) -> None:
    statuses: list[int] = []
    retry_after: list[str] = []
    elapsed: list[float] = []

    def call() -> None:
        client = narrow_app.test_client()
        started = time.perf_counter()
        response = client.post("/v1/extract", data=SLOW_PAGE, headers={"Content-Type": "text/html"})
        elapsed.append(time.perf_counter() - started)
        statuses.append(response.status_code)
        if response.status_code == 429:
            retry_after.append(response.headers["Retry-After"])
            assert response.get_json(force=True)["code"] == "overloaded"

    threads = [threading.Thread(target=call) for _ in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(200) >= 2
    assert statuses.count(429) >= 1
    assert set(statuses) <= {200, 429}
    assert all(value.isdigit() for value in retry_after)
    assert narrow_app.extensions["cleaner"].admission.rejected >= statuses.count(429)
    # After the burst, normal answers resume.
    response = narrow_app.test_client().post(
        "/v1/extract",
        data=SLOW_PAGE[:5000] + b"</p></div></body></html>",
        headers={"Content-Type": "text/html"},
    )
    assert response.status_code == 200
