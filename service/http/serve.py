"""``pagecleaner serve``: the HTTP service under gunicorn, configured by ``service/http/gunicorn_conf.py``.

The command checks the settings (exit 2 naming the bad variable, as ``python -m service.check_config``
does), then replaces itself with gunicorn: signals from a terminal, systemd or a container runtime
reach gunicorn's master directly, with no wrapper process in between. ``make run`` is this command.
"""

from __future__ import annotations

import argparse
import os
import sys

from service import check_config

NAME = "serve"
HELP = "run the HTTP service (gunicorn; every setting from the environment, see docs/cli.md)"
CONFIG = "python:service.http.gunicorn_conf"
APP = "service.http.wsgi:app"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to listen on (sets HOST; default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (sets PORT; default 8080)")


def gunicorn_argv() -> list[str]:
    """gunicorn run by this Python (the one the package is installed in), with the package's config."""
    return [sys.executable, "-m", "gunicorn", "--config", CONFIG, APP]


def run(args: argparse.Namespace) -> int:
    # The settings are read from the environment by the config module in gunicorn's process.
    if args.host is not None:
        os.environ["HOST"] = args.host
    if args.port is not None:
        os.environ["PORT"] = str(args.port)
    code = check_config.main([])
    if code == 0:
        sys.stdout.flush()
        sys.stderr.flush()
        argv = gunicorn_argv()
        os.execv(argv[0], argv)  # does not return (OSError if Python cannot be run)
    return code
