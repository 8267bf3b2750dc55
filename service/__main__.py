"""``python -m service COMMAND``: the command line (see ``service.offline.cli`` and docs/cli.md)."""

import sys

from service.offline.cli import main

if __name__ == "__main__":
    sys.exit(main())
