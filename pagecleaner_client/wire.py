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
    # A batch chunk: its first item's position in the caller's input (1-based). The server counts
    # a failed item's ``line`` from the start of the chunk; the caller counts from its input's.
    first_line: int = 1

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


def batch_calls(
    items: Iterable[Mapping[str, Any] | str | bytes], options: Mapping[str, Any], max_items: int
) -> Iterator[Call]:
    """Requests of ``POST /v1/extract/batch``, one per chunk of items (NDJSON lines).

    An item is a batch line, ``{"id", "html" | "text", "url", "options"}``; a plain string (or
    bytes) is ``{"id": <its index>, "html": string}``. ``options`` go in the query (the item's
    own win).

    Raises:
        ValueError: a page given as bytes is not UTF-8 (see ``_batch_line``).
    """
    params = query_params(options)
    chunk: list[bytes] = []
    size = first_line = 0
    for index, item in enumerate(items):
        line = _batch_line(index, item)
        if chunk and (len(chunk) >= max_items or size + len(line) > BATCH_MAX_BYTES):
            yield Call(BATCH_PATH, b"".join(chunk), "application/x-ndjson", params, first_line)
            chunk, size = [], 0
        if not chunk:
            first_line = index + 1
        chunk.append(line)
        size += len(line)
    if chunk:
        yield Call(BATCH_PATH, b"".join(chunk), "application/x-ndjson", params, first_line)


def _batch_line(index: int, item: Mapping[str, Any] | str | bytes) -> bytes:
    """One NDJSON line. A batch line is JSON, which carries text: a page given as bytes must be
    UTF-8 (a byte-order mark is dropped). Finding another charset is the server's job, which it
    does for a page sent alone (``extract``); a copy of it here would be a second decoder.

    Raises:
        ValueError: a page given as bytes is not UTF-8.
    """
    document: dict[str, Any] = {"id": index, "html": item} if isinstance(item, str | bytes) else dict(item)
    for key in ("html", "text"):
        if isinstance(page := document.get(key), bytes):
            try:
                document[key] = page.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ValueError(
                    f"item {index + 1}: a page given as bytes to extract_many must be UTF-8; send a page in"
                    " another charset with extract(), which has the server find its charset, or decode it first"
                ) from None
    return _json_bytes(document) + b"\n"


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


def item_of(line: str | bytes, first_line: int = 1) -> ItemResult:
    """The ``ItemResult`` of one line of a batch answer to a chunk whose first item is at
    ``first_line`` in the caller's input (a failed item's ``line`` is made to count from there).

    Raises:
        TransportError: the line is not a JSON object.
    """
    document = _json_object(line)
    problem = document.get("error")
    if isinstance(problem, dict) and isinstance(problem.get("line"), int):
        problem["line"] += first_line - 1  # the client sends no blank lines: line n is item n
    return ItemResult.from_json(document)


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
