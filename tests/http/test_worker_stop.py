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


def test_at_sigterm_the_connections_accepted_already_start_before_the_socket_closes(listener: Any) -> None:
    handled: list[tuple[str, int]] = []

    def handle(client: Any, _addr: Any) -> None:
        handled.append(listener.getsockname())  # gunicorn's handler starts so (base_async.handle)
        client.close()

    server = ListeningServer(listener, handle=handle, spawn=gevent.pool.Pool(10))
    server.start()
    address = listener.getsockname()
    worker = Worker.__new__(Worker)  # its SIGTERM path only: no gunicorn arbiter behind it
    worker.servers = [server]
    # A connection the server accepted just before SIGTERM: its handler runs at the loop's next turn.
    accepted = gevent.spawn(handle, gevent.socket.socket(), None)
    worker.stop_accepting()
    accepted.join()
    assert handled == [address]  # it met a closed socket (EBADF) and its client was reset
    assert server.closed
    with pytest.raises(ConnectionRefusedError):  # and no new connection waits in a queue
        gevent.socket.create_connection(address)
