"""Admission control: a bounded number of requests in flight, 429 beyond it (issue 9).

Queueing without end only turns overload into timeouts for everyone; refusing at once with
``Retry-After`` lets a crawler back off while admitted requests keep their time budget.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from service.errors import Overloaded


class Admission:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0
        self.rejected = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def admit(self, weight: int = 1) -> Iterator[None]:
        """Hold ``weight`` slots for the duration of the block.

        Raises:
            Overloaded: the slots are not free right now.
        """
        with self._lock:
            if self.in_flight + weight > self.limit and self.in_flight > 0:
                self.rejected += 1
                raise Overloaded(f"{self.in_flight} requests are in flight (limit {self.limit}); retry shortly.")
            self.in_flight += weight
        try:
            yield
        finally:
            with self._lock:
                self.in_flight -= weight
