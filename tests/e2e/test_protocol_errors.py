"""Requests gunicorn itself refuses get the same problem+json answers as the app's (issue 24 item 6).

These never reach the app: gunicorn's parser refuses them, so only a real server shows them.
"""

from __future__ import annotations

import json
import re
import socket
import time

import pytest
import requests

from service.http.server import MAX_REQUEST_LINE_BYTES
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

HEAD = b"Host: 127.0.0.1\r\nContent-Type: text/html\r\n"


def exchange(server: LiveServer, request: bytes, half_close: bool = False) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of the one answer to ``request`` sent on a fresh connection
    (``half_close``: then the client says it sends nothing more)."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def check_problem(answer: tuple[int, dict[str, str], bytes], status: int) -> dict[str, object]:
    got, headers, body = answer
    assert got == status, body[:300]
    assert headers["content-type"] == "application/problem+json", body[:300]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-request-id"]
    assert headers["connection"] == "close"
    assert int(headers["content-length"]) == len(body)
    problem: dict[str, object] = json.loads(body)
    assert problem["status"] == status
    assert {"type", "code", "title", "detail"} <= set(problem)
    return problem


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"POST /v1/extract HTTP/1.1\r\n" + HEAD + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400),
        (
            b"POST /v1/extract HTTP/1.1\r\n"
            + HEAD
            + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400,
        ),
        (b"GET /healthz HTTP/1.1\r\n" + HEAD + b"X-Folded: a\r\n b\r\n\r\n", 400),
        (b"GET /healthz HTTP/1.1\r\n" + HEAD + b"X-Big: " + b"a" * 65536 + b"\r\n\r\n", 431),
        (b"GET /healthz HTTP/1.1\r\n" + HEAD + b"".join(b"X-%d: a\r\n" % i for i in range(1000)) + b"\r\n", 431),
        (b"NOT AN HTTP REQUEST\r\n\r\n", 400),
        (b"POST /v1/extract HTTP/1.1\r\n" + HEAD + b"Transfer-Encoding: gzip\r\n\r\n", 400),
    ],
    ids=[
        "double-content-length",
        "length-and-chunked",
        "obs-fold",
        "64kb-header",
        "1000-headers",
        "garbage",
        "te-gzip",
    ],
)
def test_requests_gunicorn_refuses_get_problem_json_with_the_security_headers(
    live_server: LiveServer, request_bytes: bytes, status: int
) -> None:
    check_problem(exchange(live_server, request_bytes), status)


@pytest.mark.parametrize("version", [b"HTTP/1.0", b"HTTP/1.1"])
@pytest.mark.parametrize("method_path", [b"GET /healthz", b"POST /v1/extract", b"GET /no/such/path"])
def test_the_request_line_limit_is_the_same_on_every_path_and_version(
    live_server: LiveServer, version: bytes, method_path: bytes
) -> None:
    method, path = method_path.split(b" ")
    target = path + b"?pad=" + b"a" * MAX_REQUEST_LINE_BYTES
    problem = check_problem(
        exchange(live_server, method + b" " + target + b" " + version + b"\r\n" + HEAD + b"Content-Length: 0\r\n\r\n"),
        414,
    )
    assert problem["code"] == "uri-too-long"


def test_a_request_line_at_the_limit_is_served(live_server: LiveServer) -> None:
    target = b"/healthz?pad="
    target += b"a" * (MAX_REQUEST_LINE_BYTES - len(b"GET  HTTP/1.1") - len(target))
    status, _headers, body = exchange(
        live_server, b"GET " + target + b" HTTP/1.1\r\n" + HEAD + b"Connection: close\r\n\r\n"
    )
    assert status == 200, body[:200]


def test_a_huge_request_line_is_refused_at_once(live_server: LiveServer) -> None:
    """With no bound (limit_request_line 0) a 4 MB line took 4.9 s of the web worker's CPU, then a 200."""
    started = time.monotonic()
    status, _headers, _body = exchange(live_server, b"GET /healthz?" + b"a" * (4 * 1024 * 1024) + b" HTTP/1.1\r\n\r\n")
    assert status == 414
    assert time.monotonic() - started < 1.0


