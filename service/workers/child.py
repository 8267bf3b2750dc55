"""The extraction process: reads jobs on a pipe, runs the pipeline, writes answers back.

Forked from the warm fork server (``workers.forkserver``), which runs ``prepare`` once; each
process then runs ``serve``. One page at a time (trafilatura is not thread-safe, trafilatura#840,
#925); the pool kills a process when a page overruns its time budget and recycles it when its
memory grows.

Wire format. To this process: ``JOB_HEADER`` (the pickle's length, the job's sequence number),
then a pickled ``Job``; a length of 0 withdraws the job of that number. From it: ``HEADER`` (a
4-byte big-endian length), then a pickle: ``("ready", pid)`` first, then one answer per job, in
order: ``("ok", response_dict, seconds)``, ``("error", ServiceError)`` or ``("withdrawn",)``.

Why withdrawals: the pool writes a page to a busy process's pipe while its current page runs, so
the process starts it without waiting for the web worker (``workers.pool``, "pipelining").
When the current page runs long, the queued one is withdrawn and sent elsewhere; if it is still
in the pipe when this process gets to it, the withdrawal follows it there, and this process
answers ``("withdrawn",)`` instead of extracting it. A withdrawal that comes too late (the page
already ran) is ignored: every job gets exactly one answer either way.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import resource
import select
import struct
import threading
import time
from typing import TYPE_CHECKING, Any, BinaryIO

from service.workers.oom import volunteer_for_oom_kill

if TYPE_CHECKING:
    from service.pipeline import Limits

HEADER = struct.Struct(">I")
# Share of the memory limit whose reach by a failing page means the limit failed it (not a bug):
# an allocation fails within the last few MB, and no page's working set otherwise nears it.
MEMORY_LIMIT_REACHED = 0.95
JOB_HEADER = struct.Struct(">II")  # pickle length (0: a withdrawal), job sequence number
# Without pidfds: how often a busy extraction process checks that the fork server (which exits
# with the web worker) is still its parent.
PARENT_CHECK_INTERVAL_S = 1.0


def read_job_frame(stream: BinaryIO) -> tuple[int, Any] | None:
    """(sequence number, Job) or (sequence number, None) for a withdrawal; None at end of stream."""
    header = _read_exactly(stream, JOB_HEADER.size)
    if header is None:
        return None
    length, seq = JOB_HEADER.unpack(header)
    if length == 0:
        return seq, None
    payload = _read_exactly(stream, length)
    return None if payload is None else (seq, pickle.loads(payload))


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    """``size`` bytes from an unbuffered stream (pipes return short reads), None on EOF first."""
    chunks, missing = [], size
    while missing:
        chunk = stream.read(missing)
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def write_frame(stream: BinaryIO, message: Any) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(payload)) + payload)
    stream.flush()


def _die_with_web_worker(web_worker_pidfd: int) -> None:
    """Exit when the web worker dies, so no orphan keeps extracting a hung page.

    An idle process sees EOF on its job pipe; a busy one is caught by this watchdog thread,
    which waits on a pidfd of the web worker (woken the moment it exits). Without pidfds (old
    kernel, sandbox) it checks once a second that the fork server, which exits with the web
    worker, is still its parent. (Not prctl(PR_SET_PDEATHSIG): our parent is the fork server.)
    """
    fork_server = os.getppid()

    def watch() -> None:
        if web_worker_pidfd >= 0:
            with contextlib.suppress(OSError):
                select.select([web_worker_pidfd], [], [])
                os._exit(1)
        while True:
            time.sleep(PARENT_CHECK_INTERVAL_S)
            if os.getppid() != fork_server:
                os._exit(1)

    threading.Thread(target=watch, name="web-worker-watchdog", daemon=True).start()


def _limit_memory(limit_mb: int) -> None:
    if limit_mb > 0:
        limit = limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def prepare(config: dict[str, Any]) -> Limits:
    """Import and warm the pipeline, then freeze the heap; returns the pipeline's ``Limits``.

    Run once, in the fork server: every process forked from it starts warm."""
    from service.pipeline import Limits, warm_up

    limits = Limits(max_elements=config.get("max_elements", 30_000), max_depth=config.get("max_depth", 180))
    warm_up()

    # Everything alive now (modules, models, caches) lives as long as the processes: out of the
    # cyclic collector's sight, each full collection during a page no longer walks it, and the
    # collector does not write to (and so copy) the pages forked processes share.
    gc.collect()
    gc.freeze()
    return limits


def serve(job_fd: int, answer_fd: int, limits: Limits, config: dict[str, Any], web_worker_pidfd: int) -> None:
    """The life of one extraction process, right after the fork: answer jobs until EOF."""
    _die_with_web_worker(web_worker_pidfd)
    channel_out = os.fdopen(answer_fd, "wb")
    # Unbuffered: whether a withdrawal already follows a job is asked of the pipe itself (select),
    # which a read-ahead buffer would hide.
    channel_in = os.fdopen(job_fd, "rb", buffering=0)
    _limit_memory(int(config.get("memory_limit_mb", 0)))
    volunteer_for_oom_kill()  # a container out of memory kills a page's process, not gunicorn
    with contextlib.suppress(BrokenPipeError):  # the web worker went away: nothing left to answer
        _serve(channel_in, channel_out, limits)


def _serve(channel_in: BinaryIO, channel_out: BinaryIO, limits: Limits) -> None:
    write_frame(channel_out, ("ready", os.getpid()))
    ahead: list[tuple[int, Any]] = []  # frames read while looking for a withdrawal
    while True:
        frame = ahead.pop(0) if ahead else read_job_frame(channel_in)
        if frame is None:
            return
        seq, job = frame
        if job is None:  # the withdrawal of a job this process already answered: too late
            continue
        if _withdrawn(seq, channel_in, ahead):
            write_frame(channel_out, ("withdrawn",))
            continue
        write_frame(channel_out, run_guarded(job, limits))


def run_guarded(job: Any, limits: Limits) -> tuple[Any, ...]:
    """One page through the pipeline: ``("ok", answer, seconds)`` or ``("error", ServiceError)``;
    no other exception escapes (a library's is logged here, never sent to the client)."""
    from service.errors import ExtractorCrashed, PageTooComplex, ServiceError
    from service.pipeline import run

    started = time.perf_counter()
    peak_before = vm_peak_bytes()
    try:
        return ("ok", run(job, limits), time.perf_counter() - started)
    except ServiceError as error:
        return ("error", error)
    except MemoryError:
        return ("error", PageTooComplex("The page needs more memory than an extraction may use."))
    except RecursionError:
        return ("error", PageTooComplex("The page is nested too deeply to extract."))
    except Exception:
        if _reached_memory_limit(peak_before):
            return ("error", PageTooComplex("The page needs more memory than an extraction may use."))
        logging.getLogger(__name__).exception("extraction failed")
        return ("error", ExtractorCrashed("The extraction failed on this page."))


def _reached_memory_limit(peak_before: int) -> bool:
    """This page took the process's address space to its limit (RLIMIT_AS).

    libxml2 failing an allocation there raises lxml's own error ("unknown error"), not
    MemoryError: the page answered 500 extractor-crashed, which a client retries, where it always
    fails (s20 audit). Any other error of a page that pushed the peak this close is the same case.
    """
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if limit == resource.RLIM_INFINITY:
        return False
    peak = vm_peak_bytes()
    return peak > peak_before and peak >= MEMORY_LIMIT_REACHED * limit


def vm_peak_bytes() -> int:
    """The process's peak address space (VmPeak: what RLIMIT_AS bounds), 0 where unknown."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", "rb") as status:
        for line in status:
            if line.startswith(b"VmPeak:"):
                return int(line.split()[1]) * 1024
    return 0


def _withdrawn(seq: int, channel_in: BinaryIO, ahead: list[tuple[int, Any]]) -> bool:
    """Does a withdrawal of job ``seq`` already wait in the pipe? Frames read past it are kept
    in ``ahead``. (The pool writes a withdrawal in one write of a few bytes, so it is whole.)"""
    while select.select([channel_in], [], [], 0)[0]:
        frame = read_job_frame(channel_in)
        if frame is None:
            return False  # end of stream: the loop sees it next
        if frame[1] is None:
            if frame[0] == seq:
                return True
            continue  # a late withdrawal of an earlier job
        ahead.append(frame)
        return False
    return False
