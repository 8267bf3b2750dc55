"""Makes this package importable where a Dask cluster runs the job: checked up front, shipped if missing.

Tasks name ``service.offline.warc.tasks.clean_chunk`` and carry ``service`` objects (chunks,
options, settings), so the scheduler (which unpickles the task graph) and every worker must
import ``service``; a cluster started by hand elsewhere cannot, and every chunk then failed with
``No module named 'service'`` (issue 24, item 15). Where it is missing, this copy of the package
is uploaded with Dask's ``UploadDirectory`` plugin: unpacked in each nanny's and the scheduler's
local directory, put on their ``sys.path``, and the workers restarted so they start with it (the
fork server, started from the package's parent directory, then finds it too). Third-party
dependencies (trafilatura, lxml, ...) are not shipped: the workers must have them installed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import tempfile
from pathlib import Path
from typing import Any

from distributed import Client
from distributed.diagnostics.plugin import UploadDirectory

from service.errors import ServiceError

# The module a task names: importable there means the task can run there.
TASK_MODULE = "service.offline.warc.tasks"
# How long restarted workers may take to come back after the upload (imports of distributed).
RESTART_TIMEOUT_S = 120.0
_PACKAGE = Path(__file__).resolve().parents[2]  # .../service


class ClusterLacksService(ServiceError):
    """The cluster cannot import this package and it could not be shipped there."""

    status, code, title = 500, "cluster-lacks-service", "The Dask cluster cannot import the service"


def missing_on(client: Client) -> list[str]:
    """Where ``service`` cannot be imported: worker addresses, and ``scheduler``.

    The probe is ``importlib.util.find_spec``: a function of ``service`` itself could not even be
    unpickled there. It imports the module's parent packages and finds the module, or raises.
    """
    missing: list[str] = []
    try:
        found = client.run_on_scheduler(importlib.util.find_spec, TASK_MODULE)  # type: ignore[no-untyped-call]
    except Exception:  # ModuleNotFoundError, raised there
        found = None
    if found is None:
        missing.append("scheduler")
    on_workers: dict[str, Any] = client.run(importlib.util.find_spec, TASK_MODULE, on_error="return")
    missing += sorted(
        address for address, found in on_workers.items() if found is None or isinstance(found, BaseException)
    )
    return missing


def ensure_importable(client: Client) -> str | None:
    """Ship this package to the cluster if the scheduler or a worker lacks it; a line for the
    user saying what was done (None: nothing needed).

    Raises:
        ClusterLacksService: still missing after the upload (e.g. workers without a nanny).
    """
    missing = missing_on(client)
    if not missing:
        return None
    workers = len(client.scheduler_info().get("workers", {}))
    with tempfile.TemporaryDirectory(prefix="pagecleaner-ship-") as staging:
        root = Path(staging) / f"pagecleaner-{_digest()}"
        shutil.copytree(_PACKAGE, root / "service", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        plugin = UploadDirectory(  # type: ignore[no-untyped-call]
            str(root),
            restart_workers=True,
            update_path=True,
            # Not Dask's default ("tests", "docs", ...: any such folder in the temp path dropped all).
            skip_words=("__pycache__",),
            mode="all",
        )
    client.register_plugin(plugin)
    client.wait_for_workers(max(1, workers), timeout=RESTART_TIMEOUT_S)
    still = missing_on(client)
    if still:
        raise ClusterLacksService(
            f"`service` is not importable on {', '.join(still)} even after uploading it (workers need a nanny "
            "for the upload); put this repository on their PYTHONPATH (docs/at_scale.md)."
        )
    return f"warc: shipped the service package to {', '.join(missing)} (it was not importable there)"


def _digest() -> str:
    """A name per version of the package, so an upload never mixes two versions' files."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
