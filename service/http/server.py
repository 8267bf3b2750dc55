"""The gunicorn worker class: gevent's, answering the requests gunicorn itself refuses as the app
would, and closing connections without losing the answer (issue 24 items 6 and 7).

Only what gunicorn exposes is overridden; its parser and writer do all the HTTP:

- ``handle_error``: a request gunicorn's parser refuses (a double Content-Length, obs-fold, a
  header or request line over the limits) gets the service's problem+json with the common
  headers, where gunicorn writes an HTML page without them.
- ``handle_request``: first refuses what gunicorn's parser lets through but RFC 9112 does not
  (``check_head``: an HTTP/1.1 request without Host; a transfer coding besides chunked, which
  gunicorn accepts and ignores). When a connection closes after an answer, it is closed gracefully, as
  nginx's lingering close does: half-close (FIN after the answer), then read and discard what
  the client still sends, for a bounded time. A socket closed with unread bytes sends RST, which
  discards the answer in flight: Python's urllib and requests uploading 11 MB read
  ECONNRESET instead of the 413.
- ``load_wsgi``: gunicorn drops an application's hop-by-hop headers, ``Connection: close``
  included, and kept the connection of a 413 or 408 alive with the rest of the body unread;
  an application that says ``Connection: close`` now closes it.
- ``init_process``: gunicorn caps ``limit_request_line`` at 8,190 bytes, too short for the
  8,192-character ``url`` the app accepts in the query, and 0 ("unlimited") has no bound at
  all: a 4 MB request line took 4.9 s of the web worker's CPU (its parser copies the line on
  every read). The cap is gunicorn's module constant; it is raised to ``MAX_REQUEST_LINE_BYTES``
  so one bounded limit holds on every path and HTTP version. It also swaps gunicorn's reader of
  chunked bodies for ``body.ChunkedReader``, which refuses chunks declaring more than the limit,
  and its request body for ``body.Body``, which sends the ``100 Continue`` of ``Expect:
  100-continue`` when the application first reads the body (gunicorn sends it before the
  application sees the head): a request refused on its head (413, 415, 401) gets that answer
  instead of an invitation to upload, and its connection closes (``CloseWhenAsked``).
- ``handle_exit``: SIGTERM closes the listening sockets at once (``stop_accepting``); gunicorn's
  gevent worker noticed it on its next 1 s tick and accepted new connections until then.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

import gevent
import gunicorn.http.message
from gevent.server import StreamServer
from gunicorn import util
from gunicorn.http import errors as gunicorn_errors
from gunicorn.workers import ggevent
from gunicorn.workers.ggevent import GeventWorker

from service.errors import (
    BadRequest,
    ExpectationFailed,
    HeaderFieldsTooLarge,
    ServiceError,
    TransferCodingNotImplemented,
    UriTooLong,
)
from service.http import request_cycle
from service.http.body import Body, ChunkedReader
from service.request_forms import MAX_URL_CHARS

log = logging.getLogger("service")

# The longest request line: an 8,192-character ``url`` with every character percent-encoded
# (3 x 8,192), plus the method, the path, the other options and the version.
MAX_REQUEST_LINE_BYTES = 3 * MAX_URL_CHARS + 8 * 1024
# Lingering close: how long and how much of the client's unread request to read and discard
# before closing anyway (nginx: lingering_timeout 5 s). 64 MB covers an upload a few times the
# default 10 MB body limit; beyond either bound the client may see a reset.
LINGER_S = 5.0
LINGER_MAX_BYTES = 64 * 1024 * 1024
# What each of gunicorn's parse errors answers (the statuses gunicorn's own handle_error uses);
# any other parse error is a 400.
_PARSE_ERRORS: tuple[tuple[type[Exception], type[ServiceError]], ...] = (
    (gunicorn_errors.LimitRequestLine, UriTooLong),
    (gunicorn_errors.LimitRequestHeaders, HeaderFieldsTooLarge),
    (gunicorn_errors.UnsupportedTransferCoding, TransferCodingNotImplemented),
    (gunicorn_errors.ExpectationFailed, ExpectationFailed),
)
# Errors of the application's answer, not of the client's request: a 500.
_SERVER_FAULTS = (
    gunicorn_errors.InvalidResponseHeader,
    gunicorn_errors.InvalidResponseHeaderName,
    gunicorn_errors.ConfigurationProblem,
)
DETAIL_CHARS = 200  # gunicorn's message may quote the client's bytes: a bounded part of them

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class Worker(GeventWorker):  # type: ignore[misc]  # gunicorn has no type hints
    """``worker_class`` in service/http/gunicorn_conf.py."""

    wsgi: WsgiApp  # set by gunicorn's load_wsgi

    def init_process(self) -> None:
        gunicorn.http.message.MAX_REQUEST_LINE = MAX_REQUEST_LINE_BYTES
        gunicorn.http.message.ChunkedReader = ChunkedReader
        gunicorn.http.message.Body = Body
        self.servers: list[ListeningServer] = []
        ggevent.StreamServer = self.listening_server  # what gunicorn's run() builds per socket
        super().init_process()

    def listening_server(self, *args: Any, **kwargs: Any) -> ListeningServer:
        server = ListeningServer(*args, **kwargs)
        self.servers.append(server)
        return server

    def handle_exit(self, sig: int, frame: Any) -> None:
        super().handle_exit(sig, frame)
        # Out of the signal handler, as gunicorn's handle_quit does (blocking calls).
        gevent.spawn(self.stop_accepting)

    def stop_accepting(self) -> None:
        """Close this worker's listening sockets now, not on gunicorn's next 1 s tick: new
        connections were served for up to a second after SIGTERM (s20 audit). The requests in
        flight go on; gunicorn's run() waits for them as before. The socket itself stays open
        while another process holds it (the master after a HUP, the other web workers).

        Not before the connections accepted already have started: gunicorn's handler begins with
        the listening socket's ``getsockname()``, so one whose greenlet had not run yet met a
        closed socket (EBADF) and was reset unanswered (the reload test's rare ConnectionError;
        gunicorn logged "Socket error processing request")."""
        for server in self.servers:
            server.stop_accepting()
        gevent.idle()  # every greenlet ready to run has run up to its first wait (reading the request)
        for server in self.servers:
            server.close()

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.wsgi = CloseWhenAsked(self.wsgi)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> bool:
        check_head(req)  # what it raises goes to handle_error, as the parser's errors do
        if req._expected_100_continue and isinstance(req.body, Body):
            req._expected_100_continue = False  # else gunicorn sends it before the app sees the head
            req.body.continue_owed_to = sock
        try:
            return bool(super().handle_request(listener_name, req, sock, addr))
        except StopIteration:  # gunicorn's signal that this connection ends after the answer
            close_gracefully(sock)
            raise

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        error = problem_for(exc, addr)
        path = getattr(req, "path", None) or ""  # none when the request line was refused
        context: dict[str, Any] = {"started": time.perf_counter(), "request_id": os.urandom(16).hex()}
        context["error_code"] = error.code
        status, headers, body = request_cycle.problem(error, path)
        always, defaults = request_cycle.common_headers(context, None, ())
        headers = [*headers, *always, *defaults]
        if not any(name.lower() == "connection" for name, _value in headers):
            headers.append(("Connection", "close"))  # where the next request starts is unknown
        encoded = body.encode()
        head = f"HTTP/1.1 {request_cycle.status_line(status)}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers)
        head += f"Content-Length: {len(encoded)}\r\n\r\n"
        try:
            util.write_nonblock(client, head.encode("latin-1") + encoded)
        except OSError:
            log.debug("could not send the %s answer", status)
        request_cycle.log_access(getattr(req, "method", None) or "-", path or "-", status, context)
        # Imported here, in the web worker: this module is imported by gunicorn's master with its
        # config, before the config's on_starting sets up Prometheus' multiprocess directory.
        from service.http.metrics import count_request
        from service.http.metrics_registry import UNMATCHED_ENDPOINT

        count_request(UNMATCHED_ENDPOINT, status, context, None)  # never routed: no endpoint
        # The client may still be sending its refused request. A server fault (or a greenlet
        # killed at shutdown) closes at once, as gunicorn does.
        if error.status < 500:
            close_gracefully(client)


class ListeningServer(StreamServer):  # type: ignore[misc]  # gevent's hints are partial
    """gevent's server of one listening socket, closed once: at SIGTERM (``Worker.stop_accepting``),
    and again by gunicorn's run(), whose graceful wait an exception there would skip."""

    def close(self) -> None:
        if not self.closed:
            super().close()


