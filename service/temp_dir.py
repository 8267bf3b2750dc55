"""The temporary directory the service writes to, and the start-up check that it can.

The service writes only there: gunicorn's heartbeat files, the metrics directory and language
identification's uncompressed model (``service.pipeline.language``). Without a writable one,
or without room for the model, no web worker can start: gunicorn printed a traceback ("No usable
temporary directory found"), or every fork server died on "No space left on device" until
gunicorn gave up a minute later (s20 audit). The check says so in one line instead.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import tempfile
from pathlib import Path

from service.settings import ConfigError

# py3langid's model uncompressed (0.4.0: 68,312,620 bytes, measured); the fork server writes it
# here once, and when it cannot, py3langid's own loader needs the same room for its temporary copy.
LANGID_MODEL_BYTES = 68_312_620
# Beside the model: gunicorn's heartbeat files are empty, the metrics files 64 KiB per process
# and kind (measured: 52 KB for a server that served the e2e suite).
OTHER_FILES_BYTES = 16 * 2**20
LANGID_COPY_PREFIX = "pagecleaner-langid-"
_ADVICE = "give the service a writable /tmp of 256 MiB (docs/container.md)"


def langid_model_copy(directory: str | None = None) -> Path:
    """Where the uncompressed model is kept: named after py3langid's version and the packaged
    model's size, so a new py3langid never reads an old copy. (Named after the model file's
    time, every reinstall of the same version left another 68 MB copy: 41 of them here.)"""
    from py3langid import langid  # numpy: only when asked, not for every settings check

    size = (Path(langid.MODEL_DIR) / langid.MODEL_FILE).stat().st_size
    name = f"{LANGID_COPY_PREFIX}{importlib.metadata.version('py3langid')}-{size}.npz"
    return Path(directory or tempfile.gettempdir()) / name


def check(directory: str | None = None) -> None:
    """The temporary directory (``directory``, or the one ``tempfile`` picks) takes files and has
    room for the model's copy, unless that is there already.

    Raises:
        ConfigError: no usable directory, one that refuses a file, or too little free space.
    """
    try:
        directory = directory or tempfile.gettempdir()
    except FileNotFoundError:  # tempfile's "No usable temporary directory found"
        tried = "TMPDIR, /tmp, /var/tmp, the working directory"
        raise ConfigError(f"no writable temporary directory ({tried}): {_ADVICE}") from None
    try:
        with tempfile.TemporaryFile(dir=directory):
            pass
        free = shutil.disk_usage(directory).free
    except OSError as error:
        reason = error.strerror or error
        raise ConfigError(f"the temporary directory {directory} takes no file ({reason}): {_ADVICE}") from None
    needed = OTHER_FILES_BYTES + (0 if langid_model_copy(directory).exists() else LANGID_MODEL_BYTES)
    if free < needed:
        raise ConfigError(
            f"the temporary directory {directory} has {free // 2**20} MiB free, {needed // 2**20} MiB needed "
            f"(language identification's model is unpacked there): {_ADVICE}"
        )
