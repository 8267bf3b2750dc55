"""What every request goes through besides its view, as plain functions of the WSGI environ and
a context dict: its id, the common response headers, the problem document of an error, the
access-log line. ``app`` calls them from Flask's hooks, ``extract.ExtractEndpoint`` from its
own handling of ``POST /v1/extract``: one implementation for both."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Collection
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES

from service.errors import PROBLEM_CONTENT_TYPE, ClientClosed, ServiceError

access_log = logging.getLogger("service.access")
_UNICODE_LINE_BREAKS = str.maketrans({"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
# Reason phrases Werkzeug has none for (it wrote "499 UNKNOWN"): nginx's, as nginx spells it.
_REASONS = {ClientClosed.status: "Client Closed Request"}
CORS_HEADERS = (
    ("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding, X-Request-ID"),
    ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
    ("Access-Control-Expose-Headers", "X-Request-ID, X-Cache, Retry-After"),
)


def request_id(incoming: str | None) -> str:
    """The client's X-Request-ID when it is a sane token, else a fresh random one."""
    return incoming if incoming and _REQUEST_ID.match(incoming) else os.urandom(16).hex()


def common_headers(
    context: dict[str, Any], origin: str | None, cors_origins: Collection[str]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(headers to set, headers to set unless the view did) on every response."""
    headers = [("X-Request-ID", context.get("request_id", "")), ("X-Content-Type-Options", "nosniff")]
    if origin and origin in cors_origins:
        headers += [("Access-Control-Allow-Origin", origin), ("Vary", "Origin"), *CORS_HEADERS]
    headers.append(("Cache-Control", "no-store"))
    return headers, [("Referrer-Policy", "no-referrer")]


def status_line(status: int) -> str:
    """``status`` with its reason phrase: ``_REASONS``' else Werkzeug's in capitals, as Flask's
    answers have it (``404 NOT FOUND``). Never raises, unlike ``http.HTTPStatus(499)``."""
    return f"{status} {_REASONS.get(status) or HTTP_STATUS_CODES.get(status, 'UNKNOWN').upper()}"


def problem(error: ServiceError, path: str) -> tuple[int, list[tuple[str, str]], str]:
    """(status, headers, body) of the RFC 9457 answer for ``error`` on ``path``."""
    headers = [("Content-Type", PROBLEM_CONTENT_TYPE), *error.headers().items()]
    if error.status in {408, 413}:
        # The rest of the body may still be on the wire: do not reuse the connection.
        headers.append(("Connection", "close"))
    return error.status, headers, error.to_json(instance=path)


def log_access(method: str, path: str, status: int, context: dict[str, Any]) -> None:
    """One JSON line per request on the access log."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    now = time.perf_counter()
    record: dict[str, Any] = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "request_id": context.get("request_id"),
        "method": method,
        "path": path,
        "status": status,
        "bytes_in": context.get("bytes_in", 0),
        "mode": context.get("mode"),
        "duration_ms": round((now - context.get("started", now)) * 1000, 2),
        "warnings": context.get("warnings", []),
    }
    if context.get("error_code"):
        record["error"] = context["error_code"]
    # JSON leaves U+0085, U+2028 and U+2029 raw, and tools that split lines the Unicode way would
    # read one request's path as several lines: escaped, as the other line breaks are.
    line = json.dumps(record, ensure_ascii=False).translate(_UNICODE_LINE_BREAKS)
    # handle(makeRecord(...)) rather than info(): the same handlers and filters, without
    # logging's stack walk for a caller's file and line, which an access line never shows.
    access_log.handle(access_log.makeRecord(access_log.name, logging.INFO, __file__, 0, line, (), None))