def check_head(req: Any) -> None:
    """Refuse a request head that gunicorn's parser accepts but RFC 9112 does not.

    Raises:
        gunicorn_errors.InvalidHeader: an HTTP/1.1 request without Host (RFC 9112 section 3.2: 400).
        gunicorn_errors.UnsupportedTransferCoding: a transfer coding besides chunked (``gzip,
            chunked``): gunicorn reads the chunks and ignores the coding, so the compressed bytes
            would be taken for the page (501, as for a coding gunicorn does not know).
    """
    names = {name for name, _value in req.headers}
    if req.version >= (1, 1) and "HOST" not in names:
        raise gunicorn_errors.InvalidHeader("HOST (an HTTP/1.1 request must have one)")
    for name, value in req.headers:
        if name == "TRANSFER-ENCODING" and {coding.strip(" \t").lower() for coding in value.split(",")} - {"chunked"}:
            raise gunicorn_errors.UnsupportedTransferCoding(value)


def problem_for(exc: BaseException, addr: Any) -> ServiceError:
    """The problem a refused request gets, logged as gunicorn logs it."""
    if isinstance(exc, gunicorn_errors.ParseException) and not isinstance(exc, _SERVER_FAULTS):
        peer = addr[0] if isinstance(addr, tuple) and addr else addr
        log.warning("invalid request from %s: %s", peer, exc)
        detail = str(exc)[:DETAIL_CHARS]
        for parse_error, service_error in _PARSE_ERRORS:
            if isinstance(exc, parse_error):
                return service_error(detail)
        return BadRequest(detail)
    log.error("error handling a request", exc_info=exc)
    return ServiceError("An unexpected error occurred; it has been logged.")


def close_gracefully(sock: Any) -> None:
    """Half-close ``sock``, read and discard what the client still sends (bounded), then close."""
    util.close_graceful(sock, timeout=LINGER_S, max_drain=LINGER_MAX_BYTES)


class CloseWhenAsked:
    """WSGI wrapper: an answer carrying ``Connection: close`` closes the connection, as does one
    that starts before the client got the ``100 Continue`` it waits for (``body.Body``): whether
    it sends the body it was not invited to send is its choice, so where the next request would
    start is unknown.

    gunicorn removes that header from the application's answer and decides on its own; its
    ``start_response`` is a method of its response object, whose ``force_close`` makes it close.
    """

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            body = environ.get("wsgi.input")
            uninvited = isinstance(body, Body) and body.withdraw_continue()
            if uninvited or any(name.lower() == "connection" and value.lower() == "close" for name, value in headers):
                force_close = getattr(getattr(start_response, "__self__", None), "force_close", None)
                if force_close is not None:
                    force_close()
            return start_response(status, headers, exc_info)

        return self.app(environ, start)
