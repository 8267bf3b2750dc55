"""The Python client: answers and problems from the real server, retries against a stub server."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import pagecleaner_client as client
from pagecleaner_client import (
    MAX_RETRY_WAIT_S,
    RequestRejectedError,
    ServiceUnavailableError,
    TransportError,
    extract,
    extract_many,
    retry_delay,
)
from tests.conftest import FIXTURES
from tests.e2e.conftest import LiveServer, free_port, live_server  # noqa: F401 - the session server

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


@pytest.fixture
def server(request: pytest.FixtureRequest) -> LiveServer:
    live: LiveServer = request.getfixturevalue("live_server")
    return live


# -- against the real server ----------------------------------------------------------------------


@pytest.mark.e2e
def test_extract_text_gives_exact_title_and_authors(server: LiveServer) -> None:
    answer = extract((SEED / "input.txt").read_text(encoding="utf-8"), text=True, base_url=server.url)
    assert answer["title"] == SEED_TITLE
    assert answer["authors"] == ["admin"]
    assert "Recent Posts" not in answer["text"]


@pytest.mark.e2e
def test_extract_html_bytes_with_url_and_options(server: LiveServer) -> None:
    answer = extract(
        ARTICLE.encode("utf-8"),
        "https://lake.example/news/solar-boats",
        base_url=server.url,
        format=["text", "markdown"],
        explain=True,
    )
    assert answer["title"] == "Solar boats cross the lake"
    assert answer["authors"] == ["Ada Lovelace"]
    assert answer["hostname"] == "lake.example"
    assert "## A long day" in answer["markdown"]
    assert isinstance(answer["removed"], list)
    assert "Copyright Lake News" not in answer["text"]


@pytest.mark.e2e
def test_binary_body_raises_with_the_problem_details(server: LiveServer) -> None:
    with pytest.raises(RequestRejectedError) as caught:
        extract(PNG, base_url=server.url)
    assert caught.value.status == 422
    assert caught.value.code == "not-a-page"
    assert caught.value.problem["type"] == "urn:pagecleaner:problem:not-a-page"
    assert caught.value.problem["status"] == 422


@pytest.mark.e2e
def test_unknown_option_raises_invalid_option(server: LiveServer) -> None:
    with pytest.raises(RequestRejectedError) as caught:
        extract(ARTICLE, base_url=server.url, colour="blue")
    assert caught.value.status == 400
    assert caught.value.code == "invalid-option"
    assert caught.value.problem["option"] == "colour"


@pytest.mark.e2e
def test_extract_many_streams_results_in_input_order(server: LiveServer) -> None:
    items: list[Any] = [
        {"id": "seed", "text": (SEED / "input.txt").read_text(encoding="utf-8")},
        {"id": "both", "html": ARTICLE, "text": "x"},
        {"id": "lake", "html": ARTICLE, "url": "https://lake.example/a", "options": {"format": "text"}},
        ARTICLE,
        {"id": 99, "html": ARTICLE},
    ]
    results = list(extract_many(items, base_url=server.url, batch_items=2, format=["text", "markdown"]))
    assert [result["id"] for result in results] == ["seed", "both", "lake", 3, 99]
    assert results[0]["title"] == SEED_TITLE
    assert results[0]["authors"] == ["admin"]
    assert results[1]["error"]["code"] == "invalid-field"
    assert "markdown" not in results[2]  # the item's own options win over the defaults
    assert results[2]["hostname"] == "lake.example"
    assert results[3]["title"] == "Solar boats cross the lake"
    assert "## A long day" in results[4]["markdown"]


# -- retries, against a stub server -----------------------------------------------------------


@dataclass
class Reply:
    status: int
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Stub:
    """A tiny HTTP server answering POSTs from a script of replies (the last one repeats)."""

    url: str
    replies: dict[str, list[Reply]]
    seen: list[tuple[str, bytes]] = field(default_factory=list)
    # Replies chosen by the request instead of the script (concurrent requests come in any order).
    route: Callable[[str, bytes], Reply] | None = None


@pytest.fixture
def stub() -> Iterator[Stub]:
    state = Stub(url="", replies={})
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            path = self.path.split("?")[0]
            with lock:
                state.seen.append((self.path, body))
                script = state.replies.get(path) or [Reply(404, {"code": "not-found", "status": 404})]
                if state.route is not None:
                    reply = state.route(path, body)
                else:
                    reply = script.pop(0) if len(script) > 1 else script[0]
            payload = json.dumps(reply.body or json.loads(body or b"{}")).encode()
            self.send_response(reply.status)
            kind = "application/json" if reply.status < 400 else "application/problem+json"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits the client asked for, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(client, "_sleep", recorded.append)
    return recorded


BUSY = {"code": "time-budget-exceeded", "status": 503, "detail": "busy"}
OK = {"title": "Fine", "authors": ["A"]}


def test_503_then_200_is_retried_after_retry_after(stub: Stub, sleeps: list[float]) -> None:
    stub.replies["/v1/extract"] = [Reply(503, BUSY, {"Retry-After": "2"}), Reply(200, OK)]
    assert extract("<p>x</p>", base_url=stub.url) == OK
    assert len(stub.seen) == 2
    assert sleeps == [2.0]


def test_429_is_retried_like_503(stub: Stub, sleeps: list[float]) -> None:
    overloaded = {"code": "overloaded", "status": 429}
    stub.replies["/v1/extract"] = [Reply(429, overloaded, {"Retry-After": "1"}), Reply(200, OK)]
    assert extract("<p>x</p>", base_url=stub.url) == OK
    assert sleeps == [1.0]


def test_retry_after_is_bounded(stub: Stub, sleeps: list[float]) -> None:
    stub.replies["/v1/extract"] = [Reply(503, BUSY, {"Retry-After": "86400"}), Reply(200, OK)]
    assert extract("<p>x</p>", base_url=stub.url) == OK
    assert sleeps == [MAX_RETRY_WAIT_S]


def test_real_sleep_honours_retry_after(stub: Stub) -> None:
    stub.replies["/v1/extract"] = [Reply(503, BUSY, {"Retry-After": "0"}), Reply(200, OK)]
    assert extract("<p>x</p>", base_url=stub.url, retries=1) == OK
    assert len(stub.seen) == 2


def test_still_busy_after_the_retries_raises_with_the_problem(stub: Stub, sleeps: list[float]) -> None:
    stub.replies["/v1/extract"] = [Reply(503, BUSY)]
    with pytest.raises(ServiceUnavailableError) as caught:
        extract("<p>x</p>", base_url=stub.url, retries=2)
    assert caught.value.status == 503
    assert caught.value.code == "time-budget-exceeded"
    assert caught.value.problem == BUSY
    assert len(stub.seen) == 3
    assert len(sleeps) == 2


def test_4xx_is_not_retried(stub: Stub, sleeps: list[float]) -> None:
    problem = {"code": "invalid-option", "status": 400, "detail": "favor: must be one of ...", "option": "favor"}
    stub.replies["/v1/extract"] = [Reply(400, problem)]
    with pytest.raises(RequestRejectedError) as caught:
        extract("<p>x</p>", base_url=stub.url, favor="speed")
    assert caught.value.problem == problem
    assert caught.value.detail == "favor: must be one of ..."
    assert len(stub.seen) == 1
    assert sleeps == []


def test_options_and_url_go_in_the_query_string(stub: Stub) -> None:
    stub.replies["/v1/extract"] = [Reply(200, OK)]
    extract("<p>x</p>", "https://a.example/", base_url=stub.url, format=["text", "html"], comments=True)
    path, body = stub.seen[0]
    assert path == "/v1/extract?url=https%3A%2F%2Fa.example%2F&format=text&format=html&comments=true"
    assert body == b"<p>x</p>"


def test_refused_connection_is_retried_then_raises(sleeps: list[float]) -> None:
    with pytest.raises(TransportError):
        extract("<p>x</p>", base_url=f"http://127.0.0.1:{_closed_port()}", retries=2)
    assert len(sleeps) == 2


def test_extract_many_falls_back_to_single_calls_without_batch_endpoint(stub: Stub) -> None:
    def route(path: str, body: bytes) -> Reply:
        if path != "/v1/extract":
            return Reply(404, {"code": "not-found", "status": 404})
        if b"binary" in body:
            return Reply(422, {"code": "not-a-page", "status": 422})
        return Reply(200, {"echo": json.loads(body)})

    stub.route = route
    items = [{"id": "a", "html": "<p>a</p>"}, {"id": "b", "text": "b", "options": {"comments": True}}, "binary"]
    results = list(extract_many(items, base_url=stub.url, format="markdown"))
    assert results == [
        {"id": "a", "echo": {"html": "<p>a</p>", "options": {"format": "markdown"}}},
        {"id": "b", "echo": {"text": "b", "options": {"format": "markdown", "comments": True}}},
        {"id": 2, "error": {"code": "not-a-page", "status": 422}},
    ]
    assert stub.seen[0][0] == "/v1/extract/batch?format=markdown"  # tried the batch endpoint first


def test_retry_delay_backs_off_without_retry_after() -> None:
    assert 0.375 <= retry_delay(0, None) <= 0.625
    assert 1.5 <= retry_delay(2, None) <= 2.5
    assert retry_delay(20, None) == MAX_RETRY_WAIT_S
    assert retry_delay(0, "Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: no wait
    assert retry_delay(0, "3") == 3.0


def _closed_port() -> int:
    port = free_port()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    return port
