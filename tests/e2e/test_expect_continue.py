"""``Expect: 100-continue``: a request refused on its head gets the refusal instead of the 100
(RFC 9110 section 10.1.1), so the client never uploads a body that would be refused; an
accepted one gets the 100, then its answer.

Only a real server shows what goes on the wire before the answer.
"""

from __future__ import annotations

import socket

import pytest

from service.settings import Settings
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
PAGE = (
    b"<html><body><article><p>An article long enough to be kept by the extractor, sent after the 100."
    b"</p></article></body></html>"
)


def connect(server: LiveServer) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def head(path: str, content_type: str, length: int) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\nExpect: 100-continue\r\n\r\n"
    ).encode()


def read_until_closed(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


@pytest.mark.parametrize(
    ("path", "content_type", "length", "status"),
    [
        ("/v1/extract", "text/html", Settings().max_body_bytes + 1, 413),
        ("/v1/extract", "application/octet-stream", 1000, 415),
        ("/v1/extract/batch", "application/x-ndjson", Settings().max_batch_bytes + 1, 413),
        ("/v1/extract/batch", "text/html", 1000, 415),
    ],
    ids=["extract-too-large", "extract-media-type", "batch-too-large", "batch-media-type"],
)
def test_a_request_refused_on_its_head_is_answered_instead_of_the_100(
    live_server: LiveServer, path: str, content_type: str, length: int, status: int
) -> None:
    with connect(live_server) as sock:
        sock.sendall(head(path, content_type, length))  # and never the body: it was not invited
        received = read_until_closed(sock)
    status_line, _, rest = received.partition(b"\r\n")
    assert status_line.split()[:2] == [b"HTTP/1.1", str(status).encode()], received[:300]
    assert b"100 Continue" not in received
    assert b"\r\nconnection: close\r\n" in rest.lower()


def test_an_accepted_request_gets_the_100_then_its_answer(live_server: LiveServer) -> None:
    with connect(live_server) as sock:
        sock.sendall(head("/v1/extract", "text/html", len(PAGE)).replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        interim = b""
        while len(interim) < len(CONTINUE) and (chunk := sock.recv(len(CONTINUE) - len(interim))):
            interim += chunk
        assert interim == CONTINUE
        sock.sendall(PAGE)
        received = read_until_closed(sock)
    assert received.startswith(b"HTTP/1.1 200 "), received[:300]
    assert b"An article long enough" in received
