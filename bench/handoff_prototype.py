"""A prototype server for ``bench/serving_ceiling.py``: the front hands each connection to an
extraction process, which reads the request, extracts, and answers the client itself.

The question it answers: how much of the inline server's gain (extraction inside the HTTP
worker) is kept by a design that still has a separate front process, which a supervisor needs in
order to kill an overrunning extraction and still answer its client. The service today copies each
page from the front to an extraction process over a pipe and its answer back. Here the front only
does four things:
- it peeks at each request's head, without reading it;
- it waits until the whole request is in the kernel's socket buffer (``SO_RCVLOWAT``), so a slow
  client holds no extraction process;
- it passes the connection's file descriptor to the least busy extraction process (at most two
  connections each, as the pool's lanes), with ``SCM_RIGHTS``;
- when the process says it is done, it watches the connection for the next request.

This is NOT a server to run. It omits:
- the time budget and any kill;
- deadlines on slow clients or idle connections;
- chunked bodies, ``Expect``, any head that does not arrive in one piece;
- requests larger than the socket buffer;
- auth, options, logs, metrics and the cache.
It exists so that the README's numbers for it can be reproduced.

    python -m bench.handoff_prototype PORT
"""

from __future__ import annotations

import array
import json
import os
import selectors
import signal
import socket
import struct
import sys
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The service's own: session 11 built the hand-off from this prototype.
from service.connection_handoff import grow_receive_buffer, unread_bytes  # noqa: E402

LANE = 2  # connections an extraction process holds at once: the one it answers and one waiting
HEAD_PEEK_BYTES = 65536
CONN_ID = struct.Struct(">I")


def parse_head(raw: bytes) -> tuple[str, str, dict[str, str]]:
    """(method, target, lower-cased headers) of a request head without its blank line."""
    request_line, *lines = raw.decode("latin-1").split("\r\n")
    method, target, _version = request_line.split(" ")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return method, target, headers


def request_size(peeked: bytes) -> tuple[str, str, int] | None:
    """(method, path, bytes of the whole request: head and body) from the bytes peeked at the
    start of a request; None while its head is not all there."""
    end = peeked.find(b"\r\n\r\n")
    if end < 0:
        return None
    method, target, headers = parse_head(peeked[:end])
    return method, target.partition("?")[0], end + 4 + int(headers.get("content-length", "0"))


