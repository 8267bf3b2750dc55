"""What the client sends and reads, shared by ``Client`` and ``AsyncClient``: where the server is,
the requests for one page and for a batch, and the answers turned into typed results."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from pagecleaner_client.errors import TransportError
from pagecleaner_client.models import Article, ItemResult

# The same names as the sidecar example (docs/container.md) and deploy/crawler use.
ENV_URL = "PAGECLEANER_URL"
ENV_API_KEY = "PAGECLEANER_API_KEY"
DEFAULT_BASE_URL = "http://127.0.0.1:8080"
# Waiting for an answer: over the server's own time budget (CLEANER_TIME_BUDGET_S, 10 s) plus
# upload and queueing. Opening a connection takes milliseconds when the server is up.
DEFAULT_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 5.0
EXTRACT_PATH = "/v1/extract"
BATCH_PATH = "/v1/extract/batch"
# One batch request holds at most this many items / bytes, so answers stream back chunk by chunk,
# memory stays bounded and a failed request costs little to retry; the server refuses batches
# over CLEANER_MAX_BATCH_BYTES (50 MiB by default).
BATCH_MAX_ITEMS = 64
BATCH_MAX_BYTES = 8 * 1024 * 1024
USER_AGENT = "pagecleaner-client/2"


@dataclass(frozen=True)
class Call:
    """One request to send (and, on a 429 or a failed connection, to send again)."""

    path: str
    content: bytes
    content_type: str
    params: tuple[tuple[str, str], ...] = ()

    def build(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        headers = {"Content-Type": self.content_type}
        return http.build_request("POST", self.path, params=self.params, content=self.content, headers=headers)


def http_settings(base_url: str | None, api_key: str | None, timeout: float) -> dict[str, Any]:
    """``httpx.Client`` / ``AsyncClient`` arguments: the server and key from the arguments, else
    from ``PAGECLEANER_URL`` / ``PAGECLEANER_API_KEY``, else ``http://127.0.0.1:8080`` and no key."""
    url = base_url or os.environ.get(ENV_URL) or DEFAULT_BASE_URL
    key = api_key if api_key is not None else os.environ.get(ENV_API_KEY)
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return {
        "base_url": url.rstrip("/"),
        "headers": headers,
        "timeout": httpx.Timeout(timeout, connect=CONNECT_TIMEOUT_S),
    }


def extract_call(
    html: str | bytes | None, text: str | bytes | None, url: str | None, charset: str | None, options: Mapping[str, Any]
) -> Call:
    """The request for one page: the page as the body (bytes as they are, for the server to sniff
    their encoding; ``str`` as UTF-8), options and ``url`` in the query. Without a page, the
    server fetches ``url`` itself (``{"url"}`` as JSON; the server must have CLEANER_FETCH=1).

    Raises:
        ValueError: both ``html`` and ``text``, or neither and no ``url``.
    """
    if html is not None and text is not None:
        raise ValueError("give html or text, not both")
    page = html if html is not None else text
    if page is None:
        if not url:
            raise ValueError("give html, text or url")
        document = {"url": url, "options": dict(options)}
        return Call(EXTRACT_PATH, _json_bytes(document), "application/json")
    if isinstance(page, str):
        page, charset = page.encode("utf-8"), "utf-8"
    content_type = "text/html" if html is not None else "text/plain"
    if charset:
        content_type += f"; charset={charset}"
    query = {**({"url": url} if url else {}), **options}
    return Call(EXTRACT_PATH, bytes(page), content_type, query_params(query))


def batch_calls(items: Iterable[Mapping[str, Any] | str], options: Mapping[str, Any], max_items: int) -> Iterator[Call]:
    """Requests of ``POST /v1/extract/batch``, one per chunk of items (NDJSON lines).

    An item is a batch line, ``{"id", "html" | "text", "url", "options"}``; a plain string is
    ``{"id": <its index>, "html": string}``. ``options`` go in the query (the item's own win).
    """
    params = query_params(options)
    chunk: list[bytes] = []
    size = 0
    for index, item in enumerate(items):
        line = _json_bytes({"id": index, "html": item} if isinstance(item, str) else dict(item)) + b"\n"
        if chunk and (len(chunk) >= max_items or size + len(line) > BATCH_MAX_BYTES):
            yield Call(BATCH_PATH, b"".join(chunk), "application/x-ndjson", params)
            chunk, size = [], 0
        chunk.append(line)
        size += len(line)
    if chunk:
        yield Call(BATCH_PATH, b"".join(chunk), "application/x-ndjson", params)


def query_params(options: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """Options as query parameters: a list repeats its name, booleans are ``true``/``false``."""
    pairs: list[tuple[str, str]] = []
    for name, value in options.items():
        values = value if isinstance(value, list | tuple) else [value]
        pairs.extend((name, _query_value(item)) for item in values)
    return tuple(pairs)


def article_of(body: bytes) -> Article:
    """The ``Article`` of a 2xx answer of ``POST /v1/extract``.

    Raises:
        TransportError: the body is not a JSON object (not a pagecleaner answer).
    """
    return Article.from_json(_json_object(body))


def item_of(line: str | bytes) -> ItemResult:
    """The ``ItemResult`` of one line of a batch answer.

    Raises:
        TransportError: the line is not a JSON object.
    """
    return ItemResult.from_json(_json_object(line))


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json_bytes(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _json_object(raw: str | bytes) -> dict[str, Any]:
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise TransportError(f"the server's answer is not JSON: {raw[:200]!r}") from None
    if not isinstance(document, dict):
        raise TransportError("the server's answer is not a JSON object")
    return document
