"""The fork server: one warm process from which every extraction process is forked.

Why: an extraction process started from scratch costs ~0.6 s of CPU to import and warm up, and
its first ~80 pages run ~15 % slower while lazy caches fill (~0.75 s in all, measured). The pool
restarts processes all the time (recycled every ~2000 pages, replaced after every kill), so that
was ~3 % of all extraction CPU, and a replacement after a kill took ~1 s to come up. A fork of a
process that has already imported and warmed everything starts in milliseconds, warm, and shares
the parent's memory until it writes to it (``gc.freeze`` keeps the collector from touching it).

Started by ``ForkServer`` (the pool's side, below) as
``python -m service.workers.forkserver CONFIG_JSON CONTROL_FD``. The control channel is a
``SOCK_SEQPACKET`` Unix socket, one message each way per request:
- the server says ``b"ready"`` once warm;
- the pool sends ``b"spawn"`` (or ``b"spawn CPU"``: pin the new process to that CPU) with two
  file descriptors (SCM_RIGHTS): the read end of the new process's job pipe and the write end of
  its answer pipe (``child`` wire format);
- the server forks, answers with the new process's pid (``PID``) and a pidfd of it when the
  kernel has them (so the pool's signals can never hit a reused pid), or ``FORK_FAILED``.

The server exits when the control socket closes (the pool closed it, or the web worker died).
Extraction processes watch the web worker itself (``child.serve``), not the server,
so a fork server that dies and is restarted takes no running extraction with it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from service.pipeline import Limits

log = logging.getLogger(__name__)

SPAWN = b"spawn"
READY = b"ready"
FORK_FAILED = b"fork failed"  # the kernel said no (EAGAIN, ENOMEM): the server itself is fine
PID = struct.Struct(">i")
# How long the server may take to import and warm up, and a fork to be answered.
START_TIMEOUT_S = 60.0
FORK_TIMEOUT_S = 10.0
# Grace for the server to exit after its control socket closes before it is killed.
STOP_GRACE_S = 5.0
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def extraction_environment() -> dict[str, str]:
    """This environment without the API keys: the extraction processes parse untrusted pages and
    need none (a page that got code run there would find no key to read; s20 audit)."""
    return {name: value for name, value in os.environ.items() if name not in SECRET_VARIABLES}


# Variables the extraction processes must not inherit.
SECRET_VARIABLES = frozenset({"CLEANER_API_KEYS"})


class ForkServerDown(Exception):
    """The fork server could not be started or stopped answering."""


@dataclass(frozen=True)
class Forked:
    """A new extraction process as the pool sees it: its pid, a pidfd (-1 without), and the
    pool's ends of its pipes."""

    pid: int
    pidfd: int
    to_child: int
    from_child: int


class ForkServer:
    """The pool's side: starts the server on first use, asks it for processes, restarts it if it
    died. Thread-safe (one request at a time); under gevent every wait is cooperative."""

    def __init__(self, config: str) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._popen: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._closed = False

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    def spawn(self, cpu: int | None = None) -> Forked:
        """Fork a new warm extraction process (starting the server first if needed), pinned to
        ``cpu`` if one is given.

        Raises:
            ForkServerDown: no server could be started, or it failed twice in a row.
        """
        with self._lock:
            for _attempt in range(2):  # a server found dead is restarted once
                if self._closed:  # a spawn racing the pool's close must not start a new server
                    raise ForkServerDown("The extraction fork server is closed.")
                if self._control is None:
                    self._start()
                forked = self._request(cpu)
                if forked is not None:
                    return forked
                log.warning("extraction fork server %s stopped answering: restarting it", self.pid)
                self._discard(grace_s=0.0)
            raise ForkServerDown("The extraction fork server failed twice in a row.")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._discard(grace_s=STOP_GRACE_S)

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._popen = subprocess.Popen(
                [sys.executable, "-m", "service.workers.forkserver", self._config, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                cwd=_ROOT,
                env=extraction_environment(),
            )
        except OSError as error:
            ours.close()
            raise ForkServerDown(f"The extraction fork server could not be started: {error}") from None
        finally:
            theirs.close()
        self._control = ours
        ours.settimeout(START_TIMEOUT_S)
        try:
            hello = ours.recv(64)
        except OSError:
            hello = b""
        if hello != READY:
            self._discard(grace_s=0.0)
            raise ForkServerDown("The extraction fork server failed to start.")
        ours.settimeout(FORK_TIMEOUT_S)

    def _request(self, cpu: int | None) -> Forked | None:
        """One fork; None if the server is gone or answered nonsense.

        Raises:
            ForkServerDown: the fork itself failed (the server stays: the caller retries later).
        """
        assert self._control is not None
        job_read, job_write = os.pipe()
        answer_read, answer_write = os.pipe()
        try:
            message = SPAWN if cpu is None else b"%s %d" % (SPAWN, cpu)
            socket.send_fds(self._control, [message], [job_read, answer_write])
            reply, fds, _flags, _address = socket.recv_fds(self._control, 64, 1)
        except OSError:  # includes the timeout
            reply, fds = b"", []
        finally:
            os.close(job_read)  # the child has its own copies now (or there is no child)
            os.close(answer_write)
        if len(reply) != PID.size:
            for fd in (job_write, answer_read, *fds):
                os.close(fd)
            if reply == FORK_FAILED:
                raise ForkServerDown("The system refused to fork a new extraction process.")
            return None
        (pid,) = PID.unpack(reply)
        return Forked(
            pid=pid,
            pidfd=fds[0] if fds else -1,
            to_child=job_write,
            from_child=answer_read,
        )

    def _discard(self, grace_s: float) -> None:
        """Close the control socket (the server exits on it) and make sure the server is gone."""
        if self._control is not None:
            self._control.close()
            self._control = None
        popen, self._popen = self._popen, None
        if popen is None:
            return
        try:
            popen.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            popen.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=STOP_GRACE_S)


