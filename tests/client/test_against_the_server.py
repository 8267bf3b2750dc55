"""The client against the real service: typed answers and problems, batches, keys, sync and async."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask

from pagecleaner_client import (
    Article,
    AsyncClient,
    Client,
    ItemResult,
    Removed,
    RequestRejectedError,
    extract,
)
from service.http.app import create_app
from service.workers.runtime import Runtime
from tests.conftest import FIXTURES, make_settings
from tests.e2e.conftest import LiveServer, live_server  # noqa: F401 - the session server

SEED = FIXTURES / "text-seed-news-recent-posts"
SEED_TITLE = "Regulators recommend that Chinese developers abandon Nvidia accelerators in favor of Chinese analogues"
ARTICLE = (
    "<html lang='en'><head><title>Solar boats cross the lake | Lake News</title>"
    "<meta name='author' content='Ada Lovelace'></head><body><nav><a href='/'>Home</a></nav>"
    "<article><h1>Solar boats cross the lake</h1>"
    "<p>Two boats powered only by the sun crossed the lake on Sunday, a first for the region's club.</p>"
    "<h2>A long day</h2>"
    "<p>The crossing took nine hours, and the crews said the batteries never fell below half charge.</p>"
    "</article><footer>Copyright Lake News</footer></body></html>"
)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
KEY = "client-test-key"


@pytest.fixture
def server(request: pytest.FixtureRequest) -> LiveServer:
    live: LiveServer = request.getfixturevalue("live_server")
    return live


@pytest.fixture
def cleaner(server: LiveServer) -> Iterator[Client]:
    with Client(server.url) as client:
        yield client


@pytest.fixture
def keyed_app(runtime: Runtime) -> Flask:
    return create_app(settings=make_settings(api_keys=KEY), runtime=runtime)


# -- one page -------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_text_gives_a_typed_article_with_exact_title_and_authors(cleaner: Client) -> None:
    article = cleaner.extract(text=(SEED / "input.txt").read_text(encoding="utf-8"))
    assert isinstance(article, Article)
    assert article.title == SEED_TITLE
    assert article.authors == ["admin"]
    assert "Recent Posts" not in article.text
    assert article.word_count > 0
    assert article.markdown is None  # not asked for


@pytest.mark.e2e
def test_html_bytes_with_url_and_options(cleaner: Client) -> None:
    article = cleaner.extract(
        ARTICLE.encode("utf-8"), url="https://lake.example/news/solar-boats", format=["text", "markdown"], explain=True
    )
    assert article.title == "Solar boats cross the lake"
    assert article.authors == ["Ada Lovelace"]
    assert article.hostname == "lake.example"
    assert article.markdown is not None
    assert "## A long day" in article.markdown
    assert article.removed is not None
    assert all(isinstance(removed, Removed) for removed in article.removed)
    assert "Copyright Lake News" not in article.text
    assert article.raw["title"] == article.title


@pytest.mark.e2e
def test_a_refused_page_raises_with_its_problem(cleaner: Client) -> None:
    with pytest.raises(RequestRejectedError) as caught:
        cleaner.extract(PNG)
    assert (caught.value.status, caught.value.code) == (422, "not-a-page")
    assert caught.value.problem["type"] == "urn:pagecleaner:problem:not-a-page"


@pytest.mark.e2e
def test_an_unknown_option_raises_invalid_option(cleaner: Client) -> None:
    with pytest.raises(RequestRejectedError) as caught:
        cleaner.extract(ARTICLE, colour="blue")
    assert (caught.value.status, caught.value.code) == (400, "invalid-option")
    assert caught.value.problem["option"] == "colour"


@pytest.mark.e2e
def test_the_one_off_extract_reads_the_server_from_the_environment(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAGECLEANER_URL", server.url)
    assert extract(ARTICLE).title == "Solar boats cross the lake"


# -- many pages -----------------------------------------------------------------------------------


@pytest.mark.e2e
def test_extract_many_streams_typed_results_in_input_order(cleaner: Client) -> None:
    items: list[Any] = [
        {"id": "seed", "text": (SEED / "input.txt").read_text(encoding="utf-8")},
        {"id": "both", "html": ARTICLE, "text": "x"},
        {"id": "lake", "html": ARTICLE, "url": "https://lake.example/a", "options": {"format": "text"}},
        ARTICLE,
        {"id": 99, "html": ARTICLE},
    ]
    results = list(cleaner.extract_many(items, chunk_items=2, format=["text", "markdown"]))
    assert [result.id for result in results] == ["seed", "both", "lake", 3, 99]
    assert results[0].unwrap().title == SEED_TITLE
    assert not results[1].ok
    assert results[1].error is not None
    assert (results[1].error.status, results[1].error.code) == (400, "invalid-field")
    with pytest.raises(RequestRejectedError):
        results[1].unwrap()
    assert results[2].unwrap().markdown is None  # the item's own options win over the defaults
    assert results[2].unwrap().hostname == "lake.example"
    assert results[3].unwrap().title == "Solar boats cross the lake"
    assert "## A long day" in (results[4].unwrap().markdown or "")


@pytest.mark.e2e
def test_a_failed_item_in_a_later_chunk_gives_its_line_in_the_input(cleaner: Client) -> None:
    items: list[Any] = [ARTICLE] * 70
    items[65] = {"id": "both", "html": ARTICLE, "text": "x"}  # item 66: refused
    results = list(cleaner.extract_many(items))
    assert [result.id for result in results if not result.ok] == ["both"]
    assert results[65].error is not None
    assert results[65].error.problem["line"] == 66


# -- async ----------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_async_pages_run_concurrently_on_one_client(server: LiveServer) -> None:
    async def clean() -> tuple[list[Article], list[ItemResult]]:
        async with AsyncClient(server.url) as client:
            pages = [ARTICLE.replace("Sunday", day) for day in ("Monday", "Tuesday", "Friday")]
            articles = await asyncio.gather(*(client.extract(page) for page in pages))
            results = [result async for result in client.extract_many(pages, chunk_items=2)]
            return list(articles), results

    articles, results = asyncio.run(clean())
    assert ["Monday" in articles[0].text, "Tuesday" in articles[1].text, "Friday" in articles[2].text] == [True] * 3
    assert [result.id for result in results] == [0, 1, 2]
    assert all(result.ok for result in results)


def _gather_pages(server: LiveServer, pages: int, **arguments: Any) -> list[Article | BaseException]:
    """``asyncio.gather`` over ``pages`` pages, docs/cli.md's pattern; each page's answer or error."""
    # About 90 KB, like a real article page: each takes the server long enough to keep it full.
    seed = (FIXTURES / "html-seed-wordpress-news" / "input.html").read_bytes()
    page = seed.replace(b"</body>", seed * 10 + b"</body>")

    async def clean() -> list[Article | BaseException]:
        async with AsyncClient(server.url, **arguments) as client:
            calls = (client.extract(page + f"<!-- {number} -->".encode()) for number in range(pages))
            return await asyncio.gather(*calls, return_exceptions=True)

    return asyncio.run(clean())


@pytest.mark.e2e
def test_a_gather_over_100_pages_loses_none_to_429(server: LiveServer) -> None:
    # The server admits 6 requests at once (2 extractors x 3); 23 of 100 used to fail "overloaded".
    results = _gather_pages(server, 100)
    assert [result for result in results if not isinstance(result, Article)] == []


@pytest.mark.e2e
def test_unbounded_the_retries_alone_get_every_page_through(server: LiveServer) -> None:
    # Without the client's own bound, 100 requests arrive at once: most are answered 429, and the
    # jittered, growing waits must spread their returns enough for all of them to get in.
    results = _gather_pages(server, 100, max_concurrency=None)
    assert [result for result in results if not isinstance(result, Article)] == []


@pytest.mark.e2e
def test_async_problems_are_typed(server: LiveServer) -> None:
    async def clean() -> None:
        async with AsyncClient(server.url) as client:
            await client.extract(PNG)

    with pytest.raises(RequestRejectedError) as caught:
        asyncio.run(clean())
    assert caught.value.code == "not-a-page"


# -- keys -----------------------------------------------------------------------------------------


def test_the_key_from_the_environment_is_sent(keyed_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGECLEANER_API_KEY", KEY)
    with Client("http://cleaner.test", transport=httpx.WSGITransport(app=keyed_app)) as client:
        assert client.extract(ARTICLE).title == "Solar boats cross the lake"


def test_a_wrong_key_is_an_unauthorized_problem(keyed_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGECLEANER_API_KEY", KEY)
    transport = httpx.WSGITransport(app=keyed_app)
    client = Client("http://cleaner.test", api_key="wrong", transport=transport)  # the argument wins
    with client, pytest.raises(RequestRejectedError) as caught:
        client.extract(ARTICLE)
    assert (caught.value.status, caught.value.code) == (401, "unauthorized")
