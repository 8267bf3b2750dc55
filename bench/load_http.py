"""The HTTP side of ``bench/load.py``: a lean HTTP/1.1 client and the timed load of N clients.

``LeanConnection`` sends prebuilt requests (``Server.post_bytes``) over keep-alive connections;
``drive`` runs N client threads against a ``Server`` for a duration or a request budget and
returns what they saw (``LoadResult``: latencies, statuses, CPU per role). Separate from
``bench/load.py`` because it is the load generator alone, below the measurements and the report
built on it (and ``bench/compare_serving.py`` drives its runs with it too).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import psutil

from bench.load_mix import MixPage
from bench.load_server import HTTP_TIMEOUT_S, Server

SHED_STATUS = "429"  # refused by admission control, retried: not a failure
RETRY_AFTER_CAP_S = 1.0  # a client refused with 429 waits Retry-After (at most this) like a crawler

# 200, and 422 for a page the pipeline refuses in-process too (see load_mix.refused_in_process)
OK_STATUSES = ("200", "422 (refused in-process too)")


# --- a lean HTTP/1.1 client --------------------------------------------------------------------


class LeanConnection:
    """A keep-alive HTTP/1.1 connection that sends prebuilt request bytes and parses only what
    the benchmark reads (status, headers, a Content-Length or chunked body).

    Why not ``http.client``: the load client runs on the same cores as the service, and
    ``http.client`` spends ~0.3 ms of CPU per request (header objects, email parser), CPU taken
    from the extraction processes being measured. This costs a fraction of that; every HTTP
    measurement here (load, paired latency, cache) uses it, so all see the same client.
    """

    def __init__(self, host: str, port: int, timeout: float = 60.0) -> None:
        self.address = (host, port)
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.buffer = bytearray()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None
        self.buffer = bytearray()

    def request(self, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        """Send one prebuilt request (``load_server.build_request``); (status, lower-cased headers, body).

        Raises:
            OSError, http.client.HTTPException: the connection failed or the answer is malformed
                (the connection is then closed; the next request opens a new one).
        """
        try:
            if self.sock is None:
                self.sock = socket.create_connection(self.address, self.timeout)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock.sendall(raw)
            status, headers, body = self._response()
        except BaseException:
            self.close()
            raise
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def _fill(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(262144)
        if not chunk:
            raise http.client.RemoteDisconnected("the server closed the connection")
        self.buffer += chunk

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def _line(self) -> bytes:
        while (end := self.buffer.find(b"\r\n")) < 0:
            self._fill()
        return self._take(end + 2)[:-2]

    def _response(self) -> tuple[int, dict[str, str], bytes]:
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._fill()
        head = self._take(end + 4).decode("latin-1").split("\r\n")
        try:
            status = int(head[0].split(" ", 2)[1])
        except (IndexError, ValueError):
            raise http.client.BadStatusLine(head[0]) from None
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            return status, headers, self._take(int(headers["content-length"]))
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parts = []
            while size := int(self._line().split(b";")[0], 16):
                parts.append(self._take(size))
                self._take(2)
            while self._line():  # trailers, up to the empty line
                pass
            return status, headers, b"".join(parts)
        with contextlib.suppress(http.client.RemoteDisconnected):  # no length: the body ends at close
            while True:
                self._fill()
        body = bytes(self.buffer)
        self.close()
        return status, headers, body


# --- the HTTP load -------------------------------------------------------------------------------


@dataclass
class LoadResult:
    """What the clients of one run saw: every answer to a request sent inside the window."""

    clients: int
    window_s: float = 0.0
    latencies: list[float] = field(default_factory=list)  # right answers
    statuses: Counter[str] = field(default_factory=Counter)  # every answer, by status
    by_page: dict[str, list[float]] = field(default_factory=dict)
    # CPU seconds over the run: "web", "extractor" (processes of the server) and "client" (the
    # client threads).
    cpu_s: dict[str, float] = field(default_factory=dict)
    inproc_pages_per_s: float = 0.0  # in-process pipeline, measured right before and after
    inproc_cpu_ms: float = 0.0  # its CPU per page, the same way
    weighted_pages_per_s: float = 0.0  # this run's mix-weighted pages/s (load_mix.mix_weights)
    inproc_weighted: float = 0.0  # the in-process pipeline's, measured right before and after

    # Pages answered (not 429): the CPU's denominator. A 429's cost lands on the pages, as it does
    # in reality.
    completed: int = 0

    def cpu_ms_per_page(self, role: str) -> float:
        return 1000 * self.cpu_s.get(role, 0.0) / max(1, self.completed)

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def failed(self) -> int:
        """Answers that lost a page. A 429 is not one: admission control sheds load by design
        (issue 9) and the client retries the same page after Retry-After, as a crawler does."""
        return sum(n for status, n in self.statuses.items() if status not in OK_STATUSES and status != SHED_STATUS)

    @property
    def shed(self) -> int:
        return self.statuses.get(SHED_STATUS, 0)

    @property
    def pages_per_s(self) -> float:
        return self.ok / self.window_s if self.window_s else 0.0

    def weigh(self, weights: dict[str, float]) -> float:
        """Mix-weighted pages/s of the right answers (``load_mix.mix_weights``)."""
        work = sum(weights[name] * len(latencies) for name, latencies in self.by_page.items())
        return work / self.window_s if self.window_s else 0.0


class _Load:
    """Shared state of one run: when to stop, the request budget, the merged results."""

    def __init__(self, clients: int, duration: float | None, requests: int | None) -> None:
        self.result = LoadResult(clients)
        self.requests = requests
        self.issued = 0
        self.lock = threading.Lock()
        self.barrier = threading.Barrier(clients + 1)
        self.finished = threading.Event()  # the window is over: stop, and cut back-off short
        self.duration = duration
        self.t0 = 0.0
        self.deadline = float("inf")
        self.last_answer = 0.0  # perf_counter() when the last answer came in

    def take(self) -> bool:
        """May a client send one more request?"""
        if self.finished.is_set() or time.perf_counter() >= self.deadline:
            return False
        with self.lock:
            if self.requests is not None and self.issued >= self.requests:
                return False
            self.issued += 1
            return True


def _client(
    server: Server, mix: Sequence[MixPage], raws: Sequence[bytes], offset: int, load: _Load, refused: set[str]
) -> None:
    conn = LeanConnection(server.host, server.port, timeout=HTTP_TIMEOUT_S)
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    by_page: dict[str, list[float]] = {}
    i = offset
    load.barrier.wait()
    cpu_start, completed, last_answer = time.thread_time(), 0, 0.0
    while load.take():
        k = i % len(mix)
        page = mix[k]
        i += 1
        started = time.perf_counter()
        backoff = 0.0
        try:
            code, headers, _ = conn.request(raws[k])
            status = str(code)
            if status == "422" and page.name in refused:
                status = OK_STATUSES[1]
            if code == 429:  # back off and retry the same page, as a crawler does
                backoff = min(RETRY_AFTER_CAP_S, float(headers.get("retry-after") or 0))
                i -= 1
        except (OSError, http.client.HTTPException) as exc:
            status = type(exc).__name__
        last_answer = time.perf_counter()
        if status != SHED_STATUS:
            completed += 1
        statuses[status] += 1
        if status in OK_STATUSES:
            latencies.append(last_answer - started)
            by_page.setdefault(page.name, []).append(last_answer - started)
        if backoff:
            load.finished.wait(backoff)
    conn.close()
    with load.lock:
        load.result.cpu_s["client"] = load.result.cpu_s.get("client", 0.0) + time.thread_time() - cpu_start
        load.result.completed += completed
        load.last_answer = max(load.last_answer, last_answer)
        load.result.latencies.extend(latencies)
        load.result.statuses.update(statuses)
        for name, values in by_page.items():
            load.result.by_page.setdefault(name, []).extend(values)


def drive(
    server: Server,
    mix: Sequence[MixPage],
    clients: int,
    duration: float | None = None,
    requests: int | None = None,
    refused: set[str] | None = None,
) -> LoadResult:
    """``clients`` keep-alive clients for ``duration`` seconds or ``requests`` requests in all.

    A timed run sends no request after ``duration`` and ends when the last answer comes in: the
    pages in flight at the deadline count, and so does the time they take, as an in-process
    worker finishes the page it is on (``load_mix._inproc_worker``). Up to session 6 they were dropped,
    which lost the part of their work done inside the window, always against the service: each
    process is ~14 ms into its page at a random instant on this mix (long pages are more likely
    to be the one running), ~0.2 % of an 8 s window.
    """
    load = _Load(clients, duration, requests)
    raws = [server.post_bytes(page) for page in mix]  # built before the clock starts
    threads = [
        threading.Thread(target=_client, args=(server, mix, raws, k * len(mix) // clients, load, refused or set()))
        for k in range(clients)
    ]
    for thread in threads:
        thread.start()
    cpu_before = _server_cpu(server)
    load.t0 = time.perf_counter()
    if duration is not None:
        load.deadline = load.t0 + duration
    load.barrier.wait()
    if duration is not None:
        load.finished.wait(duration)
        load.finished.set()
    for thread in threads:
        thread.join()
    end = max(load.last_answer, load.deadline) if duration is not None else time.perf_counter()
    load.result.window_s = end - load.t0
    cpu_after = _server_cpu(server)
    for role in ("web", "extractor"):
        load.result.cpu_s[role] = cpu_after[role] - cpu_before[role]
    return load.result


def _server_cpu(server: Server) -> dict[str, float]:
    """CPU seconds so far of the web workers, and of the extraction side: the fork servers and
    the extraction processes alive, plus those already ended and reaped (their parents' children
    times), so recycling and kills mid-run are counted too."""
    found = server.processes()
    cpu = {"web": 0.0, "extractor": 0.0}
    for role, group in found.roles():
        for proc in group:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                cpu["web" if role == "web" else "extractor"] += times.user + times.system
                cpu["extractor"] += times.children_user + times.children_system
    return cpu


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]
