"""The OpenAPI 3.1 document of the service, built from the code it describes.

Nothing here is a second copy of a rule that can drift:

- options, formats and favors come from ``service.models`` (``Options``, ``FORMATS``, ``FAVORS``);
- query parameters from ``service.api.request_forms`` (``QUERY_PARAMETERS``, ``JSON_FIELDS``);
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
from service.api.request_forms import JSON_FIELDS, MAX_URL_CHARS, QUERY_PARAMETERS
from service.models import _FALSE, _TRUE, BOOLEAN_OPTIONS, FAVORS, FORMATS, Article, Metadata, Options, Removed

OPENAPI_VERSION = "3.1.0"
JSON = "application/json"
HTML = "text/html"
NDJSON = "application/x-ndjson"
PROMETHEUS_TEXT = "text/plain"
PROBLEM = errors.PROBLEM_CONTENT_TYPE
REF = "#/components/schemas/"

# The errors each operation can answer (grouped by status in the document).
REQUEST_ERRORS: tuple[type[errors.ServiceError], ...] = (
    errors.BadRequest,
    errors.InvalidJSON,
    errors.InvalidField,
    errors.InvalidOption,
    errors.RequestTimeout,
    errors.BodyTooLarge,
    errors.UnsupportedMediaType,
)
EXTRACT_ERRORS: tuple[type[errors.ServiceError], ...] = (
    *REQUEST_ERRORS,
    errors.Unauthorized,
    errors.NotAPage,
    errors.PageTooComplex,
    errors.Overloaded,
    errors.TimeBudgetExceeded,
    errors.ExtractorUnavailable,
    errors.ExtractorCrashed,
    errors.ServiceError,
)
BATCH_ERRORS: tuple[type[errors.ServiceError], ...] = (
    *REQUEST_ERRORS,
    errors.Unauthorized,
    errors.Overloaded,
    errors.ServiceError,
)
# What one batch item may fail with (reported in its line, never as the batch's status).
BATCH_ITEM_ERRORS: tuple[type[errors.ServiceError], ...] = (
    errors.InvalidJSON,
    errors.InvalidField,
    errors.InvalidOption,
    errors.NotAPage,
    errors.PageTooComplex,
    errors.TimeBudgetExceeded,
    errors.ExtractorUnavailable,
    errors.ExtractorCrashed,
    errors.ServiceError,
)
PROTECTED_ERRORS: tuple[type[errors.ServiceError], ...] = (errors.Unauthorized,)
# Headers that carry a meaning for the client, by error status.
RETRY_AFTER_STATUSES = frozenset({429, 503})

_NULLABLE_STRING = {"type": ["string", "null"]}
_STRING_LIST = {"type": "array", "items": {"type": "string"}}
# Python annotations of Metadata fields (strings under ``from __future__ import annotations``).
_ANNOTATION_SCHEMAS: dict[str, dict[str, Any]] = {
    "str | None": _NULLABLE_STRING,
    "str": {"type": "string"},
    "list[str]": _STRING_LIST,
}
# Answer keys that are not metadata fields.
_ANSWER_FIELD_SCHEMAS: dict[str, dict[str, Any]] = {
    "text": {"type": "string", "description": "The article as plain text (always present)."},
    "markdown": {"type": "string", "description": "Present when format includes markdown."},
    "html": {"type": "string", "description": "Present when format includes html."},
    "comments": {"type": "string", "description": "The comment section as text; present when comments=true."},
    "word_count": {"type": "integer", "minimum": 0, "description": "Words in text (CJK: characters)."},
    "removed": {
        "type": "array",
        "items": {"$ref": REF + "Removed"},
        "description": "Blocks the cleaner dropped and why; present when explain=true.",
    },
    "warnings": {
        "type": "array",
        "items": {"type": "string"},
        "description": "Stable codes for anything the client should know (e.g. page-truncated).",
    },
    "timing_ms": {"type": "number", "minimum": 0, "description": "Server time spent on this page."},
}
ADDED_BY_WEB_WORKER = ("timing_ms",)


def answer_keys() -> tuple[list[str], list[str]]:
    """(keys always present, keys present only for some options), from the real serializer."""
    from service.pipeline.serialize import to_response

    empty = Article(metadata=Metadata(), body=None)
    every_option = Options(formats=FORMATS, comments=True, explain=True)
    default_keys = [*to_response(empty, Options()), *ADDED_BY_WEB_WORKER]
    all_keys = [*to_response(empty, every_option), *ADDED_BY_WEB_WORKER]
    return default_keys, [key for key in all_keys if key not in default_keys]


def answer_schema(extra_required: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON schema of one answer; ``extra_required`` adds leading keys (the batch's ``id``)."""
    required, optional = answer_keys()
    metadata_types = {f.name: str(f.type) for f in dataclasses.fields(Metadata)}
    properties: dict[str, Any] = dict(extra_required or {})
    for key in [*required, *optional]:
        if key in _ANSWER_FIELD_SCHEMAS:
            properties[key] = _ANSWER_FIELD_SCHEMAS[key]
        elif key in metadata_types:
            properties[key] = _ANNOTATION_SCHEMAS[metadata_types[key]]
        else:
            raise KeyError(f"the answer key {key!r} has no schema in service/openapi.py")
    return {
        "type": "object",
        "properties": properties,
        "required": [*(extra_required or {}), *required],
        "additionalProperties": False,
    }


