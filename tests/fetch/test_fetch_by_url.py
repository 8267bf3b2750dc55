"""``POST /v1/extract`` with ``{"url": ...}`` and no page (``CLEANER_FETCH=1``): the page is
fetched by the web worker, within the guard and limits, and the answer says what was fetched."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.errors import PROBLEM_CONTENT_TYPE
from service.http.app import create_app
from service.workers.runtime import Runtime
from tests.conftest import json_object, make_settings
from tests.fetch.servers import (
    MAX_BYTES,
    PRIVATE_TARGET,
    Server,
)
from tests.http.test_batch import lines, ndjson, post_batch, settle
from tests.http.test_openapi import response_schema, validator

FETCH_TIMEOUT_S = 1.0
# Kill, answer and the test client's own overhead on a loaded 2-core machine.
SLACK_S = 1.5


@pytest.fixture(scope="module")
def fetching_app() -> Iterator[Flask]:
    settings = make_settings(
        extractors=1,
        fetch=True,
        fetch_allow="127.0.0.1/32",
        fetch_timeout_s=FETCH_TIMEOUT_S,
        max_body_bytes=MAX_BYTES,
    )
    runtime = Runtime.start(settings)
    yield create_app(runtime=runtime)
    settle(runtime)
    runtime.close()


@pytest.fixture
def fetching(fetching_app: Flask) -> FlaskClient:
    return fetching_app.test_client()


def post_url(client: FlaskClient, url: str, **options: Any) -> Any:
    document: dict[str, Any] = {"url": url}
    if options:
        document["options"] = options
    return client.post("/v1/extract", data=json.dumps(document), content_type="application/json")


def test_the_page_at_the_url_is_fetched_and_cleaned(fetching: FlaskClient, server: Server) -> None:
    response = post_url(fetching, server.url("/hops/1"))  # /hops/1 -> /hops/0 -> /page
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["title"] == "Ferry timetable"
    assert "two more crossings" in answer["text"]
    assert answer["url"] == server.url("/page")  # the final URL: metadata and links come from it
    assert answer["fetch"] == {
        "url": server.url("/page"),
        "status": 200,
        "content_type": "text/html; charset=utf-8",
        "redirects": 2,
    }


def test_a_plain_text_page_goes_to_the_text_mode(fetching: FlaskClient, server: Server) -> None:
    answer = post_url(fetching, server.url("/text")).get_json()
    assert answer["fetch"]["content_type"].startswith("text/plain")
    assert "two more crossings" in answer["text"]


def test_options_apply_to_the_fetched_page(fetching: FlaskClient, server: Server) -> None:
    answer = post_url(fetching, server.url("/page"), exclude=["article"], format=["markdown"]).get_json()
    assert answer["text"] == ""
    assert "markdown" in answer


def test_a_redirect_to_a_private_address_is_403_fetch_refused(fetching: FlaskClient, server: Server) -> None:
    response = post_url(fetching, server.url("/to-private"))
    assert response.status_code == 403
    problem = response.get_json()
    assert (problem["code"], problem["reason"]) == ("fetch-refused", "address")
    assert PRIVATE_TARGET in problem["detail"]
    assert response.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("route", "reason"), [("/huge", "too-large"), ("/pdf", "content-type"), ("/missing", "status")]
)
def test_a_page_that_cannot_be_used_is_502_fetch_failed(
    fetching: FlaskClient, server: Server, route: str, reason: str
) -> None:
    response = post_url(fetching, server.url(route))
    assert response.status_code == 502
    assert (response.json["code"], response.json["reason"]) == ("fetch-failed", reason)
    assert response.json["url"] == server.url(route)


def test_a_slow_server_is_504_fetch_timeout_within_the_fetch_time(fetching: FlaskClient, server: Server) -> None:
    started = time.monotonic()
    response = post_url(fetching, server.url("/slow"))
    assert response.status_code == 504
    assert response.json["code"] == "fetch-timeout"
    assert time.monotonic() - started < FETCH_TIMEOUT_S + SLACK_S


def test_the_request_timeout_bounds_the_fetch_too(fetching: FlaskClient, server: Server) -> None:
    started = time.monotonic()
    response = post_url(fetching, server.url("/slow"), timeout=0.3)
    assert response.status_code == 504
    assert time.monotonic() - started < 0.3 + SLACK_S


def test_a_batch_item_with_only_a_url_is_fetched(fetching: FlaskClient, server: Server) -> None:
    response = post_batch(
        fetching, ndjson({"id": "a", "url": server.url("/page")}, {"id": "b", "url": server.url("/pdf")})
    )
    fetched, failed = lines(response.data)
    assert fetched["fetch"]["status"] == 200
    assert fetched["title"] == "Ferry timetable"
    assert failed["error"]["code"] == "fetch-failed"


def test_fetching_is_off_unless_the_server_turns_it_on(client: FlaskClient, server: Server) -> None:
    before = len(server.seen.requests)
    response = post_url(client, server.url("/page"))
    assert response.status_code == 403
    assert (response.json["code"], response.json["reason"]) == ("fetch-refused", "disabled")
    assert len(server.seen.requests) == before


def test_without_a_page_or_a_url_the_request_is_invalid(client: FlaskClient) -> None:
    response = client.post("/v1/extract", data=json.dumps({"url": ""}), content_type="application/json")
    assert response.status_code == 400
    assert json_object(response)["field"] == "url"


def test_fetched_answers_and_fetch_problems_match_the_document(fetching: FlaskClient, server: Server) -> None:
    spec = json_object(fetching.get("/openapi.json"))
    request = validator(spec, spec["components"]["schemas"]["ExtractRequest"])
    request.validate({"url": server.url("/page")})
    answer = validator(spec, response_schema(spec, "/v1/extract", "post", 200, "application/json"))
    answer.validate(post_url(fetching, server.url("/page")).json)
    for route, status in (("/to-private", 403), ("/pdf", 502), ("/slow", 504)):
        problem = validator(spec, response_schema(spec, "/v1/extract", "post", status, PROBLEM_CONTENT_TYPE))
        problem.validate(post_url(fetching, server.url(route)).json)
