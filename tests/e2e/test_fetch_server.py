"""Fetch by URL under the real gunicorn gevent web worker: the fetch is I/O in the web worker,
so a slow site costs a greenlet while other requests are answered."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import requests

from tests.e2e.conftest import LiveServer, start_server, stop_server
from tests.fetch.servers import Server, serving

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
FETCH_TIMEOUT_S = 2.0
# A page answered while a fetch waits on the slow site: well under that fetch's time.
QUICK_ANSWER_S = 1.0


@pytest.fixture(scope="module")
def site() -> Iterator[Server]:
    with serving() as running:
        yield running


@pytest.fixture(scope="module")
def fetching_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(
        tmp_path_factory.mktemp("fetching"),
        CLEANER_EXTRACTORS="1",
        CLEANER_FETCH="1",
        CLEANER_FETCH_ALLOW="127.0.0.1/32,::1/128",
        CLEANER_FETCH_TIMEOUT_S=str(FETCH_TIMEOUT_S),
    )
    yield server
    stop_server(server)


def test_a_page_is_fetched_by_name_through_the_web_workers_resolver(fetching_server: LiveServer, site: Server) -> None:
    # "localhost": the name lookup runs (gevent's resolver), its addresses are checked and tried.
    response = requests.post(
        fetching_server.url + "/v1/extract", json={"url": site.url("/hops/0", host="localhost")}, timeout=30
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["title"] == "Ferry timetable"
    assert answer["fetch"]["url"] == site.url("/page", host="localhost")


def test_a_slow_site_does_not_hold_up_other_requests(fetching_server: LiveServer, site: Server) -> None:
    outcome: dict[str, object] = {}

    def slow_fetch() -> None:
        started = time.monotonic()
        response = requests.post(fetching_server.url + "/v1/extract", json={"url": site.url("/slow")}, timeout=30)
        outcome["status"], outcome["seconds"] = response.status_code, time.monotonic() - started

    waiting = threading.Thread(target=slow_fetch)
    waiting.start()
    time.sleep(0.3)  # the fetch is now waiting on the slow site
    started = time.monotonic()
    quick = requests.post(
        fetching_server.url + "/v1/extract",
        data="A short note with a few words.",
        headers={"Content-Type": "text/plain"},
    )
    quick_seconds = time.monotonic() - started
    waiting.join()
    assert quick.status_code == 200
    assert quick_seconds < QUICK_ANSWER_S
    assert outcome["status"] == 504
    assert FETCH_TIMEOUT_S - 0.5 < float(outcome["seconds"]) < FETCH_TIMEOUT_S + 2.0  # type: ignore[arg-type]


def test_gzip_answers_under_gunicorn(fetching_server: LiveServer, site: Server) -> None:
    response = requests.post(
        fetching_server.url + "/v1/extract",
        json={"url": site.url("/page"), "options": {"format": ["text", "markdown", "html"]}},
        headers={"Accept-Encoding": "gzip"},
        timeout=30,
    )
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.json()["fetch"]["status"] == 200  # requests inflated it


def test_a_gzipped_batch_stream_decodes_line_by_line_under_gunicorn(fetching_server: LiveServer, site: Server) -> None:
    items = [{"id": n, "url": site.url("/page")} if n % 2 else {"id": n, "text": "Short note."} for n in range(4)]
    body = "".join(json.dumps(item) + "\n" for item in items)
    with requests.post(
        fetching_server.url + "/v1/extract/batch",
        data=body,
        headers={"Content-Type": "application/x-ndjson", "Accept-Encoding": "gzip"},
        stream=True,
        timeout=60,
    ) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        received = [json.loads(line) for line in response.iter_lines() if line]
    assert [line["id"] for line in received] == [0, 1, 2, 3]
    assert received[1]["fetch"]["status"] == 200


def _access_line(server: LiveServer, request_id: str) -> dict[str, object] | None:
    for line in server.log().splitlines():
        if request_id in line and line.lstrip().startswith("{"):
            record: dict[str, object] = json.loads(line)
            return record
    return None


@contextmanager
def _sent(server: LiveServer, path: str, content_type: str, body: bytes, request_id: str) -> Iterator[socket.socket]:
    """A connection that sent one request and waited until its fetch waits on the slow site;
    closed on leaving the block."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: {request_id}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=FETCH_TIMEOUT_S + 5) as client:
        client.sendall(head.encode() + body)
        time.sleep(0.3)  # the fetch is now waiting on the slow site
        yield client


