"""AsyncClient bounds its own concurrency, so ``asyncio.gather`` over many pages does not flood the server."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import pytest

from pagecleaner_client import DEFAULT_MAX_CONCURRENCY, AsyncClient, aio
from tests.client.conftest import OK, Reply, Stub

# Long enough that every call the client lets through is at the stub at the same time.
SLOW_S = 0.2
# A page at a stub that admits two at once, and the share of each retry wait really waited: the
# first retry comes 0.25-0.375 s after a 429 (Retry-After: 1 s and jitter), when the stub has
# freed a place, and a call's ~30 s of retries last ~8 s, longer than the gather.
PAGE_S = 0.1
RETRY_WAIT_SCALE = 1 / 4


def _gather(stub: Stub, pages: int, **arguments: Any) -> None:
    async def run() -> None:
        async with AsyncClient(stub.url, **arguments) as client:
            await asyncio.gather(*(client.extract(f"<p>{page}</p>") for page in range(pages)))

    asyncio.run(run())


def test_at_most_max_concurrency_calls_are_in_flight(stub: Stub) -> None:
    stub.replies = [Reply(200, OK, delay_s=SLOW_S)]
    _gather(stub, 12, max_concurrency=3)
    assert len(stub.seen) == 12
    assert stub.max_in_flight == 3


def test_the_default_bound_holds_for_a_gather_over_many_pages(stub: Stub) -> None:
    stub.replies = [Reply(200, OK, delay_s=SLOW_S)]
    _gather(stub, DEFAULT_MAX_CONCURRENCY * 3)
    assert stub.max_in_flight == DEFAULT_MAX_CONCURRENCY


def test_no_bound_when_max_concurrency_is_none(stub: Stub) -> None:
    stub.replies = [Reply(200, OK, delay_s=SLOW_S)]
    _gather(stub, DEFAULT_MAX_CONCURRENCY + 4, max_concurrency=None)
    assert stub.max_in_flight == DEFAULT_MAX_CONCURRENCY + 4


def test_a_refused_call_gets_the_next_place_the_server_frees(stub: Stub, monkeypatch: pytest.MonkeyPatch) -> None:
    # The server admits 2, the client sends 3. The call refused used to lose every place the
    # server freed to a fresh call (its retries found the server full again and again) until
    # the fresh calls ran out or its retries did: a long gather lost pages to 429.
    async def scaled_sleep(seconds: float) -> None:
        await asyncio.sleep(seconds * RETRY_WAIT_SCALE)

    monkeypatch.setattr(aio, "_sleep", scaled_sleep)
    stub.admits = 2
    stub.replies = [Reply(200, OK, delay_s=PAGE_S)]
    _gather(stub, 40, max_concurrency=3)  # raises the first page lost
    assert stub.refused > 0  # the client did send more than the server admits
    sent = Counter(seen.body for seen in stub.seen)
    assert max(sent.values()) == 2  # refused at most once: its first retry found the place kept


def test_a_batch_chunk_holds_one_slot_while_its_answer_streams(stub: Stub) -> None:
    line = json.dumps({"id": 0, **OK})
    stub.replies = [Reply(200, line, {"Content-Type": "application/x-ndjson"}, delay_s=SLOW_S)]

    async def run() -> None:
        async with AsyncClient(stub.url, max_concurrency=1) as client:

            async def many() -> None:
                async for _result in client.extract_many(["<p>a</p>", "<p>b</p>"], chunk_items=1):
                    pass

            await asyncio.gather(many(), client.extract("<p>c</p>"), many())

    asyncio.run(run())
    assert len(stub.seen) == 5
    assert stub.max_in_flight == 1


@pytest.mark.parametrize("bound", [0, -1])
def test_max_concurrency_must_be_positive(bound: int) -> None:
    with pytest.raises(ValueError, match="max_concurrency"):
        AsyncClient("http://127.0.0.1:1", max_concurrency=bound)
