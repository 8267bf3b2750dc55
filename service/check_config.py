"""``python -m service.check_config``: validate the environment before serving.

Exits 2 with one line naming the bad variable (or what the temporary directory lacks), so
``make run`` stops with a clear message instead of a worker boot loop. ``--list`` prints every setting with its default.
"""

from __future__ import annotations

import sys

from service import temp_dir
from service.settings import ConfigError, Settings


def checked_settings() -> Settings:
    """The settings from the environment, and a temporary directory the service can start with.

    Raises:
        ConfigError: naming the bad variable, or what the temporary directory lacks.
    """
    settings = Settings.from_env()
    temp_dir.check()
    return settings


def main(argv: list[str]) -> int:
    if "--list" in argv:
        for env, default, doc in Settings.documentation():
            print(f"{env}={default}\n    {doc}")
        return 0
    try:
        settings = checked_settings()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    print(
        f"config ok: http://{settings.listen_address}  web workers={settings.web_workers} "
        f"extractors/worker={settings.extractors} budget={settings.time_budget_s:g}s "
        f"body limit={settings.max_body_bytes} B",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