# -- the server process -----------------------------------------------------------------------


def _reap(_signum: int, _frame: object) -> None:
    """Collect every extraction process that has ended (they are this process's children)."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def _pidfd(pid: int) -> int:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):  # old kernel, or a sandbox that forbids it
        return -1


def _spawn_cpu(message: bytes) -> int | None:
    """The CPU a spawn request pins the new process to (-1: none); None if it is not a spawn."""
    name, _, cpu = message.partition(b" ")
    if name != SPAWN:
        return None
    if not cpu:
        return -1
    try:
        return int(cpu)
    except ValueError:
        return None


def _serve_forks(control: socket.socket, config: dict[str, Any], limits: Limits, web_worker: int) -> None:
    from service.workers import child

    # A pidfd of the web worker, inherited by every child: they exit when it does.
    web_worker_pidfd = _pidfd(web_worker)
    while True:
        try:
            message, fds, _flags, _address = socket.recv_fds(control, 64, 2)
        except OSError:
            return
        if not message:  # the pool closed the socket, or the web worker died
            return
        cpu = _spawn_cpu(message)
        if cpu is None or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            continue
        try:
            pid = os.fork()
        except OSError as error:  # EAGAIN (process limit), ENOMEM
            log.error("fork failed: %s", error)
            for fd in fds:
                os.close(fd)
            try:
                control.sendall(FORK_FAILED)
            except OSError:
                return
            continue
        if pid == 0:  # the new extraction process: never returns into this loop
            status = 1
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                control.close()
                if cpu >= 0:
                    with contextlib.suppress(OSError):  # a CPU gone offline: keep the inherited set
                        os.sched_setaffinity(0, {cpu})
                child.serve(fds[0], fds[1], limits, config, web_worker_pidfd)
                status = 0
            finally:
                os._exit(status)
        for fd in fds:
            os.close(fd)
        pidfd = _pidfd(pid)
        try:
            socket.send_fds(control, [PID.pack(pid)], [pidfd] if pidfd >= 0 else [])
        except OSError:
            return
        finally:
            if pidfd >= 0:
                os.close(pidfd)


def main() -> int:
    config = json.loads(sys.argv[1])
    control = socket.socket(fileno=int(sys.argv[2]))
    control.setblocking(True)  # a gevent parent made its socketpair non-blocking, this end too
    web_worker = os.getppid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the pool decides when its processes stop
    os.dup2(2, 1)  # nothing here or in the children writes to stdout: library prints go to stderr
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)

    from service.workers import child

    limits = child.prepare(config)
    signal.signal(signal.SIGCHLD, _reap)
    try:
        control.sendall(READY)
    except OSError:
        return 1
    _serve_forks(control, config, limits, web_worker)
    return 0


if __name__ == "__main__":
    sys.exit(main())
