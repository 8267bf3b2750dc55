"""``/openapi.json`` is a valid OpenAPI 3.1 document that matches the code, and ``/docs`` renders it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from service import errors
from service.http.app import create_app
from service.http.docs import DOCS_CSP
from service.models import FAVORS, FORMATS
from service.request_forms import QUERY_PARAMETERS
from service.workers.runtime import Runtime
from tests.conftest import json_object, make_settings
from tests.http.test_batch import PAGE, TEXT, ndjson

METHODS_NOT_DOCUMENTED = {"HEAD", "OPTIONS"}


@pytest.fixture(scope="module")
def spec(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    return json_object(response)


def validator(spec: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator for ``schema`` whose ``#/components/...`` refs resolve in ``spec``."""
    return Draft202012Validator({**schema, "components": spec["components"]})


def response_schema(spec: dict[str, Any], path: str, method: str, status: int, media: str) -> dict[str, Any]:
    schema: dict[str, Any] = spec["paths"][path][method]["responses"][str(status)]["content"][media]["schema"]
    return schema


def test_the_document_is_valid_openapi_31(spec: dict[str, Any]) -> None:
    validate(spec)
    assert spec["openapi"] == "3.1.0"


def test_every_route_is_documented_and_nothing_else(app: Flask, spec: dict[str, Any]) -> None:
    routed = {
        (rule.rule, method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint.rpartition(".")[2] != "static"  # files of pages, not API operations
        for method in (rule.methods or set()) - METHODS_NOT_DOCUMENTED
    }
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert documented == routed
    for required in ("/v1/extract", "/v1/extract/batch", "/healthz", "/readyz", "/version", "/metrics", "/docs"):
        assert required in spec["paths"]


def test_options_and_parameters_come_from_the_code(spec: dict[str, Any]) -> None:
    options = spec["components"]["schemas"]["Options"]["properties"]
    assert options["favor"]["enum"] == list(FAVORS)
    assert options["format"]["oneOf"][1]["items"]["enum"] == list(FORMATS)
    params = {p["name"] for p in spec["paths"]["/v1/extract"]["post"]["parameters"]}
    assert params == set(QUERY_PARAMETERS)
    batch_params = {p["name"] for p in spec["paths"]["/v1/extract/batch"]["post"]["parameters"]}
    assert batch_params == set(QUERY_PARAMETERS) - {"url"}
    bodies = set(spec["paths"]["/v1/extract"]["post"]["requestBody"]["content"])
    assert bodies == {"text/html", "application/xhtml+xml", "text/plain", "application/json"}


def test_every_error_code_is_documented(spec: dict[str, Any]) -> None:
    codes = {cls.code for cls in errors._all_subclasses(errors.ServiceError)}
    assert set(spec["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]) == codes
    extract = spec["paths"]["/v1/extract"]["post"]["responses"]
    assert set(extract) == {
        "200",
        "400",
        "401",
        "403",
        "408",
        "413",
        "414",
        "415",
        "417",
        "422",
        "429",
        "431",
        "500",
        "501",
        "502",
        "503",
        "504",
    }
    # What the HTTP parser refuses before any route is known applies to every POST too.
    assert {"417", "501"} <= set(spec["paths"]["/v1/extract/batch"]["post"]["responses"])
    problem = extract["503"]["content"]["application/problem+json"]["schema"]
    assert problem["properties"]["code"]["enum"] == ["extractor-unavailable", "time-budget-exceeded"]
    assert "Retry-After" in extract["429"]["headers"]


def test_what_the_document_says_needs_a_key_is_what_needs_one(runtime: Runtime, spec: dict[str, Any]) -> None:
    """With keys configured, every GET the document marks public (``security: []``) answers
    without a key and every other one is 401 (issue 24 item 17: /openapi.json was documented as
    401 but stays open, as its document describes the public API's shape)."""
    keyed = create_app(settings=make_settings(api_keys="a-key"), runtime=runtime).test_client()
    assert spec["paths"]["/openapi.json"]["get"]["security"] == []
    for path, item in spec["paths"].items():
        if "get" not in item:
            continue
        public = item["get"].get("security") == []
        with keyed.get(path) as response:  # closed: static pages are streamed from their files
            status = response.status_code
        assert (status != 401) == public, (path, status)
        assert ("401" in item["get"]["responses"]) != public, path


def test_real_answers_match_the_answer_schema_exactly(client: FlaskClient, spec: dict[str, Any]) -> None:
    answer = validator(spec, response_schema(spec, "/v1/extract", "post", 200, "application/json"))
    every = "?format=text,markdown,html&comments=true&explain=true&url=https://example.org/x"
    full = client.post("/v1/extract" + every, data=PAGE, content_type="text/html")
    plain = client.post("/v1/extract", json={"text": TEXT})
    for response in (full, plain):
        assert response.status_code == 200
        answer.validate(response.json)
    schema = spec["components"]["schemas"]["Answer"]
    # Every key the serializer can add is documented (and "fetch", added for a fetched page).
    assert set(json_object(full)) | {"fetch"} == set(schema["properties"])
    assert set(json_object(plain)) == set(schema["required"])


@pytest.mark.parametrize(
    ("content_type", "body", "query", "status"),
    [
        ("application/json", b"{", "", 400),
        ("text/html", PAGE.encode(), "?favor=fast", 400),
        ("image/png", b"\x89PNG", "", 415),
        ("text/html", b"", "", 422),
    ],
)
def test_real_problems_match_their_documented_status(
    client: FlaskClient, spec: dict[str, Any], content_type: str, body: bytes, query: str, status: int
) -> None:
    response = client.post("/v1/extract" + query, data=body, content_type=content_type)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    validator(spec, response_schema(spec, "/v1/extract", "post", status, "application/problem+json")).validate(
        response.json
    )


def test_batch_lines_match_their_schemas(client: FlaskClient, spec: dict[str, Any]) -> None:
    result = validator(spec, {"$ref": "#/components/schemas/BatchResult"})
    error = validator(spec, {"$ref": "#/components/schemas/BatchError"})
    body = ndjson({"id": "p", "html": PAGE, "options": {"explain": True}}, {"id": 7, "text": TEXT}, "{", {"id": 1})
    response = client.post("/v1/extract/batch", data=body, content_type="application/x-ndjson")
    lines = [json.loads(line) for line in response.data.splitlines()]
    result.validate(lines[0])
    result.validate(lines[1])
    error.validate(lines[2])
    error.validate(lines[3])
    assert not result.is_valid(lines[2])  # the schemas are strict enough to tell them apart


def test_docs_page_is_offline_and_locked_down(client: FlaskClient, spec: dict[str, Any]) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Content-Security-Policy"] == DOCS_CSP
    assert "script-src 'self'" in DOCS_CSP
    assert "unsafe-inline" not in DOCS_CSP
    html = response.data.decode("utf-8")
    assert "http://" not in html.replace('"http://', "")  # no external resource
    assert "https://" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.DOTALL)
    assert len(scripts) == 2
    for attributes, content in scripts:
        if 'type="application/json"' in attributes:  # data, not code: CSP does not apply
            assert json.loads(content) == spec
        else:
            assert 'src="/static/docs/' in attributes
            assert content.strip() == ""
    assert "style=" not in html
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        with client.get(asset) as asset_response:
            assert asset_response.status_code == 200


def test_docs_data_block_cannot_end_the_script(spec: dict[str, Any]) -> None:
    from service.http.docs import _json_data_block

    hostile = {"description": "</script><script>alert(1)</script> \u2028 <!-- & >"}
    block = _json_data_block(hostile)
    assert "<" not in block
    assert ">" not in block
    assert json.loads(block) == hostile


def test_the_timeout_option_is_bounded_by_this_servers_budget(client: FlaskClient) -> None:
    spec = json_object(client.get("/openapi.json"))
    budget = client.application.extensions["cleaner"].settings.time_budget_s
    assert spec["components"]["schemas"]["Options"]["properties"]["timeout"]["maximum"] == budget
    parameters = {p["name"]: p for p in spec["paths"]["/v1/extract"]["post"]["parameters"]}
    assert parameters["timeout"]["schema"]["maximum"] == budget
