"""The schemas of the OpenAPI document (``openapi``), each built from the code it describes."""

from __future__ import annotations

import dataclasses
from typing import Any

from service import errors
from service.models import (
    _FALSE,
    _TRUE,
    BOOLEAN_OPTIONS,
    FAVORS,
    FORMATS,
    MAX_SELECTOR_CHARS,
    MAX_SELECTORS,
    SELECTOR_OPTIONS,
    Article,
    Metadata,
    Options,
)
from service.request_forms import JSON_FIELDS, MAX_URL_CHARS

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
    errors.HostNotAllowed,
    errors.RequestTimeout,
    errors.BodyTooLarge,
    errors.UriTooLong,
    errors.UnsupportedMediaType,
    errors.HeaderFieldsTooLarge,
    errors.ExpectationFailed,
    errors.TransferCodingNotImplemented,
)
# A request with only a URL (CLEANER_FETCH=1).
FETCH_ERRORS: tuple[type[errors.ServiceError], ...] = (errors.FetchRefused, errors.FetchFailed, errors.FetchTimeout)
EXTRACT_ERRORS: tuple[type[errors.ServiceError], ...] = (
    *REQUEST_ERRORS,
    *FETCH_ERRORS,
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
    *FETCH_ERRORS,
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
PROTECTED_ERRORS: tuple[type[errors.ServiceError], ...] = (errors.Unauthorized, errors.HostNotAllowed)
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
# Present only when the page was fetched by URL (service.fetch.client.Fetched.summary).
FETCH_SUMMARY_SCHEMA = {
    "type": "object",
    "description": "Present when the server fetched the page: the final URL (after redirects) and its answer.",
    "required": ["url", "status", "content_type", "redirects"],
    "properties": {
        "url": {"type": "string"},
        "status": {"type": "integer"},
        "content_type": {"type": "string"},
        "redirects": {"type": "integer", "minimum": 0},
    },
    "additionalProperties": False,
}


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
            raise KeyError(f"the answer key {key!r} has no schema in service/http/openapi.py")
    properties["fetch"] = FETCH_SUMMARY_SCHEMA
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


TIMEOUT_DOC = (
    "Seconds this request's extraction may take (> 0), at most the server's time budget "
    "(CLEANER_TIME_BUDGET_S; above it 400 invalid-option). Over it: 503 time-budget-exceeded. "
    "Default: the server's budget."
)


SELECTOR_DOCS = {
    "include": (
        "CSS selectors: extract only from the elements they match (HTML pages), in page order; "
        "the head still gives the metadata. Matching nothing: empty text and the warning "
        "`include-matched-nothing`. On plain text: ignored, warning `include-ignored`. An invalid "
        "selector: 400 invalid-option."
    ),
    "exclude": (
        "CSS selectors: drop the elements they match before extraction (HTML pages; on plain text: "
        "ignored, warning `exclude-ignored`). An invalid selector: 400 invalid-option."
    ),
}


def _selector_schema() -> dict[str, Any]:
    # Not every such string is a valid selector: the server checks with cssselect (400 if not).
    return {"type": "string", "minLength": 1, "maxLength": MAX_SELECTOR_CHARS}


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
        "timeout": {"type": "number", "exclusiveMinimum": 0, "description": TIMEOUT_DOC},
        **{
            name: {
                "description": SELECTOR_DOCS[name],
                "oneOf": [
                    _selector_schema(),
                    {"type": "array", "items": _selector_schema(), "maxItems": MAX_SELECTORS},
                ],
            }
            for name in SELECTOR_OPTIONS
        },
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
                "The page's URL: fills metadata.url and helps resolve relative links. Not http(s): "
                "dropped with the warning url-ignored; control characters or no valid host: 400 invalid-field."
            )
        elif name == "format":
            schema = {"type": "array", "items": {"type": "string", "pattern": _format_list_pattern()}}
            doc = f"Renderings ({', '.join(FORMATS)}): repeat the parameter or give a comma list."
        elif name == "favor":
            schema = {"type": "string", "enum": list(FAVORS), "default": defaults.favor}
            doc = "Trade-off of the extractor: precision drops more, recall keeps more."
        elif name == "timeout":
            schema, doc = {"type": "number", "exclusiveMinimum": 0}, TIMEOUT_DOC
        elif name in SELECTOR_OPTIONS:
            schema = {"type": "array", "items": _selector_schema(), "maxItems": MAX_SELECTORS}
            doc = SELECTOR_DOCS[name] + " Repeat the parameter for several."
        elif name in BOOLEAN_OPTIONS:
            schema = {**_boolean_query_schema(), "default": str(getattr(defaults, name)).lower()}
            doc = f"true/false (also 1/0, yes/no, on/off). Default {str(getattr(defaults, name)).lower()}."
        else:
            raise KeyError(f"the query parameter {name!r} has no schema in service/http/openapi.py")
        param: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema}
        param["description"] = doc
        if name == "format" or name in SELECTOR_OPTIONS:
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
            "reason": {"type": "string", "description": "fetch-*: what went wrong (e.g. address, too-large)."},
            "url": {"type": "string", "description": "fetch-*: the URL (redirect hop) at fault."},
            "upstream_status": {"type": "integer", "description": "fetch-failed: the fetched URL's HTTP status."},
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


def json_response(description: str, schema: dict[str, Any], **headers: Any) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}, **headers},
        "content": {JSON: {"schema": schema}},
    }


def html_response(description: str) -> dict[str, Any]:
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
            "description": (
                "The page's URL. Not http(s): dropped with the warning url-ignored; control characters "
                "or no valid host: 400 invalid-field. Given alone (no html or text), the server fetches "
                "the page if CLEANER_FETCH is on (else 403 fetch-refused); it must then be http(s)."
            ),
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
            {"required": ["url"], "not": {"anyOf": [{"required": ["html"]}, {"required": ["text"]}]}},
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
