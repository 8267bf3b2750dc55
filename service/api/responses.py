"""JSON answers: UTF-8, unescaped non-ASCII (smaller and readable), the right content type."""

from __future__ import annotations

import json
from typing import Any

from flask import Response

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def encode_json(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(encode_json(payload), status=status, content_type=JSON_CONTENT_TYPE)
