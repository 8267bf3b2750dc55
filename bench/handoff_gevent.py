"""The hand-off prototype's front under gevent, inside gunicorn: the go/no-go of ``docs/handoff.md``.

``bench/handoff_prototype.py`` measured the hand-off with a plain ``selectors`` loop as the front.
The design in ``docs/handoff.md`` puts that front in a subclass of gunicorn's gevent worker, where
each request costs greenlet switches too. This module is that worker, just enough of it to measure:
- ``HandoffWorker.handle`` peeks at each request. ``POST /v1/extract`` is passed, once it is
  all in the socket buffer, to one of the worker's pinned extraction processes (the prototype's
  ``serve_connections``). Any other request falls back to gunicorn's own handling for the rest of
  the connection, which reads the bytes the peek left in place.
- ``app`` answers what falls back (``/readyz`` only).

The same omissions as the prototype's apply (no budget, no kill, no deadlines...): NOT a server to
run.

    gunicorn -k bench.handoff_gevent.HandoffWorker -w 1 -b 127.0.0.1:8080 bench.handoff_gevent:app
"""

from __future__ import annotations

import array
import socket
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.workers.ggevent import GeventWorker

from bench.handoff_prototype import (
    CONN_ID,
    HEAD_PEEK_BYTES,
    LANE,
    fork_extractors,
    request_size,
)
from service.connection_handoff import grow_receive_buffer, unread_bytes

HANDED_OFF = ("POST", "/v1/extract")


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """What falls back to gunicorn: ``/readyz``; anything else is a 404."""
    if environ.get("PATH_INFO") == "/readyz":
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "18")])
        return [b'{"status":"ready"}']
    start_response("404 Not Found", [("Content-Length", "0")])
    return [b""]


class HandoffWorker(GeventWorker):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn's gevent worker, handing whole ``POST /v1/extract`` requests to its extraction
    processes, which answer the clients themselves."""

    def init_process(self) -> None:
        from service.pipeline import warm_up

        warm_up()  # before the forks, and before gevent patches anything (super().init_process)
        self._plain_channels = fork_extractors(close_in_child=self.sockets)
        super().init_process()

    def run(self) -> None:
        import gevent
        from gevent import socket as gsocket
        from gevent.event import Event
        from gevent.lock import Semaphore

        self.channels = [gsocket.socket(fileno=c.detach()) for c in self._plain_channels]
        self.holding = [0] * len(self.channels)
        self.free = Semaphore(LANE * len(self.channels))
        self.done: dict[int, Event] = {}
        self.next_id = 0
        for index, channel in enumerate(self.channels):
            gevent.spawn(self._read_done, index, channel)
        super().run()

    def _read_done(self, index: int, channel: Any) -> None:
        while True:
            message = channel.recv(CONN_ID.size)
            if not message:
                return
            self.holding[index] -= 1
            self.free.release()
            self.done.pop(CONN_ID.unpack(message)[0]).set()

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        from gevent.event import Event
        from gevent.socket import wait_read

        client.setblocking(1)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        grow_receive_buffer(client)
        try:
            while True:
                peeked = client.recv(HEAD_PEEK_BYTES, socket.MSG_PEEK)
                if not peeked:
                    return
                sized = request_size(peeked)
                if sized is None or sized[:2] != HANDED_OFF:
                    super().handle(listener, client, addr)  # nothing consumed: gunicorn reads it all
                    return
                whole = sized[2]
                while unread_bytes(client.fileno()) < whole:
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, whole)
                    wait_read(client.fileno())
                client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 1)
                self.free.acquire()
                index = min(range(len(self.channels)), key=self.holding.__getitem__)
                self.holding[index] += 1
                self.next_id += 1
                done = self.done[self.next_id] = Event()
                fds = array.array("i", [client.fileno()])
                self.channels[index].sendmsg(
                    [CONN_ID.pack(self.next_id)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)]
                )
                done.wait()
        finally:
            client.close()
