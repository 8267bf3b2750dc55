"""``create_app(settings)``: blueprints, the one error renderer, request ids, access log, headers.

The app owns no extraction logic: that is the pipeline's, run by the extraction pool held in
``app.extensions["cleaner"]`` (a ``Runtime``).
"""

from __future__ import annotations

import logging
import sys
import time

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from service.errors import (
    BadRequest,
    BodyTooLarge,
    MethodNotAllowed,
    NotFound,
    ServiceError,
    UnsupportedMediaType,
)
from service.http import batch, docs, extract, health, metrics, playground, request_cycle
from service.http.auth import KeyRing
from service.http.compression import compress_response
from service.settings import Settings
from service.workers.runtime import Runtime

log = logging.getLogger("service")
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
    # POST /v1/extract is answered before Flask's request machinery (extract.ExtractEndpoint).
    app.wsgi_app = extract.ExtractEndpoint(app, app.wsgi_app)  # type: ignore[method-assign]
    return app


def render_problem(error: ServiceError) -> Response:
    status, headers, body = request_cycle.problem(error, request.path)
    response = Response(body, status=status)
    for name, value in headers:
        response.headers[name] = value
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
    g.request_id = request_cycle.request_id(req.headers.get("X-Request-ID"))
    if req.method != "OPTIONS":  # CORS preflights carry no credentials by design
        current_app.extensions["keyring"].check(req.path, req.headers.get("Authorization"), req.headers.get("Host"))


def _finish_request(response: Response) -> Response:
    req = request._get_current_object()  # type: ignore[attr-defined]
    context = vars(g._get_current_object())
    headers = response.headers
    always, defaults = request_cycle.common_headers(
        context, req.headers.get("Origin"), current_app.extensions["cors_origins"]
    )
    for name, value in always:
        headers[name] = value
    for name, value in defaults:
        headers.setdefault(name, value)
    compress_response(response, req.headers.get("Accept-Encoding"))  # after Vary: Origin, which it keeps
    request_cycle.log_access(req.method, req.path, response.status_code, context)
    return response


def _configure_logging(settings: Settings) -> None:
    """One JSON line per request on stdout; everything else on stderr."""
    access_log = request_cycle.access_log
    if not access_log.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_log.addHandler(handler)
        access_log.propagate = False
    access_log.setLevel(logging.INFO)
    service_log = logging.getLogger("service")
    if not service_log.handlers:
        # Without a handler of its own only warnings got out, as bare text (logging's last resort):
        # recycling and batch lines were dropped at every CLEANER_LOG_LEVEL (s20 audit).
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        service_log.addHandler(handler)
    service_log.setLevel(settings.log_level.upper())
