"""The client tries again on 429 (after Retry-After, jittered, bounded) and on failed connections only."""

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
from tests.client.conftest import OK, OVERLOADED, Reply, Stub

TIME_BUDGET = {"code": "time-budget-exceeded", "status": 503, "detail": "the page took over 10 s"}
NO_EXTRACTOR = {"code": "extractor-unavailable", "status": 503, "detail": "no extraction process"}
CRASHED = {"code": "extractor-crashed", "status": 500, "detail": "the extraction process died"}
INVALID = {"code": "invalid-option", "status": 400, "detail": "favor: must be one of ...", "option": "favor"}


def test_429_then_200_waits_at_least_what_retry_after_says(stub: Stub, sleeps: list[float]) -> None:
    stub.replies = [Reply(429, OVERLOADED, {"Retry-After": "2"}), Reply(200, OK)]
    with Client(stub.url) as client:
        article = client.extract("<p>x</p>")
    assert article.title == "Fine"
    assert len(stub.seen) == 2
    assert len(sleeps) == 1
    assert 2.0 <= sleeps[0] <= 2.5  # Retry-After, plus up to the first backoff step (0.5 s) of jitter


def test_rejected_requests_told_the_same_retry_after_do_not_all_return_together() -> None:
    # 100 concurrent requests answered "Retry-After: 1" used to come back at the same instant
    # and collide again (issue: 23 of 100 pages lost to 429 with asyncio.gather).
    waits = [RetryPolicy().delay(0, "1") for _ in range(100)]
    assert min(waits) >= 1.0
    assert max(waits) - min(waits) > 0.2


def test_waits_grow_exponentially_above_retry_after() -> None:
    policy = RetryPolicy()
    for attempt, backoff in enumerate([0.5, 1.0, 2.0, 4.0, 8.0]):
        wait = policy.delay(attempt, "1")
        assert max(1.0, backoff) <= wait <= max(1.0, backoff) + backoff


def test_a_retry_after_longer_than_the_longest_wait_raises_at_once(stub: Stub, sleeps: list[float]) -> None:
    # Coming back before the server said would only be refused again; hanging a day is no better.
    stub.replies = [Reply(429, OVERLOADED, {"Retry-After": "86400"}), Reply(200, OK)]
    with Client(stub.url) as client, pytest.raises(ServiceUnavailableError) as caught:
        client.extract("<p>x</p>")
    assert caught.value.code == "overloaded"
    assert len(stub.seen) == 1
    assert sleeps == []


def test_no_wait_is_longer_than_max_wait(stub: Stub, sleeps: list[float]) -> None:
    stub.replies = [Reply(429, OVERLOADED)] * 7 + [Reply(200, OK)]
    with Client(stub.url, retry=RetryPolicy(retries=7, max_total_s=1000)) as client:
        client.extract("<p>x</p>")
    assert len(sleeps) == 7
    assert max(sleeps) <= MAX_RETRY_WAIT_S


def test_the_waits_of_one_request_add_up_to_at_most_max_total(stub: Stub, sleeps: list[float]) -> None:
    stub.replies = [Reply(429, OVERLOADED, {"Retry-After": "2"})]
    with (
        Client(stub.url, retry=RetryPolicy(retries=100, max_total_s=7.0)) as client,
        pytest.raises(ServiceUnavailableError) as caught,
    ):
        client.extract("<p>x</p>")
    assert caught.value.code == "overloaded"
    assert 2 <= len(sleeps) <= 3
    assert sum(sleeps) <= 7.0
    assert len(stub.seen) == len(sleeps) + 1


def test_the_default_policy_keeps_trying_a_429_for_several_seconds() -> None:
    policy = RetryPolicy()
    assert policy.retries >= 5
    assert policy.max_total_s >= 30.0


def test_a_429_without_retry_after_backs_off_exponentially(stub: Stub, sleeps: list[float]) -> None:
    stub.replies = [Reply(429, OVERLOADED), Reply(429, OVERLOADED), Reply(429, OVERLOADED), Reply(200, OK)]
    with Client(stub.url) as client:
        client.extract("<p>x</p>")
    assert len(sleeps) == 3
    for wait, base in zip(sleeps, [0.5, 1.0, 2.0], strict=True):  # 0.5 s * 2**n, plus up to as much jitter
        assert base <= wait <= base * 2


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
    assert len(sleeps) == 2
    assert min(sleeps) >= 1.0


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
    assert len(sleeps) == 1
    assert 3.0 <= sleeps[0] <= 3.5


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
    assert len(sleeps) == 1


def test_retry_after_as_an_http_date_in_the_past_waits_only_the_backoff() -> None:
    assert 0.5 <= RetryPolicy().delay(0, "Wed, 21 Oct 2015 07:28:00 GMT") <= 1.0
