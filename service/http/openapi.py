"""The OpenAPI 3.1 document of the service, built from the code it describes.

Nothing here is a second copy of a rule that can drift:

- options, formats and favors come from ``service.models`` (``Options``, ``FORMATS``, ``FAVORS``);
- query parameters from ``service.request_forms`` (``QUERY_PARAMETERS``, ``JSON_FIELDS``);
- error codes, statuses and titles from the ``ServiceError`` family in ``service.errors``;
- the answer's keys from ``service.pipeline.serialize.to_response`` run on an empty article
  (a key the serializer adds without a schema here makes ``build_spec`` fail, and the tests);
- the paths from the app's own URL map (an operation is listed only if its route exists).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Flask

from service import __version__, errors
from service.http.openapi_schemas import (
    BATCH_ERRORS,
    BATCH_ITEM_ERRORS,
    EXTRACT_ERRORS,
    HTML,
    JSON,
    NDJSON,
    OPENAPI_VERSION,
    PROMETHEUS_TEXT,
    PROTECTED_ERRORS,
    REF,
    answer_schema,
    batch_item_schema,
    error_responses,
    extract_request_schema,
    html_response,
    json_response,
    options_schema,
    problem_schema,
    query_parameters,
)
from service.models import Removed
from service.request_forms import QUERY_PARAMETERS

GZIP_ANSWERS = (
    "With `Accept-Encoding: gzip`, answers of 1 KB or more come gzipped (`Content-Encoding: gzip`); "
    "problem documents never do."
)
CONTENT_ENCODING_HEADER = {
    "description": "`gzip` when the client sent `Accept-Encoding: gzip` (and the answer is worth it).",
    "required": False,
    "schema": {"enum": ["gzip"]},
}


def _extract_operation() -> dict[str, Any]:
    raw_body = {"schema": {"type": "string"}}
    return {
        "operationId": "extract",
        "summary": "Clean one page or text",
        "description": (
            "Send the page as `text/html` (or `application/xhtml+xml`; charset from the header or "
            "sniffed), already-extracted `text/plain`, or `application/json` "
            '(`{"html"|"text", "url", "options"}`; JSON options win over the query). '
            "Bodies may be gzip/deflate encoded (`Content-Encoding`). " + GZIP_ANSWERS
        ),
        "parameters": query_parameters(QUERY_PARAMETERS),
        "requestBody": {
            "required": True,
            "content": {
                HTML: raw_body,
                "application/xhtml+xml": raw_body,
                "text/plain": raw_body,
                JSON: {"schema": {"$ref": REF + "ExtractRequest"}},
            },
        },
        "responses": {
            "200": json_response(
                "The clean article.",
                {"$ref": REF + "Answer"},
                **{"X-Cache": {"required": True, "schema": {"enum": ["hit", "miss"]}}},
                **{"Content-Encoding": CONTENT_ENCODING_HEADER},
            ),
            **error_responses(EXTRACT_ERRORS),
        },
    }


def _batch_operation() -> dict[str, Any]:
    return {
        "operationId": "extractBatch",
        "summary": "Clean many pages (NDJSON in, NDJSON out)",
        "description": (
            "One JSON object per line: `BatchItem`. The answer streams one line per item, in order: "
            "`BatchResult` or `BatchError` (a bad item never fails the others). Query options are "
            "defaults for every item. Items run concurrently (up to the extraction pool's size), "
            "each within its own time budget. With `Accept-Encoding: gzip` the stream is one gzip "
            "stream, flushed after every line."
        ),
        "parameters": query_parameters(QUERY_PARAMETERS - {"url"}),
        "requestBody": {
            "required": True,
            "content": {NDJSON: {"schema": {"type": "string"}, "x-item-schema": {"$ref": REF + "BatchItem"}}},
        },
        "responses": {
            "200": {
                "description": "One line per item, in order.",
                "headers": {
                    "X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"},
                    "X-Batch-Items": {"required": True, "schema": {"type": "string", "pattern": "^[0-9]+$"}},
                    "Content-Encoding": CONTENT_ENCODING_HEADER,
                },
                "content": {
                    NDJSON: {
                        "schema": {"type": "string"},
                        "x-item-schema": {"oneOf": [{"$ref": REF + "BatchResult"}, {"$ref": REF + "BatchError"}]},
                    }
                },
            },
            **error_responses(BATCH_ERRORS),
        },
    }


def _get(operation_id: str, summary: str, responses: dict[str, Any], public: bool = False) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": operation_id, "summary": summary, "responses": responses}
    if public:
        operation["security"] = []
    else:
        operation["responses"] = {**responses, **error_responses(PROTECTED_ERRORS)}
    return {"get": operation}


def _paths() -> dict[str, dict[str, Any]]:
    """Every documented path, whether or not this app has its route (``build_spec`` filters)."""
    readiness = {
        "type": "object",
        "required": ["status"],
        "properties": {
            "status": {"enum": ["ready", "unavailable"]},
            "extractors": {"type": "integer", "minimum": 0},
            "reason": {"type": "string"},
        },
    }
    return {
        "/v1/extract": {"post": _extract_operation()},
        "/v1/extract/batch": {"post": _batch_operation()},
        "/healthz": _get(
            "healthz",
            "Liveness: the web worker answers (no work done)",
            {"200": json_response("Alive.", {"type": "object", "properties": {"status": {"const": "ok"}}})},
            public=True,
        ),
        "/readyz": _get(
            "readyz",
            "Readiness: a canary page goes through an extraction process",
            {
                "200": json_response("Ready.", readiness),
                "503": json_response("Not ready (reason: the problem code or canary-mismatch).", readiness),
            },
            public=True,
        ),
        "/version": _get(
            "version",
            "Service and trafilatura versions",
            {
                "200": json_response(
                    "Versions.",
                    {
                        "type": "object",
                        "required": ["service", "trafilatura"],
                        "properties": {"service": {"type": "string"}, "trafilatura": {"type": "string"}},
                    },
                )
            },
        ),
        "/metrics": _get(
            "metrics",
            "Prometheus metrics (text exposition format), summed over web workers",
            {
                "200": {
                    "description": "Prometheus text format 0.0.4.",
                    "headers": {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}},
                    "content": {PROMETHEUS_TEXT: {"schema": {"type": "string"}}},
                }
            },
        ),
        # Public, as /docs which renders it: the API's shape is no secret (issue 24 item 17).
        "/openapi.json": _get(
            "openapi", "This document", {"200": json_response("OpenAPI 3.1 document.", {"type": "object"})}, public=True
        ),
        "/docs": _get(
            "docs", "Human-readable API reference (offline, no CDN)", {"200": html_response("HTML page.")}, public=True
        ),
        "/playground/example": _get(
            "playgroundExample",
            "The playground's seed example (plain text)",
            {
                "200": {
                    "description": "A messy text to clean.",
                    "headers": {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}},
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
                **error_responses((errors.NotFound,)),
            },
            public=True,
        ),
        "/": _get(
            "playground",
            "Playground page: paste a page, see the answer",
            {"200": html_response("HTML page.")},
            public=True,
        ),
    }


def _components() -> dict[str, Any]:
    removed_fields = [f.name for f in dataclasses.fields(Removed)]
    return {
        "schemas": {
            "Options": options_schema(),
            "ExtractRequest": extract_request_schema(),
            "Answer": answer_schema(),
            "Removed": {
                "type": "object",
                "required": removed_fields,
                "properties": {name: {"type": "string"} for name in removed_fields},
                "additionalProperties": False,
            },
            "Problem": problem_schema(),
            "BatchItem": batch_item_schema(),
            "BatchResult": answer_schema({"id": {"type": ["string", "integer"]}}),
            "BatchError": {
                "type": "object",
                "required": ["id", "error"],
                "properties": {
                    "id": {"type": ["string", "integer", "null"], "description": "null if the line had no valid id."},
                    "error": problem_schema(BATCH_ITEM_ERRORS),
                },
                "additionalProperties": False,
            },
        },
        "headers": {
            "X-Request-ID": {
                "description": "The request's id: the client's X-Request-ID if well-formed, else a new one.",
                "required": True,
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:\\-]{1,128}$"},
            },
            "Retry-After": {
                "description": "Seconds to wait before retrying.",
                "required": True,
                "schema": {"type": "string"},
            },
        },
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "Required only when the server has API keys (CLEANER_API_KEYS / _FILE).",
            }
        },
    }


def build_spec(app: Flask | None = None) -> dict[str, Any]:
    """The whole document; with ``app``, only the paths (and methods) it actually routes."""
    paths = _paths()
    if app is not None:
        routed: dict[str, set[str]] = {}
        for rule in app.url_map.iter_rules():
            routed.setdefault(rule.rule, set()).update(m.lower() for m in rule.methods or ())
        # No path parameters in this API: an OpenAPI path is its Flask rule.
        paths = {
            path: {method: op for method, op in item.items() if method in routed.get(path, set())}
            for path, item in paths.items()
        }
        paths = {path: item for path, item in paths.items() if item}
    spec = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "pagecleaner",
            "version": __version__,
            "summary": "HTML or messy text in, the clean article as JSON out.",
            "description": (
                "Errors are `application/problem+json` (RFC 9457) with a stable `code`. Every answer "
                "carries `X-Request-ID` (the client's own if well-formed)."
            ),
        },
        "security": [{}, {"bearerAuth": []}],
        "paths": paths,
        "components": _components(),
    }
    if app is not None:
        _bound_timeouts(spec, app.extensions["cleaner"].settings.time_budget_s)
    return spec


def _bound_timeouts(spec: dict[str, Any], budget_s: float) -> None:
    """The ``timeout`` option's maximum is this server's budget: only the running app knows it."""
    spec["components"]["schemas"]["Options"]["properties"]["timeout"]["maximum"] = budget_s
    for item in spec["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "timeout":
                    parameter["schema"]["maximum"] = budget_s
