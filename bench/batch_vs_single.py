"""Pages/s of ``POST /v1/extract/batch`` against concurrent ``POST /v1/extract``, one server.

A crawler may send its pages one request each (N concurrent clients) or many per request (a
batch, NDJSON). Both should keep every extraction process busy. This starts the service
(default settings, cache off), then alternates: the benchmark mix sent ``--repeat`` times as
one batch, timed from the first byte sent to the last line read, and ``--clients`` concurrent
clients of ``/v1/extract`` for ``--duration`` s. It prints each round, so that the machine's
drift hits both alike.

    .venv/bin/python -m bench.batch_vs_single                  # ~1 min
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import DEFAULT_SAMPLE, MixPage, build_mix, default_datasets, drive, run_server  # noqa: E402


def batch_body(mix: Sequence[MixPage], repeat: int) -> bytes:
    lines = []
    for number, page in enumerate(list(mix) * repeat):
        key = "text" if page.as_text else "html"
        lines.append(json.dumps({"id": number, key: page.body.decode("utf-8", "replace"), "url": page.url}))
    return ("\n".join(lines) + "\n").encode("utf-8")


def post_batch(host: str, port: int, body: bytes) -> tuple[int, int, float]:
    """(items answered, items answered with an error, seconds)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection(host, port, timeout=600)
    try:
        conn.request("POST", "/v1/extract/batch", body=body, headers={"Content-Type": "application/x-ndjson"})
        answer = conn.getresponse().read()
    finally:
        conn.close()
    seconds = time.perf_counter() - started
    lines = answer.splitlines()
    return len(lines), sum(1 for line in lines if json.loads(line).get("error")), seconds


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5, help="times the mix appears in the batch")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--duration", type=float, default=6.0, help="seconds of each /v1/extract run")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("datasets", nargs="*", type=Path, help="as for bench.load (default: ../shared/bench sets)")
    args = ap.parse_args(argv)
    mix = build_mix(args.datasets or default_datasets(), DEFAULT_SAMPLE)
    body = batch_body(mix, args.repeat)
    env = {"CLEANER_CACHE_ENTRIES": "0", "CLEANER_MAX_BATCH_BYTES": str(max(len(body) + 1, 50 * 2**20))}
    with run_server(env, Path("/tmp")) as server:
        drive(server, mix, 1, requests=len(mix))  # warm every process up
        for _ in range(args.rounds):
            items, errors, seconds = post_batch(server.host, server.port, body)
            single = drive(server, mix, args.clients, duration=args.duration)
            print(
                f"batch of {items} items: {items / seconds:6.1f} pages/s ({errors} errors);  "
                f"{args.clients} clients of /v1/extract: {single.pages_per_s:6.1f} pages/s",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
