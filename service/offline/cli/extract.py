"""``python -m service extract PAGE|-``: one page in, the API's JSON answer on stdout.

The page is cleaned by one supervised extraction process, exactly as the server does it (same
decode/sniffing, limits, time budget and answer), so the CLI and the API cannot drift apart.
Failures print the API's problem document on stderr and exit non-zero.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from service.answers import answer_record, elapsed_ms
from service.errors import BodyTooLarge, ServiceError
from service.models import Job, Mode, Options
from service.offline.cli.common import (
    EXIT_OK,
    InputUnreadable,
    add_option_flags,
    load_settings,
    raw_options,
    report_problem,
    running_pool,
    write_json,
)

NAME = "extract"
HELP = "clean one page (file or - for stdin) and print the API's JSON answer"
STDIN = "-"
# File suffixes read as plain text (the API's text/plain form) unless --html is given.
TEXT_SUFFIXES = frozenset({".txt", ".text"})
# One page needs one extraction process.
POOL_SIZE = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("page", metavar="PAGE", help="HTML (or text) file, or - for stdin")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--text",
        dest="mode",
        action="store_const",
        const="text",
        help="treat the input as plain text (default for .txt files)",
    )
    mode.add_argument("--html", dest="mode", action="store_const", const="html", help="treat the input as HTML")
    parser.add_argument("--url", help="the page's address (metadata, relative links)")
    parser.add_argument("--charset", help="input encoding, like a Content-Type charset (default: sniffed)")
    parser.add_argument("--pretty", action="store_true", help="indent the JSON answer")
    add_option_flags(parser)


def run(args: argparse.Namespace) -> int:
    instance = args.page
    try:
        settings = load_settings(args)
        options = Options.parse(raw_options(args))
        budget_s = options.budget_s(settings.time_budget_s)
        body = read_input(args.page, settings.max_body_bytes)
        job = Job(
            mode=mode_for(args.page, args.mode),
            body=body,
            options=options,
            url=(args.url or "").strip() or None,
            declared_charset=args.charset,
        )
        with running_pool(settings, POOL_SIZE) as pool:
            started = time.perf_counter()
            answer, _seconds = pool.submit(job, budget_s)
            timing_ms = elapsed_ms(started)
    except ServiceError as error:
        return report_problem(error, instance)
    document = answer_record(answer, timing_ms)
    write_json(document, sys.stdout, indent=2 if args.pretty else None)
    return EXIT_OK


def mode_for(page: str, forced: Mode | None) -> Mode:
    """``--text``/``--html`` if given, else text for ``.txt`` files and HTML otherwise."""
    if forced is not None:
        return forced
    return "text" if page != STDIN and Path(page).suffix.lower() in TEXT_SUFFIXES else "html"


def read_input(page: str, max_bytes: int) -> bytes:
    """The input's bytes, refused above ``max_bytes`` like the API's body limit.

    Raises:
        InputUnreadable: the file does not exist or cannot be read.
        BodyTooLarge: the input is larger than ``max_bytes``.
    """
    try:
        if page == STDIN:
            body = sys.stdin.buffer.read(max_bytes + 1)
        else:
            with open(page, "rb") as stream:
                body = stream.read(max_bytes + 1)
    except OSError as error:
        raise InputUnreadable(f"{page}: {error.strerror or error}") from None
    if len(body) > max_bytes:
        raise BodyTooLarge(f"The input is larger than {max_bytes} bytes (CLEANER_MAX_BODY_BYTES).")
    return body
