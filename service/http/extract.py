"""``POST /v1/extract``: one page in, one clean article out; the one implementation of the endpoint.

It is plain WSGI, installed in front of Flask by ``create_app`` (``ExtractEndpoint``): Flask and
Werkzeug cost the web worker ~0.37 ms a request (request and response objects, context locals,
routing, hooks), 1.28 -> 0.91 ms of its CPU per page under load without them, and the web worker
shares the cores with the extraction processes, so that time came out of the throughput (0.857x
-> 0.887x of the in-process pipeline at 4 clients, 3 alternating pairs, ``bench/compare_serving.py``).
It uses the same functions as Flask's hooks (``request_cycle``, ``metrics.count_request``).
Flask's URL map still declares the route (``blueprint``, no view), so Flask's routing answers
the other methods (405) and the CORS preflight of this path.

Being the outermost layer, it also makes runs of slashes in every path one slash, before the key
check, the routing, the log and the metrics read it: ``//v1/extract`` is ``/v1/extract``, as nginx
(``merge_slashes``) and Werkzeug (by a redirect) already treat them. Each layer used to read such
a path its own way: this endpoint's exact match missed it, Flask's routing matched the leading
form to the view-less rule (a 500) and redirected the inner one (308 with an HTML page).
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, Flask
from werkzeug.datastructures import MultiDict

from service.answers import article_json
from service.errors import ServiceError
from service.fetch import fetch_job
from service.http import request_cycle
from service.http.body import read_body
from service.http.client_gone import ClientWatch
from service.http.compression import compress_wsgi_body
from service.http.metrics import EXTRACT_ENDPOINT, count_request
from service.http.responses import article_headers
from service.request_forms import job_from_request, media_type, query_arguments
from service.workers.runtime import Runtime

log = logging.getLogger("service")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# The route without a view: POST never reaches Flask (ExtractEndpoint answers it first).
blueprint = Blueprint("extract", __name__)
blueprint.add_url_rule(EXTRACT_ENDPOINT, endpoint="extract", methods=["POST"])
_SLASHES = re.compile("//+")


class ExtractEndpoint:
    """WSGI middleware: ``POST /v1/extract`` here, everything else to ``inner`` (Flask); runs of
    slashes in any path made one first (see the module doc)."""

    def __init__(self, app: Flask, inner: WsgiApp) -> None:
        self.inner = inner
        self.runtime = app.extensions["cleaner"]
        self.keyring = app.extensions["keyring"]
        self.cors_origins = app.extensions["cors_origins"]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if "//" in path:
            environ["PATH_INFO"] = path = _SLASHES.sub("/", path)
        if path != EXTRACT_ENDPOINT or environ.get("REQUEST_METHOD") != "POST":
            return self.inner(environ, start_response)
        context: dict[str, Any] = {"started": time.perf_counter()}
        try:
            context["request_id"] = request_cycle.request_id(environ.get("HTTP_X_REQUEST_ID"))
            self.keyring.check(EXTRACT_ENDPOINT, environ.get("HTTP_AUTHORIZATION"), environ.get("HTTP_HOST"))
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
        body, encoding_headers = compress_wsgi_body(text.encode(), environ.get("HTTP_ACCEPT_ENCODING"))
        always, defaults = request_cycle.common_headers(context, environ.get("HTTP_ORIGIN"), self.cors_origins)
        present = {name.lower() for name, _value in headers}
        headers = [
            *headers,
            *encoding_headers,
            ("Content-Length", str(len(body))),
            *always,
            *(pair for pair in defaults if pair[0].lower() not in present),
        ]
        start_response(request_cycle.status_line(status), headers)
        request_cycle.log_access("POST", EXTRACT_ENDPOINT, status, context)
        count_request(EXTRACT_ENDPOINT, status, context, self.runtime)
        return [body]

    @staticmethod
    def _problem(error: ServiceError, context: dict[str, Any]) -> tuple[int, list[tuple[str, str]], str]:
        context["error_code"] = error.code
        return request_cycle.problem(error, EXTRACT_ENDPOINT)


def answer_body(
    runtime: Runtime,
    environ: dict[str, Any],
    content_type: str | None,
    query: MultiDict[str, str],
    context: dict[str, Any],
) -> tuple[str, bool]:
    """(the JSON answer, whether it came from the cache) for one request; what the access log
    and the metrics read goes into ``context`` (bytes_in, mode, warnings).

    Raises:
        ServiceError: every client-visible failure (body, options, overload, extraction).
    """
    settings = runtime.settings
    started = time.perf_counter()
    media_type(content_type)  # a form we do not take is refused before its upload (Expect: 100-continue)
    # Uploads hold a reading slot, not an extraction slot: 50 clients trickling their bodies
    # must not make normal requests look like overload (issue 4).
    with runtime.reading.admit():
        body = read_body(environ, settings.max_body_bytes, settings.read_timeout_s)
    context["bytes_in"] = len(body)
    job = job_from_request(content_type, body, query)
    fetched = None
    if job.fetch:
        # A fetched page is held in memory as an upload is; a client that leaves stops its fetch.
        with runtime.reading.admit(), ClientWatch(environ) as client:
            fetched = client.run(functools.partial(fetch_job, job, settings))
        job = fetched.job
    context["mode"] = job.mode
    with runtime.admission.admit():
        answer, cached = runtime.extract(job, fetched.budget_s if fetched else None)
    if fetched is not None:
        answer = {**answer, "fetch": fetched.page.summary()}
    context["warnings"] = answer.get("warnings", [])
    return article_json(answer, started), cached
