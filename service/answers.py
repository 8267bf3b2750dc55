"""The one shape of an answer as every entry point sends it: the article (with the fields of the
item it answers, e.g. a batch ``id`` or a WARC record's), its ``timing_ms``, as compact UTF-8 JSON.

``/v1/extract``, ``/v1/extract/batch``, ``python -m service extract|batch|warc`` all build their
answers here, so ``timing_ms`` and the error line of an item are computed in one place.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from service.errors import ServiceError


def encode_json(payload: Any) -> str:
    """Compact JSON with non-ASCII unescaped (smaller and readable)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def elapsed_ms(started: float) -> float:
    """Milliseconds since ``started`` (a ``time.perf_counter()``), as ``timing_ms`` reports them."""
    return seconds_ms(time.perf_counter() - started)


def seconds_ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def answer_record(answer: Mapping[str, Any], timing_ms: float, head: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The answer as sent: ``head`` (the item's own fields) first, the article, then ``timing_ms``."""
    return {**(head or {}), **answer, "timing_ms": timing_ms}


def error_record(
    error: ServiceError, head: Mapping[str, Any], instance: str | None = None, **extra: Any
) -> dict[str, Any]:
    """An item's failure as sent in a stream of answers: its fields and the problem document
    (plus ``extra`` members, e.g. the input ``line``)."""
    return {**head, "error": {**error.to_problem(instance=instance), **extra}}


def article_json(answer: Mapping[str, Any], started: float) -> str:
    """The JSON of a ``POST /v1/extract`` answer, ``timing_ms`` counted from ``started``."""
    return encode_json(answer_record(answer, elapsed_ms(started)))
