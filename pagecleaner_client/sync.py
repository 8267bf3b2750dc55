"""``Client``: the blocking client, one pool of keep-alive connections per instance."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any

import httpx

from pagecleaner_client.errors import transport_error
from pagecleaner_client.models import Article, ItemResult
from pagecleaner_client.retries import RetryPolicy
from pagecleaner_client.wire import (
    BATCH_MAX_ITEMS,
    DEFAULT_TIMEOUT_S,
    Call,
    article_of,
    batch_calls,
    extract_call,
    http_settings,
    item_of,
)

_sleep = time.sleep  # replaced by the tests, which record the waits instead


class Client:
    """A pagecleaner server (``base_url``, else ``PAGECLEANER_URL``) and its key (``api_key``,
    else ``PAGECLEANER_API_KEY``); reuse one instance: it keeps connections open between calls.

        with Client() as cleaner:
            article = cleaner.extract(html, url="https://example.com/a", format=["text", "markdown"])

    ``timeout`` is how long to wait for an answer (s); ``retry`` when to try again (429 and
    failed connections only); ``transport`` an httpx transport (e.g. ``httpx.WSGITransport``).
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(transport=transport, **http_settings(base_url, api_key, timeout))
        self._retry = retry or RetryPolicy()

    @property
    def base_url(self) -> str:
        return str(self._http.base_url).rstrip("/")

    def extract(
        self,
        html: str | bytes | None = None,
        *,
        text: str | bytes | None = None,
        url: str | None = None,
        charset: str | None = None,
        **options: Any,
    ) -> Article:
        """Clean one page: ``html``, or plain ``text``, or (no page) the ``url`` the server fetches.

        ``options`` are the API's (``format`` as a str or a list, ``comments``, ``tables``,
        ``images``, ``links``, ``favor``, ``explain``, ...); the server validates them.

        Raises:
            RequestRejectedError: 4xx but 429 (the problem document is on the exception).
            ServiceUnavailableError: 5xx (never retried), or 429 still after the retries.
            TransportError: no usable answer (connection refused after the retries, timeout).
        """
        response = self._send(extract_call(html, text, url, charset, options))
        return article_of(response.content)

    def extract_many(
        self,
        items: Iterable[Mapping[str, Any] | str | bytes],
        *,
        chunk_items: int = BATCH_MAX_ITEMS,
        **options: Any,
    ) -> Iterator[ItemResult]:
        """Clean many pages through ``POST /v1/extract/batch``; yields one ``ItemResult`` per item,
        in input order, as the answers stream in (an item's failure is its ``error``).

        An item is ``{"id", "html" | "text", "url", "options"}`` or a string of HTML (its id is
        its index). A page may be UTF-8 bytes (the batch is JSON text: other charsets go one by one
        through ``extract``). ``options`` apply to every item; an item's own win. A failed item's
        ``error.problem["line"]`` is its position in ``items`` (1-based).

        Raises:
            RequestRejectedError / ServiceUnavailableError / TransportError: a whole chunk failed.
            ValueError: a page given as bytes is not UTF-8.
        """
        for call in batch_calls(items, options, chunk_items):
            response = self._send(call, stream=True)
            try:
                for line in response.iter_lines():
                    if line.strip():
                        yield item_of(line, call.first_line)
            except httpx.TransportError as error:
                raise transport_error(error, str(response.url)) from None
            finally:
                response.close()

    def _send(self, call: Call, stream: bool = False) -> httpx.Response:
        """The 2xx answer to ``call``, after the retries its policy allows (see ``retries``)."""
        request = call.build(self._http)
        attempt, waited = 0, 0.0
        while True:
            try:
                response = self._http.send(request, stream=stream)
                if not response.is_success:  # the problem document, and the connection back to the pool
                    response.read()
                    response.close()
            except httpx.TransportError as error:
                wait = self._retry.wait_or_raise(attempt, error, str(request.url), waited)
            else:
                if response.is_success:
                    return response
                wait = self._retry.wait_or_raise(attempt, response, str(request.url), waited)
            _sleep(wait)
            attempt, waited = attempt + 1, waited + wait

    def close(self) -> None:
        """Close the kept connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def extract(
    html: str | bytes | None = None,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    **arguments: Any,
) -> Article:
    """One page with a one-off ``Client`` (for many pages, keep a ``Client``: it reuses connections).

    ``arguments`` are ``Client.extract``'s (``text``, ``url``, ``charset`` and the API's options).
    """
    with Client(base_url, api_key) as client:
        return client.extract(html, **arguments)
