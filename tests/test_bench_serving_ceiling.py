"""``bench/serving_ceiling.py``: its inline server and the two hand-off prototypes
(``bench/handoff_prototype.py``, ``bench/handoff_gevent.py``) answer as the pipeline does; its
summary's arithmetic; and what ``bench/socket_buffer.py`` counts."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest
from werkzeug.test import Client

from bench.load import LeanConnection, build_request, free_port, wait_ready
from bench.serving_ceiling import (
    ROOT,
    handoff_command,
    handoff_gevent_command,
    make_inline_app,
    overhead_ms,
    summary,
)
from bench.socket_buffer import buffered
from service.models import Job, Options
from service.pipeline import run

PAGE = Path(__file__).resolve().parent.parent / "fixtures" / "html-blog-comments" / "input.html"


@pytest.fixture(scope="module")
def inline() -> Client:
    return Client(make_inline_app())


def test_the_inline_server_answers_what_the_pipeline_returns(inline: Client) -> None:
    page = PAGE.read_bytes()
    response = inline.post("/v1/extract?url=https://example.org/post", data=page, content_type="text/html")
    assert response.status_code == 200
    expected = run(Job(mode="html", body=page, options=Options(), url="https://example.org/post"))
    assert json.loads(response.data) == expected


def test_the_inline_server_refuses_what_the_service_refuses(inline: Client) -> None:
    response = inline.post("/v1/extract", data=b"{not json", content_type="application/json")
    assert response.status_code == 400
    assert json.loads(response.data)["code"] == "invalid-json"
    assert inline.get("/readyz").status_code == 200


@pytest.mark.parametrize("command", [handoff_command, handoff_gevent_command], ids=["selectors", "gevent"])
def test_a_handoff_prototype_answers_what_the_pipeline_returns_on_one_connection(
    command: Callable[[int], list[str]],
) -> None:
    page = PAGE.read_bytes()
    text = b"A paragraph of text that was extracted before.\n\nShare this post\n"
    port = free_port()
    server = subprocess.Popen(command(port), cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        wait_ready(server, port, time.perf_counter())
        family = psutil.Process(server.pid).children(recursive=True)
        conn = LeanConnection("127.0.0.1", port)
        # Twice each on one keep-alive connection: the front takes it back after every answer.
        for body, ctype, mode in [(page, "text/html", "html"), (text, "text/plain", "text")] * 2:
            status, _headers, answer = conn.request(build_request("127.0.0.1", port, "/v1/extract", body, ctype))
            assert status == 200
            assert json.loads(answer) == run(Job(mode=mode, body=body, options=Options()))
        if command is handoff_gevent_command:
            # Not handed off: gunicorn reads the request the peek left in place, on the same connection.
            status, _headers, answer = conn.request(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert (status, answer) == (200, b'{"status":"ready"}')
        conn.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(20)
    # The front and every extraction process go with it.
    assert psutil.wait_procs(family, timeout=10)[1] == []


def _run(weighted: float, web: float, extraction: float, inproc: float) -> dict[str, Any]:
    return {"weighted": weighted, "web_ms": web, "extraction_ms": extraction, "inproc_ms": inproc}


def test_the_overhead_is_the_servers_cpu_beyond_the_in_process_pipelines() -> None:
    assert overhead_ms(_run(0.9, 0.7, 10.3, 10.0)) == pytest.approx(1.0)  # the service
    assert overhead_ms(_run(0.9, 10.2, 0.0, 10.0)) == pytest.approx(0.2)  # inline: all in the web worker


def test_the_summary_gives_each_design_and_level_its_mean() -> None:
    lines = summary(
        {
            ("service", 16): [_run(0.90, 0.8, 10.2, 10.0)],
            ("service", 4): [_run(0.88, 0.7, 10.1, 10.0), _run(0.92, 0.7, 10.3, 10.0)],
            ("inline", 4): [_run(0.96, 10.3, 0.0, 10.0)],
        }
    )
    assert lines[0].startswith("inline          4 clients: mean ratio 0.960 (0.960)")
    assert lines[1].startswith("service         4 clients: mean ratio 0.900 (0.880, 0.920)")
    assert lines[1].endswith("+0.90 ms a page")
    assert lines[2].startswith("service        16 clients: mean ratio 0.900")


def test_the_socket_buffer_measurement_counts_what_the_server_holds_unread() -> None:
    # 50 KB fits any Linux default receive buffer: all of it is held, none of it read.
    held, buffer = buffered(50_000, mark=None, when="", rcvbuf=None)
    assert held == 50_000
    assert buffer >= held
