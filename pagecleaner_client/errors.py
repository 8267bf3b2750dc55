"""The client's exceptions, and the one place where httpx's errors and problem answers become them."""

from __future__ import annotations

import json
from typing import Any

import httpx

# 429 is the only status worth another try (retries.py); it is "unavailable" when it persists.
OVERLOADED_STATUS = 429


class CleanerError(Exception):
    """Base of every error this client raises."""


class TransportError(CleanerError):
    """No usable HTTP answer: connection refused (after the retries), timeout, broken answer."""


class ProblemError(CleanerError):
    """The server answered with an error; ``problem`` is its RFC 9457 problem document.

    ``code`` is the stable machine-readable code (``invalid-option``, ``time-budget-exceeded``),
    ``status`` the HTTP status, ``detail`` the human-readable explanation.
    """

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.code: str = str(problem.get("code", "unknown"))
        self.detail: str = str(problem.get("detail") or problem.get("title") or f"HTTP {status}")
        super().__init__(f"{status} {self.code}: {self.detail}")


class RequestRejectedError(ProblemError):
    """4xx but 429: this request or page is refused (400 invalid-option, 401, 413, 422 not-a-page)."""


class ServiceUnavailableError(ProblemError):
    """5xx (503 time-budget-exceeded, 503 extractor-unavailable, 500), or 429 still after the retries."""


def error_for(status: int, problem: dict[str, Any]) -> ProblemError:
    """The exception for a final error answer: rejected (4xx but 429) or unavailable (the rest)."""
    kind = RequestRejectedError if 400 <= status < 500 and status != OVERLOADED_STATUS else ServiceUnavailableError
    return kind(status, problem)


def problem_error(status: int, body: bytes, reason: str = "") -> ProblemError:
    """The exception for an error answer of ``status`` whose body is ``body`` (a problem document,
    or anything else a proxy in between may send)."""
    problem = _problem_document(body)
    if problem is None:
        problem = {"status": status, "title": reason, "detail": body[:500].decode("utf-8", "replace")}
    return error_for(status, problem)


def response_error(response: httpx.Response) -> ProblemError:
    """``problem_error`` of a read httpx answer."""
    return problem_error(response.status_code, response.content, response.reason_phrase)


def transport_error(error: httpx.TransportError, url: str) -> TransportError:
    """Our ``TransportError`` for one of httpx's (connection, timeout, protocol)."""
    if isinstance(error, httpx.TimeoutException):
        return TransportError(f"{url}: no answer in time ({type(error).__name__})")
    return TransportError(f"{url}: {type(error).__name__}: {error}")


def _problem_document(body: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return document if isinstance(document, dict) else None
