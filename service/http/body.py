"""Reading a request body within its limits: size (before and after decompression) and time.

The limit is enforced while reading, so a 1 GB upload or a gzip bomb is refused after at most
``max_bytes`` (+ one chunk) have been held in memory, and a client that trickles its body or
declares a length it never sends is cut off after ``read_timeout_s`` (408), freeing the
connection's greenlet instead of holding it forever.

A chunked body is read by gunicorn's reader, swapped for ``ChunkedReader`` (``http/server.py``)
so that chunks declaring more than the limit are refused when their size line arrives (413 at
once, as a Content-Length over it is), and its framing errors are the client's (400), not ours.
gunicorn's ``Body`` is swapped the same way for ``Body``, which sends the ``100 Continue`` a
client with ``Expect: 100-continue`` waits for only when the body is first read.
"""

from __future__ import annotations

import contextlib
import socket
import zlib
from collections.abc import Iterator
from typing import Any

import gunicorn.http.body
from gunicorn.http.errors import NoMoreData, ParseException

from service.errors import BadRequest, BodyTooLarge, RequestTimeout, UnsupportedMediaType

CHUNK_BYTES = 64 * 1024
# zlib wbits accepting both gzip and zlib headers (32 + 15).
_GZIP_OR_ZLIB = 32 + zlib.MAX_WBITS
_GZIP_MAGIC = b"\x1f\x8b"
_DECOMPRESSIBLE = {"gzip", "x-gzip", "deflate"}


def read_body(environ: dict[str, Any], max_bytes: int, read_timeout_s: float) -> bytes:
    """The (decoded) request body.

    Raises:
        BodyTooLarge: declared or actual size over ``max_bytes`` (after decompression).
        RequestTimeout: the body did not arrive within ``read_timeout_s``.
        UnsupportedMediaType: a Content-Encoding other than gzip/deflate/identity.
        BadRequest: a corrupt compressed body, a malformed Content-Length or chunked body.
    """
    encoding = _encoding(environ.get("HTTP_CONTENT_ENCODING"))
    declared = _declared_length(environ)
    if declared is not None and declared > max_bytes and encoding in {"identity", ""}:
        raise BodyTooLarge(_too_large(max_bytes))
    stream = environ["wsgi.input"]
    limit = max_bytes if encoding in {"identity", ""} else max_bytes * 4
    reader = getattr(stream, "reader", None)  # gunicorn's Body wraps a reader of the framing
    if isinstance(reader, ChunkedReader):
        reader.limit = limit
    try:
        with _deadline(environ, read_timeout_s):
            raw = _read_limited(stream, declared, limit)
    except NoMoreData:  # the client closed the connection in the middle of a chunked body
        raise BadRequest("The chunked body ended before its last chunk.") from None
    except ParseException as error:  # gunicorn's reader: a bad chunk size, extension, terminator
        raise BadRequest(f"The chunked body is malformed: {str(error)[:200]}") from None
    if encoding in _DECOMPRESSIBLE:
        return _decompress(raw, max_bytes)
    return raw


