"""Local HTTP(S) servers for the fetch tests: 127.0.0.1 only, one route per behaviour."""

from __future__ import annotations

import contextlib
import gzip
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LOOPBACK = "127.0.0.1"
# A private address nothing listens on (RFC 1918): the guard must refuse it before connecting.
PRIVATE_TARGET = "10.255.255.1"
STORY = "The ferry timetable changes on Monday, with two more crossings each evening in summer. " * 6
ARTICLE = (
    f"<html><head><title>Ferry timetable</title></head><body><article><h1>Ferry timetable</h1><p>{STORY}</p>"
    "</article></body></html>"
).encode()
SLOW_S = 5.0
# The fetch tests' body limit; /huge and /huge-chunked send four times as much.
MAX_BYTES = 64 * 1024
TRICKLE_INTERVAL_S = 0.1
# /stall's first pause: most of a 1 s fetch deadline (tests/fetch/test_fetch_client.py).
STALL_FIRST_S = 0.7


@dataclass
class Seen:
    """What the server received: (path, Host header) per request, and TLS server names."""

    requests: list[tuple[str, str]] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    seen: Seen
    port: int
    huge_bytes: int

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.seen.requests.append((self.path, self.headers.get("Host", "")))
        route = self.path.split("?", 1)[0]
        if route == "/page":
            self._send(200, "text/html; charset=utf-8", ARTICLE)
        elif route == "/text":
            self._send(200, "text/plain; charset=utf-8", f"Ferry timetable\n\n{STORY}\n".encode())
        elif route == "/gzip":
            self._send(200, "text/html", gzip.compress(ARTICLE), {"Content-Encoding": "gzip"})
        elif route == "/pdf":
            self._send(200, "application/pdf", b"%PDF-1.4\n" + bytes(64))
        elif route == "/missing":
            self._send(404, "text/html", b"<html><body>Not here</body></html>")
        elif route == "/to-private":
            self._redirect(f"http://{PRIVATE_TARGET}:{self.port}/page")
        elif route == "/to-metadata":
            self._redirect("http://169.254.169.254/latest/meta-data/")
        elif route == "/to-control":
            self._redirect("/pa\x01ge\r\n")
        elif route == "/to-file":
            self._redirect("file:///etc/passwd")
        elif route == "/to-malformed":
            self._redirect("http://[::1/page")  # urlsplit raises ValueError on it
        elif route.startswith("/hops/"):
            left = int(route.rsplit("/", 1)[1])
            self._redirect(f"/hops/{left - 1}" if left > 0 else "/page")
        elif route == "/slow":
            time.sleep(SLOW_S)
            self._send(200, "text/html", ARTICLE)
        elif route == "/trickle":
            self._trickle()
        elif route == "/stall":
            self._stall()
        elif route == "/banner":  # another service on an HTTP port: it does not speak HTTP
            self.wfile.write(b"SSH-2.0-OpenSSH_8.9p1 internal-bastion-7\r\n")
            self.close_connection = True
        elif route == "/trickle-head":
            self._trickle_head()
        elif route == "/huge":
            self._send(200, "text/html", b"<p>" + b"x" * self.huge_bytes)
        elif route == "/huge-chunked":
            self._chunked(b"<p>" + b"y" * self.huge_bytes)
        else:
            self._send(404, "text/plain", b"no such route")

    def _send(self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gave up (a timeout test): nothing to report
            self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _trickle(self) -> None:
        """A whole head, then the body a few bytes at a time."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self._drip(b"<p>a")

    def _trickle_head(self) -> None:
        """The status line, then a header a byte at a time: each wait is short, the head endless."""
        self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        self._drip(b"a")

    def _drip(self, piece: bytes) -> None:
        try:
            for _ in range(int(SLOW_S / TRICKLE_INTERVAL_S)):
                self.wfile.write(piece)
                self.wfile.flush()
                time.sleep(TRICKLE_INTERVAL_S)
        except OSError:
            pass  # the client gave up: that is the point

    def _stall(self) -> None:
        """Headers, a pause of most of the client's time, one byte, then nothing for long."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.flush()
        try:
            time.sleep(STALL_FIRST_S)
            self.wfile.write(b"<")
            self.wfile.flush()
            time.sleep(SLOW_S)
        except OSError:
            pass

    def _chunked(self, body: bytes) -> None:
        self.protocol_version = "HTTP/1.1"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for start in range(0, len(body), 8192):
                piece = body[start : start + 8192]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass


@dataclass
class Server:
    port: int
    seen: Seen
    scheme: str = "http"

    def url(self, path: str, host: str = LOOPBACK) -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"


@contextmanager
def serving(huge_bytes: int = 1 << 20, tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    """A threaded server on 127.0.0.1 (a free port) for the duration of the block."""
    seen = Seen()

    class Handler(_Handler):
        """This server's handler: its own class, so the attributes below are not shared."""

    Handler.seen = seen
    Handler.huge_bytes = huge_bytes
    Handler.port = 0
    httpd = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    httpd.daemon_threads = True
    Handler.port = httpd.server_address[1]
    if tls is not None:
        tls.sni_callback = lambda _sock, name, _ctx: seen.server_names.append(name)
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(port=Handler.port, seen=seen, scheme="https" if tls else "http")
    finally:
        httpd.shutdown()
        httpd.server_close()


def self_signed(directory: Path, name: str) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context with a fresh self-signed certificate for ``name``, and its file (the CA)."""
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}"),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context, cert
