"""Client input on a real gunicorn server (issue 24, items 4, 5, 12): a bad ``url``, a lone
surrogate or a non-text charset is a problem+json 400 or a 200, over HTTP/1.0 and 1.1 and through
the connection hand-off, never gunicorn's HTML 500 or a dead extraction process."""

from __future__ import annotations

import http.client
import json
from urllib.parse import quote, urlsplit

import pytest

from tests import hostile_corpus as hc
from tests.e2e.conftest import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SURROGATE_URL_JSON = b'{"html": "<p>x</p>", "url": "https://a.example/\\ud800"}'


def raw_post(server: LiveServer, path: str, body: bytes, content_type: str, http10: bool) -> tuple[int, str, bytes]:
    """(status, Content-Type, body) of one POST on its own connection."""
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    if http10:
        connection._http_vsn, connection._http_vsn_str = 10, "HTTP/1.0"  # type: ignore[attr-defined]
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": content_type})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("http10", [False, True], ids=["http1.1", "http1.0"])
@pytest.mark.parametrize(
    ("path", "body", "content_type"),
    [
        pytest.param("/v1/extract", SURROGATE_URL_JSON, "application/json", id="surrogate-url"),
        pytest.param("/v1/extract?url=" + quote("http://[::1"), hc.page(hc.article_html()), hc.HTML, id="ipv6-url"),
        pytest.param(
            "/v1/extract?url=" + quote("http://a.example/\x01"), hc.page(hc.article_html()), hc.HTML, id="ctl-url"
        ),
    ],
)
def test_bad_client_url_is_a_problem_400(
    live_server: LiveServer, path: str, body: bytes, content_type: str, http10: bool
) -> None:
    status, answer_type, answer = raw_post(live_server, path, body, content_type, http10)
    assert (status, answer_type) == (400, "application/problem+json"), answer[:300]
    assert json.loads(answer)["field"] == "url"


@pytest.mark.parametrize("label", ["hex", "base64", "rot13", "idna", "undefined", "unicode_escape", "utf-7"])
def test_non_text_charset_is_ignored(live_server: LiveServer, label: str) -> None:
    status, _type, answer = raw_post(
        live_server, "/v1/extract", hc.page(hc.article_html()), f"text/html; charset={label}", http10=False
    )
    assert status == 200, answer[:300]
    assert hc.KEY_SENTENCE in json.loads(answer)["text"]


def test_surrogate_in_a_batch_fails_only_its_item(live_server: LiveServer) -> None:
    good = json.dumps({"id": 1, "html": hc.page(hc.article_html()).decode()}).encode()
    body = b"\n".join([good, b'{"id": "\\udfff", "text": "x"}', SURROGATE_URL_JSON[:-1] + b', "id": 3}', good])
    status, _type, answer = raw_post(live_server, "/v1/extract/batch", body, "application/x-ndjson", http10=False)
    assert status == 200
    lines = [json.loads(line) for line in answer.splitlines()]
    assert [line.get("error", {}).get("field") for line in lines] == [None, "id", "url", None]
    assert hc.KEY_SENTENCE in lines[3]["text"]
