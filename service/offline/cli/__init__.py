"""The ``python -m service`` command line: one module per subcommand, listed in ``COMMANDS``.

A command module exposes ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``
(the exit code). Adding a command (e.g. ``warc``) is one new module and one entry below.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from types import ModuleType

from service import __version__
from service.offline.cli import batch, extract, warc

COMMANDS: tuple[ModuleType, ...] = (extract, batch, warc)
PROG = "python -m service"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="pagecleaner without the HTTP server: the same pipeline, answers and problems.",
    )
    parser.add_argument("--version", action="version", version=f"pagecleaner {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        sub = commands.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command; returns its exit code."""
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code
