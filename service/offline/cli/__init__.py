"""The offline commands of ``pagecleaner`` / ``python -m service``: one module per subcommand, in ``COMMANDS``.

A command module exposes ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``
(the exit code). Adding a command (e.g. ``warc``) is one new module and one entry below;
``service.commands`` puts ``serve`` (the HTTP service, which this layer must not import) in front.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from types import ModuleType

from service import __version__
from service.offline.cli import batch, extract, warc
from service.offline.cli.common import guarded

COMMANDS: tuple[ModuleType, ...] = (extract, batch, warc)
PROG = "python -m service"
DESCRIPTION = "pagecleaner without the HTTP server: the same pipeline, answers and problems."


def build_parser(
    commands: Sequence[ModuleType] = COMMANDS, prog: str = PROG, description: str = DESCRIPTION
) -> argparse.ArgumentParser:
    """The parser of ``commands`` (``service.commands`` adds ``serve`` to these for ``pagecleaner``)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--version", action="version", version=f"pagecleaner {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in commands:
        sub = subparsers.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        command.add_arguments(sub)
        sub.set_defaults(run=guarded(command.run))
    return parser
