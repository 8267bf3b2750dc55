"""A stub HTTP server that answers from a script, and the waits the clients ask for, recorded."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pagecleaner_client import aio, sync
from tests.e2e.conftest import free_port

# A minimal answer of POST /v1/extract.
OK: dict[str, Any] = {
    "title": "Fine",
    "authors": ["A"],
    "text": "Fine text.",
    "word_count": 2,
    "warnings": [],
    "timing_ms": 1.5,
}
OVERLOADED: dict[str, Any] = {"code": "overloaded", "status": 429, "title": "Overloaded", "detail": "busy"}


@dataclass
class Reply:
    status: int
    body: dict[str, Any] | str = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # how long the stub takes before answering


@dataclass
class Seen:
    """One request as the stub received it."""

    path: str
    body: bytes
    headers: dict[str, str]
    client_port: int  # the client's end of the connection: equal ports mean a reused connection


@dataclass
class Stub:
    """An HTTP/1.1 server (keep-alive) answering POSTs with ``replies`` in order (the last repeats)."""

    url: str
    replies: list[Reply] = field(default_factory=lambda: [Reply(200, OK)])
    seen: list[Seen] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0  # the most requests it was answering at once
    # Admission control as the server's: with this many admitted, a request is answered 429 at
    # once; a place is freed before its answer is sent.
    admits: int | None = None
    admitted: int = 0
    refused: int = 0


@pytest.fixture
def stub() -> Iterator[Stub]:
    state = Stub(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                state.seen.append(Seen(self.path, body, dict(self.headers.items()), self.client_address[1]))
                refused = state.admits is not None and state.admitted >= state.admits
                state.refused += refused
                state.admitted += not refused
            if refused:
                self._answer(Reply(429, OVERLOADED, {"Retry-After": "1"}))
                return
            with lock:
                reply = state.replies.pop(0) if len(state.replies) > 1 else state.replies[0]
                state.in_flight += 1
                state.max_in_flight = max(state.max_in_flight, state.in_flight)
            time.sleep(reply.delay_s)
            with lock:
                state.in_flight -= 1
                state.admitted -= 1
            self._answer(reply)

        def _answer(self, reply: Reply) -> None:
            payload = (reply.body if isinstance(reply.body, str) else json.dumps(reply.body)).encode()
            self.send_response(reply.status)
            kind = "application/json" if reply.status < 400 else "application/problem+json"
            self.send_header("Content-Type", reply.headers.pop("Content-Type", kind))
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 64  # the default 5 delays concurrent connections (the concurrency tests)

    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits either client asked for, recorded instead of slept."""
    recorded: list[float] = []

    async def record_async(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(sync, "_sleep", recorded.append)
    monkeypatch.setattr(aio, "_sleep", record_async)
    return recorded


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on: connecting is refused."""
    port = free_port()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    return port
