"""The connection hand-off's parts without gunicorn: which heads are handed off, the response's
layout, the TCP count that decides whether a killed request can still be answered, and the
extraction process's answer on a real socket, compared with the web worker's own."""

from __future__ import annotations

import gzip
import json
import os
import socket
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from service.answer_cache import AnswerCache
from service.api.body import decode_body
from service.connection_answer import ConnectionAnswerer, _send_what_fits
from service.connection_handoff import (
    ConnectionJob,
    bytes_written,
    http_response,
    parse_head,
)
from service.errors import BadRequest, BodyTooLarge, UnsupportedMediaType
from service.pipeline import Limits
from tests import hostile_corpus as hc

LIMIT = 1 << 20
PLAIN = b"POST /v1/extract HTTP/1.1\r\nHost: x\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello"


def test_a_plain_head_is_handed_off() -> None:
    head = parse_head(PLAIN, LIMIT)
    assert head is not None
    assert head.size == PLAIN.index(b"hello")
    assert head.content_length == 5
    assert head.whole == len(PLAIN)
    assert head.headers["content-type"] == "text/html"
    assert head.query_string == ""
    assert not head.wants_close


def test_query_and_connection_close_are_read() -> None:
    raw = PLAIN.replace(b"/v1/extract", b"/v1/extract?format=markdown&url=http%3A%2F%2Fa").replace(
        b"Host: x", b"Host: x\r\nConnection: Close"
    )
    head = parse_head(raw, LIMIT)
    assert head is not None
    assert head.query_string == "format=markdown&url=http%3A%2F%2Fa"
    assert head.wants_close


ODD_HEADS = {
    "another method": PLAIN.replace(b"POST", b"PUT"),
    "another path": PLAIN.replace(b"/v1/extract", b"/v1/extract/batch"),
    "absolute target": PLAIN.replace(b"/v1/extract", b"http://x/v1/extract"),
    "a fragment": PLAIN.replace(b"/v1/extract", b"/v1/extract?a=1#b"),
    "HTTP/1.0": PLAIN.replace(b"HTTP/1.1", b"HTTP/1.0"),
    "HTTP/2 preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "two spaces": PLAIN.replace(b"POST ", b"POST  "),
    "chunked": PLAIN.replace(b"Content-Length: 5", b"Transfer-Encoding: chunked"),
    "chunked and length": PLAIN.replace(b"Host: x", b"Host: x\r\nTransfer-Encoding: chunked"),
    "expect": PLAIN.replace(b"Host: x", b"Host: x\r\nExpect: 100-continue"),
    "upgrade": PLAIN.replace(b"Host: x", b"Host: x\r\nUpgrade: h2c"),
    "no length": PLAIN.replace(b"Content-Length: 5\r\n", b""),
    "two lengths": PLAIN.replace(b"Host: x", b"Host: x\r\nContent-Length: 5"),
    "signed length": PLAIN.replace(b"Content-Length: 5", b"Content-Length: +5"),
    "hex length": PLAIN.replace(b"Content-Length: 5", b"Content-Length: 0x5"),
    "length over the limit": PLAIN.replace(b"Content-Length: 5", b"Content-Length: %d" % (LIMIT + 1)),
    "a repeated header": PLAIN.replace(b"Host: x", b"Host: x\r\nContent-Type: text/plain"),
    "folded line": PLAIN.replace(b"Host: x", b"Host: x\r\n  folded"),
    "space before colon": PLAIN.replace(b"Host: x", b"Host : x"),
    "no colon": PLAIN.replace(b"Host: x", b"Host x"),
    "control byte": PLAIN.replace(b"Host: x", b"Host: x\x01"),
    "bare LF": PLAIN.replace(b"Host: x\r\n", b"Host: x\n"),
    "head not all in": PLAIN[: PLAIN.index(b"\r\n\r\n")],
}


@pytest.mark.parametrize("name", ODD_HEADS)
def test_every_odd_head_is_left_to_gunicorn(name: str) -> None:
    assert parse_head(ODD_HEADS[name], LIMIT) is None


