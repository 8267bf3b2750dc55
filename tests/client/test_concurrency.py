"""AsyncClient bounds its own concurrency, so ``asyncio.gather`` over many pages does not flood the server."""

from __future__ import annotations

import asyncio
import json

import pytest

from pagecleaner_client import DEFAULT_MAX_CONCURRENCY, AsyncClient
from tests.client.conftest import OK, Reply, Stub

# Long enough that every call the client lets through is at the stub at the same time.
SLOW_S = 0.2


def _gather(stub: Stub, pages: int, **arguments: int | None) -> None:
    async def run() -> None:
        async with AsyncClient(stub.url, **arguments) as client:  # type: ignore[arg-type]
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
