"""``python -m service extract PAGE|URL|-``: one page in, the API's JSON answer on stdout.

The page is cleaned by one supervised extraction process, exactly as the server does it (same
decode/sniffing, limits, time budget and answer), so the CLI and the API cannot drift apart.
Failures print the API's problem document on stderr and exit non-zero. An http(s) URL is fetched
first, as the API fetches ``{"url": ...}``, with the same address guard (``CLEANER_FETCH_ALLOW``)
and limits; ``CLEANER_FETCH`` is not needed: typing the URL is the opt-in.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from service.answers import answer_record, elapsed_ms
from service.errors import BodyTooLarge, ServiceError
from service.fetch import fetch_job
from service.models import Job, Mode
from service.offline.cli.common import (
    EXIT_OK,
    STDIO,
    InputUnreadable,
    OutputUnwritable,
    add_option_flags,
    flag_options,
    load_settings,
    raw_options,
    report_problem,
    running_pool,
    write_json,
    writing_to,
)
from service.request_forms import job_from_json, page_url

NAME = "extract"
HELP = "clean one page (file, http(s) URL, or - for stdin) and print the API's JSON answer"
URL_PREFIXES = ("http://", "https://")
# File suffixes read as plain text (the API's text/plain form) unless --html is given.
TEXT_SUFFIXES = frozenset({".txt", ".text"})
# One page needs one extraction process.
POOL_SIZE = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("page", metavar="PAGE", help="HTML (or text) file, an http(s) URL to fetch, or - for stdin")
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
        options = flag_options(args, settings)
        budget_s = options.budget_s(settings.time_budget_s)
        fetched = None
        if is_url(args.page):
            fetched = fetch_job(job_from_json({"url": args.page}, raw_options(args)), settings, require_setting=False)
            job = dataclasses.replace(
                fetched.job,
                mode=args.mode or fetched.job.mode,
                declared_charset=args.charset or fetched.job.declared_charset,
            )
            budget_s = fetched.within(budget_s)
        else:
            # --url as the API's ?url=: refused when malformed, dropped (url-ignored) when not http(s).
            url, url_ignored = page_url(args.url, "url")
            job = Job(
                mode=mode_for(args.page, args.mode),
                body=read_input(args.page, settings.max_body_bytes),
                options=options,
                url=url,
                url_ignored=url_ignored,
                declared_charset=args.charset,
            )
        with running_pool(settings, POOL_SIZE) as pool:
            started = time.perf_counter()
            answer, _seconds = pool.submit(job, budget_s)
            timing_ms = elapsed_ms(started)
        if fetched is not None:
            answer = {**answer, "fetch": fetched.page.summary()}
        with writing_to(STDIO):  # a full disk says output-unwritable, not a traceback
            write_json(answer_record(answer, timing_ms), sys.stdout, indent=2 if args.pretty else None)
            sys.stdout.flush()
    except ServiceError as error:
        return report_problem(error, STDIO if isinstance(error, OutputUnwritable) else instance)
    return EXIT_OK


def is_url(page: str) -> bool:
    """Whether the PAGE argument is an address to fetch rather than a file."""
    return page.lower().startswith(URL_PREFIXES)


def mode_for(page: str, forced: Mode | None) -> Mode:
    """``--text``/``--html`` if given, else text for ``.txt`` files and HTML otherwise."""
    if forced is not None:
        return forced
    return "text" if page != STDIO and Path(page).suffix.lower() in TEXT_SUFFIXES else "html"


def read_input(page: str, max_bytes: int) -> bytes:
    """The input's bytes, refused above ``max_bytes`` like the API's body limit.

    Raises:
        InputUnreadable: the file does not exist or cannot be read.
        BodyTooLarge: the input is larger than ``max_bytes``.
    """
    try:
        if page == STDIO:
            body = sys.stdin.buffer.read(max_bytes + 1)
        else:
            with open(page, "rb") as stream:
                body = stream.read(max_bytes + 1)
    except OSError as error:
        raise InputUnreadable(f"{page}: {error.strerror or error}") from None
    if len(body) > max_bytes:
        raise BodyTooLarge(f"The input is larger than {max_bytes} bytes (CLEANER_MAX_BODY_BYTES).")
    return body
