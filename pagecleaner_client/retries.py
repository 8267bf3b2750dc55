"""When the client tries a request again: 429 and failed connections, bounded; nothing else.

A 503 ``time-budget-exceeded`` is the same page failing the same way again (up to ~55 s lost at
the defaults, issue 24), and ``extractor-unavailable`` or a 500 is not made better by insisting:
they raise at once. A 429 says "come back later" and usually says when (``Retry-After``); a
refused connection is a server restarting. Extraction is idempotent, so a request that may have
reached a server that then dropped the connection is safe to send again.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

from pagecleaner_client.errors import OVERLOADED_STATUS, CleanerError, response_error, transport_error

# httpx errors meaning "no answer came on this connection": refused, not opened in time, or
# closed by the server before an answer (a keep-alive connection it had just timed out).
RETRY_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.RemoteProtocolError,
)
DEFAULT_RETRIES = 5
# No single wait is longer than this: a client should not hang. A Retry-After longer than this is
# not cut short (the server would only refuse again): the 429 is raised at once.
MAX_RETRY_WAIT_S = 30.0
# The waits of one request add up to at most this, however many retries are left.
MAX_TOTAL_RETRY_S = 60.0
# Backoff step n is 0.5 * 2**n s (0.5, 1, 2, 4, ...). A wait is max(Retry-After, step) plus a
# random share of the step: many requests refused together (asyncio.gather over 100 pages) come
# back spread out instead of colliding again at exactly Retry-After, and each round spreads them
# over twice the time of the last.
BACKOFF_INITIAL_S = 0.5


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to try again, how long one wait and all the waits of a request may be."""

    retries: int = DEFAULT_RETRIES
    max_wait_s: float = MAX_RETRY_WAIT_S
    max_total_s: float = MAX_TOTAL_RETRY_S

    def wait_or_raise(
        self, attempt: int, outcome: httpx.Response | httpx.TransportError, url: str, waited: float = 0.0
    ) -> float:
        """Seconds to wait before attempt ``attempt + 1`` of a request whose attempt ``attempt``
        (0-based) ended in ``outcome`` (an error answer, already read, or httpx's error), after
        ``waited`` seconds of waits already.

        Raises:
            ProblemError: an error answer that is not retried, or a 429 after the last retry, with
                a Retry-After over ``max_wait_s``, or whose wait would pass ``max_total_s``.
            TransportError: a connection error after the last retry (or past ``max_total_s``), or
                any other transport error.
        """
        error: CleanerError
        retry_after: str | None = None
        if isinstance(outcome, httpx.Response):
            error = response_error(outcome)
            retryable = outcome.status_code == OVERLOADED_STATUS
            retry_after = outcome.headers.get("Retry-After")
        else:
            error = transport_error(outcome, url)
            retryable = isinstance(outcome, RETRY_ERRORS)
        if retryable and attempt < self.retries and _seconds(retry_after) <= self.max_wait_s:
            wait = self.delay(attempt, retry_after)
            if waited + wait <= self.max_total_s:
                return wait
        raise error

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """The wait before retry ``attempt + 1``: at least ``Retry-After`` (seconds or an HTTP
        date) and the backoff step, plus jitter; at most ``max_wait_s``."""
        step = BACKOFF_INITIAL_S * 2.0**attempt
        return min(max(_seconds(retry_after), step) + random.uniform(0, step), self.max_wait_s)


def _seconds(retry_after: str | None) -> float:
    """``Retry-After`` in seconds from now; 0 when absent, unreadable or in the past."""
    seconds = _parse_retry_after(retry_after) if retry_after else None
    return max(0.0, seconds or 0.0)


def _parse_retry_after(value: str) -> float | None:
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return parsedate_to_datetime(value).timestamp() - time.time()
    except (TypeError, ValueError):
        return None
