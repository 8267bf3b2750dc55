"""The ``pagecleaner`` command (also ``python -m service``): ``serve`` and the offline commands."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

from service.http import serve
from service.offline import cli

COMMANDS: tuple[ModuleType, ...] = (serve, *cli.COMMANDS)
PROG = "pagecleaner"
DESCRIPTION = "pagecleaner: the HTTP service (serve), or the same pipeline without it (extract, batch, warc)."


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """Parse ``argv`` and run the chosen command; returns its exit code."""
    args = cli.build_parser(COMMANDS, prog=prog, description=DESCRIPTION).parse_args(argv)
    code: int = args.run(args)
    return code
