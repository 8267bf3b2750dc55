"""``python -m service extract URL``: the page is fetched like the API fetches it, guard included."""

from __future__ import annotations

import json

from service.offline.cli.common import EXIT_OK, EXIT_REJECTED
from tests.fetch.servers import Server
from tests.offline.test_cli import problem_of, run_cli


def test_extract_fetches_an_allow_listed_url(server: Server) -> None:
    completed = run_cli("extract", server.url("/hops/0"), CLEANER_FETCH_ALLOW="127.0.0.1/32")
    assert completed.returncode == EXIT_OK, completed.stderr
    answer = json.loads(completed.stdout)
    assert answer["title"] == "Ferry timetable"
    assert answer["fetch"]["url"] == server.url("/page")
    assert answer["fetch"]["redirects"] == 1


def test_extract_refuses_loopback_unless_allow_listed(server: Server) -> None:
    before = len(server.seen.requests)
    completed = run_cli("extract", server.url("/page"))
    assert completed.returncode == EXIT_REJECTED
    problem = problem_of(completed)
    assert (problem["code"], problem["reason"]) == ("fetch-refused", "address")
    assert completed.stdout == b""
    assert len(server.seen.requests) == before


def test_batch_lines_with_only_a_url_are_fetched_when_fetching_is_on(server: Server) -> None:
    lines = "\n".join(json.dumps({"id": n, "url": server.url("/page")}) for n in range(2)).encode()
    on = run_cli("batch", "-", "-", stdin=lines, CLEANER_FETCH="1", CLEANER_FETCH_ALLOW="127.0.0.1/32")
    assert on.returncode == EXIT_OK, on.stderr
    assert [json.loads(line)["fetch"]["status"] for line in on.stdout.splitlines()] == [200, 200]
    off = run_cli("batch", "-", "-", stdin=lines, CLEANER_FETCH_ALLOW="127.0.0.1/32")
    assert off.returncode == EXIT_REJECTED
    assert {json.loads(line)["error"]["code"] for line in off.stdout.splitlines()} == {"fetch-refused"}
