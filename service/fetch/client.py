"""One page fetched by URL with urllib3: redirects re-checked, time, size and type bounded.

Each hop resolves its host once (``guard.resolve``) and connects to the addresses it checked (the
next one only when a connection is refused or unreachable, as clients do on dual-stack hosts): the URL's
host name still goes out as ``Host`` and, for https, as the TLS server name (SNI) that the
certificate is verified against. Redirects (at most ``MAX_REDIRECTS``) go through the same check
before any connection. One deadline bounds the whole fetch: each socket operation is given only
what is left of it. The body is read in chunks up to ``CLEANER_MAX_BODY_BYTES`` (decompressed),
as a posted page is. urllib3's errors are translated here, and only here, into ours.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.client import HTTPException, RemoteDisconnected
from typing import Any
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util import parse_url
from werkzeug.http import parse_options_header

from service.errors import FetchFailed, FetchRefused, FetchTimeout
from service.fetch import guard
from service.models import Mode
from service.settings import IPNetwork

# As browsers and trafilatura's own fetcher do; more hops are a loop or a trap.
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
SCHEMES = {"http": 80, "https": 443}
# What the answer can be made from, and how: the Content-Types of a posted page.
PAGE_TYPES: dict[str, Mode] = {"text/html": "html", "application/xhtml+xml": "html", "text/plain": "text"}
ACCEPT = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8"
# Read size: large enough to keep the per-chunk overhead small, small enough to stop early.
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class FetchPolicy:
    """What a fetch may do: the settings it needs, as one value."""

    allowed: tuple[IPNetwork, ...] = ()
    timeout_s: float = 10.0
    max_bytes: int = 10 * 1024 * 1024
    user_agent: str = "pagecleaner (+fetch)"
    ca_certs: str = certifi.where()  # a fixed bundle: the container may have no system store


@dataclass(frozen=True)
class Fetched:
    """The page at the end of the redirects."""

    url: str
    status: int
    content_type: str
    mode: Mode
    charset: str | None
    body: bytes
    redirects: int

    def summary(self) -> dict[str, Any]:
        """The answer's ``fetch`` object."""
        return {"url": self.url, "status": self.status, "content_type": self.content_type, "redirects": self.redirects}


def fetch(url: str, policy: FetchPolicy, lookup: guard.Resolver = socket.getaddrinfo) -> Fetched:
    """GET ``url`` and follow its redirects within ``policy``.

    Raises:
        FetchRefused: an address on the way is not one the server may reach.
        FetchFailed: connection, TLS, status, type, size, redirect or URL trouble (``reason``).
        FetchTimeout: the fetch took longer than ``policy.timeout_s``.
    """
    deadline = time.monotonic() + policy.timeout_s
    for hop in range(MAX_REDIRECTS + 1):
        with _request(url, policy, deadline, lookup) as response:
            location = response.headers.get("Location")
            if response.status in REDIRECT_STATUSES and location:
                url = _redirect_target(url, location)
                continue
            return _page(url, response, policy, deadline, hop)
    raise FetchFailed(f"More than {MAX_REDIRECTS} redirects.", reason="redirects", url=url)


