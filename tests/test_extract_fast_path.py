"""``POST /v1/extract`` answered by ``extract_fast_path`` equals the Flask route's answer, on
successes and on every kind of error, headers included (all other API tests also run through
the fast path, since it is installed by ``create_app``)."""

from __future__ import annotations

import gzip
import json
import logging
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import Client

from service.api.extract_fast_path import ExtractFastPath
from service.app import create_app
from service.runtime import Runtime
from tests.conftest import FIXTURES, make_settings

PAGE = (FIXTURES / "html-german-news" / "input.html").read_bytes()
TEXT = (FIXTURES / "text-en-docs-tutorial" / "input.txt").read_bytes()
# Differ by nature between two answers to the same request (the length with timing_ms's digits).
VOLATILE_HEADERS = {"x-request-id", "content-length"}
VOLATILE_FIELDS = {"timing_ms"}

JSON_FORM = json.dumps({"html": PAGE.decode("utf-8", "replace"), "url": "https://example.org/a"})
HUGE = b"<p>" + b"a" * (10 * 1024 * 1024) + b"</p>"  # over the default 10 MiB limit


def _post(data: bytes | str, content_type: str = "text/html", query: str = "", **headers: str) -> dict[str, Any]:
    return {"data": data, "content_type": content_type, "query_string": query, "headers": headers}


CASES: list[tuple[str, dict[str, Any]]] = [
    ("html", _post(PAGE)),
    ("html with options", _post(PAGE, query="format=markdown&explain=true&favor=precision")),
    ("repeated query parameter", _post(PAGE, query="format=text&format=html")),
    ("text", _post(TEXT, "text/plain; charset=utf-8")),
    ("json form", _post(JSON_FORM, "application/json")),
    ("gzip body", _post(gzip.compress(PAGE), **{"Content-Encoding": "gzip"})),
    ("request id and CORS origin", _post(PAGE, **{"X-Request-ID": "crawl-42", "Origin": "https://app.example"})),
    ("unknown origin", _post(PAGE, Origin="https://evil.example")),
    ("unsupported type", _post(b"x", "image/png")),
    ("empty body", _post(b"")),
    ("bad option", _post(PAGE, query="favor=fastest")),
    ("malformed json", _post(b"{", "application/json")),
    ("unknown encoding", _post(PAGE, **{"Content-Encoding": "br"})),
    ("too large", _post(HUGE)),
    ("url too long", _post(PAGE, query="url=https://x.org/" + "a" * 9000)),
]


@pytest.fixture(scope="module")
def app(runtime: Runtime) -> Flask:
    return create_app(settings=make_settings(cors_origins="https://app.example"), runtime=runtime)


def _answer(client: Client, request: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    response = client.post("/v1/extract", **request)
    body = response.get_data()
    assert response.headers["Content-Length"] == str(len(body))
    headers = {name.lower(): value for name, value in response.headers if name.lower() not in VOLATILE_HEADERS}
    document = json.loads(body) if body else None
    if isinstance(document, dict):
        document = {key: value for key, value in document.items() if key not in VOLATILE_FIELDS}
    return response.status_code, headers, document


@pytest.mark.parametrize(("name", "request_args"), CASES, ids=[name for name, _ in CASES])
def test_fast_path_answers_as_the_flask_route(app: Flask, name: str, request_args: dict[str, Any]) -> None:
    assert isinstance(app.wsgi_app, ExtractFastPath)
    fast = _answer(Client(app.wsgi_app), request_args)
    flask_route = _answer(Client(app.wsgi_app.inner), request_args)
    assert fast == flask_route


def test_fast_path_logs_and_counts_like_the_flask_route(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="service.access"):
        Client(app.wsgi_app).post("/v1/extract", data=b"", content_type="text/html")
        Client(app.wsgi_app.inner).post("/v1/extract", data=b"", content_type="text/html")  # type: ignore[attr-defined]
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "service.access"]
    assert len(lines) == 2
    for line in lines:
        line.pop("time"), line.pop("request_id"), line.pop("duration_ms")
    assert lines[0] == lines[1]
    assert lines[0]["error"] == "not-a-page"
    assert lines[0]["status"] == 422


def test_only_post_to_the_extract_path_takes_the_fast_path(app: Flask) -> None:
    client = Client(app.wsgi_app)
    assert client.get("/v1/extract").status_code == 405  # Flask's routing answers
    assert client.options("/v1/extract", headers={"Origin": "https://app.example"}).status_code == 200
    assert client.post("/v1/extract/", data=PAGE, content_type="text/html").status_code in {308, 404}


def test_api_keys_are_checked_on_the_fast_path(runtime: Runtime) -> None:
    keyed = create_app(settings=make_settings(api_keys="sekret"), runtime=runtime)
    client = Client(keyed.wsgi_app)
    refused = client.post("/v1/extract", data=PAGE, content_type="text/html")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    flask_refused = Client(keyed.wsgi_app.inner).post("/v1/extract", data=PAGE, content_type="text/html")  # type: ignore[attr-defined]
    assert refused.get_data() == flask_refused.get_data()
    allowed = client.post(
        "/v1/extract", data=PAGE, content_type="text/html", headers={"Authorization": "Bearer sekret"}
    )
    assert allowed.status_code == 200
