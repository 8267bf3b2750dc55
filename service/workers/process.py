"""The pool's handle of one extraction process: its lane of pages, its pipes and their frames.

The pipes are non-blocking; every wait is a ``select`` (cooperative under gevent, which patches
it), so this works in a plain threaded program and in gunicorn's gevent worker alike. The wire
format is ``workers.child``'s.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import select
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from service.workers.child import HEADER, JOB_HEADER
from service.workers.forkserver import Forked

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
# Pipe capacity asked for (Linux F_SETPIPE_SZ; the default is 64 KiB): the mix's median page
# (~100 KB) then goes to the extraction process in one write, with no wait for it to drain the
# pipe half-way, and its answer comes back in one read.
PIPE_BYTES = 1024 * 1024
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
# Largest single read of answers (the rest of a frame comes in further calls; bytes of the next
# answer stay in the process's inbox).
_READ_CHUNK = 1024 * 1024
_F_GETPIPE_SZ = getattr(fcntl, "F_GETPIPE_SZ", 1032)
# How often a wait for a stopping process wakes up (see wait_exit): an idle shutdown then takes
# about this long per web worker, not the whole stop grace (issue 24, item 13).
EXIT_POLL_S = 0.02
# Pages a process holds at once: the one it extracts and one waiting behind it in its pipe.
LANE_PAGES = 2


class ProcessTimeout(Exception):
    """No answer (or no room in the pipe) by the deadline."""


class NothingWritten(ProcessTimeout):
    """The deadline passed before a byte of the frame was written: the process never saw it."""


class ProcessDead(Exception):
    """The process died, was stopped, or sent garbage."""


class ProcessOomKilled(ProcessDead):
    """The kernel's OOM killer ended the process: its cgroup (the container) ran out of memory."""


# A ticket's states: the process is extracting it (or about to), it waits behind the head, it was
# taken back (withdrawn: its answer, "withdrawn" or a result, is drained and dropped), or its
# process died before it started (orphaned: it is placed again).
HEAD, QUEUED, WITHDRAWN, ORPHANED = "head", "queued", "withdrawn", "orphaned"


@dataclass(eq=False)
class Ticket:
    """One page's place in a process's lane."""

    seq: int
    deadline: float
    size: int  # bytes of its frame in the pipe
    state: str
    written: bool = False
    since: float = field(default_factory=time.monotonic)  # became head / was queued
    turn: threading.Event = field(default_factory=threading.Event)  # set when it leaves QUEUED


@dataclass(eq=False)
class Process:
    forked: Forked
    recycle_after: int
    jobs_done: int = 0
    lane: list[Ticket] = field(default_factory=list)  # [head, queued]: answers come in this order
    retiring: bool = False  # takes no new page; stopped when its lane is empty
    next_seq: int = 0
    inbox: bytearray = field(default_factory=bytearray)  # answer bytes read ahead of their turn
    pid: int = field(init=False)
    to_child: int = field(init=False)
    from_child: int = field(init=False)
    cpu: int | None = None  # the CPU it is pinned to (None: not pinned, or already given back)
    pipe_bytes: int = field(init=False, default=64 * 1024)
    _statm: int = field(init=False, default=-1)

    def __post_init__(self) -> None:
        self.pid = self.forked.pid
        self.to_child = self.forked.to_child
        self.from_child = self.forked.from_child
        # Set once here, not per frame: every page then costs no fcntl calls, and the frame
        # functions try the syscall first and only wait (select) when the pipe is full/empty.
        for fd in (self.to_child, self.from_child):
            os.set_blocking(fd, False)
            _grow_pipe(fd)
        with contextlib.suppress(OSError):
            self.pipe_bytes = fcntl.fcntl(self.to_child, _F_GETPIPE_SZ)
        with contextlib.suppress(OSError):
            self._statm = os.open(f"/proc/{self.pid}/statm", os.O_RDONLY | os.O_CLOEXEC)

    def kill(self) -> None:
        """SIGKILL, through the pidfd when there is one (a pid alone may have been reused)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if self.forked.pidfd >= 0:
                signal.pidfd_send_signal(self.forked.pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)

    def close_input(self) -> None:
        """EOF on the job pipe: the process finishes its page, if any, and exits."""
        if self.to_child >= 0:
            os.close(self.to_child)
            self.to_child = -1

    def wait_exit(self, deadline: float) -> bool:
        """Wait until the process has exited (its answer pipe reaches EOF: only it writes there),
        at most until ``deadline`` (time.monotonic)."""
        while True:
            try:
                if not os.read(self.from_child, _READ_CHUNK):
                    return True
            except BlockingIOError:
                try:
                    # In slices, not one wait: gevent (>= 25.8.1) patches os.close to close a pipe
                    # only on its loop's next turn, so close_input's EOF reaches the process only
                    # once this wait lets the loop turn (one long wait on an idle loop: ~10 s).
                    _wait(self.from_child, False, min(deadline, time.monotonic() + EXIT_POLL_S))
                except ProcessTimeout:
                    if time.monotonic() >= deadline:
                        return False
            except OSError:
                return True

    def close_fds(self) -> None:
        self.close_input()
        for fd in (self.from_child, self.forked.pidfd, self._statm):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.from_child = self._statm = -1

    def rss_mb(self) -> float:
        # Checked after every page: one pread on a file kept open (not open/read/close).
        try:
            return int(os.pread(self._statm, 128, 0).split()[1]) * _PAGE_SIZE / 2**20
        except (OSError, IndexError, ValueError):
            return 0.0

    def may_queue(self, size: int, now: float, patience_s: float) -> bool:
        """May a page of ``size`` frame bytes wait behind this process's only page?"""
        if len(self.lane) != LANE_PAGES - 1 or self.retiring:
            return False
        head = self.lane[0]
        return (
            head.written
            and now - head.since < patience_s
            # Both pages and a withdrawal fit in the pipe at once: no write to it ever waits.
            and head.size + size + JOB_HEADER.size <= self.pipe_bytes
        )


