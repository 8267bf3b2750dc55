"""``python -m service batch IN.jsonl OUT.jsonl``: many pages on every core, without the server.

Each input line is what ``POST /v1/extract/batch`` takes (``{"id", "html"|"text", "url",
"options"}``), parsed and validated by that endpoint's own ``batch_items.parse_line`` (which uses the API's
``job_from_json``), and every line gets exactly the output line the endpoint would send, in input
order and carrying its ``id``: the API's answer, or ``{"id", "error": {problem, "line": n}}``.
One difference: an item over ``CLEANER_MAX_BODY_BYTES`` is refused (413) on its own line, since
the CLI has no whole-batch size limit to stop it.

All cores are used the way the server uses them: an extraction pool with one process per core,
fed by as many threads, each page under the time budget (a hanging page is killed, not waited
for). Only a bounded window of pages is in flight, so any input size runs in constant memory.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import IO, Any

from tqdm import tqdm

from service.answers import answer_record, elapsed_ms, error_record
from service.batch_items import UTF8_BOM, parse_line
from service.errors import BodyTooLarge, ServiceError
from service.fetch import fetch_job
from service.offline.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    STDIO,
    InputUnreadable,
    OutputIsInput,
    OutputUnwritable,
    add_option_flags,
    add_progress_flag,
    check_at_least_one,
    flag_options,
    load_settings,
    raw_options,
    report_problem,
    running_pool,
    write_json,
    writing_to,
)
from service.settings import Settings
from service.workers.capacity import CapacityGate
from service.workers.pool import ExtractionPool

NAME = "batch"
HELP = "clean a JSON-lines file of pages on all cores; one answer line per input line, in order"
# Pages read ahead of the one being written, per process: keeps every process busy while a slow
# page holds up the ordered output, and bounds memory for inputs of any size.
READ_AHEAD_PER_PROCESS = 8


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "input", metavar="IN.jsonl", help='lines of {"id", "html"|"text", "url", "options"}; - for stdin'
    )
    parser.add_argument("output", metavar="OUT.jsonl", help="output lines, one per input line; - for stdout")
    parser.add_argument(
        "--processes",
        type=int,
        metavar="N",
        help="extraction processes (default: CLEANER_EXTRACTORS, i.e. one per core)",
    )
    add_progress_flag(parser)
    add_option_flags(parser)
    parser.epilog = 'The extraction flags are defaults; a line\'s own "options" win over them.'


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args)
        # Every flag is checked before any process starts or OUT is opened (and emptied).
        flag_options(args, settings)
        defaults = raw_options(args)
        check_at_least_one("--processes", args.processes)
        check_not_input(args.input, args.output)
        size = args.processes or settings.extractors
        total = count_lines(args.input)
        with ExitStack() as stack:
            source = stack.enter_context(_open_input(args.input))
            sink = stack.enter_context(_open_output(args.output))
            pool = stack.enter_context(running_pool(settings, size))
            bar = stack.enter_context(
                tqdm(total=total, unit="page", file=sys.stderr, disable=_bar_disabled(args.progress))
            )
            started = time.monotonic()
            runner = BatchRunner(pool, settings, defaults, bar)
            ok, failed = runner.run(source, sink, args.output)
    except ServiceError as error:
        blames_output = isinstance(error, (OutputUnwritable, OutputIsInput))
        return report_problem(error, args.output if blames_output else args.input)
    print(
        f"batch: {ok + failed} pages, {ok} ok, {failed} failed in {time.monotonic() - started:.1f} s "
        f"on {size} processes",
        file=sys.stderr,
    )
    return EXIT_OK if failed == 0 else EXIT_REJECTED


class BatchRunner:
    """Feeds input lines to the pool from threads and writes the answers back in input order."""

    def __init__(self, pool: ExtractionPool, settings: Settings, defaults: Mapping[str, Any], bar: tqdm[Any]) -> None:
        self.pool = pool
        self.settings = settings
        self.defaults = dict(defaults)
        self.bar = bar
        self.failed = 0
        self._lock = threading.Lock()
        self._capacity = CapacityGate(pool)

    def run(self, lines: Iterable[bytes], sink: IO[str], sink_name: str = STDIO) -> tuple[int, int]:
        """Process every non-blank line; returns (ok, failed) counts.

        Raises:
            OutputUnwritable: writing to ``sink`` (named ``sink_name``) failed, e.g. a full disk.
        """
        window: deque[Future[dict[str, Any]]] = deque()
        written = 0
        limit = self.pool.size * READ_AHEAD_PER_PROCESS

        def write_next() -> None:
            nonlocal written
            document = window.popleft().result()
            with writing_to(sink_name):
                write_json(document, sink)
            written += 1

        with ThreadPoolExecutor(max_workers=self.pool.size, thread_name_prefix="batch") as executor:
            try:
                for number, line in _numbered_lines(lines):
                    future = executor.submit(self.process, line, number)
                    future.add_done_callback(self._tick)
                    window.append(future)
                    while len(window) > limit:
                        write_next()
                while window:
                    write_next()
            except BaseException:
                executor.shutdown(wait=True, cancel_futures=True)
                raise
        with writing_to(sink_name):
            sink.flush()
        return written - self.failed, self.failed

    def process(self, line: bytes, number: int) -> dict[str, Any]:
        """One output line for one input line; never raises for a page's own failure."""
        item = parse_line(number, line, self.defaults)
        try:
            if item.error is not None:
                raise item.error
            assert item.job is not None
            job, budget_s, fetched = item.job, item.job.options.budget_s(self.settings.time_budget_s), None
            if job.fetch:  # a line with only a URL: as the API, only with CLEANER_FETCH=1
                fetched = fetch_job(job, self.settings)
                job, budget_s = fetched.job, fetched.within(budget_s)
            if len(job.body) > self.settings.max_body_bytes:
                raise BodyTooLarge(f"The page is larger than {self.settings.max_body_bytes} bytes.")
            with self._capacity.slot():
                started = time.perf_counter()
                answer, _seconds = self.pool.submit(job, budget_s)
            timing_ms = elapsed_ms(started)
            if fetched is not None:
                answer = {**answer, "fetch": fetched.page.summary()}
        except ServiceError as error:
            with self._lock:
                self.failed += 1
            return error_record(error, {"id": item.id}, line=number)
        return answer_record(answer, timing_ms, {"id": item.id})

    def _tick(self, _future: Future[dict[str, Any]]) -> None:
        with self._lock:
            self.bar.update(1)
            if self.failed:
                self.bar.set_postfix(failed=self.failed, refresh=False)