CHUNKED = b"POST /v1/extract HTTP/1.1\r\n" + HEAD + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"


@pytest.mark.parametrize(
    ("chunks", "half_close"),
    [
        (b"zz\r\nabc\r\n0\r\n\r\n", False),
        (b"-5\r\nabc\r\n0\r\n\r\n", False),
        (b"3\r\nabcdef\r\n0\r\n\r\n", False),
        (b"3;=x\r\nabc\r\n0\r\n\r\n", False),
        (b"3\r\nabc\r\n", True),
    ],
    ids=["size-not-hex", "size-negative", "chunk-longer-than-its-size", "bad-extension", "ends-before-the-last-chunk"],
)
def test_a_malformed_chunked_body_is_400(live_server: LiveServer, chunks: bytes, half_close: bool) -> None:
    """gunicorn's reader raises these while the app reads the body: they were 500 internal-error."""
    problem = check_problem(exchange(live_server, CHUNKED + chunks, half_close=half_close), 400)
    assert problem["code"] == "bad-request"
    assert "chunked" in str(problem["detail"])


def test_a_chunk_declaring_more_than_the_body_limit_is_413_at_once(live_server: LiveServer) -> None:
    """As a Content-Length over the limit is: not a 408 after the read timeout (10 s) waiting for
    bytes that would be refused anyway."""
    started = time.monotonic()
    problem = check_problem(exchange(live_server, CHUNKED + b"1400000\r\nabc"), 413)  # 20 MiB, then nothing
    assert problem["code"] == "body-too-large"
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("coding", [b"gzip, chunked", b"deflate, chunked", b"identity, chunked"])
def test_a_transfer_coding_besides_chunked_is_501(live_server: LiveServer, coding: bytes) -> None:
    """gunicorn read the chunks and ignored the coding: the page was the compressed bytes."""
    request = b"POST /v1/extract HTTP/1.1\r\n" + HEAD + b"Transfer-Encoding: " + coding + b"\r\n\r\n"
    problem = check_problem(exchange(live_server, request + b"3\r\nabc\r\n0\r\n\r\n"), 501)
    assert problem["code"] == "not-implemented"


def test_an_http_1_1_request_without_host_is_400(live_server: LiveServer) -> None:
    """RFC 9112 section 3.2; HTTP/1.0 has no Host header to require."""
    problem = check_problem(exchange(live_server, b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n"), 400)
    assert problem["code"] == "bad-request"
    status, _headers, _body = exchange(live_server, b"GET /healthz HTTP/1.0\r\n\r\n")
    assert status == 200


def _refused_count(server: LiveServer, status: int) -> float:
    text = requests.get(server.url + "/metrics", timeout=10).text
    pattern = rf'^pagecleaner_http_requests_total\{{endpoint="unmatched",mode="none",status="{status}"\}} (\S+)$'
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_requests_refused_by_the_parser_are_counted(live_server: LiveServer) -> None:
    """docs/operations.md: the request metrics count every request, errors too."""
    refused = {
        414: b"GET /healthz?" + b"a" * (MAX_REQUEST_LINE_BYTES + 10) + b" HTTP/1.1\r\n" + HEAD + b"\r\n",
        431: b"GET /healthz HTTP/1.1\r\n" + HEAD + b"X-Big: " + b"a" * 65536 + b"\r\n\r\n",
        400: b"POST /v1/extract HTTP/1.1\r\n" + HEAD + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
    }
    before = {status: _refused_count(live_server, status) for status in refused}
    for status, request in refused.items():
        assert exchange(live_server, request)[0] == status
    assert {status: _refused_count(live_server, status) - before[status] for status in refused} == {
        414: 1.0,
        431: 1.0,
        400: 1.0,
    }
