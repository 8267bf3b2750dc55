"""The extraction process's side of the connection hand-off: read one request from the client's
connection, extract, answer the client, and tell the web worker what happened.

What the web worker decided from the head travels in the ``ConnectionJob`` (request id and CORS
headers, keep-alive); what it needs for the access log and the metrics comes back in the summary.
The answer is the one ``extract_fast_path`` gives for the same request: the same body, options
and error functions (``read_body``'s checks, ``job_from_request``, ``request_cycle.problem``).

The connection's file description is shared with the web worker, whose gevent loop needs it
non-blocking: this side only ever uses timeouts, never a blocking socket.
"""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING, Any

from service.api.body import decode_body
from service.api.request_cycle import problem
from service.api.request_forms import job_from_request, query_arguments
from service.api.responses import article_headers, article_json
from service.connection_handoff import EXTRACT_PATH, ConnectionJob, discard, http_response
from service.errors import ServiceError
from service.extraction_worker import run_guarded

if TYPE_CHECKING:
    from service.pipeline import Limits

log = logging.getLogger(__name__)

# The whole request was in the socket buffer when it was handed off: reading it takes no wait,
# and a read that would still wait this long means the connection broke.
READ_GRACE_S = 1.0


class ConnectionAnswerer:
    """Answers handed-off requests in one extraction process."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def answer(self, fd: int, job: ConnectionJob) -> dict[str, Any]:
        """Answer the request on connection ``fd`` (closed here: the web worker keeps its own
        copy). Returns what the web worker logs and counts, with ``close`` (whether the
        connection must be closed), ``sent`` (the answer's size) and ``unsent`` (its bytes the
        client's socket could not take at once, for the web worker to send: a slow reader must
        not hold this process), and the article as ``answer`` when the job asks for it (the web
        worker's cache); ``status`` 0 when the request could not be read."""
        conn = socket.socket(fileno=fd)
        try:
            conn.settimeout(READ_GRACE_S)
            try:
                raw_body = _receive_body(conn, job.head_size, job.content_length)
            except OSError:
                return {"status": 0, "close": True, "unsent": b""}
            summary: dict[str, Any] = {}
            status, headers, text = self._respond(raw_body, job, summary)
            data, keep = http_response(
                status, headers, text.encode(), job.always_headers, job.default_headers, job.keep_alive
            )
            unsent = _send_what_fits(conn, data)
            summary.update(status=status, close=not keep or unsent is None, unsent=unsent or b"", sent=len(data))
            return summary
        finally:
            conn.close()

    def _respond(
        self, raw_body: bytes, job: ConnectionJob, summary: dict[str, Any]
    ) -> tuple[int, list[tuple[str, str]], str]:
        """(status, headers, body) of the answer, as ``extract_fast_path`` builds it; what the
        access log reads goes into ``summary`` (bytes_in, mode, warnings, error_code)."""
        try:
            body = decode_body(raw_body, job.content_encoding, job.max_body_bytes)
            summary["bytes_in"] = len(body)
            request = job_from_request(job.content_type, body, query_arguments(job.query_string))
            summary["mode"] = request.mode
            outcome = run_guarded(request, self.limits)
            if outcome[0] != "ok":
                raise outcome[1]
            answer = outcome[1]
            summary["warnings"] = answer.get("warnings", [])
            if job.return_answer:
                summary["answer"] = answer
            return 200, article_headers(cached=False), article_json(answer, job.started)
        except ServiceError as error:
            summary["error_code"] = error.code
            return problem(error, EXTRACT_PATH)
        except Exception:  # the same answer as the web worker's to an unexpected error
            log.exception("unexpected error on a handed-off POST %s", EXTRACT_PATH)
            unexpected = ServiceError("An unexpected error occurred; it has been logged.")
            summary["error_code"] = unexpected.code
            return problem(unexpected, EXTRACT_PATH)


def _receive_body(conn: socket.socket, head_size: int, length: int) -> bytes:
    """The body of this request, past its head, and nothing of a pipelined next one."""
    discard(conn, head_size)
    parts, missing = [], length
    while missing:  # one read: it is all in the buffer (more only if the kernel splits it)
        part = conn.recv(missing)
        if not part:
            raise ConnectionResetError("the client closed the connection")
        parts.append(part)
        missing -= len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _send_what_fits(conn: socket.socket, data: bytes) -> bytes | None:
    """Send ``data`` without waiting; return the part the socket could not take (None: the
    client has gone)."""
    conn.settimeout(0.0)
    view = memoryview(data)
    sent = 0
    try:
        while sent < len(data):
            sent += conn.send(view[sent:])
    except BlockingIOError:
        return bytes(view[sent:])
    except OSError:
        return None
    return b""
