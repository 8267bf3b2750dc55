"""``POST /v1/extract`` is answered by ``ExtractEndpoint`` in front of Flask; Flask's routing
still answers the other methods and the CORS preflight of the path."""

from __future__ import annotations

import json
import logging

import pytest
from flask import Flask
from werkzeug.test import Client, TestResponse

from service.http.app import create_app
from service.http.extract import ExtractEndpoint
from service.workers.runtime import Runtime
from tests.conftest import FIXTURES, make_settings

PAGE = (FIXTURES / "html-german-news" / "input.html").read_bytes()


@pytest.fixture(scope="module")
def app(runtime: Runtime) -> Flask:
    return create_app(settings=make_settings(cors_origins="https://app.example"), runtime=runtime)


def test_the_endpoint_writes_one_access_line_per_request(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    assert isinstance(app.wsgi_app, ExtractEndpoint)
    with caplog.at_level(logging.INFO, logger="service.access"):
        Client(app.wsgi_app).post("/v1/extract", data=b"", content_type="text/html")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "service.access"]
    assert len(lines) == 1
    assert lines[0]["error"] == "not-a-page"
    assert lines[0]["status"] == 422
    assert lines[0]["path"] == "/v1/extract"


def test_unicode_line_breaks_from_a_path_are_escaped_in_the_access_line(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    # JSON leaves U+2028, U+2029 and U+0085 raw; a Unicode-aware reader split the line there.
    with caplog.at_level(logging.INFO, logger="service.access"):
        Client(app).get("/x%E2%80%A8y%E2%80%A9z%C2%85w")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "service.access"]
    assert len(line.splitlines()) == 1
    assert json.loads(line)["path"] == "/x\u2028y\u2029z\u0085w"


def test_the_services_own_log_lines_have_a_handler_at_info(app: Flask) -> None:
    # Without one only warnings got out, bare: "recycling extraction process ..." never did.
    service_log = logging.getLogger("service")
    assert service_log.handlers
    assert logging.getLogger("service.workers.pool").isEnabledFor(logging.INFO)


def test_only_post_to_the_extract_path_reaches_the_endpoint(app: Flask) -> None:
    client = Client(app.wsgi_app)
    assert client.get("/v1/extract").status_code == 405  # Flask's routing answers
    preflight = client.options("/v1/extract", headers={"Origin": "https://app.example"})
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["Allow"]
    assert client.post("/v1/extract/", data=PAGE, content_type="text/html").status_code in {308, 404}


def test_api_keys_are_checked_on_the_endpoint(runtime: Runtime) -> None:
    keyed = create_app(settings=make_settings(api_keys="sekret"), runtime=runtime)
    client = Client(keyed.wsgi_app)
    refused = client.post("/v1/extract", data=PAGE, content_type="text/html")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert refused.headers["Content-Type"] == "application/problem+json"
    allowed = client.post(
        "/v1/extract", data=PAGE, content_type="text/html", headers={"Authorization": "Bearer sekret"}
    )
    assert allowed.status_code == 200


def _open(app: Flask, method: str, path: str, data: bytes = b"", content_type: str = "text/html") -> TestResponse:
    """``path`` exactly as sent (a test client reads ``//host/...`` as a network address)."""
    return Client(app.wsgi_app).open(
        "/", method=method, data=data, content_type=content_type, environ_overrides={"PATH_INFO": path}
    )


@pytest.mark.parametrize("path", ["//v1/extract", "///v1/extract", "/v1//extract"])
def test_repeated_slashes_are_one(app: Flask, path: str, caplog: pytest.LogCaptureFixture) -> None:
    """Served as the path with single slashes, as nginx (merge_slashes) serves it. Before, three
    layers read such a path three ways: the endpoint's exact match missed it, Flask's routing
    matched the leading form to the view-less rule (500, KeyError) and redirected the inner
    one (308 with an HTML page)."""
    with caplog.at_level(logging.INFO, logger="service.access"):
        answer = _open(app, "POST", path, PAGE)
    assert answer.status_code == 200, answer.get_data()[:300]
    assert json.loads(answer.get_data())["text"]
    (line,) = [json.loads(r.getMessage()) for r in caplog.records if r.name == "service.access"]
    assert line["path"] == "/v1/extract"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("POST", "/v1/extract//batch", 400), ("GET", "//healthz", 200), ("GET", "/static//x", 404)],
)
def test_repeated_slashes_on_other_paths_never_redirect(app: Flask, method: str, path: str, status: int) -> None:
    answer = _open(app, method, path, b"", "application/x-ndjson")
    assert answer.status_code == status
    assert answer.headers["Content-Type"].startswith("application/")  # JSON or problem+json, no HTML
