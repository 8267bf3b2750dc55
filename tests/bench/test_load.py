"""The throughput arithmetic of ``bench/load.py``: mix weights, mix-weighted pages/s, and what a
timed run counts."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from pathlib import Path
from typing import BinaryIO

import pytest

from bench import load, load_http, load_mix, load_server
from bench.load_http import LoadResult
from bench.load_mix import MixPage, inproc_throughput, mix_weights
from tests.conftest import ROOT


def test_mix_weights_are_each_pages_share_of_the_mean_page() -> None:
    assert mix_weights([0.001, 0.003]) == pytest.approx([0.5, 1.5])
    assert sum(mix_weights([0.002, 0.010, 0.050])) == pytest.approx(3.0)
    assert mix_weights([0.0, 0.0]) == [1.0, 1.0]  # no times: every page counts one
    assert mix_weights([]) == []


def test_a_run_is_weighed_by_the_pages_it_answered_inside_its_window() -> None:
    run = LoadResult(clients=4, window_s=2.0)
    run.by_page = {"cheap": [0.01] * 6, "dear": [0.05] * 2}
    assert run.weigh({"cheap": 0.5, "dear": 2.5}) == pytest.approx((6 * 0.5 + 2 * 2.5) / 2.0)


def _counted_worker(args: tuple[str, int, float, float]) -> tuple[int, float, float]:
    """In place of a real in-process worker: worker at offset 0 does 3 pages, at offset 2 does 2."""
    _name, offset, _start, _duration = args
    return (3 if offset == 0 else 2), 1.0, 0.1


def test_in_process_workers_are_weighed_by_the_pages_each_one_did(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two workers start at offsets 0 and 2 of a 4-page mix and go on in order, wrapping around:
    # pages 0, 1, 2 and pages 2, 3.
    monkeypatch.setattr(load_mix, "_inproc_worker", _counted_worker)
    mix = [MixPage(f"p{i}", b"<p>x</p>", "text/html", None) for i in range(4)]
    result = inproc_throughput(mix, processes=2, duration=1.0, names=("pipeline",), weights=[1.0, 2.0, 3.0, 4.0])
    assert result["pipeline"] == pytest.approx(5.0)
    assert result["pipeline_weighted"] == pytest.approx((1 + 2 + 3) + (3 + 4))


def _next_body(reader: BinaryIO) -> bytes | None:
    """The body of the next keep-alive POST on a connection (None once the client has closed it)."""
    length = 0
    while (line := reader.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return reader.read(length) if line else None


def _slow_http_server(listener: socket.socket, answer_after_s: float) -> None:
    """Answers every keep-alive POST on one connection with 200 after ``answer_after_s``."""
    conn, _ = listener.accept()
    with conn, conn.makefile("rb") as reader:
        while _next_body(reader) is not None:
            time.sleep(answer_after_s)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")


def test_a_timed_run_counts_the_answers_in_flight_at_its_deadline_and_their_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One client, answers after 0.3 s, a 0.5 s window: the second request is in flight at the
    # deadline. It counts, and the window lasts until its answer (~0.6 s), as an in-process worker
    # finishes the page it is on; dropping it would lose the 0.2 s of it done inside the window.
    monkeypatch.setattr(load_http, "_server_cpu", lambda _server: {"web": 0.0, "extractor": 0.0})  # no processes
    listener = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=_slow_http_server, args=(listener, 0.3), daemon=True).start()
    server = load_server.Server(None, listener.getsockname()[1], 0.0, Path("/dev/null"))  # type: ignore[arg-type]
    mix = [MixPage("p", b"<p>x</p>", "text/html", None)]
    run = load_http.drive(server, mix, 1, duration=0.5)
    listener.close()
    assert run.ok == 2
    assert run.window_s == pytest.approx(0.6, abs=0.08)
    assert run.pages_per_s == pytest.approx(2 / 0.6, rel=0.15)


def _cache_server(listener: socket.socket, cached: bytes, seen: list[str]) -> None:
    """Answers ``X-Cache: hit`` to the body ``cached`` (after the first time) and miss otherwise,
    noting each answer in ``seen``."""
    conn, _ = listener.accept()
    filled = False
    with conn, conn.makefile("rb") as reader:
        while (body := _next_body(reader)) is not None:
            hit = body == cached and filled
            filled = filled or body == cached
            seen.append("hit" if hit else "miss")
            time.sleep(0.001 if hit else 0.01)
            label = b"hit" if hit else b"miss"
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Cache: " + label + b"\r\nContent-Length: 2\r\n\r\n{}")


def test_the_cache_check_spreads_its_fresh_extractions_among_the_hits() -> None:
    page = MixPage("p", b"<p>cached</p>", "text/html", None)
    seen: list[str] = []
    listener = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=_cache_server, args=(listener, page.body, seen), daemon=True).start()
    server = load_server.Server(None, listener.getsockname()[1], 0.0, Path("/dev/null"))  # type: ignore[arg-type]
    result = load.cache_check(server, page)
    listener.close()
    assert seen.count("miss") == 1 + load.CACHE_MISSES  # the request that fills the cache, then unique pages
    assert seen.count("hit") == load.CACHE_HITS
    assert result["hit_share"] == 1.0
    # Spread out: a fresh page in each stretch of the hits, not all of them in one block.
    positions = [i for i, label in enumerate(seen) if label == "miss"][1:]
    assert max(b - a for a, b in itertools.pairwise(positions)) <= load.CACHE_HITS // load.CACHE_MISSES + 1
    assert positions[-1] > len(seen) // 2
    assert result["speedup"] == pytest.approx(10, rel=0.5)


def test_the_wsgi_app_is_found_in_this_checkout_and_in_one_from_before_the_layers(tmp_path: Path) -> None:
    assert load_server.wsgi_app(ROOT) == "service.http.wsgi:app"
    (tmp_path / "service").mkdir()
    (tmp_path / "service" / "wsgi.py").write_text("")
    assert load_server.wsgi_app(tmp_path) == "service.wsgi:app"