@contextmanager
def _request(
    url: str, policy: FetchPolicy, deadline: float, lookup: guard.Resolver
) -> Iterator[urllib3.BaseHTTPResponse]:
    """The response to GET ``url`` (its head read), its connection closed on the way out."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        host = (parts.hostname or "").encode("idna").decode("ascii")
        port = parts.port or SCHEMES[scheme]
    except (UnicodeError, ValueError, KeyError):
        raise FetchFailed(f"{url!r} is not an http(s) URL with a valid host.", reason="invalid-url", url=url) from None
    addresses = guard.resolve(host, port, policy.allowed, _left(deadline, url), lookup)
    default_port = port == SCHEMES[scheme]
    headers = {
        "Host": (f"[{host}]" if ":" in host else host) + ("" if default_port else f":{port}"),
        "User-Agent": policy.user_agent,
        "Accept": ACCEPT,
        "Accept-Encoding": "gzip, deflate",
    }
    for attempt, address in enumerate(addresses, start=1):
        watch = _HeadWatch(deadline)
        pool = _pool(scheme, address, port, host, policy, deadline, url)
        pool.ConnectionCls = watch.watching(pool.ConnectionCls)
        try:
            response = pool.urlopen(
                "GET",
                parse_url(url).request_uri,
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
        except NewConnectionError as error:  # refused or unreachable: the next checked address
            pool.close()
            if attempt == len(addresses):
                raise _translated(error, url) from None
            continue
        except Exception as error:
            pool.close()
            if watch.fired:
                raise FetchTimeout(f"{url} was not fetched in time.", url=url) from None
            raise _translated(error, url) from None
        finally:
            watch.disarm()
        try:
            yield response
            return
        finally:
            response.close()  # never reused: the next hop is another address, maybe another host
            pool.close()


class _HeadWatch:
    """Shuts a connection's socket at the fetch's deadline until the answer's head is in.

    urllib3 gives every wait on the socket its own timeout, so a server trickling its TLS
    handshake or its headers a byte at a time kept a fetch going as long as it liked (s20 audit:
    40 s for a 10 s fetch, each holding a reading slot). The body is read against the deadline
    by ``_read_body``.
    """

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.fired = False
        self._timers: list[threading.Timer] = []

    def watching(self, base: type[Any]) -> type[Any]:
        """``base`` (a pool's urllib3 connection class), its new sockets put under this watch."""
        watch = self

        class Watched(base):  # type: ignore[misc]
            def _new_conn(self) -> socket.socket:
                sock: socket.socket = super()._new_conn()
                watch.arm(sock)
                return sock

        return Watched

    def arm(self, sock: socket.socket) -> None:
        timer = threading.Timer(max(0.0, self.deadline - time.monotonic()), self._fire, args=(sock,))
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def disarm(self) -> None:
        for timer in self._timers:
            timer.cancel()

    def _fire(self, sock: socket.socket) -> None:
        self.fired = True
        with contextlib.suppress(OSError):  # already closed: nothing to stop
            sock.shutdown(socket.SHUT_RDWR)


def _pool(
    scheme: str, address: str, port: int, host: str, policy: FetchPolicy, deadline: float, url: str
) -> urllib3.HTTPConnectionPool:
    """A one-connection pool to ``address``, speaking to it as ``host``."""
    timeout = urllib3.Timeout(connect=_left(deadline, url), read=_left(deadline, url))
    if scheme != "https":
        return urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
    return urllib3.HTTPSConnectionPool(
        address,
        port,
        timeout=timeout,
        retries=False,
        cert_reqs="CERT_REQUIRED",
        ca_certs=policy.ca_certs,
        server_hostname=host,  # SNI: the URL's name, not the address connected to
        assert_hostname=host,  # and the certificate must be for that name
    )


def _page(url: str, response: urllib3.BaseHTTPResponse, policy: FetchPolicy, deadline: float, hops: int) -> Fetched:
    """The final answer's page, once its status, type and size pass."""
    if not 200 <= response.status < 300:
        raise FetchFailed(
            f"{url} answered HTTP {response.status}.", reason="status", url=url, upstream_status=response.status
        )
    content_type = response.headers.get("Content-Type", "")
    mimetype, params = parse_options_header(content_type)
    # No Content-Type at all: sniffed as HTML, as browsers do with a page that declares nothing.
    mode = PAGE_TYPES.get(mimetype.lower() or "text/html")
    if mode is None:
        raise FetchFailed(
            f"{url} is {mimetype!r}, not a web page or text (send {', '.join(PAGE_TYPES)}).",
            reason="content-type",
            url=url,
        )
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise _too_large(url, policy.max_bytes)
    body = _read_body(url, response, policy.max_bytes, deadline)
    return Fetched(url, response.status, content_type, mode, params.get("charset"), body, hops)


def _read_body(url: str, response: urllib3.BaseHTTPResponse, max_bytes: int, deadline: float) -> bytes:
    """The decoded body, read until the end, ``max_bytes`` or the deadline, whichever comes first."""
    chunks: list[bytes] = []
    total = 0
    sock = _socket_of(response)
    try:
        while True:
            left = _left(deadline, url)  # a trickling server: checked between chunks
            if sock is not None and sock.fileno() != -1:  # closed once the whole body is in
                sock.settimeout(left)  # a stalled one: no single wait outlives the deadline
            chunk = response.read1(CHUNK_BYTES, decode_content=True)  # one recv: the deadline is checked after each
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if total > max_bytes:
                raise _too_large(url, max_bytes)
            chunks.append(chunk)
    except (FetchFailed, FetchTimeout):
        raise
    except Exception as error:
        raise _translated(error, url) from None


def _socket_of(response: urllib3.BaseHTTPResponse) -> socket.socket | None:
    """The socket the body is read from, to bound each wait on it (None if it cannot be found).

    http.client hands the socket to its response (the connection's ``sock`` is None by then),
    which reads it through ``socket.makefile``; neither exposes it publicly.
    """
    reader = getattr(getattr(response, "_fp", None), "fp", None)
    sock = getattr(getattr(reader, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _redirect_target(url: str, location: str) -> str:
    try:
        target = urljoin(url, location.strip())
        parts = urlsplit(target)
        valid = parts.scheme.lower() in SCHEMES and bool(parts.hostname)
    except ValueError:  # "http://[::1/": an upstream's malformed Location is its failure, not a 500
        target, valid = location.strip(), False
    if not valid:
        raise FetchFailed(f"{url} redirects to {target!r}, not an http(s) URL.", reason="invalid-url", url=url)
    return target


def _left(deadline: float, url: str) -> float:
    """Seconds left before ``deadline``; raises FetchTimeout when none are."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchTimeout(f"{url} was not fetched in time.", url=url)
    return left


def _too_large(url: str, max_bytes: int) -> FetchFailed:
    return FetchFailed(f"{url} is larger than {max_bytes} bytes (CLEANER_MAX_BODY_BYTES).", reason="too-large", url=url)


def _translated(error: Exception, url: str) -> Exception:
    """urllib3's (and the socket's) exception as ours; anything else unchanged."""
    if isinstance(error, (FetchFailed, FetchTimeout, FetchRefused)):
        return error
    if isinstance(error, ValueError):  # http.client's InvalidURL, urllib3's LocationValueError
        return FetchFailed(f"{url!r} cannot be requested ({_short(error)}).", reason="invalid-url", url=url)
    if isinstance(error, NewConnectionError):  # before timeouts: urllib3 derives it from ConnectTimeoutError
        return FetchFailed(f"{url} could not be fetched ({_short(error)}).", reason="connection", url=url)
    if isinstance(error, (ConnectTimeoutError, ReadTimeoutError, TimeoutError)):
        return FetchTimeout(f"{url} was not fetched in time.", url=url)
    if isinstance(error, HTTPError) and isinstance(getattr(error, "reason", None), (ConnectTimeoutError, TimeoutError)):
        return FetchTimeout(f"{url} was not fetched in time.", url=url)
    if isinstance(error, SSLError):
        return FetchFailed(f"TLS with {url} failed ({_short(error)}).", reason="tls", url=url)
    if isinstance(error, ProtocolError) and any(isinstance(arg, RemoteDisconnected) for arg in error.args):
        return FetchFailed(f"{url} closed the connection without an answer.", reason="connection", url=url)
    if isinstance(error, ProtocolError) and any(isinstance(arg, HTTPException) for arg in error.args):
        # Not its bytes: a service on another port (SSH, SMTP) would have its banner echoed to
        # the client (s20 audit).
        return FetchFailed(f"{url} did not answer in HTTP.", reason="connection", url=url)
    if isinstance(error, (HTTPError, OSError)):
        return FetchFailed(f"{url} could not be fetched ({_short(error)}).", reason="connection", url=url)
    return error


def _short(error: BaseException) -> str:
    # urllib3 wraps the cause; its last line says what happened without the pool's repr.
    text = str(getattr(error, "reason", None) or error)
    return text.rsplit(": ", 1)[-1][:200] if text else type(error).__name__
