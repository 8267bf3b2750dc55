"""What the CLI commands share: the API's option flags, settings, the pool, problem output.

The option flags map one-to-one onto the API's options and are validated by the same
``Options.parse``, so a value the API refuses the CLI refuses with the same problem document.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from typing import IO, Any

from service.errors import BadRequest, InvalidOption, ServiceError
from service.models import FAVORS, FORMATS, Options
from service.settings import ConfigError, Settings
from service.workers.pool import SPAWN_TIMEOUT_S, ExtractionPool

# Exit codes (documented in docs/cli.md).
EXIT_OK = 0
EXIT_REJECTED = 1  # the page or request was refused (a 4xx problem), or some batch items failed
EXIT_USAGE = 2  # bad command line, bad option value or bad configuration (argparse uses 2 too)
EXIT_FAILED = 3  # the extraction failed on our side (a 5xx problem: time budget, crash)
# Ended by a signal, as a shell reports a tool that a signal killed: 128 + the signal's number.
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT)
EXIT_PIPE_CLOSED = 141  # the reader of stdout went away (SIGPIPE), e.g. `... | head -1`
# The name of stdin / stdout on the command line.
STDIO = "-"
# How often the CLI checks, before exiting, whether replacement processes are up.
REPLACEMENT_POLL_S = 0.05
# The CLI binds nothing, so the HOST guard for servers must not apply to it.
CLI_HOST = "127.0.0.1"


class InputUnreadable(BadRequest):
    """The input file could not be opened or read."""

    code, title = "input-unreadable", "The input could not be read"


class ConfigProblem(BadRequest):
    """An environment variable the settings read is invalid (same message as the server's)."""

    code, title = "config-error", "Invalid configuration"


class OutputUnwritable(BadRequest):
    """The output file could not be created."""

    code, title = "output-unwritable", "The output could not be written"


class OutputIsInput(BadRequest):
    """The output path names the input file: opening it for writing would empty the input."""

    code, title = "output-is-input", "The output is the input file"


class FlagOutOfRange(InvalidOption):
    """A flag's value is refused (out of its range, or an option value the API refuses)."""


# Flags that override a setting: flag -> the Settings field whose documented range they obey.
_SETTING_FLAGS = {"budget": ("--budget", "time_budget_s")}
# API option -> its flag, where the flag is not ``--<option>``.
_OPTION_FLAGS = {"tables": "--no-tables"}


def add_progress_flag(parser: argparse.ArgumentParser) -> None:
    """``--progress/--no-progress``: default None means "only when stderr is a terminal"."""
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: only when stderr is a terminal)",
    )


def add_option_flags(parser: argparse.ArgumentParser) -> None:
    """The API's options as flags (same names and defaults as the README's option table)."""
    group = parser.add_argument_group("extraction options (as the API's)")
    group.add_argument(
        "--format",
        dest="formats",
        action="append",
        choices=FORMATS,
        metavar="{" + ",".join(FORMATS) + "}",
        help="output format; repeat for several (default: text)",
    )
    group.add_argument("--comments", action="store_true", default=None, help="keep the comments section")
    group.add_argument(
        "--no-tables", dest="tables", action="store_false", default=None, help="drop tables from the text"
    )
    group.add_argument("--images", action="store_true", default=None, help="keep images")
    group.add_argument("--links", action="store_true", default=None, help="keep links")
    group.add_argument("--favor", choices=FAVORS, help="precision/recall trade-off (default: balanced)")
    group.add_argument("--explain", action="store_true", default=None, help="list removed blocks and why")
    for name, doc in (
        ("include", "extract only from what SELECTOR matches"),
        ("exclude", "drop what SELECTOR matches"),
    ):
        group.add_argument(f"--{name}", action="append", metavar="SELECTOR", help=f"CSS: {doc}; repeatable")
    group.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="this page's time budget, at most the server's (--budget / CLEANER_TIME_BUDGET_S)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        metavar="SECONDS",
        help="time budget per page; an overrunning extraction is killed (default: CLEANER_TIME_BUDGET_S)",
    )


def raw_options(args: argparse.Namespace) -> dict[str, Any]:
    """The flags that were given, as the raw mapping ``Options.parse`` and ``job_from_json`` take."""
    raw: dict[str, Any] = {}
    if args.formats:
        raw["format"] = list(args.formats)
    for name in ("comments", "tables", "images", "links", "favor", "explain", "timeout", "include", "exclude"):
        value = getattr(args, name)
        if value is not None:
            raw[name] = value
    return raw


