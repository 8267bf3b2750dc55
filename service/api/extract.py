"""``POST /v1/extract``: one page in, one clean article out."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, current_app, g, request

from service.api.body import read_body
from service.api.request_forms import job_from_request
from service.api.responses import json_response
from service.runtime import Runtime

blueprint = Blueprint("extract", __name__)


@blueprint.post("/v1/extract")
def extract() -> Response:
    runtime: Runtime = current_app.extensions["cleaner"]
    settings = runtime.settings
    started = time.perf_counter()
    # Uploads hold a reading slot, not an extraction slot: 50 clients trickling their bodies
    # must not make normal requests look like overload (issue 4).
    with runtime.reading.admit():
        body = read_body(request.environ, settings.max_body_bytes, settings.read_timeout_s)
    g.bytes_in = len(body)
    job = job_from_request(request.headers.get("Content-Type"), body, request.args)
    g.mode = job.mode
    with runtime.admission.admit():
        answer, cached = runtime.extract(job)
    g.warnings = answer.get("warnings", [])
    payload: dict[str, Any] = {**answer, "timing_ms": round((time.perf_counter() - started) * 1000, 2)}
    response = json_response(payload)
    response.headers["X-Cache"] = "hit" if cached else "miss"
    return response
