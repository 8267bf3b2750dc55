"""Client-given ``url`` and ``id`` are checked where the request is parsed (issue 24, items 4, 5
and 12): a URL is http(s), parseable, without control characters or lone surrogates, and a
field that fails is a 400 naming it, never a 500 or a dead extraction process.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from service.batch_items import parse_line
from service.errors import InvalidField
from service.request_forms import job_from_json, job_from_request

SENTENCE = "The harbour commission approved the breakwater. "
PAGE = f"<html><body><article><p>{SENTENCE * 6}</p></article></body></html>"
# JSON text with a lone surrogate escape (json.dumps would not write one from a Python str).
LONE_SURROGATE = "\\ud800"

# Not http(s): the page is still cleaned, the address dropped (never echoed) with ``url-ignored``.
NOT_HTTP_URLS = [
    pytest.param("javascript:alert(1)", id="javascript"),
    pytest.param("data:text/html,<p>x</p>", id="data"),
    pytest.param("ftp://example.org/a", id="ftp"),
    pytest.param("example.org/a", id="no-scheme"),
    pytest.param("hard::example.org.a.html", id="benchmark-id"),
]
BAD_URLS = [
    pytest.param("http://", id="no-host"),
    pytest.param("http://[::1", id="unclosed-ipv6"),
    pytest.param("http://example.org:99999/", id="port-out-of-range"),
    pytest.param("http://example.org/a\r\nSet-Cookie: x=1", id="crlf"),
    pytest.param("http://example.org/\x00", id="nul"),
    pytest.param("http://example.org/\x85a", id="c1-control"),
    pytest.param("http://exa mple.org/", id="space-in-host"),
]
GOOD_URLS = [
    "https://example.org/a?b=c#d",
    "HTTP://EXAMPLE.ORG/",
    "http://[::1]:8080/x",
    "https://bücher.example/straße",
    "  https://example.org/padded  ",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_json_url_that_is_not_http_is_an_invalid_field(url: str) -> None:
    with pytest.raises(InvalidField) as caught:
        job_from_json({"html": PAGE, "url": url})
    assert caught.value.extra["field"] == "url"


@pytest.mark.parametrize("url", BAD_URLS)
def test_query_url_that_is_not_http_is_an_invalid_field(url: str) -> None:
    with pytest.raises(InvalidField) as caught:
        job_from_request("text/html", PAGE.encode(), MultiDict({"url": url}))
    assert caught.value.extra["field"] == "url"


@pytest.mark.parametrize("url", NOT_HTTP_URLS)
def test_a_page_address_that_is_not_http_is_dropped_and_flagged(url: str) -> None:
    for job in (
        job_from_json({"html": PAGE, "url": url}),
        job_from_request("text/html", PAGE.encode(), MultiDict({"url": url})),
    ):
        assert (job.url, job.url_ignored) == (None, True)


@pytest.mark.parametrize("url", NOT_HTTP_URLS)
def test_a_url_to_fetch_that_is_not_http_is_an_invalid_field(url: str) -> None:
    with pytest.raises(InvalidField) as caught:
        job_from_json({"url": url})
    assert caught.value.extra["field"] == "url"


@pytest.mark.parametrize("url", GOOD_URLS)
def test_http_urls_are_accepted_as_sent_but_trimmed(url: str) -> None:
    assert job_from_json({"html": PAGE, "url": url}).url == url.strip()
    assert job_from_request("text/html", PAGE.encode(), MultiDict({"url": url})).url == url.strip()


def test_url_with_a_lone_surrogate_is_an_invalid_field() -> None:
    with pytest.raises(InvalidField) as caught:
        job_from_json(json.loads('{"html": "<p>x</p>", "url": "http://a.example/' + LONE_SURROGATE + '"}'))
    assert caught.value.extra["field"] == "url"


@pytest.mark.parametrize("field", ["id", "url"])
def test_batch_item_with_a_lone_surrogate_is_that_items_error(field: str) -> None:
    values = {"id": '"item-1"', "url": '"https://a.example/"'}
    values[field] = '"x' + LONE_SURROGATE + '"'
    line = '{"html": "<p>x</p>", ' + ", ".join(f'"{k}": {v}' for k, v in values.items()) + "}"
    item = parse_line(3, line.encode(), {})
    assert item.job is None
    assert isinstance(item.error, InvalidField)
    assert item.error.extra["field"] == field
    assert item.id in (None, "item-1")  # never the surrogate: the error line must encode


def test_unknown_field_named_with_a_lone_surrogate_is_an_encodable_error() -> None:
    with pytest.raises(InvalidField) as caught:
        job_from_json(json.loads('{"html": "<p>x</p>", "' + LONE_SURROGATE + '": 1}'))
    caught.value.to_json().encode("utf-8")


def test_lone_surrogate_in_the_page_becomes_one_replacement_character() -> None:
    job = job_from_json(json.loads('{"text": "before ' + LONE_SURROGATE + ' after"}'))
    assert job.body.decode("utf-8") == "before \ufffd after"


# -- through HTTP ------------------------------------------------------------------------------


def _post_json(client: FlaskClient, raw: str, query: str = "") -> Any:
    return client.post("/v1/extract" + query, data=raw.encode(), content_type="application/json")


def test_lone_surrogate_in_the_url_is_400_not_500(client: FlaskClient) -> None:
    response = _post_json(client, '{"html": "<p>x</p>", "url": "https://a.example/' + LONE_SURROGATE + '"}')
    assert response.status_code == 400
    assert response.get_json()["field"] == "url"


@pytest.mark.parametrize("url", ["http://[::1", "http://a.example/\r\nX: y"])
def test_bad_query_url_is_400(client: FlaskClient, url: str) -> None:
    response = client.post("/v1/extract", query_string={"url": url}, data=PAGE.encode(), content_type="text/html")
    assert response.status_code == 400
    assert (response.get_json()["code"], response.get_json()["field"]) == ("invalid-field", "url")


def test_bad_json_url_is_400_and_never_echoed(client: FlaskClient) -> None:
    response = client.post("/v1/extract", json={"html": PAGE, "url": "http://a.example/\x00"})
    assert response.status_code == 400
    assert response.get_json()["field"] == "url"


def test_a_javascript_url_is_never_echoed_and_the_answer_says_so(client: FlaskClient) -> None:
    response = client.post("/v1/extract", json={"html": PAGE, "url": "javascript:alert(1)"})
    assert response.status_code == 200
    answer = response.get_json()
    assert "javascript" not in response.get_data(as_text=True)
    assert "url-ignored" in answer["warnings"]
    assert SENTENCE.strip() in answer["text"]


def test_lone_surrogate_in_a_batch_fails_only_its_item(client: FlaskClient) -> None:
    good = json.dumps({"id": "good", "html": PAGE})
    bad_id = '{"id": "x' + LONE_SURROGATE + '", "html": "<p>x</p>"}'
    bad_url = '{"id": "bad-url", "html": "<p>x</p>", "url": "https://a.example/' + LONE_SURROGATE + '"}'
    body = "\n".join([good, bad_id, bad_url, good]) + "\n"
    response = client.post("/v1/extract/batch", data=body.encode(), content_type="application/x-ndjson", buffered=True)
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.get_data().splitlines()]
    assert [line["id"] for line in lines] == ["good", None, "bad-url", "good"]
    assert [line.get("error", {}).get("field") for line in lines] == [None, "id", "url", None]
    assert SENTENCE.strip() in lines[0]["text"]
    assert SENTENCE.strip() in lines[3]["text"]


@pytest.mark.parametrize("label", ["hex", "base64", "rot13", "idna", "undefined", "unicode_escape", "utf-7"])
def test_content_type_charset_that_is_not_a_text_encoding_is_ignored_not_500(client: FlaskClient, label: str) -> None:
    page = PAGE.replace("breakwater", "Brückenbau")
    response = client.post("/v1/extract", data=page.encode(), content_type=f"text/html; charset={label}")
    assert response.status_code == 200
    assert "Brückenbau" in response.get_json()["text"]
    assert "charset-ignored" in response.get_json()["warnings"]


def test_windows_1251_page_declared_as_utf8_comes_back_readable(client: FlaskClient) -> None:
    page = "<html><body><article>" + "<p>Это обычный русский текст статьи, в котором достаточно слов.</p>" * 8
    response = client.post("/v1/extract", data=page.encode("cp1251"), content_type="text/html; charset=utf-8")
    assert response.status_code == 200
    assert "обычный русский текст" in response.get_json()["text"]
    assert "charset-corrected" in response.get_json()["warnings"]