def _logged_within(find: Callable[[], dict[str, object] | None], seconds: float) -> tuple[dict[str, object], float]:
    """The log record ``find`` returns once it is there (at most ``seconds``), and how long that took."""
    started = time.monotonic()
    while (record := find()) is None and time.monotonic() - started < seconds:
        time.sleep(0.05)
    assert record is not None, "not logged"
    return record, time.monotonic() - started


def test_a_fetch_stops_when_its_client_leaves(fetching_server: LiveServer, site: Server) -> None:
    # The fetch used to go on until its deadline (and a page it got went on to an extraction
    # process) for a client that had gone: now it stops when the client's connection closes.
    request_id = f"left-{time.monotonic_ns()}"
    body = json.dumps({"url": site.url("/slow")}).encode()
    with _sent(fetching_server, "/v1/extract", "application/json", body, request_id):
        pass
    record, stopped_after = _logged_within(lambda: _access_line(fetching_server, request_id), FETCH_TIMEOUT_S + 2)
    assert (record["status"], record.get("error")) == (499, "client-closed")
    assert stopped_after < FETCH_TIMEOUT_S / 2
    assert " failed with " not in fetching_server.log()  # no greenlet's traceback for a fetch's errors


def _service_event(server: LiveServer, event: str, request_id: str) -> dict[str, object] | None:
    """The service's log line ``event`` of the request ``request_id`` (stderr: ``time LEVEL logger: {...}``)."""
    for line in server.log().splitlines():
        if f'"event": "{event}"' in line and request_id in line:
            record: dict[str, object] = json.loads(line[line.index("{") :])
            return record
    return None


def test_a_batch_stops_fetching_when_its_client_leaves(fetching_server: LiveServer, site: Server) -> None:
    # Its url items used to be fetched to their deadlines, and more started as lanes freed up,
    # for a client that had gone: now the running fetches stop and no other item starts.
    request_id = f"batch-left-{time.monotonic_ns()}"
    items = [{"id": n, "url": site.url(f"/slow?batch={request_id}&item={n}")} for n in range(6)]
    body = "".join(json.dumps(item) + "\n" for item in items).encode()
    with _sent(fetching_server, "/v1/extract/batch", "application/x-ndjson", body, request_id):
        pass
    record, stopped_after = _logged_within(
        lambda: _service_event(fetching_server, "batch-done", request_id), 3 * FETCH_TIMEOUT_S + 2
    )
    assert stopped_after < FETCH_TIMEOUT_S / 2
    fetched = {path for path, _host in site.seen.requests if f"batch={request_id}" in path}
    # One extraction process: two items run at once (batch.ITEMS_IN_FLIGHT_PER_PROCESS).
    assert fetched <= {f"/slow?batch={request_id}&item={n}" for n in (0, 1)}
    assert record.get("error") == "client-closed"
    assert " failed with " not in fetching_server.log()


def test_a_client_that_stops_sending_reads_nginxs_phrase_for_499(fetching_server: LiveServer, site: Server) -> None:
    # Half-closed: the client said it sends no more, which reads as leaving (as nginx reads it),
    # but it still reads the answer's status line, which was "499 UNKNOWN" (Werkzeug has no phrase).
    body = json.dumps({"url": site.url("/slow")}).encode()
    with _sent(fetching_server, "/v1/extract", "application/json", body, f"half-{time.monotonic_ns()}") as client:
        client.shutdown(socket.SHUT_WR)
        answer = b""
        while b"\r\n" not in answer and (chunk := client.recv(4096)):
            answer += chunk
    assert answer.split(b"\r\n", 1)[0] == b"HTTP/1.1 499 Client Closed Request"
