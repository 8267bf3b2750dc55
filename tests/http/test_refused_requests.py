"""What the gunicorn worker answers for requests its parser refuses, and when it closes (unit level;
tests/e2e/test_protocol_errors.py shows the same on a real server)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from gunicorn.http import errors as gunicorn_errors

from service.errors import ServiceError
from service.http.request_cycle import status_line
from service.http.server import DETAIL_CHARS, CloseWhenAsked, check_head, problem_for


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (gunicorn_errors.LimitRequestLine(40000, 32768), 414, "uri-too-long"),
        (gunicorn_errors.LimitRequestHeaders("limit request headers fields"), 431, "header-fields-too-large"),
        (gunicorn_errors.InvalidHeader("CONTENT-LENGTH"), 400, "bad-request"),
        (gunicorn_errors.ObsoleteFolding("X-A"), 400, "bad-request"),
        (gunicorn_errors.InvalidResponseHeader("'X-Bad'"), 500, "internal-error"),
        (RuntimeError("a bug"), 500, "internal-error"),
    ],
)
def test_a_refused_request_gets_the_status_gunicorn_would_give(exc: Exception, status: int, code: str) -> None:
    error = problem_for(exc, ("127.0.0.1", 5555))
    assert (error.status, error.code) == (status, code)


def test_the_detail_quotes_a_bounded_part_of_the_request() -> None:
    error = problem_for(gunicorn_errors.InvalidRequestLine("x" * 50_000), ("127.0.0.1", 5555))
    assert len(error.detail) <= DETAIL_CHARS


class FakeGunicornRequest:
    def __init__(self, version: tuple[int, int], headers: list[tuple[str, str]]) -> None:
        self.version, self.headers = version, headers


@pytest.mark.parametrize(
    ("version", "headers", "status"),
    [
        ((1, 1), [("HOST", "localhost")], None),
        ((1, 0), [], None),  # HTTP/1.0 has no Host to require
        ((1, 1), [], 400),
        ((1, 1), [("HOST", "localhost"), ("TRANSFER-ENCODING", "chunked")], None),
        ((1, 1), [("HOST", "localhost"), ("TRANSFER-ENCODING", "gzip, chunked")], 501),
        ((1, 1), [("HOST", "localhost"), ("TRANSFER-ENCODING", "Deflate ,chunked")], 501),
    ],
)
def test_a_head_gunicorn_lets_through_but_rfc_9112_refuses_is_refused(
    version: tuple[int, int], headers: list[tuple[str, str]], status: int | None
) -> None:
    if status is None:
        check_head(FakeGunicornRequest(version, headers))
        return
    with pytest.raises(gunicorn_errors.ParseException) as refused:
        check_head(FakeGunicornRequest(version, headers))
    assert problem_for(refused.value, ("127.0.0.1", 5555)).status == status


class FakeGunicornResponse:
    def __init__(self) -> None:
        self.closing = False
        self.started: list[tuple[str, list[tuple[str, str]]]] = []

    def force_close(self) -> None:
        self.closing = True

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        self.started.append((status, headers))


@pytest.mark.parametrize(("connection", "closes"), [("close", True), ("Close", True), (None, False)])
def test_an_answer_saying_connection_close_closes_the_connection(connection: str | None, closes: bool) -> None:
    headers = [("Content-Type", "application/problem+json")]
    if connection:
        headers.append(("Connection", connection))

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("413 REQUEST ENTITY TOO LARGE", headers)
        return [b"{}"]

    response = FakeGunicornResponse()
    assert CloseWhenAsked(app)({}, response.start_response) == [b"{}"]
    assert response.closing is closes
    assert response.started == [("413 REQUEST ENTITY TOO LARGE", headers)]


def _service_errors(kind: type[ServiceError] = ServiceError) -> Iterator[type[ServiceError]]:
    for sub in kind.__subclasses__():
        yield sub
        yield from _service_errors(sub)


@pytest.mark.parametrize("error", sorted(set(_service_errors()), key=str))
def test_every_error_status_has_a_status_line(error: type[ServiceError]) -> None:
    """The refused-request path writes its status line itself; ``http.HTTPStatus(499).phrase``,
    which it used, raises (499 is nginx's, not IANA's)."""
    line = status_line(error.status)
    assert line.startswith(f"{error.status} ")
    assert "UNKNOWN" not in line