def flag_options(args: argparse.Namespace, settings: Settings) -> Options:
    """The extraction flags as the API's ``Options``, checked against the time budget too.

    A ``--timeout`` over the budget would fail every page one by one; it is refused once, here.

    Raises:
        FlagOutOfRange: a flag's value is invalid (the problem names the flag, exit code 2).
    """
    try:
        options = Options.parse(raw_options(args))
        options.budget_s(settings.time_budget_s)
    except InvalidOption as error:
        option = str(error.extra.get("option", ""))
        flag = _OPTION_FLAGS.get(option, f"--{option}")
        raise FlagOutOfRange(flag, error.detail.removeprefix(f"{option}: ")) from None
    return options


def check_at_least_one(flag: str, value: int | None) -> None:
    """Counts given by a flag (processes, workers, records): None is the default, else >= 1.

    Raises:
        FlagOutOfRange: ``value`` is below 1.
    """
    if value is not None and value < 1:
        raise FlagOutOfRange(flag, f"{value} is below the minimum 1")


def load_settings(args: argparse.Namespace) -> Settings:
    """Settings from the environment (limits, budget, memory), with the CLI's overrides.

    Raises:
        ConfigProblem: a variable is invalid, or ``--budget`` is out of range.
    """
    overrides: dict[str, Any] = {"host": CLI_HOST}
    for attribute, (flag, name) in _SETTING_FLAGS.items():
        value = getattr(args, attribute, None)
        if value is not None:
            _check_range(flag, name, value)  # else the settings' check names the variable, not the flag
            overrides[name] = value
    try:
        return Settings.from_env(**overrides)
    except ConfigError as error:
        raise ConfigProblem(str(error)) from None


def _check_range(flag: str, name: str, value: float) -> None:
    """Raises FlagOutOfRange when ``value`` is outside the range of the setting ``name``."""
    metadata = {f.name: f.metadata for f in fields(Settings)}[name]
    low, high = metadata["low"], metadata["high"]
    if low is not None and value < low:
        raise FlagOutOfRange(flag, f"{value:g} is below the minimum {low}")
    if high is not None and value > high:
        raise FlagOutOfRange(flag, f"{value:g} is above the maximum {high}")


@contextmanager
def running_pool(settings: Settings, size: int) -> Iterator[ExtractionPool]:
    """A started extraction pool of ``size`` processes, closed on the way out."""
    pool = ExtractionPool(settings, size=size)
    try:
        pool.start()
        yield pool
    finally:
        _wait_for_replacements(pool)
        pool.close()


def _wait_for_replacements(pool: ExtractionPool) -> None:
    """Let replacements of killed or recycled processes come up, so ``close`` stops them too.

    ``ExtractionPool.close`` stops only idle processes: one still warming up when the CLI exits
    would outlive it and print a BrokenPipeError when it reports ready to a parent that is gone.
    """
    deadline = time.monotonic() + SPAWN_TIMEOUT_S
    failures = pool.stats.spawn_failures
    while pool.alive < pool.size and time.monotonic() < deadline and pool.stats.spawn_failures == failures:
        time.sleep(REPLACEMENT_POLL_S)


def guarded(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``run``, ended quietly by Ctrl-C or a closed stdout, as Unix tools end, without a traceback.

    The ``with`` blocks of ``run`` have stopped its processes by the time the exception gets here.
    """

    @functools.wraps(run)
    def quiet(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except KeyboardInterrupt:
            print(f"{args.command}: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            silence_stdout()
            return EXIT_PIPE_CLOSED

    return quiet


def silence_stdout() -> None:
    """Point stdout at /dev/null: Python's flush at exit must not fail (and print) a second time."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


@contextmanager
def writing_to(name: str) -> Iterator[None]:
    """Write errors on ``name`` (a path, or ``-`` for stdout) as ``OutputUnwritable``.

    A closed pipe is no error of the output: ``BrokenPipeError`` goes on to ``guarded``.
    """
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as error:
        if name == STDIO:
            silence_stdout()
        raise OutputUnwritable(f"{name}: {error.strerror or error}") from None


def write_json(document: Any, stream: IO[str], indent: int | None = None) -> None:
    """One JSON document per line, non-ASCII unescaped, as the API renders it."""
    separators = None if indent else (",", ":")
    stream.write(json.dumps(document, ensure_ascii=False, indent=indent, separators=separators) + "\n")


def report_problem(error: ServiceError, instance: str | None = None) -> int:
    """Write ``error`` as a problem document on stderr; return the matching exit code."""
    write_json(error.to_problem(instance), sys.stderr)
    return exit_code_for(error)


def exit_code_for(error: ServiceError) -> int:
    if isinstance(error, (ConfigProblem, FlagOutOfRange, OutputIsInput)):
        return EXIT_USAGE
    return EXIT_REJECTED if error.status < 500 else EXIT_FAILED
