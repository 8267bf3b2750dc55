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
DEFAULT_RETRIES = 3
# No single wait is longer than this, whatever Retry-After says: a client should not hang.
MAX_RETRY_WAIT_S = 30.0
# Without Retry-After: 0.5, 1, 2, 4 ... s, each +-25 % so that many clients do not return at once.
BACKOFF_INITIAL_S = 0.5
BACKOFF_JITTER = 0.25


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to try again and how long a wait may be."""

    retries: int = DEFAULT_RETRIES
    max_wait_s: float = MAX_RETRY_WAIT_S

    def wait_or_raise(self, attempt: int, outcome: httpx.Response | httpx.TransportError, url: str) -> float:
        """Seconds to wait before attempt ``attempt + 1`` of a request whose attempt ``attempt``
        (0-based) ended in ``outcome`` (an error answer, already read, or httpx's error).

        Raises:
            ProblemError: an error answer that is not retried, or a 429 after the last retry.
            TransportError: a connection error after the last retry, or any other transport error.
        """
        last = attempt >= self.retries
        error: CleanerError
        if isinstance(outcome, httpx.Response):
            error = response_error(outcome)
            if outcome.status_code == OVERLOADED_STATUS and not last:
                return self.delay(attempt, outcome.headers.get("Retry-After"))
        else:
            error = transport_error(outcome, url)
            if isinstance(outcome, RETRY_ERRORS) and not last:
                return self.delay(attempt, None)
        raise error

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """``Retry-After`` (seconds or an HTTP date) if given, else the backoff; at most ``max_wait_s``."""
        seconds = _parse_retry_after(retry_after) if retry_after else None
        if seconds is None:
            seconds = BACKOFF_INITIAL_S * 2**attempt * (1 + random.uniform(-BACKOFF_JITTER, BACKOFF_JITTER))
        return min(max(0.0, seconds), self.max_wait_s)


def _parse_retry_after(value: str) -> float | None:
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return parsedate_to_datetime(value).timestamp() - time.time()
    except (TypeError, ValueError):
        return None
