"""The client tries again on 429 (after Retry-After, bounded) and on failed connections, on nothing else."""

from __future__ import annotations

import asyncio
import json

import pytest

from pagecleaner_client import (
    MAX_RETRY_WAIT_S,
    AsyncClient,
    Client,
    RequestRejectedError,
    RetryPolicy,
    ServiceUnavailableError,
    TransportError,
)
from tests.client.conftest import OK, Reply, Stub

OVERLOADED = {"code": "overloaded", "status": 429, "title": "Overloaded", "detail": "busy"}
TIME_BUDGET = {"code": "time-budget-exceeded", "status": 503, "detail": "the page took over 10 s"}
NO_EXTRACTOR = {"code": "extractor-unavailable", "status": 503, "detail": "no extraction process"}
CRASHED = {"code": "extractor-crashed", "status": 500, "detail": "the extraction process died"}
INVALID = {"code": "invalid-option", "status": 400, "detail": "favor: must be one of ...", "option": "favor"}


def test_429_then_200_waits_what_retry_after_says(stub: Stub, sleeps: list[float]) -> None:
    stub.replies = [Reply(429, OVERLOADED, {"Retry-After": "2"}), Reply(200, OK)]
    with Client(stub.url) as client:
        article = client.extract("<p>x</p>")
    assert article.title == "Fine"
    assert len(stub.seen) == 2
    assert sleeps == [2.0]


def test_the_retry_after_wait_is_bounded(stub: Stub, sleeps: list[float]) -> None:
    stub.replies = [Reply(429, OVERLOADED, {"Retry-After": "86400"}), Reply(200, OK)]
    with Client(stub.url) as client:
        client.extract("<p>x</p>")
    assert sleeps == [MAX_RETRY_WAIT_S]


def test_a_429_without_retry_after_backs_off_exponentially(stub: Stub, sleeps: list[float]) -> None:
    stub.replies = [Reply(429, OVERLOADED), Reply(429, OVERLOADED), Reply(429, OVERLOADED), Reply(200, OK)]
    with Client(stub.url) as client:
        client.extract("<p>x</p>")
    assert len(sleeps) == 3
    for wait, base in zip(sleeps, [0.5, 1.0, 2.0], strict=True):  # 0.5 s * 2**n, +-25 % jitter
        assert base * 0.75 <= wait <= base * 1.25


def test_a_real_wait_honours_retry_after(stub: Stub) -> None:
    stub.replies = [Reply(429, OVERLOADED, {"Retry-After": "0"}), Reply(200, OK)]
    with Client(stub.url, retry=RetryPolicy(retries=1)) as client:
        assert client.extract("<p>x</p>").title == "Fine"
    assert len(stub.seen) == 2


def test_still_429_after_the_retries_raises_unavailable_with_the_problem(stub: Stub, sleeps: list[float]) -> None:
    stub.replies = [Reply(429, OVERLOADED, {"Retry-After": "1"})]
    with Client(stub.url, retry=RetryPolicy(retries=2)) as client, pytest.raises(ServiceUnavailableError) as caught:
        client.extract("<p>x</p>")
    assert (caught.value.status, caught.value.code) == (429, "overloaded")
    assert caught.value.problem == OVERLOADED
    assert len(stub.seen) == 3
    assert sleeps == [1.0, 1.0]


@pytest.mark.parametrize("problem", [TIME_BUDGET, NO_EXTRACTOR, CRASHED], ids=lambda problem: problem["code"])
def test_a_5xx_is_never_retried(stub: Stub, sleeps: list[float], problem: dict[str, object]) -> None:
    stub.replies = [Reply(int(str(problem["status"])), problem, {"Retry-After": "1"}), Reply(200, OK)]
    with Client(stub.url) as client, pytest.raises(ServiceUnavailableError) as caught:
        client.extract("<p>x</p>")
    assert caught.value.code == problem["code"]
    assert caught.value.status == problem["status"]
    assert len(stub.seen) == 1
    assert sleeps == []


def test_a_4xx_is_never_retried_and_carries_the_problem(stub: Stub, sleeps: list[float]) -> None:
    stub.replies = [Reply(400, INVALID), Reply(200, OK)]
    with Client(stub.url) as client, pytest.raises(RequestRejectedError) as caught:
        client.extract("<p>x</p>", favor="speed")
    assert caught.value.problem == INVALID
    assert caught.value.detail == "favor: must be one of ..."
    assert len(stub.seen) == 1
    assert sleeps == []


def test_an_answer_that_is_not_a_problem_document_still_raises_typed(stub: Stub, sleeps: list[float]) -> None:
    stub.replies = [Reply(502, "<html>Bad Gateway</html>", {"Content-Type": "text/html"})]
    with Client(stub.url) as client, pytest.raises(ServiceUnavailableError) as caught:
        client.extract("<p>x</p>")
    assert caught.value.status == 502
    assert "Bad Gateway" in caught.value.detail
    assert sleeps == []


def test_a_refused_connection_is_retried_then_raises(closed_port: int, sleeps: list[float]) -> None:
    client = Client(f"http://127.0.0.1:{closed_port}", retry=RetryPolicy(retries=2))
    with client, pytest.raises(TransportError) as caught:
        client.extract("<p>x</p>")
    assert "ConnectError" in str(caught.value)
    assert len(sleeps) == 2


def test_async_429_then_200_waits_what_retry_after_says(stub: Stub, sleeps: list[float]) -> None:
    stub.replies = [Reply(429, OVERLOADED, {"Retry-After": "3"}), Reply(200, OK)]

    async def call() -> str | None:
        async with AsyncClient(stub.url) as client:
            return (await client.extract("<p>x</p>")).title

    assert asyncio.run(call()) == "Fine"
    assert sleeps == [3.0]


def test_async_503_time_budget_is_not_retried(stub: Stub, sleeps: list[float]) -> None:
    stub.replies = [Reply(503, TIME_BUDGET), Reply(200, OK)]

    async def call() -> None:
        async with AsyncClient(stub.url) as client:
            await client.extract("<p>x</p>")

    with pytest.raises(ServiceUnavailableError) as caught:
        asyncio.run(call())
    assert caught.value.code == "time-budget-exceeded"
    assert len(stub.seen) == 1


def test_async_refused_connection_is_retried_then_raises(closed_port: int, sleeps: list[float]) -> None:
    async def call() -> None:
        async with AsyncClient(f"http://127.0.0.1:{closed_port}", retry=RetryPolicy(retries=3)) as client:
            await client.extract("<p>x</p>")

    with pytest.raises(TransportError):
        asyncio.run(call())
    assert len(sleeps) == 3


def test_a_batch_chunk_answered_429_is_sent_again_whole(stub: Stub, sleeps: list[float]) -> None:
    line = json.dumps({"id": "a", **OK})
    stub.replies = [
        Reply(429, OVERLOADED, {"Retry-After": "1"}),
        Reply(200, line, {"Content-Type": "application/x-ndjson"}),
    ]
    with Client(stub.url) as client:
        results = list(client.extract_many([{"id": "a", "html": "<p>a</p>"}]))
    assert [result.id for result in results] == ["a"]
    assert stub.seen[0].body == stub.seen[1].body
    assert sleeps == [1.0]


def test_retry_after_as_an_http_date_in_the_past_waits_nothing() -> None:
    assert RetryPolicy().delay(0, "Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
