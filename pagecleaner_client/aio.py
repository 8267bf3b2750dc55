"""``AsyncClient``: the asyncio client, one pool of keep-alive connections per instance."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from types import TracebackType
from typing import Any

import httpx

from pagecleaner_client.errors import OVERLOADED_STATUS, transport_error
from pagecleaner_client.models import Article, ItemResult
from pagecleaner_client.retries import RetryPolicy
from pagecleaner_client.slots import Slots
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

_sleep = asyncio.sleep  # replaced by the tests, which record the waits instead

# Calls one AsyncClient has at the server at once at most (a call holds its slot through its
# retries' waits and, for a batch chunk, until its answer is read); each 429 lowers the bound
# below this for a while (``slots``). A default server admits 3 x its extraction processes (6 on
# 2 cores) before answering 429: 8 keeps a small server full and a gather over thousands of
# pages from flooding any server. Raise it for a server with more cores.
DEFAULT_MAX_CONCURRENCY = 8


class AsyncClient:
    """``Client`` for asyncio: the same arguments, rules and answers, with ``await``.

        async with AsyncClient() as cleaner:
            articles = await asyncio.gather(*(cleaner.extract(page) for page in pages))
            async for result in cleaner.extract_many(items, format="markdown"):
                ...

    Concurrent calls share the connection pool; at most ``max_concurrency`` of them are sent at
    once (``None``: no bound), the others wait their turn in the client, so ``asyncio.gather``
    over any number of pages does not flood the server with requests it must refuse. Each 429
    lowers that bound by one (successes raise it back), so a refused call gets the next place
    the server frees instead of losing it to a fresh call until its retries run out.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        max_concurrency: int | None = DEFAULT_MAX_CONCURRENCY,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """``Client``'s arguments, and ``max_concurrency`` (above).

        Raises:
            ValueError: ``max_concurrency`` is below 1.
        """
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1 (or None), not {max_concurrency}")
        self._http = httpx.AsyncClient(transport=transport, **http_settings(base_url, api_key, timeout))
        self._retry = retry or RetryPolicy()
        self._slots = Slots(max_concurrency)

    @property
    def base_url(self) -> str:
        return str(self._http.base_url).rstrip("/")

    async def extract(
        self,
        html: str | bytes | None = None,
        *,
        text: str | bytes | None = None,
        url: str | None = None,
        charset: str | None = None,
        **options: Any,
    ) -> Article:
        """``Client.extract``, awaited.

        Raises:
            RequestRejectedError / ServiceUnavailableError / TransportError: as ``Client.extract``.
        """
        async with self._slots:
            response = await self._send(extract_call(html, text, url, charset, options))
        return article_of(response.content)

    async def extract_many(
        self,
        items: Iterable[Mapping[str, Any] | str | bytes],
        *,
        chunk_items: int = BATCH_MAX_ITEMS,
        **options: Any,
    ) -> AsyncIterator[ItemResult]:
        """``Client.extract_many``, as an async iterator.

        Raises:
            RequestRejectedError / ServiceUnavailableError / TransportError: a whole chunk failed.
        """
        for call in batch_calls(items, options, chunk_items):
            async with self._slots:  # the server works on the chunk until its last line is read
                response = await self._send(call, stream=True)
                try:
                    async for line in response.aiter_lines():
                        if line.strip():
                            yield item_of(line, call.first_line)
                except httpx.TransportError as error:
                    raise transport_error(error, str(response.url)) from None
                finally:
                    await response.aclose()

    async def _send(self, call: Call, stream: bool = False) -> httpx.Response:
        """The 2xx answer to ``call``, after the retries its policy allows (see ``retries``)."""
        request = call.build(self._http)
        attempt, waited, refused = 0, 0.0, False
        try:
            while True:
                try:
                    response = await self._http.send(request, stream=stream)
                    if not response.is_success:  # the problem document, and the connection back to the pool
                        await response.aread()
                        await response.aclose()
                except httpx.TransportError as error:
                    wait = self._retry.wait_or_raise(attempt, error, str(request.url), waited)
                else:
                    if response.is_success:
                        self._slots.succeeded()
                        return response
                    if response.status_code == OVERLOADED_STATUS:
                        self._slots.overloaded(again=refused)
                        refused = True
                    wait = self._retry.wait_or_raise(attempt, response, str(request.url), waited)
                await _sleep(wait)
                attempt, waited = attempt + 1, waited + wait
        finally:
            if refused:
                self._slots.settled()

    async def aclose(self) -> None:
        """Close the kept connections."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()