def _case_insensitive(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)


def _boolean_query_schema() -> dict[str, Any]:
    words = sorted(_TRUE | _FALSE)
    return {"type": "string", "pattern": "^(" + "|".join(_case_insensitive(w) for w in words) + ")$"}


def _format_list_pattern() -> str:
    one = "(" + "|".join(FORMATS) + ")"
    return rf"^[\s,]*{one}(\s*,[\s,]*{one})*[\s,]*$"


def options_schema() -> dict[str, Any]:
    defaults = Options()
    properties: dict[str, Any] = {
        "format": {
            "description": "Renderings to return besides text: a list or a comma-separated string.",
            "oneOf": [
                {"type": "string", "pattern": _format_list_pattern()},
                {"type": "array", "items": {"enum": list(FORMATS)}, "minItems": 1},
            ],
            "default": ",".join(defaults.formats),
        },
        "favor": {"enum": list(FAVORS), "default": defaults.favor},
    }
    for name in BOOLEAN_OPTIONS:
        properties[name] = {
            "oneOf": [{"type": "boolean"}, _boolean_query_schema()],
            "default": getattr(defaults, name),
        }
    return {"type": "object", "properties": properties, "additionalProperties": False}


def query_parameters(names: frozenset[str]) -> list[dict[str, Any]]:
    defaults = Options()
    params: list[dict[str, Any]] = []
    for name in sorted(names):
        if name == "url":
            schema: dict[str, Any] = {"type": "string", "maxLength": MAX_URL_CHARS}
            doc = (
                "The page's URL: fills metadata.url and helps resolve relative links. An http(s) URL "
                "with a host and no control characters, else 400 invalid-field."
            )
        elif name == "format":
            schema = {"type": "array", "items": {"type": "string", "pattern": _format_list_pattern()}}
            doc = f"Renderings ({', '.join(FORMATS)}): repeat the parameter or give a comma list."
        elif name == "favor":
            schema = {"type": "string", "enum": list(FAVORS), "default": defaults.favor}
            doc = "Trade-off of the extractor: precision drops more, recall keeps more."
        elif name in BOOLEAN_OPTIONS:
            schema = {**_boolean_query_schema(), "default": str(getattr(defaults, name)).lower()}
            doc = f"true/false (also 1/0, yes/no, on/off). Default {str(getattr(defaults, name)).lower()}."
        else:
            raise KeyError(f"the query parameter {name!r} has no schema in service/openapi.py")
        param: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema}
        param["description"] = doc
        if name == "format":
            param["style"], param["explode"] = "form", True
        params.append(param)
    return params


def problem_schema(classes: tuple[type[errors.ServiceError], ...] | None = None) -> dict[str, Any]:
    """RFC 9457 problem details; ``classes`` narrows ``code`` and ``status`` to those errors."""
    chosen = classes or tuple(_all_errors())
    codes = sorted({cls.code for cls in chosen})
    statuses = sorted({cls.status for cls in chosen})
    return {
        "type": "object",
        "required": ["type", "code", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "description": f"{errors.PROBLEM_TYPE_BASE}<code>"},
            "code": {"enum": codes, "description": "Stable machine-readable code."},
            "title": {"type": "string"},
            "status": {"enum": statuses},
            "detail": {"type": "string", "description": "What exactly was wrong (human-readable)."},
            "instance": {"type": "string"},
            "field": {"type": "string", "description": "invalid-field: the field at fault."},
            "option": {"type": "string", "description": "invalid-option: the option at fault."},
            "line": {"type": "integer", "minimum": 1, "description": "Batch items: the line number."},
        },
        "additionalProperties": True,
    }