class ChunkedReader(gunicorn.http.body.ChunkedReader):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn's reader of a chunked body, which also adds up the sizes its chunks declare and
    refuses the body as soon as they pass ``limit`` (set by ``read_body``, which knows the
    endpoint's limit). Without it, a chunk declaring 20 MB and then stalling got the 408 after
    the read timeout (10 s), and a real one was read up to the limit first."""

    limit: int | None = None
    declared = 0

    def parse_chunk_size(self, unreader: Any, data: bytes | None = None) -> tuple[int, bytes | None]:
        size, rest = super().parse_chunk_size(unreader, data)
        self.declared += size
        if self.limit is not None and self.declared > self.limit:
            raise BodyTooLarge(_too_large(self.limit))
        return size, rest


class Body(gunicorn.http.body.Body):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn's request body, owing the client its ``100 Continue`` (``Expect: 100-continue``)
    until the application first reads it.

    gunicorn sends the 100 before the application sees the head, inviting an upload that the
    head alone already refuses (a Content-Length over the limit, a Content-Type the endpoint does
    not take, no API key): curl then sent 11 MB to read a 413. RFC 9110 section 10.1.1: a server
    that refuses a request on its head answers the final status instead of the 100.
    ``http/server.py`` sets ``continue_owed_to`` instead of letting gunicorn send it, and
    withdraws it when the answer starts first (then the connection closes: the client may or
    may not send the body it was not invited to send).
    """

    continue_owed_to: Any = None  # the client's socket while the 100 is owed

    def read(self, size: int | None = None) -> bytes:
        self._send_continue()
        data: bytes = super().read(size)
        return data

    def readline(self, size: int | None = None) -> bytes:
        self._send_continue()
        line: bytes = super().readline(size)
        return line

    def withdraw_continue(self) -> bool:
        """Never send the 100 (the final answer starts): whether it was still owed."""
        owed = self.continue_owed_to is not None
        self.continue_owed_to = None
        return owed

    def _send_continue(self) -> None:
        sock, self.continue_owed_to = self.continue_owed_to, None
        if sock is not None:
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")


def _encoding(header: str | None) -> str:
    """The Content-Encoding, lower-cased ("identity" when absent).

    Raises:
        UnsupportedMediaType: not gzip, deflate or identity.
    """
    encoding = (header or "identity").strip().lower()
    if encoding not in _DECOMPRESSIBLE | {"identity", ""}:
        raise UnsupportedMediaType(f"Content-Encoding {encoding!r} is not supported; use gzip, deflate or none.")
    return encoding


def _declared_length(environ: dict[str, Any]) -> int | None:
    raw = environ.get("CONTENT_LENGTH")
    if raw in (None, ""):
        return None
    try:
        length = int(raw)
    except ValueError:
        raise BadRequest("Content-Length is not a number.") from None
    if length < 0:
        raise BadRequest("Content-Length is negative.")
    return length


def _read_limited(stream: Any, declared: int | None, limit: int) -> bytes:
    if declared is not None and declared <= limit:
        # A declared length within the limit: one read (the server reads ahead up to the body's
        # end) instead of a loop of chunks joined and copied again.
        body = stream.read(declared) if declared else b""
        if len(body) < declared:
            raise BadRequest("The body ended before its declared Content-Length.")
        return bytes(body)
    received = bytearray()
    while declared is None or len(received) < declared:
        want = CHUNK_BYTES if declared is None else min(CHUNK_BYTES, declared - len(received))
        chunk = stream.read(want)
        if not chunk:
            break
        received += chunk
        if len(received) > limit:
            raise BodyTooLarge(_too_large(limit))
    if declared is not None and len(received) < declared:
        raise BadRequest("The body ended before its declared Content-Length.")
    return bytes(received)


def _decompress(raw: bytes, max_bytes: int) -> bytes:
    """The body decompressed: every gzip member in turn (RFC 1952 allows several), or one zlib stream.

    Raises:
        BodyTooLarge: more than ``max_bytes`` once decompressed.
        BadRequest: corrupt, truncated (a cut upload must not become a shorter page, issue 24),
            or followed by bytes that are not another gzip member.
    """
    out = bytearray()
    data = raw
    try:
        while True:
            decompressor = zlib.decompressobj(_GZIP_OR_ZLIB)
            while data and not decompressor.eof:
                out += decompressor.decompress(data, max_bytes + 1 - len(out))
                if len(out) > max_bytes:
                    raise BodyTooLarge(_too_large(max_bytes) + " (after decompression)")
                data = decompressor.unconsumed_tail
            if not decompressor.eof:
                raise BadRequest("The compressed body is truncated: its stream does not end.")
            data = decompressor.unused_data
            if not data:
                return bytes(out)
            if not data.startswith(_GZIP_MAGIC):
                raise BadRequest("The compressed body is followed by bytes that are not compressed.")
    except zlib.error:
        raise BadRequest("The compressed body is corrupt.") from None


def _too_large(limit: int) -> str:
    return f"The body is larger than the limit of {limit} bytes."


@contextlib.contextmanager
def _deadline(environ: dict[str, Any], seconds: float) -> Iterator[None]:
    """A total deadline on reading the body.

    Under gevent (the serving configuration) a ``gevent.Timeout`` interrupts the read wherever
    it waits; elsewhere the socket gets a per-read timeout (a weaker bound: per chunk).
    """
    gevent_timeout = _gevent_timeout_class()
    if gevent_timeout is not None:
        timer = gevent_timeout(seconds)
        timer.start()
        try:
            yield
        except gevent_timeout as fired:
            if fired is not timer:
                raise
            raise RequestTimeout(f"The body did not arrive within {seconds:g} s.") from None
        finally:
            timer.close()
        return
    sock = environ.get("gunicorn.socket")
    if isinstance(sock, socket.socket):
        sock.settimeout(seconds)
    try:
        yield
    except TimeoutError:
        raise RequestTimeout(f"The body did not arrive within {seconds:g} s.") from None


def _gevent_timeout_class() -> Any:
    try:
        from gevent import monkey
    except ImportError:
        return None
    if not monkey.is_module_patched("socket"):
        return None
    from gevent import Timeout

    return Timeout
