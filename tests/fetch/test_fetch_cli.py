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
