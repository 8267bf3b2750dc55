"""``create_app(settings)``: blueprints, the one error renderer, request ids, access log, headers.

The app owns no extraction logic: that is the pipeline's, run by the extraction pool held in
``app.extensions["cleaner"]`` (a ``Runtime``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from typing import Any

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from service.api import batch, docs, extract, health, metrics, playground
from service.auth import KeyRing
from service.errors import (
    PROBLEM_CONTENT_TYPE,
    BadRequest,
    BodyTooLarge,
    MethodNotAllowed,
    NotFound,
    ServiceError,
    UnsupportedMediaType,
)
from service.runtime import Runtime
from service.settings import Settings

access_log = logging.getLogger("service.access")
log = logging.getLogger("service")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_HTTP_TO_SERVICE: dict[int, type[ServiceError]] = {
    400: BadRequest,
    404: NotFound,
    405: MethodNotAllowed,
    413: BodyTooLarge,
    415: UnsupportedMediaType,
}


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    """Build the WSGI app. Starts an extraction pool unless ``runtime`` is given (tests share one)."""
    settings = settings or (runtime.settings if runtime else Settings.from_env())
    _configure_logging(settings)
    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["cleaner"] = runtime or Runtime.start(settings)
    app.extensions["keyring"] = KeyRing.from_settings(settings)
    app.extensions["cors_origins"] = frozenset(o.strip() for o in settings.cors_origins.split(",") if o.strip())
    if not settings.host_is_loopback and not app.extensions["keyring"].enabled:
        log.warning(
            "serving %s without API keys (CLEANER_ALLOW_OPEN is set): anyone who can reach it may call it",
            settings.host,
        )
    for module in (extract, batch, health, docs, metrics, playground):
        app.register_blueprint(module.blueprint)
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.register_error_handler(ServiceError, render_problem)
    app.register_error_handler(HTTPException, _render_http_exception)
    app.register_error_handler(Exception, _render_unexpected)
    return app


def render_problem(error: ServiceError) -> Response:
    response = Response(error.to_json(instance=request.path), status=error.status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in error.headers().items():
        response.headers[name] = value
    if error.status in {408, 413}:
        # The rest of the body may still be on the wire: do not reuse the connection.
        response.headers["Connection"] = "close"
    g.error_code = error.code
    return response


def _render_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    cls = _HTTP_TO_SERVICE.get(status, ServiceError)
    if cls is MethodNotAllowed:
        allowed = sorted(getattr(error, "valid_methods", None) or [])
        return render_problem(MethodNotAllowed(f"{request.method} is not allowed on {request.path}.", allowed))
    if cls is NotFound:
        return render_problem(NotFound(f"There is nothing at {request.path}."))
    return render_problem(cls())


def _render_unexpected(error: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.path)
    return render_problem(ServiceError("An unexpected error occurred; it has been logged."))


def _start_request() -> None:
    g.started = time.perf_counter()
    req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup, not five
    incoming = req.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else os.urandom(16).hex()
    if req.method != "OPTIONS":  # CORS preflights carry no credentials by design
        current_app.extensions["keyring"].check(req.path, req.headers.get("Authorization"))


def _finish_request(response: Response) -> Response:
    req = request._get_current_object()  # type: ignore[attr-defined]
    context = vars(g._get_current_object())
    headers = response.headers
    headers["X-Request-ID"] = context.get("request_id", "")
    headers["X-Content-Type-Options"] = "nosniff"
    headers.setdefault("Referrer-Policy", "no-referrer")
    origin = req.headers.get("Origin")
    if origin and origin in current_app.extensions["cors_origins"]:
        headers["Access-Control-Allow-Origin"] = origin
        headers["Vary"] = "Origin"
        headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Content-Encoding, X-Request-ID"
        headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        headers["Access-Control-Expose-Headers"] = "X-Request-ID, X-Cache, Retry-After"
    headers["Cache-Control"] = "no-store"
    if access_log.isEnabledFor(logging.INFO):
        now = time.perf_counter()
        record: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "request_id": context.get("request_id"),
            "method": req.method,
            "path": req.path,
            "status": response.status_code,
            "bytes_in": context.get("bytes_in", 0),
            "mode": context.get("mode"),
            "duration_ms": round((now - context.get("started", now)) * 1000, 2),
            "warnings": context.get("warnings", []),
        }
        if context.get("error_code"):
            record["error"] = context["error_code"]
        line = json.dumps(record, ensure_ascii=False)
        # handle(makeRecord(...)) rather than info(): the same handlers and filters, without
        # logging's stack walk for a caller's file and line, which an access line never shows.
        access_log.handle(access_log.makeRecord(access_log.name, logging.INFO, __file__, 0, line, (), None))
    return response


def _configure_logging(settings: Settings) -> None:
    """One JSON line per request on stdout; everything else on stderr."""
    if not access_log.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_log.addHandler(handler)
        access_log.propagate = False
    access_log.setLevel(logging.INFO)
    logging.getLogger("service").setLevel(settings.log_level.upper())
