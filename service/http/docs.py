"""``GET /openapi.json`` (the spec built from the code) and ``GET /docs`` (a page rendering it).

The page works offline: its script and style are files of this package served from the same
origin (``/static/docs/``), and the spec travels inside the page as a JSON data block (not a
script: CSP does not apply to it), so the page also works when API keys protect
``/openapi.json``. A strict Content-Security-Policy forbids anything else: no inline script or
style, no other origin, no framing.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app

from service.http.openapi import build_spec
from service.http.responses import json_response

blueprint = Blueprint("docs", __name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
DOCS_PAGE = STATIC_DIR / "docs" / "docs.html"
SPEC_PLACEHOLDER = "{{SPEC_JSON}}"
DOCS_CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
HTML_CONTENT_TYPE = "text/html; charset=utf-8"
_SPEC_KEY = "openapi_spec"


def spec_for(app: Flask) -> dict[str, Any]:
    """The app's document, built once per app (routes do not change after start)."""
    spec: dict[str, Any] | None = app.extensions.get(_SPEC_KEY)
    if spec is None:
        spec = app.extensions[_SPEC_KEY] = build_spec(app)
    return spec


@blueprint.get("/openapi.json")
def openapi_json() -> Response:
    return json_response(spec_for(current_app))


@blueprint.get("/docs")
def docs_page() -> Response:
    body = _page_template().replace(SPEC_PLACEHOLDER, _json_data_block(spec_for(current_app)))
    response = Response(body, status=200, content_type=HTML_CONTENT_TYPE)
    response.headers["Content-Security-Policy"] = DOCS_CSP
    response.headers["X-Frame-Options"] = "DENY"
    return response


@cache
def _page_template() -> str:
    return DOCS_PAGE.read_text(encoding="utf-8")


def _json_data_block(document: dict[str, Any]) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``</``, ``<!--`` or U+2028/9."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
