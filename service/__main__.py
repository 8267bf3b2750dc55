"""``python -m service COMMAND``: the ``pagecleaner`` command (see ``service.commands`` and docs/cli.md)."""

import sys

from service.commands import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m service"))
