"""Limits on a real gunicorn server (issue 4): time budget, slow clients, compressed bodies, leaks.

One server with short limits (budget 2 s, read timeout 2 s) keeps these tests fast; the
behaviour is the same at the defaults, only slower to show.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests import hostile_corpus as hc
from tests.e2e.conftest import LiveServer, start_server, stop_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BUDGET_S = 2.0
READ_TIMEOUT_S = 2.0
ENV_MARKER = "ENV-MARKER-5c1d0e"
# Inline elements under no cap: ~7 s of extraction in-process (2026-11-28), several budgets. At
# 100,000 it took ~10 s when these tests were written, ~2 s once the pipeline got faster: then it
# sometimes finished inside the budget and the tests below failed.
OVERRUN_PAGE = hc.tiny_elements(300_000, "a")


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(
        tmp_path_factory.mktemp("limits"),
        CLEANER_TIME_BUDGET_S=str(BUDGET_S),
        CLEANER_READ_TIMEOUT_S=str(READ_TIMEOUT_S),
        # No element cap: lets a page make trafilatura itself overrun the budget.
        CLEANER_MAX_ELEMENTS="10000000",
        CLEANER_CACHE_ENTRIES="0",
        PAGECLEANER_TEST_SECRET=ENV_MARKER,
    )
    yield server
    stop_server(server)


def extract(
    server: LiveServer, body: bytes, timeout: float = 30, headers: dict[str, str] | None = None
) -> requests.Response:
    return requests.post(
        server.url + "/v1/extract", data=body, headers={"Content-Type": hc.HTML, **(headers or {})}, timeout=timeout
    )


def normal_request_succeeds(server: LiveServer) -> float:
    started = time.monotonic()
    response = extract(server, hc.page(hc.article_html()))
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert hc.KEY_SENTENCE in response.json()["text"]
    return elapsed


def test_page_that_hangs_the_library_gets_503_within_the_budget(limited_server: LiveServer) -> None:
    started = time.monotonic()
    response = extract(limited_server, OVERRUN_PAGE)
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.text[:300]
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Retry-After"]
    assert response.json()["code"] == "time-budget-exceeded"
    assert elapsed < BUDGET_S + 1.0
    # The killed process is replaced; the other one keeps serving meanwhile.
    assert normal_request_succeeds(limited_server) < BUDGET_S + 1.0


def test_overrun_does_not_drop_concurrent_requests(limited_server: LiveServer) -> None:
    with ThreadPoolExecutor(4) as pool:
        slow = pool.submit(extract, limited_server, OVERRUN_PAGE)
        time.sleep(0.2)
        normal = [pool.submit(normal_request_succeeds, limited_server) for _ in range(3)]
        assert slow.result().status_code == 503
        assert all(future.result() < BUDGET_S + 1.0 for future in normal)


def _slow_client(url: str, mode: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(
        b"POST /v1/extract HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n"
        + (b"<" if mode == "trickle" else b"")
    )
    return sock


def _answer_or_close(sock: socket.socket) -> bytes:
    try:
        return sock.recv(4096)
    except OSError:
        return b""


def test_slow_clients_are_cut_off_and_never_hold_a_worker(limited_server: LiveServer) -> None:
    clients = [_slow_client(limited_server.url, "trickle" if i % 2 else "silent") for i in range(50)]
    try:
        started = time.monotonic()
        # Trickle one byte a second on half of them while normal requests are served.
        for _ in range(3):
            assert normal_request_succeeds(limited_server) < BUDGET_S + 1.0
            for sock in clients[1::2]:
                with contextlib.suppress(OSError):
                    sock.sendall(b"p")
            time.sleep(1.0)
        for sock in clients:
            sock.settimeout(max(0.5, READ_TIMEOUT_S + 3.0 - (time.monotonic() - started)))
            answer = _answer_or_close(sock)
            assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer[:100]
    finally:
        for sock in clients:
            sock.close()
    assert normal_request_succeeds(limited_server) < BUDGET_S + 1.0


def test_gzip_bomb_is_refused_with_413(limited_server: LiveServer) -> None:
    bomb = hc.gzip_bomb(1024**3)
    started = time.monotonic()
    response = extract(limited_server, bomb, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert time.monotonic() - started < 3.0


@pytest.mark.parametrize("encoding", ["br", "zstd"])
def test_brotli_and_zstd_bodies_are_415(limited_server: LiveServer, encoding: str) -> None:
    response = extract(limited_server, b"\x1b\x00\x00", headers={"Content-Encoding": encoding})
    assert response.status_code == 415


def test_no_file_or_environment_content_leaks(limited_server: LiveServer, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("FILE-MARKER-91ab")
    pages = [
        f'<!DOCTYPE x [<!ENTITY e SYSTEM "{secret.as_uri()}">]><html><body>{hc.article_html()}<p>&e;</p></body></html>',
        f'<html><body>{hc.article_html()}<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
        f'href="{secret.as_uri()}" parse="text"/></body></html>',
        f"<html><body>{hc.article_html()}<p>$PAGECLEANER_TEST_SECRET %PAGECLEANER_TEST_SECRET%</p></body></html>",
    ]
    for page in pages:
        response = extract(limited_server, page.encode())
        assert response.status_code == 200
        for marker in ("FILE-MARKER-91ab", ENV_MARKER, *hc.LEAK_MARKERS):
            assert marker not in response.text
    assert ENV_MARKER not in limited_server.log() or "PAGECLEANER_TEST_SECRET" not in os.environ


OVERSIZED_BODY = b"<p>" + b"a" * (11 * 1024 * 1024)  # over the default 10 MB limit


def test_urllib_sending_an_oversized_body_reads_the_413(limited_server: LiveServer) -> None:
    """Issue 24: the 413 was sent and the socket closed with the body unread: urllib got ECONNRESET."""
    request = urllib.request.Request(
        limited_server.url + "/v1/extract", data=OVERSIZED_BODY, headers={"Content-Type": hc.HTML}
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 413
    assert caught.value.headers["Connection"] == "close"
    assert json.loads(caught.value.read())["code"] == "body-too-large"


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_requests_sending_an_oversized_body_reads_the_413(limited_server: LiveServer, framing: str) -> None:
    def chunks() -> Iterator[bytes]:
        for start in range(0, len(OVERSIZED_BODY), 256 * 1024):
            yield OVERSIZED_BODY[start : start + 256 * 1024]

    data = OVERSIZED_BODY if framing == "content-length" else chunks()
    response = extract_any(limited_server, data)
    assert response.status_code == 413
    assert response.headers["Connection"] == "close"


def extract_any(server: LiveServer, data: bytes | Iterator[bytes]) -> requests.Response:
    return requests.post(server.url + "/v1/extract", data=data, headers={"Content-Type": hc.HTML}, timeout=30)


def test_a_408_says_connection_close(limited_server: LiveServer) -> None:
    sock = _slow_client(limited_server.url, "trickle")
    try:
        sock.settimeout(READ_TIMEOUT_S + 5)
        answer = sock.recv(4096)
    finally:
        sock.close()
    head = answer.partition(b"\r\n\r\n")[0].lower()
    assert head.startswith(b"http/1.1 408"), answer[:200]
    assert b"\r\nconnection: close" in head
