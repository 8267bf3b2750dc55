"""``GET /metrics`` (Prometheus text format) and the hooks that feed it, with no edits elsewhere.

On registration the blueprint adds an app-wide ``after_request`` hook that reads what the views
already leave on ``flask.g`` (``mode``, ``bytes_in``, ``error_code``) and the response status,
and syncs the extraction pool's counters. Batch items are counted by the batch view itself.
"""

from __future__ import annotations

import time
from typing import Any, cast

from flask import Blueprint, Flask, Response, current_app, g, request
from flask.blueprints import BlueprintSetupState

from service.errors import Overloaded, TimeBudgetExceeded
from service.http import metrics_registry as m
from service.http.batch import BATCH_ENDPOINT
from service.workers.runtime import Runtime

blueprint = Blueprint("metrics", __name__)

EXTRACT_ENDPOINT = "/v1/extract"


@blueprint.record_once
def _on_register(state: BlueprintSetupState) -> None:
    app = cast(Flask, state.app)
    m.WEB_WORKERS_STARTED.inc()
    m.export_counters_at_zero((EXTRACT_ENDPOINT, BATCH_ENDPOINT))
    runtime: Runtime | None = app.extensions.get("cleaner")
    if runtime is not None:
        m.sync_pool_stats(runtime.pool)


@blueprint.after_app_request
def _count_request(response: Response) -> Response:
    rule = request.url_rule
    endpoint = rule.rule if rule is not None else m.UNMATCHED_ENDPOINT
    context = vars(g._get_current_object())  # one context lookup, not one per g.get()
    count_request(endpoint, response.status_code, context, current_app.extensions.get("cleaner"))
    return response


def count_request(endpoint: str, status: int, context: dict[str, Any], runtime: Runtime | None) -> None:
    """The metrics of one answered request (also called by ``extract.ExtractEndpoint``)."""
    mode = context.get("mode") or m.NO_MODE
    m.request_counter(endpoint, mode, str(status)).inc()
    if "started" in context:
        m.request_histogram(endpoint, str(status)).observe(time.perf_counter() - float(context["started"]))
    if "bytes_in" in context:
        m.body_histogram(endpoint).observe(context["bytes_in"])
    if endpoint == EXTRACT_ENDPOINT and context.get("mode") and "started" in context:
        m.extraction_histogram(endpoint, mode).observe(time.perf_counter() - float(context["started"]))
    error_code = context.get("error_code")
    if error_code == TimeBudgetExceeded.code:
        m.TIME_BUDGET_EXCEEDED.labels(endpoint=endpoint).inc()
    elif error_code == Overloaded.code:
        m.ADMISSION_REJECTED.labels(endpoint=endpoint).inc()
    if runtime is not None:
        m.sync_pool_stats(runtime.pool)


@blueprint.get("/metrics")
def metrics() -> Response:
    """Every metric, summed over the server's web workers in multiprocess mode."""
    runtime: Runtime = current_app.extensions["cleaner"]
    m.sync_pool_stats(runtime.pool)
    return Response(m.exposition(), status=200, content_type=m.METRICS_CONTENT_TYPE)
