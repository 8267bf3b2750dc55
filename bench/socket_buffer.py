"""How much of a request does the kernel hold for a socket that does not read it?

The connection hand-off (``docs/handoff.md``, point 2) waits, without reading, until a whole
request is in the socket's receive buffer (``SO_RCVLOWAT``). This script measures what the kernel
buffers over loopback for a client that sends ``--size`` bytes in one go while the server reads
nothing, in these set-ups:
- no mark (``SO_RCVLOWAT``), the kernel's autotuning;
- the mark set before any data, at the first bytes (as a front that has just peeked at a head
  would), or 0.2 s after the sender stalled;
- an explicit ``SO_RCVBUF`` on the listening socket (capped at twice ``net.core.rmem_max``);
- the buffer grown at the accept (the mark set high and straight back to 1: the kernel never
  shrinks it back), without a mark and with one at the first bytes.

    python -m bench.socket_buffer --size 600000
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import threading
import time
from collections.abc import Sequence

from service.connection_handoff import unread_bytes

SETTLE_S = 0.2


def buffered(
    size: int, mark: int | None, when: str, rcvbuf: int | None, grow_first: int | None = None
) -> tuple[int, int]:
    """(bytes the server holds unread once the sender stops, the server socket's SO_RCVBUF).

    ``mark``: ``SO_RCVLOWAT`` set ``when`` "before" any data, at the "first-bytes" (as a front
    that has just peeked at a head would), or once the sender has "stalled". ``grow_first``: set
    ``SO_RCVLOWAT`` to this and straight back to 1 right after the accept (the kernel grows the
    buffer for a mark and never shrinks it back)."""
    with socket.socket() as listener:
        if rcvbuf:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        with socket.create_connection(listener.getsockname()) as client:
            server, _address = listener.accept()
            with server:
                if grow_first:
                    server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, grow_first)
                    server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 1)
                if mark and when == "before":
                    server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, mark)
                client.settimeout(2 * SETTLE_S + 1)
                sender = threading.Thread(target=_send, args=(client, size), daemon=True)
                sender.start()
                if mark and when == "first-bytes":
                    while not unread_bytes(server):
                        time.sleep(0.0001)
                    server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, mark)
                time.sleep(SETTLE_S)
                if mark and when == "stalled":
                    server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, mark)
                    time.sleep(SETTLE_S)
                return unread_bytes(server), server.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)


def _send(client: socket.socket, size: int) -> None:
    with contextlib.suppress(OSError):  # the window stayed shut: what the measurement is about
        client.sendall(b"x" * size)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=600_000, help="bytes the client sends")
    ap.add_argument("--rcvbuf", type=int, default=4 * 1024 * 1024, help="SO_RCVBUF of the last set-up")
    args = ap.parse_args(argv)
    grow = 2 * args.size
    setups = [
        ("no mark, autotuning", None, "", None, None),
        ("mark=size before any data", args.size, "before", None, None),
        ("mark=size at the first bytes", args.size, "first-bytes", None, None),
        ("mark=size after the sender stalled", args.size, "stalled", None, None),
        (f"SO_RCVBUF={args.rcvbuf} on the listener", None, "", args.rcvbuf, None),
        (f"grown at accept (mark {grow}, then 1), no mark", None, "", None, grow),
        ("grown at accept, mark=size at the first bytes", args.size, "first-bytes", None, grow),
    ]
    for label, mark, when, rcvbuf, grow_first in setups:
        held, buffer = buffered(args.size, mark, when, rcvbuf, grow_first)
        print(f"{label:50} held {held:>9} of {args.size} bytes unread (SO_RCVBUF now {buffer})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
