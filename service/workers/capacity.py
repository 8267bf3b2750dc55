"""Bulk callers (CLI batch, WARC) start a page's clock only when an extraction process is free."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

from service.workers.pool import CAPACITY_POLL_S, SPAWN_TIMEOUT_S, ExtractionPool


class CapacityGate:
    """Start a page's clock only when an extraction process is free for it (bulk callers).

    ``ExtractionPool.submit`` counts the wait for a free process against the page's budget: right
    for the API (the client's budget is wall-clock), wrong for a bulk job, where after a kill the
    pool is one short until the replacement is up (a fork: milliseconds; longer if the fork
    server itself had to be started again, ~1 s) and the next page would lose its budget waiting.
    Bulk callers (the batch and warc commands) hold a slot around ``submit``.
    """

    def __init__(self, pool: ExtractionPool) -> None:
        self.pool = pool
        self.busy = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one process's worth of capacity for the block (waits at most SPAWN_TIMEOUT_S)."""
        deadline = time.monotonic() + SPAWN_TIMEOUT_S
        while True:
            with self._lock:
                if self.busy < self.pool.alive or time.monotonic() > deadline:
                    self.busy += 1
                    break
            time.sleep(CAPACITY_POLL_S)
        try:
            yield
        finally:
            with self._lock:
                self.busy -= 1
