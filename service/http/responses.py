"""JSON answers: UTF-8, unescaped non-ASCII (smaller and readable), the right content type."""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Response

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def encode_json(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def article_json(answer: dict[str, Any], started: float) -> str:
    """The JSON of a ``POST /v1/extract`` answer: the article and its ``timing_ms`` since
    ``started`` (a ``time.perf_counter()``; CLOCK_MONOTONIC, so any process's on this machine)."""
    return encode_json({**answer, "timing_ms": round((time.perf_counter() - started) * 1000, 2)})


def article_headers(cached: bool) -> list[tuple[str, str]]:
    """The headers of a ``POST /v1/extract`` answer that the view sets."""
    return [("Content-Type", JSON_CONTENT_TYPE), ("X-Cache", "hit" if cached else "miss")]


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(encode_json(payload), status=status, content_type=JSON_CONTENT_TYPE)
