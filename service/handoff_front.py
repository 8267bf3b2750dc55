"""The web worker's side of the connection hand-off (``handoff_worker`` is its gunicorn glue):
whole ``POST /v1/extract`` requests go to the extraction processes, which answer their clients
themselves (``connection_handoff``).

Per connection (``HandoffWorker.handle``), for each request:
1. wait for it (at most gunicorn's ``keepalive`` between requests) and peek at its head;
2. anything but a plain ``POST /v1/extract`` (``connection_handoff.parse_head``), a request that
   the API keys refuse, or one over the admission limit: gunicorn serves the rest of the
   connection as it always did (the peek consumed nothing, so it reads the request from its
   start and answers 401, 429, ... the usual way);
3. wait, without reading, until the whole request is in the socket buffer (``SO_RCVLOWAT``),
   at most ``HANDOFF_WAIT_S``: a slow client holds a greenlet, never an extraction process, and
   one still sending after that goes to gunicorn too, whose read deadline answers 408;
4. hand the connection to an extraction process through the pool (``ExtractionPool.submit``
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
import zlib
from typing import Any

from service.api import request_cycle
from service.api.metrics import count_request
from service.connection_handoff import (
    EXTRACT_PATH,
    HANDOFF_MAX_BYTES,
    HEAD_MAX_BYTES,
    ConnectionJob,
    RequestHead,
    bytes_written,
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
# Body bytes that choose a request's extraction process (with its length and query) when the
# answer cache is on: a repeated page then goes to the process that has its answer.
ROUTE_PREFIX_BYTES = 4096
KEEP, CLOSE, FALLBACK = "keep", "close", "fallback"


class HandoffFront:
    """What ``HandoffWorker.handle`` does for each request (steps 1-5 of the module doc)."""

    def __init__(self, runtime: Runtime, keyring: Any, cors_origins: frozenset[str], idle_timeout_s: float) -> None:
        self.runtime = runtime
        self.keyring = keyring
        self.cors_origins = cors_origins
        self.idle_timeout_s = idle_timeout_s
        self.max_content_length = min(runtime.settings.max_body_bytes, HANDOFF_MAX_BYTES)

    def serve(self, client: socket.socket, keep_alive: bool) -> str:
        """Serve one request of ``client``: KEEP (the next may follow), CLOSE, or FALLBACK (gunicorn
        must serve the connection from this request on)."""
        from gevent.socket import wait_read

        try:
            wait_read(client.fileno(), timeout=self.idle_timeout_s)
        except TimeoutError:  # an idle keep-alive connection
            return CLOSE
        peeked = client.recv(HEAD_MAX_BYTES, socket.MSG_PEEK)
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
        try:
            with self.runtime.admission.admit():
                return self._hand_off(client, head, started, keep_alive)
        except Overloaded:
            return FALLBACK

    def _hand_off(self, client: socket.socket, head: RequestHead, started: float, keep_alive: bool) -> str:
        context: dict[str, Any] = {
            "started": started,
            "request_id": request_cycle.request_id(head.headers.get("x-request-id")),
        }
        always, defaults = request_cycle.common_headers(context, head.headers.get("origin"), self.cors_origins)
        job = ConnectionJob(
            head_size=head.size,
            content_length=head.content_length,
            content_type=head.headers.get("content-type"),
            content_encoding=head.headers.get("content-encoding"),
            query_string=head.query_string,
            max_body_bytes=self.runtime.settings.max_body_bytes,
            started=started,
            keep_alive=keep_alive and not head.wants_close,
            always_headers=always,
            default_headers=defaults,
        )
        written = bytes_written(client)
        try:
            summary, _seconds = self.runtime.pool.submit(
                job, connection=client.fileno(), route=self._route(client, head)
            )
        except ServiceError as error:  # a kill, a crash, or no process within the budget
            context["error_code"] = error.code
            if written is None or bytes_written(client) != written:
                return CLOSE  # part of an answer may be out: a problem document would corrupt it
            status, headers, text = request_cycle.problem(error, EXTRACT_PATH)
            data, _keep = http_response(status, headers, text.encode(), always, defaults, keep_alive=False)
            client.sendall(data)
            self._account(status, context)
            return CLOSE
        if summary["unsent"]:
            client.sendall(summary["unsent"])
        if not summary["status"]:
            return CLOSE  # the request could not be read: the client has gone
        for name in ("bytes_in", "mode", "warnings", "error_code"):
            if name in summary:
                context[name] = summary[name]
        self._account(summary["status"], context)
        return CLOSE if summary["close"] else KEEP

    def _route(self, client: socket.socket, head: RequestHead) -> int:
        """The process a request prefers (``ExtractionPool.submit``): -1 (none) with the cache
        off, else a hash of its first body bytes, length and query."""
        if not self.runtime.cache.enabled:
            return -1
        prefix = client.recv(min(head.whole, head.size + ROUTE_PREFIX_BYTES), socket.MSG_PEEK)[head.size :]
        return zlib.crc32(prefix, zlib.crc32(f"{head.content_length} {head.query_string}".encode()))

    def _account(self, status: int, context: dict[str, Any]) -> None:
        """Log and count a handed-off request's answer, as the web worker does its own."""
        HANDED_OFF.inc()
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
