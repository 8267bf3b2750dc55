"""A small Python client for a pagecleaner server, standard library only (vendor this one file).

    from pagecleaner_client import extract, extract_many

    article = extract(html, "https://example.com/a", format=["text", "markdown"])
    for result in extract_many([{"id": 1, "html": page_1}, {"id": 2, "text": text_2}]):
        ...

- ``extract`` posts one page to ``POST /v1/extract`` and returns the API's answer (a dict);
- ``extract_many`` streams many pages through ``POST /v1/extract/batch`` (NDJSON) in chunks and
  yields one dict per item, in input order, each with its ``id``: the answer, or
  ``{"id", "error": problem}`` for an item that failed; against a server without the batch
  endpoint it falls back to concurrent single calls, yielding the same shapes.

Busy answers (503 time budget / no free extraction process, 429 overloaded) are retried up to
``retries`` times, waiting what ``Retry-After`` says (bounded by ``MAX_RETRY_WAIT_S``) or an
exponential backoff; so are refused connections (the server restarting). Everything else
raises: ``RequestRejectedError`` (4xx, carrying the problem document),
``ServiceUnavailableError`` (5xx, or still busy after the retries) and ``TransportError`` (no
usable HTTP answer, timeouts).
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from http.client import HTTPException, HTTPResponse
from typing import Any

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
# Over the server's own time budget (CLEANER_TIME_BUDGET_S, 10 s) plus upload and queueing.
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_RETRIES = 3
EXTRACT_PATH = "/v1/extract"
BATCH_PATH = "/v1/extract/batch"
RETRY_STATUSES = frozenset({429, 503})
# Backoff when the server gives no Retry-After: 0.5, 1, 2, 4 ... s, with jitter, capped.
BACKOFF_INITIAL_S = 0.5
BACKOFF_JITTER = 0.25
# No single wait is longer than this, whatever Retry-After says (a client should not hang).
MAX_RETRY_WAIT_S = 30.0
# One batch request holds at most this many items / bytes, so results stream back chunk by
# chunk, memory stays bounded and a failed request costs little to retry; the server refuses
# batches over CLEANER_MAX_BATCH_BYTES (50 MiB by default).
BATCH_MAX_ITEMS = 64
BATCH_MAX_BYTES = 8 * 1024 * 1024
# Single requests in flight at once when the server has no batch endpoint.
FALLBACK_CONCURRENCY = 4
# Statuses meaning "this server has no batch endpoint" (an older version).
NO_BATCH_STATUSES = frozenset({404, 405})
USER_AGENT = "pagecleaner-client/1"


class CleanerError(Exception):
    """Base of every error this client raises."""


class TransportError(CleanerError):
    """No usable HTTP answer: connection refused after the retries, timeout, broken response."""


class ProblemError(CleanerError):
    """The server answered with an error; ``problem`` is its RFC 9457 problem document."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.code: str = str(problem.get("code", "unknown"))
        self.detail: str = str(problem.get("detail") or problem.get("title") or f"HTTP {status}")
        super().__init__(f"{status} {self.code}: {self.detail}")


class RequestRejectedError(ProblemError):
    """4xx: the request or the page was refused (e.g. 400 invalid-option, 422 not-a-page)."""


class ServiceUnavailableError(ProblemError):
    """5xx, or 429/503 still after every retry."""


