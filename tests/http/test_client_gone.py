"""``ClientWatch``: work run through it stops when the client's connection closes, and only then
(a socket pair stands for gunicorn's client socket; the work waits cooperatively, as a fetch
does under gevent's monkey-patching)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import gevent
import pytest

from service.errors import ClientClosed
from service.http.client_gone import ClientWatch

# Far longer than a closed client takes to be noticed (a loop turn of gevent's hub).
WORK_S = 5.0


@pytest.fixture
def connection() -> Iterator[tuple[socket.socket, socket.socket]]:
    server_side, client_side = socket.socketpair()
    yield server_side, client_side
    server_side.close()
    client_side.close()


def slow_work() -> str:
    gevent.sleep(WORK_S)
    return "done"


def test_work_stops_when_the_client_closes(connection: tuple[socket.socket, socket.socket]) -> None:
    server_side, client_side = connection
    with ClientWatch({"gunicorn.socket": server_side}) as client:
        gevent.spawn_later(0.05, client_side.close)
        started = time.monotonic()
        with pytest.raises(ClientClosed):
            client.run(slow_work)
        assert client.gone
        assert time.monotonic() - started < WORK_S / 2


def test_nothing_starts_for_a_client_that_has_gone(connection: tuple[socket.socket, socket.socket]) -> None:
    server_side, client_side = connection
    client_side.close()
    ran: list[str] = []

    def work() -> str:
        ran.append("work")
        return "done"

    with ClientWatch({"gunicorn.socket": server_side}) as client:
        gevent.sleep(0.05)  # the watcher reads the EOF
        with pytest.raises(ClientClosed):
            client.run(work)
    assert ran == []


def test_a_client_that_sends_more_is_still_there(connection: tuple[socket.socket, socket.socket]) -> None:
    # A pipelined request: its bytes are for gunicorn; the work runs to its end.
    server_side, client_side = connection
    client_side.sendall(b"GET / HTTP/1.1\r\n")
    with ClientWatch({"gunicorn.socket": server_side}) as client:
        gevent.sleep(0.05)  # the watcher reads the bytes and stops watching
        assert client.run(lambda: "done") == "done"
        assert not client.gone


def test_without_gunicorns_socket_the_work_just_runs() -> None:
    with ClientWatch({}) as client:
        assert client.run(lambda: "done") == "done"
        assert not client.gone
