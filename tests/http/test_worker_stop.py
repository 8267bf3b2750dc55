"""What a web worker does at SIGTERM (``server.Worker.stop_accepting``), at the level of its
gevent servers (tests/e2e/test_reload.py and test_shutdown.py show it on a real server)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gevent
import gevent.pool
import gevent.socket
import pytest

from service.http.server import ListeningServer, Worker


@pytest.fixture
def listener() -> Iterator[Any]:
    sock = gevent.socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock
    sock.close()


def test_after_sigterm_the_worker_accepts_no_more_but_its_handlers_can_still_name_the_socket(listener: Any) -> None:
    handled: list[tuple[str, int]] = []

    def handle(client: Any, _addr: Any) -> None:
        handled.append(listener.getsockname())  # gunicorn's handler starts so (base_async.handle)
        client.close()

    server = ListeningServer(listener, handle=handle, spawn=gevent.pool.Pool(10))
    server.start()
    address = listener.getsockname()
    worker = Worker.__new__(Worker)  # its SIGTERM path only: no gunicorn arbiter behind it
    worker.servers = [server]
    worker.stop_accepting()
    # A connection accepted just before SIGTERM is handled by a greenlet that may run only now:
    # it met a closed socket (EBADF) and its client was closed unanswered.
    handle(gevent.socket.socket(), None)
    assert handled == [address]
    late = gevent.socket.create_connection(address)
    gevent.sleep(0.2)
    assert handled == [address]  # the late connection waits for another worker to accept it
    late.close()
    server.close()
