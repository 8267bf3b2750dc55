"""The web worker's side of the connection hand-off (``handoff_worker`` is its gunicorn glue):
whole ``POST /v1/extract`` requests go to the extraction processes, which answer their clients
themselves (``connection_handoff``).

Per connection (``HandoffWorker.handle``), for each request:
1. wait for it (at most gunicorn's ``keepalive`` between requests) and peek at its head;
2. anything but a plain ``POST /v1/extract`` (``connection_handoff.parse_head``), or a request
   that the API keys refuse: gunicorn serves the rest of the connection as it always did (the
   peek consumed nothing, so it reads the request from its start and answers 401, ... the usual
   way);
3. wait, without reading, until the whole request is in the socket buffer (``SO_RCVLOWAT``),
   at most ``HANDOFF_WAIT_S``: a slow client holds a greenlet, never an extraction process, and
   one still sending after that goes to gunicorn too, whose read deadline answers 408;
4. answer a cache hit (keyed by the request as sent) or, over the admission limit, 429 itself;
   else hand the connection to an extraction process through the pool (``ExtractionPool.submit``
   with the descriptor): the pool's lanes, withdrawals, time budget and kills apply unchanged;
5. log and count the answer from the process's summary, send what the client's socket could not
   take at once, and go on with the next request unless the connection is to close.

A kill (time budget) or a crash is answered as before (503 ``time-budget-exceeded``, 500
``extractor-crashed``) when nothing of the answer has reached the socket yet (``bytes_written``);
otherwise the connection is closed. ``CLEANER_HANDOFF=0`` turns all of this off: every request
is then served by gunicorn's gevent worker, as before the hand-off.
"""

from __future__ import annotations

import logging
import socket
import time
from dataclasses import dataclass
from typing import Any

from service.answer_cache import AnswerCache
from service.api import request_cycle
from service.api.metrics import count_request
from service.api.responses import article_headers, article_json
from service.connection_handoff import (
    EXTRACT_PATH,
    HANDOFF_MAX_BYTES,
    HEAD_MAX_BYTES,
    ConnectionJob,
    bytes_written,
    discard,
    grow_receive_buffer,
    http_response,
    parse_head,
    unread_bytes,
)
from service.errors import Overloaded, ServiceError
from service.metrics_registry import HANDED_OFF
from service.runtime import Runtime

log = logging.getLogger("service")

# How long a request whose head has arrived may take to be all in the socket buffer before it is
# left to gunicorn (which reads it with the CLEANER_READ_TIMEOUT_S deadline). Loopback and LAN
# clients send a page in well under a millisecond; this only bounds the unusual.
HANDOFF_WAIT_S = 1.0
KEEP, CLOSE, FALLBACK = "keep", "close", "fallback"


@dataclass
class Connection:
    """One client connection as the front serves it."""

    socket: socket.socket
    # Bytes written to it so far, as the kernel counts them (``bytes_written``) once when it is
    # opened, then by adding every answer: a kill is answered only if none went out.
    written: int | None = None

    def wrote(self, size: int) -> None:
        """``size`` more bytes of answers went to the socket."""
        if self.written is not None:
            self.written += size


