"""Pipelining on a real server (extraction_pool): while pages wait in busy processes' pipes, are
withdrawn from behind slow pages and placed again after kills, every answer is still the answer
to the page that was sent.

The risk this guards: answers are read from a process in the order its pages were written; one
frame read too many or too few, and a client gets another client's article.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from tests.conftest import fixture_cases, load_case
from tests.e2e.conftest import LiveServer, start_server, stop_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BUDGET_S = 2.0
# Slow pages, small enough for a page to queue behind them in the pipe: ~0.25 s (a page queued
# behind it waits), ~0.9 s (one queued behind it is withdrawn after 0.5 s and placed again) and
# ~4.5 s (killed at the budget, with room for a faster machine or pipeline).
SLOW_PAGES = [b"<html><body>" + b"<p>a b</p>" * n + b"</body></html>" for n in (15_000, 50_000, 250_000)]
NORMAL_CLIENTS, SLOW_CLIENTS, REQUESTS_EACH = 4, 2, 30


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(
        tmp_path_factory.mktemp("pipelining"),
        CLEANER_TIME_BUDGET_S=str(BUDGET_S),
        CLEANER_MAX_ELEMENTS="10000000",  # the slow pages must be slow, not truncated
        CLEANER_CACHE_ENTRIES="0",
        CLEANER_MAX_IN_FLIGHT="64",  # queue in the pool, no 429
    )
    yield live
    stop_server(live)


def _post(session: requests.Session, server: LiveServer, body: bytes, content_type: str) -> requests.Response:
    return session.post(server.url + "/v1/extract", data=body, headers={"Content-Type": content_type}, timeout=60)


def _events(server: LiveServer) -> dict[str, float]:
    text = requests.get(server.url + "/metrics", timeout=10).text
    found = re.findall(r'^pagecleaner_extractor_events_total\{event="(\w+)"\} (\S+)$', text, re.MULTILINE)
    return {event: float(value) for event, value in found}


def test_every_answer_is_for_its_own_page_under_kills_and_withdrawals(server: LiveServer) -> None:
    cases = [load_case(case_dir) for case_dir in fixture_cases()]
    with requests.Session() as session:  # one at a time first: the reference answers
        reference = [_post(session, server, case["body"], case["content_type"]).json()["text"] for case in cases]
    statuses: Counter[str] = Counter()
    mismatched: list[str] = []
    lock = threading.Lock()

    def normal_client(offset: int) -> None:
        with requests.Session() as session:
            for i in range(REQUESTS_EACH):
                k = (offset + i) % len(cases)
                response = _post(session, server, cases[k]["body"], cases[k]["content_type"])
                with lock:
                    statuses[f"page {response.status_code}"] += 1
                    if response.status_code == 200 and json.loads(response.content)["text"] != reference[k]:
                        mismatched.append(f"{cases[k]['name']} got another page's text")

    def slow_client(offset: int) -> None:
        with requests.Session() as session:
            for i in range(REQUESTS_EACH // 3):
                response = _post(session, server, SLOW_PAGES[(offset + i) % len(SLOW_PAGES)], "text/html")
                with lock:
                    statuses[f"slow {response.status_code}"] += 1

    threads = [threading.Thread(target=normal_client, args=(k * 5,)) for k in range(NORMAL_CLIENTS)]
    threads += [threading.Thread(target=slow_client, args=(k,)) for k in range(SLOW_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)

    assert not mismatched, mismatched
    # Normal pages: answered, or at worst out of budget while the pool was short of a process.
    assert set(statuses) <= {"page 200", "page 503", "slow 200", "slow 503"}, statuses
    assert statuses["page 200"] >= 0.9 * NORMAL_CLIENTS * REQUESTS_EACH, statuses
    events = _events(server)
    assert events.get("kill_timeout", 0) >= 1, events  # the paths under test were taken
    assert events.get("withdraw", 0) >= 1, events


TINY_CLIENTS, TINY_RUN_S = 2, 6.0
ARTICLE = b"<html><body><article><p>" + b"A reasonable paragraph of article text, to be kept. " * 5 + b"</p></article>"


def test_a_client_with_a_tiny_timeout_fails_alone(server: LiveServer) -> None:
    """Pages of a client whose ``timeout`` is gone before they reach a process get their 503; the
    other clients' pages around them are never failed for it. (Before, the process extracting
    another client's page was killed for such a page, and its bookkeeping popped an empty lane:
    5-10 % of the other client's pages got 500 extractor-crashed or internal-error.)"""
    stop = time.monotonic() + TINY_RUN_S
    statuses: Counter[str] = Counter()
    lock = threading.Lock()

    def client(name: str, query: str) -> None:
        with requests.Session() as session:
            n = 0
            while time.monotonic() < stop:
                n += 1
                body = ARTICLE + f"<!-- {name} {n} --></body></html>".encode()  # never the same page
                response = session.post(
                    server.url + "/v1/extract" + query, data=body, headers={"Content-Type": "text/html"}, timeout=60
                )
                with lock:
                    statuses[f"{name.split()[0]} {response.status_code}"] += 1

    threads = [threading.Thread(target=client, args=(f"tiny {k}", "?timeout=0.001")) for k in range(TINY_CLIENTS)]
    threads += [threading.Thread(target=client, args=(f"page {k}", "")) for k in range(TINY_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert set(statuses) <= {"tiny 503", "tiny 200", "page 200"}, statuses
    assert statuses["tiny 503"] >= 10, statuses  # both really ran
    assert statuses["page 200"] >= 10, statuses
    assert "Traceback" not in server.log()
