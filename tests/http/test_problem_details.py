"""Every error is RFC 9457 problem+json with a stable code; never a trace or an HTML page."""

from __future__ import annotations

import gzip
import json

import pytest
from flask.testing import FlaskClient

PAGE = (
    b"<html><head><title>A page</title></head><body><article><p>"
    + b"An article paragraph with enough words to be the main content of the page. " * 5
    + b"</p></article></body></html>"
)


def assert_problem(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = json.loads(response.get_data())
    assert problem["status"] == status
    assert problem["code"] == code
    assert problem["type"] == f"urn:pagecleaner:problem:{code}"
    assert "Traceback" not in response.get_data(as_text=True)
    return problem  # type: ignore[no-any-return]


def test_unknown_path_is_404(client: FlaskClient) -> None:
    assert_problem(client.get("/v2/nothing"), 404, "not-found")


def test_wrong_method_is_405_with_allow(client: FlaskClient) -> None:
    response = client.get("/v1/extract")
    assert_problem(response, 405, "method-not-allowed")
    assert "POST" in response.headers["Allow"]


def test_missing_content_type_is_415(client: FlaskClient) -> None:
    assert_problem(client.post("/v1/extract", data=PAGE), 415, "unsupported-media-type")


def test_unknown_content_type_is_415(client: FlaskClient) -> None:
    response = client.post("/v1/extract", data=PAGE, headers={"Content-Type": "application/pdf"})
    assert_problem(response, 415, "unsupported-media-type")


def test_malformed_json_is_400(client: FlaskClient) -> None:
    response = client.post("/v1/extract", data=b'{"html": ', headers={"Content-Type": "application/json"})
    problem = assert_problem(response, 400, "invalid-json")
    assert "line 1" in problem["detail"]


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"html": 42}, "html"),
        ({"text": ["a"]}, "text"),
        ({"html": "<p>x</p>", "url": 7}, "url"),
        ({"html": "<p>x</p>", "options": "fast"}, "options"),
        ({"html": "<p>x</p>", "text": "x"}, "html"),
        ({}, "html"),
        ({"html": "<p>x</p>", "colour": "red"}, "colour"),
        ([1, 2], "body"),
    ],
)
def test_json_field_of_wrong_type_names_the_field(client: FlaskClient, document: object, field: str) -> None:
    response = client.post("/v1/extract", json=document)
    problem = assert_problem(response, 400, "invalid-field")
    assert problem["field"] == field


@pytest.mark.parametrize(
    ("query", "option"),
    [
        ({"format": "pdf"}, "format"),
        ({"favor": "speed"}, "favor"),
        ({"explain": "maybe"}, "explain"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_option_is_400_naming_it(client: FlaskClient, query: dict[str, str], option: str) -> None:
    response = client.post("/v1/extract", data=PAGE, query_string=query, headers={"Content-Type": "text/html"})
    problem = assert_problem(response, 400, "invalid-option")
    assert problem["option"] == option


@pytest.mark.parametrize("query", ["url=https://a.example/&url=https://b.example/", "favor=recall&favor=precision"])
def test_a_single_valued_parameter_given_twice_is_400(client: FlaskClient, query: str) -> None:
    response = client.post(f"/v1/extract?{query}", data=PAGE, headers={"Content-Type": "text/html"})
    assert assert_problem(response, 400, "invalid-option")["option"] == query.split("=")[0]


def test_a_number_too_long_to_convert_is_said_so_not_nesting(client: FlaskClient) -> None:
    body = b'{"html": "<p>x</p>", "options": {"timeout": ' + b"9" * 5000 + b"}}"
    response = client.post("/v1/extract", data=body, headers={"Content-Type": "application/json"})
    assert "digits" in assert_problem(response, 400, "invalid-json")["detail"]


def test_bad_option_in_json_is_400(client: FlaskClient) -> None:
    response = client.post("/v1/extract", json={"html": PAGE.decode(), "options": {"tables": "sometimes"}})
    assert assert_problem(response, 400, "invalid-option")["option"] == "tables"


def test_body_over_the_limit_is_413(client: FlaskClient, app) -> None:  # type: ignore[no-untyped-def]
    limit = app.extensions["cleaner"].settings.max_body_bytes
    response = client.post("/v1/extract", data=b"a" * (limit + 1), headers={"Content-Type": "text/html"})
    assert_problem(response, 413, "body-too-large")


def test_gzip_body_is_decompressed(client: FlaskClient) -> None:
    response = client.post(
        "/v1/extract",
        data=gzip.compress(PAGE),
        headers={"Content-Type": "text/html", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 200
    assert "article paragraph" in response.get_json()["text"]


def test_gzip_bomb_is_413(client: FlaskClient, app) -> None:  # type: ignore[no-untyped-def]
    limit = app.extensions["cleaner"].settings.max_body_bytes
    bomb = gzip.compress(b"\0" * (limit * 2))
    response = client.post("/v1/extract", data=bomb, headers={"Content-Type": "text/html", "Content-Encoding": "gzip"})
    assert_problem(response, 413, "body-too-large")


def test_brotli_encoding_is_415(client: FlaskClient) -> None:
    response = client.post(
        "/v1/extract", data=b"\x0b\x02\x80", headers={"Content-Type": "text/html", "Content-Encoding": "br"}
    )
    assert_problem(response, 415, "unsupported-media-type")


@pytest.mark.parametrize(
    "body",
    [
        b"\x89PNG\r\n\x1a\n" + b"\0" * 100,
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 4,
        bytes(range(256)) * 8,
        b"",
    ],
    ids=["png", "pdf", "random-binary", "empty"],
)
def test_body_that_is_not_a_page_is_422(client: FlaskClient, body: bytes) -> None:
    response = client.post("/v1/extract", data=body, headers={"Content-Type": "text/html"})
    assert_problem(response, 422, "not-a-page")


def test_problem_carries_the_request_path(client: FlaskClient) -> None:
    problem = assert_problem(client.get("/v2/nothing"), 404, "not-found")
    assert problem["instance"] == "/v2/nothing"
