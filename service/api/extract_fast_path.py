"""``POST /v1/extract`` answered before Flask sees it, as plain WSGI: the web worker's path for
the requests the connection hand-off leaves to it (``handoff_front``: slow, large or unusual
requests, or all of them with ``CLEANER_HANDOFF=0``).

Flask and Werkzeug cost the web worker ~0.37 ms a request (request and response objects, context
locals, routing, hooks): 1.28 -> 0.91 ms of its CPU per page under load without them, and the
web worker shares the cores with the extraction processes, so that time comes out of the
throughput (0.857x -> 0.887x of the in-process pipeline at 4 clients, 3 alternating pairs with
``bench/compare_serving.py``). This middleware,
installed as the Flask app's ``wsgi_app``, handles exactly ``POST /v1/extract`` with the same
functions the Flask route and hooks use (``request_cycle``, ``extract.answer_body``,
``metrics.count_request``); every other request, and the CORS preflight of this one, goes to
Flask. The API tests therefore run through this path, and a test compares its answers with the
Flask route's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.http import HTTP_STATUS_CODES

from service.api import request_cycle
from service.api.extract import answer_body
from service.api.metrics import EXTRACT_ENDPOINT, count_request
from service.api.request_forms import query_arguments
from service.api.responses import article_headers
from service.errors import ServiceError

log = logging.getLogger("service")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class ExtractFastPath:
    """WSGI middleware: ``POST /v1/extract`` here, everything else to ``inner`` (Flask)."""

    def __init__(self, app: Flask, inner: WsgiApp) -> None:
        self.inner = inner
        self.runtime = app.extensions["cleaner"]
        self.keyring = app.extensions["keyring"]
        self.cors_origins = app.extensions["cors_origins"]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != EXTRACT_ENDPOINT or environ.get("REQUEST_METHOD") != "POST":
            return self.inner(environ, start_response)
        context: dict[str, Any] = {"started": time.perf_counter()}
        try:
            context["request_id"] = request_cycle.request_id(environ.get("HTTP_X_REQUEST_ID"))
            self.keyring.check(EXTRACT_ENDPOINT, environ.get("HTTP_AUTHORIZATION"))
            query = query_arguments(environ.get("QUERY_STRING", ""))
            text, cached = answer_body(self.runtime, environ, environ.get("CONTENT_TYPE"), query, context)
            status = 200
            headers = article_headers(cached)
        except ServiceError as error:
            status, headers, text = self._problem(error, context)
        except Exception:  # the same answer as Flask's handler of unexpected errors
            log.exception("unexpected error on POST %s", EXTRACT_ENDPOINT)
            status, headers, text = self._problem(
                ServiceError("An unexpected error occurred; it has been logged."), context
            )
        body = text.encode()
        always, defaults = request_cycle.common_headers(context, environ.get("HTTP_ORIGIN"), self.cors_origins)
        present = {name.lower() for name, _value in headers}
        headers = [
            *headers,
            ("Content-Length", str(len(body))),
            *always,
            *(pair for pair in defaults if pair[0].lower() not in present),
        ]
        start_response(f"{status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN').upper()}", headers)
        request_cycle.log_access("POST", EXTRACT_ENDPOINT, status, context)
        count_request(EXTRACT_ENDPOINT, status, context, self.runtime)
        return [body]

    @staticmethod
    def _problem(error: ServiceError, context: dict[str, Any]) -> tuple[int, list[tuple[str, str]], str]:
        context["error_code"] = error.code
        return request_cycle.problem(error, EXTRACT_ENDPOINT)