class HandoffFront:
    """What ``HandoffWorker.handle`` does for each request (steps 1-5 of the module doc)."""

    # What ``serve`` returns (here too for the worker, which imports this module late).
    KEEP, CLOSE, FALLBACK = KEEP, CLOSE, FALLBACK

    def __init__(self, runtime: Runtime, keyring: Any, cors_origins: frozenset[str], idle_timeout_s: float) -> None:
        self.runtime = runtime
        self.keyring = keyring
        self.cors_origins = cors_origins
        self.idle_timeout_s = idle_timeout_s
        self.max_content_length = min(runtime.settings.max_body_bytes, HANDOFF_MAX_BYTES)
        # Answers to handed-off requests, keyed by the request as sent (the runtime's cache, keyed
        # by the parsed job, serves what falls back to gunicorn).
        self.cache = AnswerCache(runtime.settings.cache_entries)

    def open(self, client: socket.socket) -> Connection:
        """A new connection, ready for ``serve``: its buffer grown to hold a whole request."""
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        grow_receive_buffer(client)
        # The idle wait between requests; the peek in serve waits on the socket's own watcher.
        client.settimeout(self.idle_timeout_s)
        return Connection(client, written=bytes_written(client))

    def serve(self, conn: Connection, keep_alive: bool) -> str:
        """Serve one request of ``conn``: KEEP (the next may follow), CLOSE, or FALLBACK (gunicorn
        must serve the connection from this request on)."""
        client = conn.socket
        try:
            peeked = client.recv(HEAD_MAX_BYTES, socket.MSG_PEEK)
        except TimeoutError:  # an idle keep-alive connection
            return CLOSE
        if not peeked:
            return CLOSE
        head = parse_head(peeked, self.max_content_length)
        if head is None:
            return FALLBACK
        started = time.perf_counter()
        if not _await_whole(client, head.whole):
            return FALLBACK
        try:
            self.keyring.check(EXTRACT_PATH, head.headers.get("authorization"))
        except ServiceError:
            return FALLBACK
        context: dict[str, Any] = {
            "started": started,
            "request_id": request_cycle.request_id(head.headers.get("x-request-id")),
        }
        always, defaults = request_cycle.common_headers(context, head.headers.get("origin"), self.cors_origins)
        keep_alive = keep_alive and not head.wants_close
        key = ""
        whole = client.recv(head.whole, socket.MSG_PEEK) if self.cache.enabled else b""
        if len(whole) == head.whole:  # the cache is on (the request is all in): hash it as sent
            key = AnswerCache.request_key(
                memoryview(whole)[head.size :],
                head.headers.get("content-type"),
                head.headers.get("content-encoding"),
                head.query_string,
            )
            cached = self.cache.get(key)
            if cached is not None:  # answered here, even under overload: it costs no extraction
                discard(client, head.whole)
                return self._answer_from_cache(conn, cached, context, always, defaults, keep_alive)
        try:
            with self.runtime.admission.admit():
                job = ConnectionJob(
                    head_size=head.size,
                    content_length=head.content_length,
                    content_type=head.headers.get("content-type"),
                    content_encoding=head.headers.get("content-encoding"),
                    query_string=head.query_string,
                    max_body_bytes=self.runtime.settings.max_body_bytes,
                    started=started,
                    keep_alive=keep_alive,
                    return_answer=bool(key),
                    always_headers=always,
                    default_headers=defaults,
                )
                return self._hand_off(conn, job, context, key)
        except Overloaded as error:
            # Answered here, not by gunicorn: under overload every request counts. The request
            # is all in the socket buffer: read past it and keep the connection.
            discard(client, head.whole)
            return self._answer_problem(conn, error, context, always, defaults, keep_alive)

    def _hand_off(self, conn: Connection, job: ConnectionJob, context: dict[str, Any], key: str) -> str:
        client = conn.socket
        HANDED_OFF.inc()
        try:
            summary, _seconds = self.runtime.pool.submit(job, connection=client.fileno())
        except ServiceError as error:  # a kill, a crash, or no process within the budget
            if conn.written is None or bytes_written(client) != conn.written:
                return CLOSE  # part of an answer may be out: a problem document would corrupt it
            always, defaults = job.always_headers, job.default_headers
            return self._answer_problem(conn, error, context, always, defaults, keep_alive=False)
        if summary["unsent"]:
            client.sendall(summary["unsent"])
        conn.wrote(summary.get("sent", 0))
        if not summary["status"]:
            return CLOSE  # the request could not be read: the client has gone
        for name in ("bytes_in", "mode", "warnings", "error_code"):
            if name in summary:
                context[name] = summary[name]
        if "answer" in summary:
            self.cache.put(key, {"answer": summary["answer"], "mode": summary["mode"], "bytes_in": summary["bytes_in"]})
        self._account(summary["status"], context)
        return CLOSE if summary["close"] else KEEP

    def _answer_from_cache(
        self,
        conn: Connection,
        cached: dict[str, Any],
        context: dict[str, Any],
        always: list[tuple[str, str]],
        defaults: list[tuple[str, str]],
        keep_alive: bool,
    ) -> str:
        answer = cached["answer"]
        context.update(mode=cached["mode"], bytes_in=cached["bytes_in"], warnings=answer.get("warnings", []))
        text = article_json(answer, context["started"])
        return self._answer(conn, 200, article_headers(cached=True), text, context, always, defaults, keep_alive)

    def _answer_problem(
        self,
        conn: Connection,
        error: ServiceError,
        context: dict[str, Any],
        always: list[tuple[str, str]],
        defaults: list[tuple[str, str]],
        keep_alive: bool,
    ) -> str:
        context["error_code"] = error.code
        status, headers, text = request_cycle.problem(error, EXTRACT_PATH)
        return self._answer(conn, status, headers, text, context, always, defaults, keep_alive)

    def _answer(
        self,
        conn: Connection,
        status: int,
        headers: list[tuple[str, str]],
        text: str,
        context: dict[str, Any],
        always: list[tuple[str, str]],
        defaults: list[tuple[str, str]],
        keep_alive: bool,
    ) -> str:
        """Send an answer of the web worker's own (a cache hit, a problem), log and count it."""
        data, keep = http_response(status, headers, text.encode(), always, defaults, keep_alive)
        conn.socket.sendall(data)
        conn.wrote(len(data))
        self._account(status, context)
        return KEEP if keep else CLOSE

    def _account(self, status: int, context: dict[str, Any]) -> None:
        """Log and count an answer, as the web worker does its own."""
        request_cycle.log_access("POST", EXTRACT_PATH, status, context)
        count_request(EXTRACT_PATH, status, context, self.runtime)


def _await_whole(client: socket.socket, size: int) -> bool:
    """Wait until ``size`` bytes are in ``client``'s receive buffer, unread: True; False if they
    are not there within ``HANDOFF_WAIT_S``, or a wake-up brings nothing new (end of stream)."""
    from gevent.socket import wait_read

    fd = client.fileno()
    have = unread_bytes(fd)
    if have >= size:
        return True
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, size)  # one wake-up, when all is in
    try:
        deadline = time.monotonic() + HANDOFF_WAIT_S
        while have < size:
            try:
                wait_read(fd, timeout=max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                return False
            before, have = have, unread_bytes(fd)
            if have == before:
                return False
        return True
    finally:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 1)
