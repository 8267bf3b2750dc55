"""How much would the service gain with less between the client and the extraction?

Until session 11 the service's HTTP front (a gunicorn gevent worker) read each page, copied it to
a supervised extraction process over a pipe, and copied its answer back: ~0.91x of the in-process
pipeline on this 2-core machine, against a target of 0.90x (issue 5). The front, the copies and
the load client share the two cores with the extraction. This script runs the service against
other designs, alternately:

- **service** is this checkout with its settings, since session 11 with the connection hand-off
  (``docs/handoff.md``, ``service/handoff_front.py``); **service-copy** is the same with
  ``CLEANER_HANDOFF=0``: the web worker copies every page to a process and its answer back, the
  service as sessions 6-10 measured it.
- **inline** (``make_inline_app``): gunicorn runs one gevent worker per core, and each worker
  runs the pipeline itself. It reads the body within the service's limits, builds the job the
  same way, calls ``service.pipeline.run`` and answers JSON. This is the upper bound of removing
  the front. It is not a design: it has no time budget (nothing can kill a page that runs for
  minutes, since trafilatura catches a timer's exception), no recycling and no admission
  control. It has no access log, metrics or request ids. A page that overruns holds up every
  connection of its worker.
- **handoff** (``bench/handoff_prototype.py``): a front that keeps the connections and waits for
  whole requests, then passes each connection to a pinned extraction process. That process reads
  the request, extracts, and answers the client itself. Since a front still holds each
  connection, a supervisor could kill an overrunning process and answer its client. It is a
  prototype with the same omissions (see its docstring). Its front is a plain ``selectors`` loop.
- **handoff-gevent** (``bench/handoff_gevent.py``): the same hand-off, with its front a subclass
  of gunicorn's gevent worker, as ``docs/handoff.md`` would build it. Requests it does not hand
  off fall back to gunicorn.

Method, as ``bench/compare_serving.py``: for each client level, the designs run in turn,
reversing the order each rep (S I H G G H I S ...). Each run is a fresh server, bracketed by the
in-process pipeline right before and after. The service runs with this checkout's settings and
the cache off. The script prints each run: the mix-weighted ratio to the in-process pipeline,
and the CPU per page of the server's processes beside the in-process CPU per page. It ends with
the means:

    .venv/bin/python -m bench.serving_ceiling                     # 4 and 16 clients, 4 reps
    .venv/bin/python -m bench.serving_ceiling --clients 4 --reps 6 --designs service handoff
    .venv/bin/python -m bench.serving_ceiling --designs service handoff-gevent --one-client-passes 4
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.compare_serving import one_run  # noqa: E402 - after the path set-up above
from bench.load import (  # noqa: E402
    DEFAULT_SAMPLE,
    MixPage,
    build_mix,
    default_datasets,
    drive,
    mix_weights,
    run_server,
    sequential_pass,
)

DESIGNS = ("service", "service-copy", "inline", "handoff", "handoff-gevent")
NAME_WIDTH = max(len(design) for design in DESIGNS)
INLINE_APP = "bench.serving_ceiling:make_inline_app()"


def make_inline_app() -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """The inline server's WSGI app (gunicorn calls this in each worker as it boots): warmed up
    as an extraction process is, then ``GET /readyz`` and ``POST /v1/extract``, each page
    extracted in this process."""
    from werkzeug.datastructures import MultiDict

    from service.api.body import read_body
    from service.api.request_forms import job_from_request
    from service.api.responses import JSON_CONTENT_TYPE, encode_json
    from service.errors import ServiceError
    from service.pipeline import Limits, run, warm_up
    from service.settings import Settings

    warm_up()
    settings = Settings.from_env()
    limits = Limits(max_elements=settings.max_elements, max_depth=settings.max_depth)

    def inline_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        status, body = 200, b'{"status":"ready"}'
        if environ.get("PATH_INFO") != "/readyz":
            try:
                page = read_body(environ, settings.max_body_bytes, settings.read_timeout_s)
                query = MultiDict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
                job = job_from_request(environ.get("CONTENT_TYPE"), page, query)
                body = encode_json(run(job, limits)).encode()
            except ServiceError as error:
                status, body = error.status, json.dumps({"code": error.code}).encode()
        start_response(f"{status} X", [("Content-Type", JSON_CONTENT_TYPE), ("Content-Length", str(len(body)))])
        return [body]

    return inline_app


def _gunicorn_command(port: int, worker_class: str, workers: int, app: str) -> list[str]:
    """gunicorn on ``port`` with the service's keep-alive and connection limit."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    return [
        str(gunicorn),
        *("--worker-class", worker_class, "--workers", str(workers)),
        *("--worker-connections", "1000", "--keep-alive", "5", "--log-level", "warning"),
        *("--bind", f"127.0.0.1:{port}", app),
    ]


def inline_command(port: int) -> list[str]:
    """gunicorn serving ``inline_app``: one gevent worker per core, keep-alive as the service."""
    return _gunicorn_command(port, "gevent", os.cpu_count() or 1, INLINE_APP)


def handoff_command(port: int) -> list[str]:
    """``bench/handoff_prototype.py``: the front hands connections to extraction processes."""
    return [sys.executable, "-m", "bench.handoff_prototype", str(port)]