def check_not_input(input_path: str, output_path: str) -> None:
    """OUT is not IN (by inode: a symlink or hard link to IN too), which opening OUT would empty.

    An existing OUT that is another file is overwritten, as a shell's ``>`` would.

    Raises:
        OutputIsInput: both name the same file.
    """
    if output_path == STDIO:
        return
    try:
        output = os.stat(output_path)
        source = os.fstat(sys.stdin.fileno()) if input_path == STDIO else os.stat(input_path)
    except (OSError, ValueError, AttributeError):  # OUT is new, or IN is unreadable: said when opened
        return
    if (source.st_dev, source.st_ino) == (output.st_dev, output.st_ino):
        shown = "stdin" if input_path == STDIO else input_path
        raise OutputIsInput(f"{output_path} is the input file ({shown}): writing it would empty the input")


def count_lines(path: str) -> int | None:
    """Non-blank lines of ``path`` for the progress bar's total (None for stdin)."""
    if path == STDIO:
        return None
    try:
        with open(path, "rb") as stream:
            return sum(1 for line in stream if line.strip())
    except OSError as error:
        raise InputUnreadable(f"{path}: {error.strerror or error}") from None


def _numbered_lines(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """Non-blank lines with their 1-based number (blank lines are skipped, numbering is kept)."""
    for number, line in enumerate(lines, 1):
        if number == 1 and line.startswith(UTF8_BOM):
            line = line[len(UTF8_BOM) :]
        if line.strip():
            yield number, line


def _bar_disabled(progress: bool | None) -> bool | None:
    # tqdm's disable=None means: only on a terminal.
    return None if progress is None else not progress


@contextmanager
def _open_input(path: str) -> Iterator[IO[bytes]]:
    if path == STDIO:
        yield sys.stdin.buffer
        return
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as error:
        raise InputUnreadable(f"{path}: {error.strerror or error}") from None
    with stream:
        yield stream


@contextmanager
def _open_output(path: str) -> Iterator[IO[str]]:
    if path == STDIO:
        yield sys.stdout
        return
    with writing_to(path):
        stream = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115 - closed below
    try:
        yield stream
    finally:
        with writing_to(path):  # closing flushes the last lines: a full disk fails here
            stream.close()
