"""What the client sends (body, query, key, one connection) and how it types what comes back."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from pagecleaner_client import Article, Client, ItemResult, RequestRejectedError
from service.http.openapi_schemas import answer_keys
from tests.client.conftest import OK, Reply, Stub


def test_every_answer_key_the_server_sends_is_an_article_field() -> None:
    required, optional = answer_keys()
    fields = {field.name for field in dataclasses.fields(Article)}
    assert [key for key in [*required, *optional] if key not in fields] == []


def test_an_answer_becomes_an_article_keeping_unknown_keys_in_raw() -> None:
    answer = {**OK, "removed": [{"text": "Menu", "reason": "navigation"}], "newer": 1}
    article = Article.from_json(answer)
    assert article.title == "Fine"
    assert article.removed is not None
    assert (article.removed[0].text, article.removed[0].reason) == ("Menu", "navigation")
    assert article.raw["newer"] == 1


def test_a_failed_batch_line_becomes_a_typed_error() -> None:
    result = ItemResult.from_json({"id": 7, "error": {"code": "not-a-page", "status": 422, "detail": "binary"}})
    assert (result.id, result.ok, result.article) == (7, False, None)
    assert isinstance(result.error, RequestRejectedError)
    assert result.error.code == "not-a-page"


def test_options_and_url_go_in_the_query_and_the_page_as_the_body(stub: Stub) -> None:
    with Client(stub.url) as client:
        client.extract("<p>é</p>", url="https://a.example/", format=["text", "html"], comments=True)
    (seen,) = stub.seen
    assert seen.path == "/v1/extract?url=https%3A%2F%2Fa.example%2F&format=text&format=html&comments=true"
    assert seen.body == "<p>é</p>".encode()
    assert seen.headers["Content-Type"] == "text/html; charset=utf-8"


def test_bytes_go_as_they_are_for_the_server_to_sniff(stub: Stub) -> None:
    with Client(stub.url) as client:
        client.extract("<p>é</p>".encode("cp1252"))
        client.extract(text=b"plain", charset="windows-1251")
    assert stub.seen[0].body == b"<p>\xe9</p>"
    assert stub.seen[0].headers["Content-Type"] == "text/html"
    assert stub.seen[1].headers["Content-Type"] == "text/plain; charset=windows-1251"


def test_a_url_without_a_page_asks_the_server_to_fetch_it(stub: Stub) -> None:
    with Client(stub.url) as client:
        client.extract(url="https://a.example/", format="markdown")
    (seen,) = stub.seen
    assert seen.headers["Content-Type"] == "application/json"
    assert json.loads(seen.body) == {"url": "https://a.example/", "options": {"format": "markdown"}}


@pytest.mark.parametrize(("html", "text", "url"), [("<p>a</p>", "a", None), (None, None, None)])
def test_a_call_needs_exactly_one_page_or_a_url(html: str | None, text: str | None, url: str | None) -> None:
    with Client("http://127.0.0.1:9") as client, pytest.raises(ValueError, match="give html"):
        client.extract(html, text=text, url=url)


def test_calls_reuse_one_connection(stub: Stub) -> None:
    with Client(stub.url) as client:
        for _ in range(3):
            client.extract("<p>x</p>")
        list(client.extract_many(["<p>a</p>", "<p>b</p>"]))
    assert len({seen.client_port for seen in stub.seen}) == 1


def test_the_server_and_key_come_from_the_environment(stub: Stub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGECLEANER_URL", stub.url + "/")
    monkeypatch.setenv("PAGECLEANER_API_KEY", "from-env")
    with Client() as client:
        assert client.base_url == stub.url
        client.extract("<p>x</p>")
    assert stub.seen[0].headers["Authorization"] == "Bearer from-env"


def test_arguments_win_over_the_environment(stub: Stub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGECLEANER_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PAGECLEANER_API_KEY", "from-env")
    with Client(stub.url, api_key="") as client:  # "": explicitly no key
        client.extract("<p>x</p>")
    assert "Authorization" not in stub.seen[0].headers


def test_batch_items_go_as_ndjson_lines_in_chunks(stub: Stub) -> None:
    lines = "\n".join(json.dumps({"id": index, **OK}) for index in range(2))
    stub.replies = [Reply(200, lines, {"Content-Type": "application/x-ndjson"})]
    with Client(stub.url) as client:
        results = list(client.extract_many(["<p>a</p>", {"id": "b", "text": "b"}, "<p>c</p>"], chunk_items=2))
    assert [seen.path for seen in stub.seen] == ["/v1/extract/batch"] * 2
    assert [json.loads(line) for line in stub.seen[0].body.splitlines()] == [
        {"id": 0, "html": "<p>a</p>"},
        {"id": "b", "text": "b"},
    ]
    assert len(results) == 4  # the stub answers two lines to each chunk


def test_a_failed_item_gives_its_line_in_the_callers_input_not_in_its_chunk(stub: Stub) -> None:
    answer = {"Content-Type": "application/x-ndjson"}
    first = "\n".join(json.dumps({"id": index, **OK}) for index in range(2))
    failed = json.dumps({"id": 2, "error": {"status": 400, "code": "invalid-field", "line": 1}})
    stub.replies = [Reply(200, first, dict(answer)), Reply(200, failed, dict(answer))]
    with Client(stub.url) as client:
        results = list(client.extract_many(["<p>a</p>", "<p>b</p>", "<p>c</p>"], chunk_items=2))
    assert results[2].error is not None
    assert results[2].error.problem["line"] == 3  # the server saw it as line 1 of the second chunk


def test_batch_items_accept_utf8_bytes(stub: Stub) -> None:
    stub.replies = [Reply(200, json.dumps({"id": 0, **OK}), {"Content-Type": "application/x-ndjson"})]
    items: list[Any] = ["<p>café</p>".encode(), {"id": "bom", "html": b"\xef\xbb\xbf<p>caf\xc3\xa9</p>"}]
    with Client(stub.url) as client:
        list(client.extract_many(items))
    assert [json.loads(line) for line in stub.seen[0].body.splitlines()] == [
        {"id": 0, "html": "<p>café</p>"},
        {"id": "bom", "html": "<p>café</p>"},
    ]


def test_batch_bytes_in_another_charset_are_refused_before_sending(stub: Stub) -> None:
    # A batch line is JSON text: guessing the charset is the server's job, done for extract().
    with Client(stub.url) as client, pytest.raises(ValueError, match=r"item 2: .* must be UTF-8"):
        list(client.extract_many(["<p>a</p>", "<p>naïve café</p>".encode("cp1252")]))
    assert stub.seen == []
