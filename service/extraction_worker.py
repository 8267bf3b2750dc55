"""The extraction process: reads jobs on a pipe, runs the pipeline, writes answers back.

Started by ``service.extraction_pool`` as ``python -m service.extraction_worker CONFIG_JSON``.
One page at a time (trafilatura is not thread-safe, trafilatura#840, #925); the pool kills this
process when a page overruns its time budget and recycles it when its memory grows.

Wire format, both directions: a 4-byte big-endian length, then a pickle. Requests are
``Job`` objects; answers are ``("ok", response_dict, seconds)`` or ``("error", ServiceError)``.
The first message is ``("ready", pid)`` once the imports are warm.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import pickle
import resource
import signal
import struct
import sys
import threading
import time
from typing import Any, BinaryIO

HEADER = struct.Struct(">I")
# How often a busy extraction process checks that its web worker is still alive.
PARENT_CHECK_INTERVAL_S = 1.0


def read_frame(stream: BinaryIO) -> Any:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (length,) = HEADER.unpack(header)
    payload = stream.read(length)
    if len(payload) < length:
        return None
    return pickle.loads(payload)


def write_frame(stream: BinaryIO, message: Any) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(payload)) + payload)
    stream.flush()


def _die_with_parent() -> None:
    """Exit when the web worker dies, so no orphan keeps extracting a hung page.

    An idle process sees EOF on stdin; a busy one is caught by this watchdog thread. (Not
    prctl(PR_SET_PDEATHSIG): it fires when the parent *thread* that spawned us ends, and the
    pool spawns replacements from short-lived threads.)
    """
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(PARENT_CHECK_INTERVAL_S)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _limit_memory(limit_mb: int) -> None:
    if limit_mb > 0:
        limit = limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main() -> int:
    config = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    _die_with_parent()
    # Our answers go on the original stdout; anything a library prints goes to stderr instead.
    channel_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    channel_in = os.fdopen(os.dup(0), "rb")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the pool decides when we stop
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)

    from service.pipeline import Limits, warm_up

    limits = Limits(max_elements=config.get("max_elements", 30_000), max_depth=config.get("max_depth", 180))
    warm_up()
    # Everything alive now (modules, models, caches) lives as long as the process: out of the
    # cyclic collector's sight, each full collection during a page no longer walks it.
    gc.collect()
    gc.freeze()
    _limit_memory(int(config.get("memory_limit_mb", 0)))
    with contextlib.suppress(BrokenPipeError):  # the web worker went away: nothing left to answer
        _serve(channel_in, channel_out, limits)
    return 0


def _serve(channel_in: BinaryIO, channel_out: BinaryIO, limits: Any) -> None:
    from service.errors import ExtractorCrashed, PageTooComplex, ServiceError
    from service.pipeline import run

    write_frame(channel_out, ("ready", os.getpid()))
    while True:
        job = read_frame(channel_in)
        if job is None:
            return
        started = time.perf_counter()
        answer: tuple[Any, ...]
        try:
            answer = ("ok", run(job, limits), time.perf_counter() - started)
        except ServiceError as error:
            answer = ("error", error)
        except MemoryError:
            answer = ("error", PageTooComplex("The page needs more memory than an extraction may use."))
        except RecursionError:
            answer = ("error", PageTooComplex("The page is nested too deeply to extract."))
        except Exception:  # any library failure: logged here, never sent to the client
            logging.getLogger(__name__).exception("extraction failed")
            answer = ("error", ExtractorCrashed("The extraction failed on this page."))
        write_frame(channel_out, answer)


if __name__ == "__main__":
    sys.exit(main())