def test_response_is_laid_out_as_gunicorn_does() -> None:
    data, keep = http_response(
        200,
        [("Content-Type", "application/json"), ("Referrer-Policy", "same-origin")],
        b"{}",
        [("X-Request-ID", "r1")],
        [("Referrer-Policy", "no-referrer"), ("X-Other", "1")],
        keep_alive=True,
    )
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert keep
    assert body == b"{}"
    assert lines[0] == "HTTP/1.1 200 OK"
    assert [line.split(":")[0] for line in lines[1:]] == [
        "Server",
        "Date",
        "Connection",
        "Content-Type",
        "Referrer-Policy",
        "Content-Length",
        "X-Request-ID",
        "X-Other",  # a default the view did not set; its Referrer-Policy wins
    ]
    assert "Connection: keep-alive" in lines
    assert "Content-Length: 2" in lines


def test_a_close_header_closes_the_connection() -> None:
    data, keep = http_response(408, [("Connection", "close")], b"", [], [], keep_alive=True)
    assert not keep
    assert data.count(b"Connection") == 1
    assert b"Connection: close" in data


@pytest.fixture
def tcp_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        accepted, _address = server.accept()
        with client, accepted:
            yield client, accepted


def test_bytes_written_counts_what_the_application_wrote(tcp_pair: tuple[socket.socket, socket.socket]) -> None:
    client, accepted = tcp_pair
    before = bytes_written(accepted)
    assert before is not None
    assert bytes_written(accepted) == before
    accepted.sendall(b"x" * 5000)
    assert bytes_written(accepted) == before + 5000
    client.recv(10)  # what the peer reads or acknowledges changes nothing
    assert bytes_written(accepted) == before + 5000


def test_decode_body_applies_the_read_body_checks() -> None:
    assert decode_body(b"abc", None, 10) == b"abc"
    assert decode_body(gzip.compress(b"abc"), "gzip", 10) == b"abc"
    with pytest.raises(BodyTooLarge):
        decode_body(b"x" * 11, "identity", 10)
    with pytest.raises(BodyTooLarge):
        decode_body(gzip.compress(b"x" * 1000), "gzip", 100)
    with pytest.raises(UnsupportedMediaType):
        decode_body(b"abc", "br", 10)
    with pytest.raises(BadRequest):
        decode_body(b"not gzip", "gzip", 10)


def test_send_what_fits_returns_what_a_full_socket_could_not_take() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        data = b"y" * 1_000_000
        rest = _send_what_fits(ours, data)
        assert rest
        assert len(rest) < len(data)
        assert data.endswith(rest)
        theirs.close()
        assert _send_what_fits(ours, b"z") is None  # the peer has gone


def _answer_on_socket(request: bytes, job: ConnectionJob) -> tuple[dict, bytes]:  # type: ignore[type-arg]
    """Answer ``request`` as an extraction process would: (summary, bytes the client got)."""
    client, server_side = socket.socketpair()
    with client, server_side:
        client.sendall(request + b"NEXT")  # a pipelined next request must stay unread
        answerer = ConnectionAnswerer(Limits())
        # The process gets its own descriptor; the web worker keeps one (here: server_side).
        summary = answerer.answer(os.dup(server_side.fileno()), job)
        assert server_side.recv(100) == b"NEXT"
        server_side.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := client.recv(1 << 20):
            received += chunk
    return summary, received


def _job(request: bytes, **changes: object) -> ConnectionJob:
    head = parse_head(request, LIMIT)
    assert head is not None
    fields: dict[str, object] = {
        "head_size": head.size,
        "content_length": head.content_length,
        "content_type": head.headers.get("content-type"),
        "content_encoding": head.headers.get("content-encoding"),
        "query_string": head.query_string,
        "max_body_bytes": LIMIT,
        "started": 0.0,
        "keep_alive": True,
        "always_headers": [("X-Request-ID", "req-1")],
        "default_headers": [("Referrer-Policy", "no-referrer")],
    }
    fields.update(changes)
    return ConnectionJob(**fields)  # type: ignore[arg-type]