def _all_errors() -> list[type[errors.ServiceError]]:
    return sorted(set(errors._all_subclasses(errors.ServiceError)), key=lambda cls: (cls.status, cls.code))


def error_responses(classes: tuple[type[errors.ServiceError], ...]) -> dict[str, Any]:
    by_status: dict[int, list[type[errors.ServiceError]]] = {}
    for cls in classes:
        by_status.setdefault(cls.status, []).append(cls)
    responses: dict[str, Any] = {}
    for status in sorted(by_status):
        group = tuple(by_status[status])
        lines = "; ".join(f"`{cls.code}`: {cls.title}" for cls in sorted(group, key=lambda c: c.code))
        headers: dict[str, Any] = {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}}
        if status in RETRY_AFTER_STATUSES:
            headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
        if status == errors.Unauthorized.status:
            headers["WWW-Authenticate"] = {"required": True, "schema": {"type": "string"}}
        responses[str(status)] = {
            "description": lines,
            "headers": headers,
            "content": {PROBLEM: {"schema": problem_schema(group)}},
        }
    return responses


def _json_response(description: str, schema: dict[str, Any], **headers: Any) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}, **headers},
        "content": {JSON: {"schema": schema}},
    }


def _html_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}},
        "content": {HTML: {"schema": {"type": "string"}}},
    }


def extract_request_schema() -> dict[str, Any]:
    extra = sorted(JSON_FIELDS - {"html", "text", "url", "options"})
    properties: dict[str, Any] = {
        "html": {"type": "string", "description": "The page's HTML (give html or text)."},
        "text": {"type": "string", "description": "Messy plain text to clean (give html or text)."},
        "url": {
            "type": ["string", "null"],
            "maxLength": MAX_URL_CHARS,
            "description": "An http(s) URL with a host and no control characters, else 400 invalid-field.",
        },
        "options": {"$ref": REF + "Options"},
    }
    for name in extra:  # e.g. "id": accepted (and ignored) so batch lines can be posted alone
        properties[name] = {"description": "Accepted and ignored here; identifies batch items."}
    return {
        "type": "object",
        "properties": properties,
        "oneOf": [
            {"required": ["html"], "not": {"required": ["text"]}},
            {"required": ["text"], "not": {"required": ["html"]}},
        ],
        "additionalProperties": False,
    }


def batch_item_schema() -> dict[str, Any]:
    schema = extract_request_schema()
    schema["properties"]["id"] = {
        "oneOf": [{"type": "string", "maxLength": 1024}, {"type": "integer"}],
        "description": "Echoed in the item's answer line.",
    }
    schema["required"] = ["id"]
    return schema


def _extract_operation() -> dict[str, Any]:
    raw_body = {"schema": {"type": "string"}}
    return {
        "operationId": "extract",
        "summary": "Clean one page or text",
        "description": (
            "Send the page as `text/html` (or `application/xhtml+xml`; charset from the header or "
            "sniffed), already-extracted `text/plain`, or `application/json` "
            '(`{"html"|"text", "url", "options"}`; JSON options win over the query). '
            "Bodies may be gzip/deflate encoded (`Content-Encoding`)."
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
            "200": _json_response(
                "The clean article.",
                {"$ref": REF + "Answer"},
                **{"X-Cache": {"required": True, "schema": {"enum": ["hit", "miss"]}}},
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
            "each within its own time budget."
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
            {"200": _json_response("Alive.", {"type": "object", "properties": {"status": {"const": "ok"}}})},
            public=True,
        ),
        "/readyz": _get(
            "readyz",
            "Readiness: a canary page goes through an extraction process",
            {
                "200": _json_response("Ready.", readiness),
                "503": _json_response("Not ready (reason: the problem code or canary-mismatch).", readiness),
            },
            public=True,
        ),
        "/version": _get(
            "version",
            "Service and trafilatura versions",
            {
                "200": _json_response(
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
        "/openapi.json": _get(
            "openapi", "This document", {"200": _json_response("OpenAPI 3.1 document.", {"type": "object"})}
        ),
        "/docs": _get(
            "docs", "Human-readable API reference (offline, no CDN)", {"200": _html_response("HTML page.")}, public=True
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
            {"200": _html_response("HTML page.")},
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
    return {
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
