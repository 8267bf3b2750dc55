"""``python -m service COMMAND``: the command line (see ``service.cli`` and docs/cli.md)."""

import sys

from service.cli import main

if __name__ == "__main__":
    sys.exit(main())
