"""One line of a batch (``POST /v1/extract/batch``, ``python -m service batch``) turned into a job.

A line is the JSON form of ``/v1/extract`` plus a required ``id``; its job comes from
``request_forms.job_from_json``, so a batch item and a single request cannot drift apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from service.errors import InvalidField, InvalidJSON, ServiceError
from service.models import Job
from service.request_forms import job_from_json, refuse_lone_surrogates

MAX_ID_CHARS = 1024
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass
class BatchItem:
    """One parsed line: a job to run, or the error that line already has."""

    line: int
    id: str | int | None
    job: Job | None = None
    error: ServiceError | None = None


def parse_items(body: bytes, query_options: dict[str, Any]) -> list[BatchItem]:
    """Every non-blank line of ``body`` as an item (blank lines are skipped, numbering is kept)."""
    items: list[BatchItem] = []
    for number, raw in enumerate(body.split(b"\n"), start=1):
        line = raw[len(UTF8_BOM) :] if number == 1 and raw.startswith(UTF8_BOM) else raw
        if not line.strip():
            continue
        items.append(parse_line(number, line, query_options))
    return items


def parse_line(number: int, line: bytes, query_options: dict[str, Any]) -> BatchItem:
    item_id: str | int | None = None
    try:
        document = _load_line(line)
        if not isinstance(document, dict):
            raise InvalidField("item", "each line must be a JSON object")
        item_id = _check_id(document.get("id"))
        job = job_from_json(document, query_options)
    except ServiceError as error:
        return BatchItem(line=number, id=item_id, error=error)
    return BatchItem(line=number, id=item_id, job=job)


def _load_line(line: bytes) -> Any:
    try:
        return json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidJSON("The line is not valid UTF-8.") from None
    except json.JSONDecodeError as error:
        raise InvalidJSON(f"The line is not valid JSON: {error.msg} at column {error.colno}") from None
    except (ValueError, RecursionError):
        raise InvalidJSON("The line is not valid JSON: nested too deeply.") from None


def _check_id(value: Any) -> str | int:
    if value is None:
        raise InvalidField("id", "required: a string or an integer that identifies the item")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidField("id", "must be a string or an integer")
    if isinstance(value, str):
        if len(value) > MAX_ID_CHARS:
            raise InvalidField("id", f"longer than {MAX_ID_CHARS} characters")
        refuse_lone_surrogates(value, "id")  # echoed on the item's line, which must encode
    return value
