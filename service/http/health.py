"""Health endpoints a load balancer and a human can both use."""

from __future__ import annotations

import trafilatura
from flask import Blueprint, Response, current_app

from service import __version__
from service.errors import ServiceError
from service.http.responses import json_response
from service.workers.runtime import Runtime

blueprint = Blueprint("health", __name__)

# The canary must finish well inside a probe's usual 1-5 s timeout.
READY_CANARY_BUDGET_S = 3.0
_CANARY = (
    b"<html><head><title>Canary</title></head><body><article><p>"
    + b"The readiness canary is a short article that must come back intact. " * 3
    + b"</p></article></body></html>"
)


@blueprint.get("/healthz")
def healthz() -> Response:
    """Alive: the web worker answers. Does no work."""
    return json_response({"status": "ok"})


@blueprint.get("/readyz")
def readyz() -> Response:
    """Ready: a tiny canary page goes through an extraction process and comes back right."""
    runtime: Runtime = current_app.extensions["cleaner"]
    try:
        ok = runtime.canary(_CANARY, READY_CANARY_BUDGET_S)
    except ServiceError as error:
        return json_response({"status": "unavailable", "reason": error.code}, status=503)
    if not ok:
        return json_response({"status": "unavailable", "reason": "canary-mismatch"}, status=503)
    return json_response({"status": "ready", "extractors": runtime.pool.alive})


@blueprint.get("/version")
def version() -> Response:
    return json_response(
        {
            "service": __version__,
            "trafilatura": trafilatura.__version__,
        }
    )
