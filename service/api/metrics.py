"""``GET /metrics`` (Prometheus text format) and the hooks that feed it, with no edits elsewhere.

On registration the blueprint adds an app-wide ``after_request`` hook that reads what the views
already leave on ``flask.g`` (``mode``, ``bytes_in``, ``error_code``) and the response status,
and syncs the extraction pool's counters. Batch items are counted by the batch view itself.
"""

from __future__ import annotations

import time
from typing import cast

from flask import Blueprint, Flask, Response, current_app, g, request
from flask.blueprints import BlueprintSetupState

from service import metrics_registry as m
from service.errors import Overloaded, TimeBudgetExceeded
from service.runtime import Runtime

blueprint = Blueprint("metrics", __name__)

EXTRACT_ENDPOINT = "/v1/extract"


@blueprint.record_once
def _on_register(state: BlueprintSetupState) -> None:
    app = cast(Flask, state.app)
    m.WEB_WORKERS_STARTED.inc()
    runtime: Runtime | None = app.extensions.get("cleaner")
    if runtime is not None:
        m.sync_pool_stats(runtime.pool)


@blueprint.after_app_request
def _count_request(response: Response) -> Response:
    rule = request.url_rule
    endpoint = rule.rule if rule is not None else m.UNMATCHED_ENDPOINT
    mode = g.get("mode") or m.NO_MODE
    m.REQUESTS.labels(endpoint=endpoint, mode=mode, status=str(response.status_code)).inc()
    if "bytes_in" in g:
        m.BODY_BYTES.labels(endpoint=endpoint).observe(g.bytes_in)
    if endpoint == EXTRACT_ENDPOINT and g.get("mode") and "started" in g:
        m.EXTRACTION_SECONDS.labels(endpoint=endpoint, mode=mode).observe(_elapsed_s())
    error_code = g.get("error_code")
    if error_code == TimeBudgetExceeded.code:
        m.TIME_BUDGET_EXCEEDED.labels(endpoint=endpoint).inc()
    elif error_code == Overloaded.code:
        m.ADMISSION_REJECTED.labels(endpoint=endpoint).inc()
    runtime: Runtime | None = current_app.extensions.get("cleaner")
    if runtime is not None:
        m.sync_pool_stats(runtime.pool)
    return response


@blueprint.get("/metrics")
def metrics() -> Response:
    """Every metric, summed over the server's web workers in multiprocess mode."""
    runtime: Runtime = current_app.extensions["cleaner"]
    m.sync_pool_stats(runtime.pool)
    return Response(m.exposition(), status=200, content_type=m.METRICS_CONTENT_TYPE)


def _elapsed_s() -> float:
    return time.perf_counter() - float(g.started)