def answer(target: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
    """(status, JSON) for one request: ``/readyz`` or a page through the pipeline."""
    from service.models import Job, Options
    from service.pipeline import run

    if target == "/readyz":
        return 200, b'{"status":"ready"}'
    as_text = headers.get("content-type", "").startswith("text/plain")
    job = Job(mode="text" if as_text else "html", body=body, options=Options())
    try:
        return 200, json.dumps(run(job), ensure_ascii=False).encode()
    except Exception as error:  # a prototype: every failure is one status
        return 422, json.dumps({"code": type(error).__name__}).encode()


def serve_connections(channel: socket.socket) -> None:
    """An extraction process: for each connection passed in, read one request, answer it, report."""
    while True:
        message, ancillary, _flags, _address = channel.recvmsg(CONN_ID.size, socket.CMSG_SPACE(4))
        if not message:
            os._exit(0)
        fds = array.array("i")
        for _level, _type, data in ancillary:
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
        conn = socket.socket(fileno=fds[0])
        conn.setblocking(True)
        received = b""
        while b"\r\n\r\n" not in received:
            received += conn.recv(HEAD_PEEK_BYTES)
        head, _, body = received.partition(b"\r\n\r\n")
        _method, target, headers = parse_head(head)
        missing = int(headers.get("content-length", "0")) - len(body)
        parts = [body]
        while missing > 0:  # exactly this request: what follows is the next one's
            chunk = conn.recv(missing)
            parts.append(chunk)
            missing -= len(chunk)
        status, payload = answer(target, headers, b"".join(parts))
        head_out = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        conn.sendall(head_out.encode() + payload)
        conn.close()  # this process's copy; the front keeps the connection
        channel.send(message)


def fork_extractors(close_in_child: Sequence[Any] = ()) -> list[socket.socket]:
    """One pinned extraction process per CPU, each running ``serve_connections``; returns the
    front's ends of their channels. A child closes every other channel end it inherited, and
    ``close_in_child`` (listening sockets): the front's exit must be its EOF."""
    channels: list[socket.socket] = []
    for cpu in range(os.cpu_count() or 1):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        if os.fork() == 0:
            for held in [ours, *channels, *close_in_child]:
                held.close()
            os.sched_setaffinity(0, {cpu})  # pinned, as the service's extraction processes
            serve_connections(theirs)
        theirs.close()
        channels.append(ours)
    return channels


@dataclass
class Extractor:
    channel: socket.socket
    holding: int = 0


class Front:
    """The front's event loop: whole requests in, connections out to extraction processes."""

    def __init__(self, listener: socket.socket, extractors: list[Extractor]) -> None:
        self.listener = listener
        self.extractors = extractors
        self.selector = selectors.DefaultSelector()
        self.connections: dict[int, socket.socket] = {}
        self.next_id = 0
        self.ready: deque[int] = deque()  # whole requests waiting for a free lane
        self.selector.register(listener, selectors.EVENT_READ, ("listener", 0))
        for index, extractor in enumerate(extractors):
            self.selector.register(extractor.channel, selectors.EVENT_READ, ("extractor", index))

    def run(self) -> None:
        while True:
            for key, _events in self.selector.select():
                kind, number = key.data
                if kind == "listener":
                    self._accept()
                elif kind == "connection":
                    self._request_arriving(number)
                else:
                    self._extractor_done(self.extractors[number])

    def _accept(self) -> None:
        while True:
            try:
                conn, _address = self.listener.accept()
            except BlockingIOError:
                return
            conn.setblocking(False)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            grow_receive_buffer(conn)
            self.next_id += 1
            self.connections[self.next_id] = conn
            self.selector.register(conn, selectors.EVENT_READ, ("connection", self.next_id))

    def _request_arriving(self, conn_id: int) -> None:
        conn = self.connections[conn_id]
        try:
            peeked = conn.recv(HEAD_PEEK_BYTES, socket.MSG_PEEK)
        except BlockingIOError:
            return
        if not peeked:  # the client closed
            self.selector.unregister(conn)
            conn.close()
            del self.connections[conn_id]
            return
        sized = request_size(peeked)
        if sized is None:
            return
        whole = sized[2]
        if unread_bytes(conn) < whole:  # woken again only once it is all there
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, whole)
            return
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 1)
        self.selector.unregister(conn)
        self._place(conn_id)

    def _place(self, conn_id: int) -> None:
        extractor = min(self.extractors, key=lambda e: e.holding)
        if extractor.holding >= LANE:
            self.ready.append(conn_id)
            return
        extractor.holding += 1
        fds = array.array("i", [self.connections[conn_id].fileno()])
        extractor.channel.sendmsg([CONN_ID.pack(conn_id)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])

    def _extractor_done(self, extractor: Extractor) -> None:
        while True:
            try:
                message = extractor.channel.recv(CONN_ID.size, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            extractor.holding -= 1
            (conn_id,) = CONN_ID.unpack(message)
            self.selector.register(self.connections[conn_id], selectors.EVENT_READ, ("connection", conn_id))
            if self.ready:
                self._place(self.ready.popleft())


def main(argv: list[str] | None = None) -> int:
    from service.pipeline import warm_up

    port = int((argv if argv is not None else sys.argv[1:])[0])
    warm_up()  # before the forks: every extraction process starts warm
    extractors = [Extractor(channel) for channel in fork_extractors()]
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    listener.setblocking(False)
    front = os.fork()
    if front == 0:  # the front runs as a child too, so a benchmark counts its CPU with theirs
        Front(listener, extractors).run()
    listener.close()
    for extractor in extractors:
        extractor.channel.close()
    # SIGTERM: stop the front; the extraction processes then read EOF and exit.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: os.kill(front, signal.SIGKILL))
    os.waitpid(front, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
