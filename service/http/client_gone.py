"""Work the web worker does while a client waits, stopped when that client's connection closes.

A fetch by URL (``CLEANER_FETCH``) waits on another site for up to ``CLEANER_FETCH_TIMEOUT_S``
holding an upload slot, up to a body's worth of memory and a connection, and a page it gets
then takes an extraction slot and an extraction process: for a client that had gone, all of it
was spent for nobody. So a ``ClientWatch`` watches the client's socket from a greenlet of its
own and marks the client gone when the socket reads EOF (nginx's check of a broken client
connection, ``ngx_http_upstream_check_broken_connection``, reads the same way); work run through
it (``run``) is killed then. ``POST /v1/extract`` watches while it fetches; a batch watches for
as long as it streams, so a client that leaves stops every item's fetch and the items not yet
started (``batch``). Under gunicorn only (the gevent worker puts the socket in
``gunicorn.socket``); elsewhere the client is never gone and the work just runs.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar, cast

import gevent
from gevent.event import Event
from gevent.socket import wait_read

from service.errors import ClientClosed

T = TypeVar("T")
CLOSED_DETAIL = "The client closed its connection before the page was fetched."


class ClientWatch:
    """Whether one request's client is still connected; start it once the request's body has
    been read (unread body bytes would read as a client still there). A context manager, or
    ``close()`` it when the request ends."""

    def __init__(self, environ: dict[str, Any]) -> None:
        client = environ.get("gunicorn.socket")
        self._left: Event | None = None
        self._watcher: gevent.Greenlet | None = None
        if client is not None:
            self._left = Event()
            self._watcher = gevent.spawn(_mark_when_closed, client, self._left)

    @property
    def gone(self) -> bool:
        """True once the client has closed its connection."""
        return self._left is not None and self._left.is_set()

    def run(self, work: Callable[[], T]) -> T:
        """``work()``, killed if the client's connection closes first (or has closed already).

        Raises:
            ClientClosed: the client closed its connection before ``work`` finished.
            Whatever ``work`` raises.
        """
        if self._left is None:
            return work()
        if self._left.is_set():  # else the work would start: a set event wakes a waiter a loop turn later
            raise ClientClosed(CLOSED_DETAIL)
        working = gevent.spawn(_outcome, work)
        try:
            gevent.wait([working, self._left], count=1)
            if not working.ready():
                raise ClientClosed(CLOSED_DETAIL)
            answer, error = cast(tuple[T, Exception | None], working.get())
            if error is not None:
                raise error
            return answer
        finally:
            working.kill()  # the client left, or this greenlet itself is being killed (a worker's shutdown)

    def close(self) -> None:
        """Stop watching (the request is over: the connection may carry the next one)."""
        if self._watcher is not None:
            self._watcher.kill()

    def __enter__(self) -> ClientWatch:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def _outcome(work: Callable[[], T]) -> tuple[T | None, Exception | None]:  # (answer, None) or (None, error)
    """``work()``'s answer or its exception, returned: a greenlet that raises has gevent's hub
    print it with its arguments (the job, the settings) to stderr."""
    try:
        return work(), None
    except Exception as error:
        return None, error


def _mark_when_closed(client: socket.socket, left: Event) -> None:
    """Set ``left`` once ``client`` reads EOF or a reset; stop watching if it sends more first (a
    pipelined request: that client is still there, and its bytes are for gunicorn to read)."""
    wait_read(client.fileno())
    try:
        closed = client.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        closed = True
    if closed:
        left.set()
