"""The connection hand-off: what the web worker (``handoff_worker``) and the extraction process
(``connection_answer``) share to pass a whole ``POST /v1/extract`` request from one to the other.

Why (issue 5, ``docs/handoff.md``): copying each page into the web worker, through a pipe to an
extraction process and its answer back cost the web worker ~0.6-1.2 ms of the cores' time a page.
With the hand-off the web worker only peeks at the request's head, waits until the whole request
is in the socket's receive buffer, and passes the connection's descriptor (``SCM_RIGHTS``) to an
extraction process, which reads the request, extracts and answers the client itself. The web
worker keeps its own copy of the descriptor, so a supervisor's kill can still be answered.

Only plain requests are handed off (``parse_head``): anything unusual is served by gunicorn as
before, which reads the bytes the peek left in place, so the strictness costs speed, never
correctness.
"""

from __future__ import annotations

import array
import fcntl
import re
import socket
import struct
import termios
from dataclasses import dataclass, field
from email.utils import formatdate

from werkzeug.http import HTTP_STATUS_CODES

EXTRACT_PATH = "/v1/extract"
# Largest request handed off. Every connection's receive buffer is grown at the accept to hold
# this much unread (``grow_receive_buffer``); larger requests are read by gunicorn as before.
HANDOFF_MAX_BYTES = 1024 * 1024
# A head larger than this, or not yet all in the first peek, is left to gunicorn.
HEAD_MAX_BYTES = 16 * 1024
# Headers that make a request unusual enough to leave to gunicorn (bodies it must decode or
# negotiate, protocol switches).
_REFUSED_HEADERS = frozenset({"transfer-encoding", "expect", "upgrade", "trailer"})
_TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_TARGET = re.compile(rb"^/v1/extract(\?[\x21\x22\x24-\x7e]*)?$")  # no fragment
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")  # in a header value (a tab is fine)
_DIGITS = re.compile(rb"^[0-9]{1,10}$")
CONNECTION_SEQ = struct.Struct(">I")  # the job's sequence number, sent with its descriptor
# struct tcp_info (linux/tcp.h, append-only ABI): tcpi_bytes_acked, a u64 at byte 120 (Linux 4.1).
_TCP_INFO_BYTES = 136
_BYTES_ACKED = struct.Struct("=Q")
_BYTES_ACKED_OFFSET = 120


@dataclass(frozen=True)
class RequestHead:
    """A ``POST /v1/extract`` head that may be handed off."""

    size: int  # bytes of the head, blank line included
    content_length: int
    query_string: str
    headers: dict[str, str]  # lower-cased names, latin-1 values (as WSGI has them)

    @property
    def whole(self) -> int:
        """Bytes of the whole request."""
        return self.size + self.content_length

    @property
    def wants_close(self) -> bool:
        return "close" in (token.strip().lower() for token in self.headers.get("connection", "").split(","))


@dataclass(frozen=True)
class ConnectionJob:
    """What an extraction process needs, besides the connection, to answer one request: the
    head as the web worker parsed it and the headers it decided on (request id, CORS)."""

    head_size: int
    content_length: int
    content_type: str | None
    content_encoding: str | None
    query_string: str
    max_body_bytes: int
    started: float  # time.perf_counter() when the head arrived (CLOCK_MONOTONIC: system-wide)
    keep_alive: bool
    return_answer: bool = False  # send the article back in the summary (the web worker caches it)
    always_headers: list[tuple[str, str]] = field(default_factory=list)
    default_headers: list[tuple[str, str]] = field(default_factory=list)


