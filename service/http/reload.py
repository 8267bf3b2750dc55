"""``kill -HUP``: the old web workers are stopped once the new ones serve, not before.

gunicorn's reload forks the new web workers and sends SIGTERM to the old ones at once
(benoitc/gunicorn#1757); an old worker stops accepting at SIGTERM (``server.Worker``), and a new
one accepts only once its app is built, its extraction pool warm (~2.5 s on 2 cores, over 5 s on
a loaded machine). Nobody accepted in between: a ``/healthz`` waited that long in the listen
queue. Here the master waits, before it stops the old workers, until every new one has said it
is booted (``mark_booted``, in the new worker just before it accepts), has died, or
``BOOT_WAIT_S`` has passed.

How a worker says so: it writes a byte to its heartbeat file, which it shares with the master
(the same open file; gunicorn only ever touches its times). Used by gunicorn's master: imports
nothing heavy.
"""

from __future__ import annotations

import os
import time
from typing import Any

# gunicorn's worker timeout (gunicorn_conf.timeout): a new worker not booted by then is stuck,
# and the old workers are stopped as gunicorn would have stopped them.
BOOT_WAIT_S = 30.0
# How often the master looks at the new workers while it waits.
BOOT_POLL_S = 0.05
_BOOTED = b"b"


def mark_booted(worker: Any) -> None:
    """In a new web worker, its app loaded (gunicorn's ``post_worker_init``): it accepts next."""
    os.write(worker.tmp.fileno(), _BOOTED)


def booted(worker: Any) -> bool:
    """In the master: has ``worker`` said it is booted (``mark_booted``)?"""
    try:
        return os.fstat(worker.tmp.fileno()).st_size > 0
    except (OSError, ValueError):  # its heartbeat file is closed: the worker is gone
        return True


def stop_old_workers_after_boot(arbiter: Any) -> None:
    """In the master, at a reload (gunicorn's ``on_reload``, just before it forks the new
    workers): its next ``manage_workers``, which stops the old workers, first waits for the new
    ones (see the module doc)."""
    old = set(arbiter.WORKERS)
    manage_workers = arbiter.manage_workers

    def after_boot() -> None:
        arbiter.manage_workers = manage_workers  # once: the next calls are gunicorn's own
        new = [worker for pid, worker in arbiter.WORKERS.items() if pid not in old]
        deadline = time.monotonic() + BOOT_WAIT_S
        while time.monotonic() < deadline:
            arbiter.reap_workers()  # a new worker that died is no longer in WORKERS
            if all(booted(worker) for worker in new if worker.pid in arbiter.WORKERS):
                break
            time.sleep(BOOT_POLL_S)
        manage_workers()

    arbiter.manage_workers = after_boot
