"""The example crawler of deploy/crawler: waits for readiness, sends the key, retries only busy answers."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.modules import load_module

SCRIPT = Path(__file__).resolve().parents[1] / "deploy" / "crawler" / "crawler.py"
ARTICLE = {"title": "A title", "text": "Some text."}


def load_crawler() -> ModuleType:
    return load_module("example_crawler", SCRIPT)


class FakeSidecar(ThreadingHTTPServer):
    """Answers /readyz after `not_ready` polls, and POST /v1/extract with `answers` in turn."""

    def __init__(self, answers: list[tuple[int, dict[str, Any]]], not_ready: int = 0) -> None:
        super().__init__(("127.0.0.1", 0), SidecarHandler)
        self.answers = answers
        self.not_ready = not_ready
        self.posts: list[dict[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class SidecarHandler(BaseHTTPRequestHandler):
    server: FakeSidecar

    def do_GET(self) -> None:
        ready = self.server.not_ready <= 0
        self.server.not_ready -= 1
        self.reply(200 if ready else 503, {"status": "ready" if ready else "starting"})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.server.posts.append(dict(self.headers))
        self.reply(*self.server.answers.pop(0))

    def reply(self, status: int, document: dict[str, Any]) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet


@pytest.fixture
def crawler(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    module = load_crawler()
    monkeypatch.setattr(module, "READY_POLL_S", 0.01)
    monkeypatch.setattr(module, "RETRY_WAIT_S", 0.01)
    return module


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[FakeSidecar] = []

    def start(answers: list[tuple[int, dict[str, Any]]], not_ready: int = 0) -> FakeSidecar:
        server = FakeSidecar(answers, not_ready)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def busy(code: str) -> tuple[int, dict[str, Any]]:
    return 503, {"code": code, "status": 503}


def run(crawler: ModuleType, server: FakeSidecar, monkeypatch: pytest.MonkeyPatch, key: str = "") -> int:
    monkeypatch.setenv("PAGECLEANER_URL", server.url)
    monkeypatch.setenv("PAGECLEANER_API_KEY", key)
    monkeypatch.setenv("CRAWLER_READY_TIMEOUT_S", "5")
    exit_code: int = crawler.main([])
    return exit_code


def test_waits_for_readiness_then_posts_each_page_with_the_key(
    crawler: ModuleType, serve: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = serve([(200, ARTICLE)], not_ready=3)
    assert run(crawler, server, monkeypatch, key="k-123") == 0
    assert server.not_ready < 0  # polled until ready
    assert server.posts[0]["Authorization"] == "Bearer k-123"
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert printed == [{"page": "seed-wordpress-news.html", **ARTICLE}]


def test_retries_a_busy_sidecar(crawler: ModuleType, serve: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    server = serve([busy("extractor-unavailable"), (429, {"code": "overloaded"}), (200, ARTICLE)])
    assert run(crawler, server, monkeypatch) == 0
    assert len(server.posts) == 3


def test_never_retries_a_page_over_the_time_budget(
    crawler: ModuleType, serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve([busy("time-budget-exceeded"), (200, ARTICLE)])
    assert run(crawler, server, monkeypatch) == 1
    assert len(server.posts) == 1


def test_gives_up_after_its_attempts(crawler: ModuleType, serve: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    server = serve([busy("extractor-unavailable")] * crawler.ATTEMPTS)
    assert run(crawler, server, monkeypatch) == 1
    assert len(server.posts) == crawler.ATTEMPTS


def test_exits_2_when_the_sidecar_never_becomes_ready(
    crawler: ModuleType, serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve([], not_ready=10**6)
    monkeypatch.setattr(crawler, "DEFAULT_READY_TIMEOUT_S", 0.1)
    monkeypatch.setenv("PAGECLEANER_URL", server.url)
    monkeypatch.delenv("CRAWLER_READY_TIMEOUT_S", raising=False)
    assert crawler.main([]) == 2
    assert server.posts == []