def parse_head(peeked: bytes, max_content_length: int) -> RequestHead | None:
    """The head at the start of ``peeked`` if it is a plain ``POST /v1/extract`` that may be
    handed off: HTTP/1.1, origin-form target, token header names, no folded lines, no repeated
    header, one decimal ``Content-Length`` of at most ``max_content_length``, and none of
    Transfer-Encoding, Expect, Upgrade or Trailer. None for anything else, including a head not
    all in ``peeked``."""
    end = peeked.find(b"\r\n\r\n", 0, HEAD_MAX_BYTES)
    if end < 0:
        return None
    request_line, *lines = peeked[:end].split(b"\r\n")
    parts = request_line.split(b" ")
    if len(parts) != 3 or parts[0] != b"POST" or parts[2] != b"HTTP/1.1" or not _TARGET.match(parts[1]):
        return None
    headers: dict[str, str] = {}
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.match(name):  # also refuses obs-fold (a leading space)
            return None
        key = name.decode("ascii").lower()
        if key in headers or key in _REFUSED_HEADERS:
            return None
        if _CONTROL.search(value):
            return None
        headers[key] = value.strip(b" \t").decode("latin-1")
    length = headers.get("content-length", "").encode("latin-1")
    if not _DIGITS.match(length) or int(length) > max_content_length:
        return None
    _path, _, query = parts[1].decode("ascii").partition("?")
    return RequestHead(size=end + 4, content_length=int(length), query_string=query, headers=headers)


def http_response(
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
    always: list[tuple[str, str]],
    defaults: list[tuple[str, str]],
    keep_alive: bool,
) -> tuple[bytes, bool]:
    """(the response's bytes, whether the connection stays open), laid out as gunicorn does it
    (status line, Server, Date, Connection, then the app's headers). A ``Connection: close``
    among ``headers`` (408, 413) closes the connection, as it does under gunicorn."""
    keep = keep_alive and not any(n.lower() == "connection" and v.lower() == "close" for n, v in headers)
    present = {name.lower() for name, _value in headers}
    lines = [
        f"HTTP/1.1 {status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN').upper()}",
        "Server: pagecleaner",
        f"Date: {formatdate(usegmt=True)}",
        f"Connection: {'keep-alive' if keep else 'close'}",
        *(f"{name}: {value}" for name, value in headers if name.lower() != "connection"),
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in always),
        *(f"{name}: {value}" for name, value in defaults if name.lower() not in present),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body, keep


def grow_receive_buffer(conn: socket.socket) -> None:
    """Let ``conn`` hold a request of up to ``HANDOFF_MAX_BYTES`` without reading it.

    Linux grows a socket's receive buffer (and the window it advertises) to hold its
    ``SO_RCVLOWAT`` mark and never shrinks it back, so the mark is set high right after the
    accept and straight back to 1 (the head must still wake the web worker). Measured
    (``bench/socket_buffer.py``): a mark set only once the head has arrived can leave a request
    stuck short of it, and ``SO_RCVBUF`` is capped by ``net.core.rmem_max``; this held every size
    tried, capped only by ``tcp_rmem``'s maximum (6 MB by default). A kernel that does otherwise
    only makes requests wait ``HANDOFF_WAIT_S`` and go to gunicorn (``handoff_worker``)."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 2 * HANDOFF_MAX_BYTES)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 1)


def unread_bytes(fd: socket.socket | int) -> int:
    """Bytes waiting unread in a socket's receive buffer (FIONREAD)."""
    available = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, available)
    return available[0]


def discard(conn: socket.socket, size: int) -> None:
    """Read and drop the next ``size`` bytes of ``conn``, already in its receive buffer (a head,
    or a request answered without its body)."""
    scratch = bytearray(min(size, 256 * 1024))
    while size > 0:
        count = conn.recv_into(scratch, min(size, len(scratch)))
        if not count:
            raise ConnectionResetError("the client closed the connection")
        size -= count


def bytes_written(conn: socket.socket) -> int | None:
    """Bytes the application has written to a TCP connection so far: acknowledged by the peer
    (``tcpi_bytes_acked``) plus still in the send queue (SIOCOUTQ); None if the kernel does not
    say. Compared before and after a kill, it tells whether any of an answer went out."""
    try:
        info = conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_BYTES)
        queued = array.array("i", [0])
        fcntl.ioctl(conn.fileno(), termios.TIOCOUTQ, queued)
    except OSError:
        return None
    if len(info) < _BYTES_ACKED_OFFSET + _BYTES_ACKED.size:
        return None
    return int(_BYTES_ACKED.unpack_from(info, _BYTES_ACKED_OFFSET)[0]) + queued[0]