def _post(body: bytes, content_type: str = "text/html", query: str = "", **headers: str) -> bytes:
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return (
        f"POST /v1/extract{query} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def _split(received: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = received.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    return status, dict(line.split(": ", 1) for line in lines), body


def test_the_process_answers_as_the_web_worker_does(client: FlaskClient) -> None:
    page = hc.page(hc.article_html())
    for query in ("", "?format=markdown&links=true"):
        request = _post(page, query=query)
        summary, received = _answer_on_socket(request, _job(request))
        status, headers, body = _split(received)
        expected = client.post("/v1/extract" + query, data=page, content_type="text/html")
        assert status == "HTTP/1.1 200 OK"
        assert headers["Content-Type"] == expected.headers["Content-Type"]
        assert headers["X-Request-ID"] == "req-1"
        assert headers["Connection"] == "keep-alive"
        assert int(headers["Content-Length"]) == len(body)
        ours, theirs = json.loads(body), expected.get_json()
        ours.pop("timing_ms"), theirs.pop("timing_ms")
        assert ours == theirs
        assert hc.KEY_SENTENCE in ours["text"]
        assert summary["status"] == 200
        assert summary["bytes_in"] == len(page)
        assert summary["mode"] == "html"
        assert not summary["close"]
        assert summary["unsent"] == b""


def test_the_process_answers_errors_with_the_same_problem_document(client: FlaskClient) -> None:
    cases = [
        (_post(b"<p>x</p>", content_type="image/png"), "unsupported-media-type"),
        (_post(b'{"html": 1}', content_type="application/json"), None),
        (_post(b"<p>x</p>", query="?format=pdf"), None),
        (_post(b"not gzip", **{"Content-Encoding": "gzip"}), None),
    ]
    for request, code in cases:
        summary, received = _answer_on_socket(request, _job(request))
        status, headers, body = _split(received)
        head = parse_head(request, LIMIT)
        assert head is not None
        expected = client.post(
            "/v1/extract" + ("?" + head.query_string if head.query_string else ""),
            data=request[head.size :],
            headers={k: v for k, v in head.headers.items() if k in {"content-type", "content-encoding"}},
        )
        assert int(status.split()[1]) == expected.status_code >= 400
        assert headers["Content-Type"] == "application/problem+json"
        assert json.loads(body) == expected.get_json()
        assert summary["error_code"] == expected.get_json()["code"]
        if code:
            assert summary["error_code"] == code


def test_the_article_comes_back_only_when_asked_for() -> None:
    request = _post(hc.page(hc.article_html()))
    plain, _received = _answer_on_socket(request, _job(request))
    asked, received = _answer_on_socket(request, _job(request, return_answer=True))
    assert "answer" not in plain
    article = json.loads(_split(received)[2])
    article.pop("timing_ms")
    assert asked["answer"] == article


def test_request_keys_differ_by_every_part_that_shapes_the_answer() -> None:
    base = AnswerCache.request_key(b"<p>x</p>", "text/html", None, "")
    assert base == AnswerCache.request_key(memoryview(b"..<p>x</p>")[2:], "text/html", None, "")
    others = {
        AnswerCache.request_key(b"<p>y</p>", "text/html", None, ""),
        AnswerCache.request_key(b"<p>x</p>", "text/plain", None, ""),
        AnswerCache.request_key(b"<p>x</p>", "text/html", "gzip", ""),
        AnswerCache.request_key(b"<p>x</p>", "text/html", None, "format=markdown"),
    }
    assert base not in others
    assert len(others) == 4


def test_connection_close_and_a_vanished_client() -> None:
    request = _post(hc.page(hc.article_html()))
    summary, received = _answer_on_socket(request, _job(request, keep_alive=False))
    assert summary["close"]
    assert _split(received)[1]["Connection"] == "close"
    client, server_side = socket.socketpair()
    client.sendall(request[:-10])
    client.close()  # gone before the whole request was there
    with server_side:
        answerer = ConnectionAnswerer(Limits())
        result = answerer.answer(os.dup(server_side.fileno()), _job(request))
    assert result["status"] == 0
    assert result["close"]
