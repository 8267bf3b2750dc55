"""How much of a request does the kernel hold for a socket that does not read it?

The connection hand-off (``docs/handoff.md``, point 2) waits, without reading, until a whole
request is in the socket's receive buffer (``SO_RCVLOWAT``). This script measures what the kernel
buffers over loopback for a client that sends ``--size`` bytes in one go while the server reads
nothing, in three set-ups:
- ``SO_RCVLOWAT`` set before any data;
- set 0.2 s after the sender stalled;
- an explicit ``SO_RCVBUF`` on the listening socket (capped at twice ``net.core.rmem_max``).

    python -m bench.socket_buffer --size 600000
"""

from __future__ import annotations

import argparse
import array
import contextlib
import fcntl
import socket
import termios
import threading
import time
from collections.abc import Sequence

SETTLE_S = 0.2


def _unread(sock: socket.socket) -> int:
    available = array.array("i", [0])
    fcntl.ioctl(sock, termios.FIONREAD, available)
    return available[0]


def buffered(size: int, lowat: int | None, lowat_late: bool, rcvbuf: int | None) -> tuple[int, int]:
    """(bytes the server holds unread once the sender stops, the server socket's SO_RCVBUF)."""
    with socket.socket() as listener:
        if rcvbuf:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        with socket.create_connection(listener.getsockname()) as client:
            server, _address = listener.accept()
            with server:
                if lowat and not lowat_late:
                    server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, lowat)
                client.settimeout(2 * SETTLE_S + 1)
                sender = threading.Thread(target=_send, args=(client, size), daemon=True)
                sender.start()
                time.sleep(SETTLE_S)
                if lowat and lowat_late:
                    server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, lowat)
                    time.sleep(SETTLE_S)
                return _unread(server), server.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)


def _send(client: socket.socket, size: int) -> None:
    with contextlib.suppress(OSError):  # the window stayed shut: what the measurement is about
        client.sendall(b"x" * size)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=600_000, help="bytes the client sends")
    ap.add_argument("--rcvbuf", type=int, default=4 * 1024 * 1024, help="SO_RCVBUF of the last set-up")
    args = ap.parse_args(argv)
    setups = [
        ("no SO_RCVLOWAT, autotuning", None, False, None),
        ("SO_RCVLOWAT=size before any data", args.size, False, None),
        ("SO_RCVLOWAT=size after the sender stalled", args.size, True, None),
        (f"SO_RCVBUF={args.rcvbuf} on the listener", None, False, args.rcvbuf),
    ]
    for label, lowat, late, rcvbuf in setups:
        held, buffer = buffered(args.size, lowat, late, rcvbuf)
        print(f"{label:45} held {held:>9} of {args.size} bytes unread (SO_RCVBUF now {buffer})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
