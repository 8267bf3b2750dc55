"""Work the web worker does while a client waits, stopped when that client's connection closes.

A fetch by URL (``CLEANER_FETCH``) waits on another site for up to ``CLEANER_FETCH_TIMEOUT_S``
holding an upload slot, up to a body's worth of memory and a connection, and a page it gets
then takes an extraction slot and an extraction process: for a client that had gone, all of it
was spent for nobody. So the fetch runs in its own greenlet while this one watches the client's
socket, and is killed when the socket reads EOF (nginx's check of a broken client connection,
``ngx_http_upstream_check_broken_connection``, reads the same way). Under gunicorn only (the
gevent worker puts the socket in ``gunicorn.socket``); elsewhere the work just runs.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any, TypeVar, cast

import gevent
from gevent.socket import wait_read

from service.errors import ClientClosed

T = TypeVar("T")


def unless_client_leaves(environ: dict[str, Any], work: Callable[[], T]) -> T:
    """``work()``, killed if the client's connection closes first.

    Raises:
        ClientClosed: the client closed its connection before ``work`` finished.
        Whatever ``work`` raises.
    """
    client = environ.get("gunicorn.socket")
    if client is None:
        return work()
    working = gevent.spawn(_outcome, work)
    watching = gevent.spawn(_until_closed, client)
    try:
        gevent.wait([working, watching], count=1)
        if not working.ready() and watching.value:
            working.kill()
            raise ClientClosed("The client closed its connection before the page was fetched.")
        # Also after the watcher gave up (the client sent more bytes: it is still there).
        answer, error = cast(tuple[T, Exception | None], working.get())
        if error is not None:
            raise error
        return answer
    finally:
        watching.kill()
        working.kill()  # only when this greenlet itself is being killed (a worker's shutdown)


def _outcome(work: Callable[[], T]) -> tuple[T | None, Exception | None]:  # (answer, None) or (None, error)
    """``work()``'s answer or its exception, returned: a greenlet that raises has gevent's hub
    print it with its arguments (the job, the settings) to stderr."""
    try:
        return work(), None
    except Exception as error:
        return None, error


def _until_closed(client: socket.socket) -> bool:
    """True once ``client`` reads EOF or a reset; False if it sends more first (a pipelined
    request: that client is still there, and its bytes are for gunicorn to read)."""
    wait_read(client.fileno())
    try:
        return client.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True
