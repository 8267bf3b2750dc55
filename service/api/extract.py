"""``POST /v1/extract``: one page in, one clean article out."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from werkzeug.datastructures import MultiDict

from service.api.body import read_body
from service.api.request_forms import job_from_request
from service.api.responses import JSON_CONTENT_TYPE, article_json
from service.runtime import Runtime

blueprint = Blueprint("extract", __name__)


@blueprint.post("/v1/extract")
def extract() -> Response:
    """Flask's route for ``POST /v1/extract`` (``extract_fast_path`` answers it before Flask does;
    this is the same work through Flask's request objects)."""
    context = vars(g._get_current_object())
    body, cached = answer_body(
        current_app.extensions["cleaner"], request.environ, request.headers.get("Content-Type"), request.args, context
    )
    response = Response(body, status=200, content_type=JSON_CONTENT_TYPE)
    response.headers["X-Cache"] = "hit" if cached else "miss"
    return response


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
    # Uploads hold a reading slot, not an extraction slot: 50 clients trickling their bodies
    # must not make normal requests look like overload (issue 4).
    with runtime.reading.admit():
        body = read_body(environ, settings.max_body_bytes, settings.read_timeout_s)
    context["bytes_in"] = len(body)
    job = job_from_request(content_type, body, query)
    context["mode"] = job.mode
    with runtime.admission.admit():
        answer, cached = runtime.extract(job)
    context["warnings"] = answer.get("warnings", [])
    return article_json(answer, started), cached
