"""Health endpoints a load balancer and a human can both use."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

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


# /readyz is public (probes carry no key) and runs a real extraction: 6 unkeyed clients flooding
# it cut keyed throughput from 88 to 18 pages/s (issue 24). Its answer is reused this long, so a
# flood costs one canary a second per web worker; probes poll every few seconds, so they still
# see a fresh check.
READY_MEMO_S = 1.0


@dataclass
class ReadinessMemo:
    """The last /readyz answer (status, document) and when it was checked; one check at a time."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    checked_at: float = float("-inf")
    answer: tuple[int, dict[str, object]] = (503, {})

    def get(self, check: Callable[[], tuple[int, dict[str, object]]]) -> tuple[int, dict[str, object]]:
        # Callers that arrive while a check runs wait for it and share its answer.
        with self.lock:
            if time.monotonic() - self.checked_at >= READY_MEMO_S:
                self.answer = check()
                self.checked_at = time.monotonic()
            return self.answer


@blueprint.get("/healthz")
def healthz() -> Response:
    """Alive: the web worker answers. Does no work."""
    return json_response({"status": "ok"})


@blueprint.get("/readyz")
def readyz() -> Response:
    """Ready: a tiny canary page went through an extraction process and came back right (at most
    ``READY_MEMO_S`` ago)."""
    runtime: Runtime = current_app.extensions["cleaner"]
    memo: ReadinessMemo = current_app.extensions.setdefault("readiness", ReadinessMemo())
    status, document = memo.get(lambda: _check_readiness(runtime))
    return json_response(document, status=status)


def _check_readiness(runtime: Runtime) -> tuple[int, dict[str, object]]:
    try:
        ok = runtime.canary(_CANARY, READY_CANARY_BUDGET_S)
    except ServiceError as error:
        return 503, {"status": "unavailable", "reason": error.code}
    if not ok:
        return 503, {"status": "unavailable", "reason": "canary-mismatch"}
    return 200, {"status": "ready", "extractors": runtime.pool.alive}


@blueprint.get("/version")
def version() -> Response:
    return json_response(
        {
            "service": __version__,
            "trafilatura": trafilatura.__version__,
        }
    )
