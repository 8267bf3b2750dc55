"""The connection hand-off on a real gunicorn server (``service/handoff_front.py``): the same
answers as the web worker's own path, keep-alive and pipelining, and every request it must leave
to gunicorn (slow, large, refused) still answered the usual way. Kills under the hand-off are in
``test_limits.py`` and ``test_pipelining.py``, which run on the default (hand-off) server."""

from __future__ import annotations

import gzip
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests

from tests import hostile_corpus as hc
from tests.conftest import FIXTURES
from tests.e2e.conftest import LiveServer, start_server, stop_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

API_KEY = "handoff-test-key-0123456789"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, LiveServer]]:
    """The hand-off server (with an API key) and the same settings with the hand-off off."""
    tmp = tmp_path_factory.mktemp("handoff")
    started: dict[str, LiveServer] = {}
    try:
        for name, handoff in (("handoff", "1"), ("copy", "0")):
            started[name] = start_server(
                # No element cap: a page can keep an extraction process busy for seconds.
                tmp,
                CLEANER_HANDOFF=handoff,
                CLEANER_API_KEYS=API_KEY,
                CLEANER_MAX_ELEMENTS="10000000",
            )
        yield started
    finally:
        for server in started.values():
            stop_server(server)


def handed_off(server: LiveServer) -> float:
    """The server's pagecleaner_handed_off_total."""
    text = requests.get(server.url + "/metrics", headers=AUTH, timeout=10).text
    match = re.search(r"^pagecleaner_handed_off_total (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


AUTH = {"Authorization": f"Bearer {API_KEY}"}


def post(server: LiveServer, body: bytes, query: str = "", **headers: str) -> requests.Response:
    return requests.post(
        f"{server.url}/v1/extract{query}",
        data=body,
        headers={"Content-Type": "text/html", **AUTH, **headers},
        timeout=30,
    )


def comparable(response: requests.Response) -> tuple[int, dict[str, object], list[str]]:
    body = response.json()
    body.pop("timing_ms", None)
    names = sorted(name for name in response.headers if name.lower() not in {"date", "x-request-id"})
    return response.status_code, body, names


def test_answers_equal_the_web_workers_own(servers: dict[str, LiveServer]) -> None:
    before = handed_off(servers["handoff"])
    pages = sorted(FIXTURES.glob("html-*/input.html"))
    cases = [(page.read_bytes(), query) for page in pages for query in ("", "?format=markdown")]
    cases.append((b"<p>x</p>", "?format=pdf"))  # a problem document
    for body, query in cases:
        ours = post(servers["handoff"], body, query, **{"X-Request-ID": "same-id"})
        theirs = post(servers["copy"], body, query, **{"X-Request-ID": "same-id"})
        assert comparable(ours) == comparable(theirs), query
        assert ours.headers["X-Request-ID"] == "same-id"
    assert handed_off(servers["handoff"]) - before == len(cases)
    assert handed_off(servers["copy"]) == 0


def test_gzip_bodies_and_repeats(servers: dict[str, LiveServer]) -> None:
    page = hc.page(hc.article_html()) + b"<!-- gzip-and-repeat -->"
    packed_page = gzip.compress(page)
    plain = post(servers["handoff"], page)
    packed = post(servers["handoff"], packed_page, **{"Content-Encoding": "gzip"})
    assert plain.status_code == packed.status_code == 200
    assert plain.json()["text"] == packed.json()["text"]
    # Cached by the request as sent: the two forms are two entries.
    assert plain.headers["X-Cache"] == packed.headers["X-Cache"] == "miss"
    again = post(servers["handoff"], page)
    assert again.headers["X-Cache"] == "hit"
    assert again.json()["text"] == plain.json()["text"]
    assert post(servers["handoff"], packed_page, **{"Content-Encoding": "gzip"}).headers["X-Cache"] == "hit"
    assert post(servers["handoff"], page, "?format=markdown").headers["X-Cache"] == "miss"


def raw_exchange(server: LiveServer, payload: bytes, responses: int, pause_after: int = 0) -> list[bytes]:
    """Send ``payload`` on one connection (pausing 1.5 s after its first ``pause_after`` bytes)
    and read ``responses`` answers (each with a Content-Length), then what follows until EOF or
    a short silence, as one more item."""
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        if pause_after:
            conn.sendall(payload[:pause_after])
            time.sleep(1.5)
            conn.sendall(payload[pause_after:])
        else:
            conn.sendall(payload)
        buffer, answers = b"", []
        while len(answers) < responses:
            while b"\r\n\r\n" not in buffer:
                buffer += _recv(conn)
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            length = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
            while len(buffer) < length:
                buffer += _recv(conn)
            answers.append(head + b"\r\n\r\n" + buffer[:length])
            buffer = buffer[length:]
        conn.settimeout(1.0)
        try:
            while chunk := conn.recv(65536):
                buffer += chunk
            answers.append(buffer + b"<EOF>")
        except TimeoutError:
            answers.append(buffer)
        return answers


def _recv(conn: socket.socket) -> bytes:
    chunk = conn.recv(65536)
    if not chunk:
        raise ConnectionError("closed early")
    return chunk


def request_bytes(body: bytes, *extra: str) -> bytes:
    head = [
        "POST /v1/extract HTTP/1.1",
        "Host: test",
        "Content-Type: text/html",
        f"Authorization: Bearer {API_KEY}",
        *extra,
        f"Content-Length: {len(body)}",
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def test_pipelined_requests_are_answered_in_order_on_one_connection(servers: dict[str, LiveServer]) -> None:
    server = servers["handoff"]
    before = handed_off(server)
    pages = [hc.page(hc.article_html()) + f"<!-- {n} -->".encode() for n in range(3)]
    ids = [f"pipelined-{n}" for n in range(3)]
    payload = b"".join(request_bytes(page, f"X-Request-ID: {rid}") for page, rid in zip(pages, ids, strict=True))
    *answers, rest = raw_exchange(server, payload, 3)
    for answer, rid in zip(answers, ids, strict=True):
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        assert f"X-Request-ID: {rid}".encode() in answer
        assert b"Connection: keep-alive" in answer
        assert hc.KEY_SENTENCE.encode() in answer
    assert rest == b""  # kept open, nothing more
    assert handed_off(server) - before == 3


def test_connection_close_is_honoured(servers: dict[str, LiveServer]) -> None:
    answer, rest = raw_exchange(servers["handoff"], request_bytes(hc.page(hc.article_html()), "Connection: close"), 1)
    assert b"Connection: close" in answer
    assert rest == b"<EOF>"


def test_a_slow_body_is_read_by_the_web_worker(servers: dict[str, LiveServer]) -> None:
    server = servers["handoff"]
    before = handed_off(server)
    page = hc.page(hc.article_html())
    payload = request_bytes(page)
    answer, _rest = raw_exchange(server, payload, 1, pause_after=len(payload) - 100)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert hc.KEY_SENTENCE.encode() in answer
    assert handed_off(server) == before


def test_requests_it_must_not_take_are_still_answered(servers: dict[str, LiveServer]) -> None:
    server = servers["handoff"]
    before = handed_off(server)
    page = hc.page(hc.article_html())
    assert post(server, page, Authorization="Bearer wrong").status_code == 401
    # Larger than a request handed off (1 MB), within the body limit.
    large = post(server, page.replace(b"</body>", b"<!--" + b"x" * 1_200_000 + b"--></body>"))
    assert large.status_code == 200
    assert hc.KEY_SENTENCE in large.json()["text"]
    chunked = requests.post(
        server.url + "/v1/extract",
        data=iter([page[:1000], page[1000:]]),
        headers={"Content-Type": "text/html", **AUTH},
        timeout=30,
    )
    assert chunked.status_code == 200
    assert handed_off(server) == before


def test_a_crashed_extraction_is_answered_500(servers: dict[str, LiveServer], tmp_path: Path) -> None:
    """An extraction process killed from outside while it answers a handed-off request: the web
    worker still holds the connection and answers with the problem document."""
    server = servers["handoff"]
    (web_worker,) = psutil.Process(server.process.pid).children()
    (fork_server,) = web_worker.children()
    long_page = hc.tiny_elements(120_000, "a")  # seconds of extraction; under 1 MB: handed off
    before = handed_off(server)
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(request_bytes(long_page))
        extractors = fork_server.children()
        for process in extractors:
            process.cpu_percent()  # starts its CPU count
        time.sleep(0.5)  # handed off, and being extracted
        max(extractors, key=lambda process: process.cpu_percent()).kill()  # the one extracting it
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 500 "), answer[:200]
    assert b"extractor-crashed" in answer
    assert b"Connection: close" in answer
    assert handed_off(server) == before + 1
    assert post(server, hc.page(hc.article_html())).status_code == 200


def test_the_hostile_corpus_through_the_handoff(live_server: LiveServer) -> None:
    """Every case of ``tests/hostile_corpus`` (``test_hostile_input.py`` runs it in process) on the
    default server, where each one up to 1 MB is handed off: the same statuses and articles, in
    time, nothing leaked."""
    from tests.test_hostile_input import DEADLINE_S, PROBLEM_KEYS

    before = handed_off(live_server)
    small = 0
    for name in hc.case_names():
        case = hc.make_case(name)
        small += len(case.body) <= 1024 * 1024
        started = time.monotonic()
        response = requests.post(
            live_server.url + "/v1/extract", data=case.body, headers={"Content-Type": case.content_type}, timeout=60
        )
        elapsed = time.monotonic() - started
        assert response.status_code in case.statuses, (name, response.status_code, response.text[:300])
        assert elapsed < DEADLINE_S, (name, elapsed)
        for marker in case.must_not_contain:
            assert marker not in response.text, (name, marker)
        document = response.json()
        if response.status_code == 200:
            if case.must_contain:
                assert case.must_contain in document["text"], name
            if case.warning:
                assert case.warning in document["warnings"], name
        else:
            assert set(document) >= PROBLEM_KEYS, name
    assert handed_off(live_server) - before == small
