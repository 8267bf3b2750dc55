"""Which CPU each extraction process is pinned to.

CPU pinning: with one process per CPU this process may use (the default), each process is pinned
to its own CPU (a replacement takes the CPU its predecessor left). The web worker runs on the
same cores, and without pinning the scheduler moves extraction processes between cores, away
from the L2 cache they filled: pinned, pages/s rose ~2.5 % on average, the extraction CPU per
page fell about as much (a removed one-off A/B script: 8 experiments at 4 and 16 clients, 4-6
alternating pairs each on one server, from -0.8 % to +5.9 %). Not pinned when other processes
share the CPUs (CLEANER_PIN_EXTRACTORS=0), or when there are fewer processes than CPUs (e.g. a
CPU quota): the scheduler places them better.
"""

from __future__ import annotations

import os
import threading
from typing import Protocol

from service.settings import Settings


class Pinned(Protocol):
    cpu: int | None


def cpus_to_pin(settings: Settings, size: int) -> list[int]:
    """The CPUs to pin the pool's processes to, one each: only when there is one process per CPU
    this process may use (with fewer, e.g. under a CPU quota, the scheduler places them best)."""
    if not settings.pin_extractors or not hasattr(os, "sched_getaffinity"):
        return []
    allowed = sorted(os.sched_getaffinity(0))
    return allowed if size == len(allowed) > 1 else []


class CpuPins:
    """Pinned processes per CPU; a new process takes the CPU with the fewest (none: not pinning)."""

    def __init__(self, cpus: list[int]) -> None:
        self._users = dict.fromkeys(cpus, 0)
        self._lock = threading.Lock()

    def reserve(self) -> int | None:
        """The CPU with the fewest pinned processes, counted as taken; None when not pinning."""
        if not self._users:
            return None
        with self._lock:
            cpu = min(self._users, key=self._users.__getitem__)
            self._users[cpu] += 1
            return cpu

    def unreserve(self, cpu: int | None) -> None:
        if cpu is not None:
            with self._lock:
                self._users[cpu] -= 1

    def free(self, process: Pinned) -> None:
        """Give ``process``'s CPU back, once (its stop and its replacement both call this)."""
        with self._lock:
            cpu, process.cpu = process.cpu, None
        self.unreserve(cpu)