def _grow_pipe(fd: int) -> None:
    """Ask for a PIPE_BYTES pipe; keep the default where the kernel says no (per-user limits)."""
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, _F_SETPIPE_SZ, PIPE_BYTES)


def _wait(fd: int, writing: bool, deadline: float) -> None:
    """Block (cooperatively under gevent: select is patched) until ``fd`` is ready, or time out."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise ProcessTimeout
    ready = select.select([], [fd], [], remaining)[1] if writing else select.select([fd], [], [], remaining)[0]
    if not ready:
        raise ProcessTimeout


def write_frame(process: Process, header: bytes, payload: bytes, deadline: float) -> None:
    """Write one frame to the process's non-blocking job pipe: header and payload in one writev.

    The pipe's fd is read afresh after every wait: a process stopped meanwhile has -1 there
    (EBADF: dead), never a number the kernel may have given to another pipe since.
    """
    total, sent = len(header) + len(payload), 0
    try:
        while sent < total:
            if time.monotonic() >= deadline:  # e.g. the budget went waiting for a free process
                raise ProcessTimeout
            try:
                if sent < len(header):  # writev: no header + payload concatenation (a copy of the page)
                    sent += os.writev(process.to_child, [header[sent:], payload])
                else:
                    sent += os.write(process.to_child, memoryview(payload)[sent - len(header) :])
            except BlockingIOError:  # the pipe is full: wait until the process drains it
                _wait(process.to_child, True, deadline)
            except OSError:  # EPIPE: the process died; EBADF: it was stopped
                raise ProcessDead from None
    except ProcessTimeout:
        # The caller must know: a frame not begun leaves the pipe in step (the process may be
        # extracting another page: it must not be killed), a frame half-written does not.
        if sent == 0:
            raise NothingWritten from None
        raise


def read_frame(process: Process, deadline: float) -> Any:
    """Read the next answer of ``process``: usually one wait and one read.

    A read may also bring (part of) the answer after it, when a page queued behind finished
    quickly: those bytes stay in the process's inbox for the next call.
    """
    data = process.inbox
    need = 0  # the frame's size, once its header is in
    while True:
        if not need and len(data) >= HEADER.size:
            need = HEADER.size + HEADER.unpack_from(data)[0]
        if need and len(data) >= need:
            with memoryview(data) as view, view[HEADER.size : need] as frame:
                answer = pickle.loads(frame)
            del data[:need]
            return answer
        if time.monotonic() >= deadline:  # an answer that arrives late is a late answer
            raise ProcessTimeout
        try:
            chunk = os.read(process.from_child, _READ_CHUNK)
        except BlockingIOError:  # nothing yet: the page is still being extracted
            _wait(process.from_child, False, deadline)
            continue
        if not chunk:
            raise ProcessDead
        data += chunk
