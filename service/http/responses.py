"""JSON answers: UTF-8, unescaped non-ASCII (smaller and readable), the right content type."""

from __future__ import annotations

from typing import Any

from flask import Response

from service.answers import encode_json

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def article_headers(cached: bool) -> list[tuple[str, str]]:
    """The headers of a ``POST /v1/extract`` answer that the view sets."""
    return [("Content-Type", JSON_CONTENT_TYPE), ("X-Cache", "hit" if cached else "miss")]


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(encode_json(payload), status=status, content_type=JSON_CONTENT_TYPE)