def handoff_gevent_command(port: int) -> list[str]:
    """``bench/handoff_gevent.py``: the same hand-off, its front a gunicorn gevent worker."""
    return _gunicorn_command(port, "bench.handoff_gevent.HandoffWorker", 1, "bench.handoff_gevent:app")


COMMANDS: dict[str, Callable[[int], list[str]] | None] = {
    "service": None,
    "service-copy": None,
    "inline": inline_command,
    "handoff": handoff_command,
    "handoff-gevent": handoff_gevent_command,
}
# The service as it was before the hand-off: the web worker copies every page and answer.
DESIGN_ENV = {"service-copy": {"CLEANER_HANDOFF": "0"}}


def one_client_latency(mix: Sequence[MixPage], designs: Sequence[str], passes: int) -> list[str]:
    """One client, ``passes`` passes of the mix on each design in turn (servers kept up): each
    design's median over pages of each page's median latency, and the median over pages of the
    difference from the service's (positive: that design answers sooner)."""
    with contextlib.ExitStack() as stack:
        servers = {
            design: stack.enter_context(
                run_server(
                    {"CLEANER_CACHE_ENTRIES": "0", **DESIGN_ENV.get(design, {})}, Path("/tmp"), ROOT, COMMANDS[design]
                )
            )
            for design in designs
        }
        for server in servers.values():
            drive(server, mix, 1, requests=len(mix))  # warm every process up
        latencies: dict[str, dict[str, list[float]]] = {design: {} for design in designs}
        for n in range(passes):
            for design in designs if n % 2 == 0 else designs[::-1]:
                for name, values in drive(servers[design], mix, 1, requests=len(mix)).by_page.items():
                    latencies[design].setdefault(name, []).extend(values)
    medians = {design: {name: statistics.median(v) for name, v in pages.items()} for design, pages in latencies.items()}
    lines = [
        f"{design:{NAME_WIDTH}} 1 client: p50 {1000 * statistics.median(m.values()):.2f} ms"
        for design, m in medians.items()
    ]
    if "service" in medians:
        for design in designs:
            if design != "service":
                common = medians["service"].keys() & medians[design].keys()
                sooner = statistics.median(medians["service"][p] - medians[design][p] for p in common)
                lines.append(
                    f"{design:{NAME_WIDTH}} answers the median page {1000 * sooner:+.2f} ms sooner than the service"
                )
    return lines


def overhead_ms(run: dict[str, float]) -> float:
    """The server's CPU per page beyond the in-process pipeline's (the inline server's extraction
    runs in its web workers; the service's in its extraction processes)."""
    return run["web_ms"] + run["extraction_ms"] - run["inproc_ms"]


def summary(runs: dict[tuple[str, int], list[dict[str, float]]]) -> list[str]:
    """One line per design and client level: mean mix-weighted ratio, its runs, mean overhead."""
    lines = []
    for (design, clients), results in sorted(runs.items(), key=lambda item: (item[0][1], item[0][0])):
        ratios = [r["weighted"] for r in results]
        lines.append(
            f"{design:{NAME_WIDTH}} {clients:2} clients: mean ratio {statistics.fmean(ratios):.3f} "
            f"({', '.join(f'{x:.3f}' for x in ratios)}), "
            f"server CPU beyond in-process {statistics.fmean(overhead_ms(r) for r in results):+.2f} ms a page"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, nargs="+", default=[4, 16])
    ap.add_argument("--reps", type=int, default=4, help="runs of each design at each level")
    ap.add_argument("--designs", nargs="+", choices=DESIGNS, default=list(DESIGNS))
    ap.add_argument("--duration", type=float, default=8.0, help="seconds per HTTP run")
    ap.add_argument(
        "--one-client-passes",
        type=int,
        default=0,
        help="instead: N passes of the mix at 1 client on each design, alternating on long-lived servers; "
        "each page's median latency against the service's",
    )
    ap.add_argument("datasets", nargs="*", type=Path, default=[])
    args = ap.parse_args(argv)
    mix = build_mix(args.datasets or default_datasets(), DEFAULT_SAMPLE)
    if args.one_client_passes:
        print("\n".join(one_client_latency(mix, args.designs, args.one_client_passes)))
        return 0
    weights = mix_weights(sequential_pass(mix, names=("pipeline",))["pipeline"])
    runs: dict[tuple[str, int], list[dict[str, float]]] = {}
    for rep in range(args.reps):
        for clients in args.clients:
            for design in args.designs if rep % 2 == 0 else args.designs[::-1]:  # A B B A ...: drift hits all
                run = one_run(ROOT, DESIGN_ENV.get(design, {}), mix, weights, clients, args.duration, COMMANDS[design])
                runs.setdefault((design, clients), []).append(run)
                print(
                    f"{design:{NAME_WIDTH}} {clients:2} clients: ratio {run['weighted']:.3f}, "
                    f"base {run['base']:.1f} pages/s, "
                    f"CPU a page: web {run['web_ms']:.2f} ms, extraction {run['extraction_ms']:.2f} ms, "
                    f"in-process {run['inproc_ms']:.2f} ms",
                    flush=True,
                )
    print("\n".join(summary(runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
