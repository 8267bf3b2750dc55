"""The kernel's OOM killer and the extraction processes: who it picks, and whether it struck.

In a container whose memory limit (``--memory``, a Kubernetes limit) is below extractors x
``CLEANER_EXTRACTOR_MEMORY_LIMIT_MB``, a page can exhaust the container before its process
reaches its own limit: the kernel then SIGKILLs a process of the container. Two answers here:
the extraction processes volunteer as its victims (``volunteer_for_oom_kill``), and the pool asks
the cgroup's OOM-kill counter (``OomKillCounter``) whether a process that died without the
pool stopping it was such a kill, to answer ``422 page-too-complex`` rather than a 500 that clients
retry with the same page, which kills again (s20 deployment audit).
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

# /proc/self/oom_score_adj of an extraction process: the most, so the kernel picks one of them
# (the largest: usually the one with the page that exhausts memory), never gunicorn or the web
# worker; a killed extraction process costs one page and a fork. Raising it needs no privilege.
OOM_SCORE_ADJ = 1000
CGROUP_ROOT = Path("/sys/fs/cgroup")
# Where a cgroup counts its OOM kills, as a line "oom_kill N": v2, and v1's memory controller.
V2_EVENTS = "memory.events"
V1_EVENTS = "memory.oom_control"


def volunteer_for_oom_kill() -> None:
    """Make this process the OOM killer's first choice; quietly nothing where /proc says no."""
    with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as adj:
        adj.write(str(OOM_SCORE_ADJ))


def oom_kills(events: Path) -> int | None:
    """The ``oom_kill`` count of a cgroup's events file; None where it cannot be read."""
    with contextlib.suppress(OSError, ValueError):
        for line in events.read_text().splitlines():
            name, _, count = line.partition(" ")
            if name == "oom_kill":
                return int(count)
    return None


def memory_events_path(proc_cgroup: Path = Path("/proc/self/cgroup")) -> Path | None:
    """This process's cgroup's OOM-kill counter file (cgroup v1's memory controller, else v2);
    None where there is none (no cgroup file system, no memory controller)."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    v1 = v2 = None
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if "memory" in controllers.split(","):
            v1 = path
        elif hierarchy == "0" and not controllers:
            v2 = path
    if v1 is not None:
        return _existing(CGROUP_ROOT / "memory", v1, V1_EVENTS)
    return None if v2 is None else _existing(CGROUP_ROOT, v2, V2_EVENTS)


def _existing(mount: Path, cgroup: str, name: str) -> Path | None:
    # Without a cgroup namespace a container sees the host's path for its cgroup, but its own
    # cgroup mounted at the root of the hierarchy.
    for candidate in (mount / cgroup.lstrip("/") / name, mount / name):
        if candidate.is_file():
            return candidate
    return None


class OomKillCounter:
    """The OOM kills a cgroup counted since this object was made, each accounted for once.

    Read only when a process died without the pool stopping it (one small file), never per
    page. One kill per death, not "the count rose": two processes killed at once are two kills.
    """

    def __init__(self, events: Path | None) -> None:
        self.events = events
        self._lock = threading.Lock()
        self._accounted = self._read()

    def new_kill(self) -> bool:
        """Is there an OOM kill not accounted for yet? It is accounted for now."""
        with self._lock:
            if self._read() <= self._accounted:
                return False
            self._accounted += 1
            return True

    def _read(self) -> int:
        return (oom_kills(self.events) if self.events is not None else None) or 0