def extract(
    html: str | bytes,
    url: str | None = None,
    *,
    text: bool = False,
    charset: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
    timeout: float = DEFAULT_TIMEOUT_S,
    retries: int = DEFAULT_RETRIES,
    api_key: str | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Clean one page (or plain text with ``text=True``); returns the API's answer.

    ``options`` are the API's: ``format`` (str or list), ``comments``, ``tables``, ``images``,
    ``links``, ``favor``, ``explain``; the server validates them. ``bytes`` are sent as they
    are (the server sniffs the encoding, or uses ``charset``); ``str`` is sent as UTF-8.

    Raises:
        RequestRejectedError: 4xx (the problem document is on the exception).
        ServiceUnavailableError: 5xx, or still busy after ``retries`` retries.
        TransportError: no usable answer (connection, timeout).
    """
    body = html.encode("utf-8") if isinstance(html, str) else bytes(html)
    if isinstance(html, str):
        charset = "utf-8"
    content_type = "text/plain" if text else "text/html"
    if charset:
        content_type += f"; charset={charset}"
    query = _query({**({"url": url} if url else {}), **options})
    request = _Request(base_url, timeout, retries, api_key)
    with request.send(EXTRACT_PATH + query, body, content_type) as response:
        return _read_json(response)


def extract_many(
    items: Iterable[Mapping[str, Any] | str],
    *,
    base_url: str = DEFAULT_BASE_URL,
    timeout: float = DEFAULT_TIMEOUT_S,
    retries: int = DEFAULT_RETRIES,
    api_key: str | None = None,
    batch_items: int = BATCH_MAX_ITEMS,
    **options: Any,
) -> Iterator[dict[str, Any]]:
    """Clean many pages; yields one result per item, in input order, as they arrive.

    An item is a batch line: ``{"id", "html" | "text", "url", "options"}`` (a plain string is
    taken as ``{"id": <its index>, "html": string}``). ``options`` apply to every item; an
    item's own ``options`` win. A result is the API's answer with the item's ``id``, or
    ``{"id", "error": problem}`` when that item failed (the others are not affected).
    ``timeout`` applies to each chunk's request.

    Raises:
        RequestRejectedError / ServiceUnavailableError / TransportError: a whole chunk failed.
    """
    request = _Request(base_url, timeout, retries, api_key)
    query = _query(options)
    use_batch = True
    for chunk in _chunks(_as_lines(items), batch_items):
        if use_batch:
            try:
                yield from _post_batch(request, query, chunk)
                continue
            except RequestRejectedError as error:
                if error.status not in NO_BATCH_STATUSES:
                    raise
                use_batch = False  # an older server: single calls from now on
        yield from _single_calls(request, options, chunk)


# -- batch --------------------------------------------------------------------------------------


def _as_lines(items: Iterable[Mapping[str, Any] | str]) -> Iterator[dict[str, Any]]:
    for index, item in enumerate(items):
        yield {"id": index, "html": item} if isinstance(item, str) else dict(item)


def _chunks(lines: Iterator[dict[str, Any]], max_items: int) -> Iterator[list[tuple[dict[str, Any], bytes]]]:
    chunk: list[tuple[dict[str, Any], bytes]] = []
    size = 0
    for line in lines:
        encoded = json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        if chunk and (len(chunk) >= max_items or size + len(encoded) > BATCH_MAX_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append((line, encoded))
        size += len(encoded)
    if chunk:
        yield chunk


def _post_batch(request: _Request, query: str, chunk: list[tuple[dict[str, Any], bytes]]) -> Iterator[dict[str, Any]]:
    body = b"".join(encoded for _line, encoded in chunk)
    with request.send(BATCH_PATH + query, body, "application/x-ndjson") as response:
        try:
            for raw in response:
                if raw.strip():
                    yield _parse_json(raw)
        except (OSError, HTTPException) as error:
            raise TransportError(f"the batch answer broke off: {error!r}") from None


def _single_calls(
    request: _Request, options: Mapping[str, Any], chunk: list[tuple[dict[str, Any], bytes]]
) -> Iterator[dict[str, Any]]:
    with ThreadPoolExecutor(max_workers=FALLBACK_CONCURRENCY, thread_name_prefix="pagecleaner") as executor:
        futures: deque[Future[dict[str, Any]]] = deque(
            executor.submit(_single_call, request, options, line) for line, _encoded in chunk
        )
        while futures:
            yield futures.popleft().result()


def _single_call(request: _Request, options: Mapping[str, Any], line: dict[str, Any]) -> dict[str, Any]:
    document = {key: value for key, value in line.items() if key != "id"}
    document["options"] = {**options, **line.get("options", {})}
    body = json.dumps(document, ensure_ascii=False).encode("utf-8")
    try:
        with request.send(EXTRACT_PATH, body, "application/json") as response:
            return {"id": line.get("id"), **_read_json(response)}
    except ProblemError as error:
        return {"id": line.get("id"), "error": error.problem}


# -- HTTP with retries ----------------------------------------------------------------------------


class _Request:
    """One server's address and the policy for calling it (timeouts, retries, key)."""

    def __init__(self, base_url: str, timeout: float, retries: int, api_key: str | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = max(0, retries)
        self.api_key = api_key

    def send(self, path: str, body: bytes, content_type: str) -> HTTPResponse:
        """POST ``body``; returns the open 2xx response (retrying busy answers).

        Raises:
            RequestRejectedError / ServiceUnavailableError / TransportError.
        """
        headers = {"Content-Type": content_type, "User-Agent": USER_AGENT}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            request = urllib.request.Request(self.base_url + path, data=body, headers=headers, method="POST")
            try:
                response: HTTPResponse = urllib.request.urlopen(request, timeout=self.timeout)
                return response
            except urllib.error.HTTPError as error:
                with error:
                    problem = _problem_of(error)
                if error.code in RETRY_STATUSES and not last:
                    _sleep(retry_delay(attempt, error.headers.get("Retry-After")))
                    continue
                raise error_for(error.code, problem) from None
            except (urllib.error.URLError, ConnectionError) as error:
                reason = getattr(error, "reason", error)
                if isinstance(reason, ConnectionRefusedError | ConnectionResetError) and not last:
                    _sleep(retry_delay(attempt, None))
                    continue
                raise TransportError(f"{self.base_url}{path}: {reason}") from None
            except TimeoutError:
                raise TransportError(f"{self.base_url}{path}: no answer within {self.timeout:g} s") from None
        raise AssertionError("unreachable")  # the loop returns or raises on its last attempt


def error_for(status: int, problem: dict[str, Any]) -> ProblemError:
    """The exception for a final error answer: rejected (4xx but 429) or unavailable."""
    if 400 <= status < 500 and status not in RETRY_STATUSES:
        return RequestRejectedError(status, problem)
    return ServiceUnavailableError(status, problem)


def retry_delay(attempt: int, retry_after: str | None) -> float:
    """Seconds to wait before retry ``attempt + 1``: ``Retry-After`` if given, else backoff."""
    delay = _parse_retry_after(retry_after) if retry_after else None
    if delay is None:
        delay = BACKOFF_INITIAL_S * 2**attempt * (1 + random.uniform(-BACKOFF_JITTER, BACKOFF_JITTER))
    return min(max(0.0, delay), MAX_RETRY_WAIT_S)


def _parse_retry_after(value: str) -> float | None:
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return parsedate_to_datetime(value).timestamp() - time.time()
    except (TypeError, ValueError):
        return None


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _query(options: Mapping[str, Any]) -> str:
    pairs: list[tuple[str, str]] = []
    for name, value in options.items():
        values = value if isinstance(value, list | tuple) else [value]
        pairs.extend((name, _query_value(item)) for item in values)
    return "?" + urllib.parse.urlencode(pairs) if pairs else ""


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _problem_of(error: urllib.error.HTTPError) -> dict[str, Any]:
    raw = error.read()
    try:
        problem = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        problem = None
    if not isinstance(problem, dict):
        problem = {"status": error.code, "title": error.reason, "detail": raw[:500].decode("utf-8", "replace")}
    return problem


def _read_json(response: HTTPResponse) -> dict[str, Any]:
    try:
        raw = response.read()
    except (OSError, HTTPException) as error:
        raise TransportError(f"the answer broke off: {error}") from None
    return _parse_json(raw)


def _parse_json(raw: bytes) -> dict[str, Any]:
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise TransportError(f"the server's answer is not JSON: {raw[:200]!r}") from None
    if not isinstance(document, dict):
        raise TransportError("the server's answer is not a JSON object")
    return document
