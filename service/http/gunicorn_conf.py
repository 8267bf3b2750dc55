"""gunicorn settings, all derived from the service's validated Settings (environment).

Loaded as ``gunicorn --config python:service.http.gunicorn_conf`` by ``make run``, the image and
``pagecleaner serve`` alike: a module of the package, so an installed pagecleaner has it too.

Serving model (docs/architecture.md): gevent workers only do I/O (read bodies with
a deadline, parse JSON, wait on pipes), so slow clients cost a greenlet, not a worker; each web
worker owns a supervised pool of extraction processes that do the CPU work and can be killed.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from service.check_config import checked_settings

# Not ``import reload``: every name here is read as a gunicorn setting, and ``reload`` is one.
from service.http.reload import mark_booted, stop_old_workers_after_boot
from service.http.server import MAX_REQUEST_LINE_BYTES
from service.settings import ConfigError, is_loopback_host

try:
    _settings = checked_settings()
except ConfigError as error:
    print(f"configuration error: {error}", file=sys.stderr)
    sys.exit(2)

bind = [_settings.listen_address]
workers = _settings.web_workers
# gunicorn's gevent worker (a greenlet per connection, so a slow client costs no web worker),
# with problem+json for the requests gunicorn refuses and a graceful close (service/http/server.py).
worker_class = "service.http.server.Worker"
# Connections one web worker holds at once (slow clients included); admission control bounds
# how many of them may be extracting.
worker_connections = 1000
# The web worker's heartbeat: it only does I/O, so 30 s without one means it is stuck.
timeout = 30
graceful_timeout = 15
keepalive = 5
# Room for a long ?url= (the app allows 8,192 characters, percent-encoded), bounded: 0 would mean
# no limit at all. gunicorn caps it at 8,190 unless its worker raises the cap (service/http/server.py).
limit_request_line = MAX_REQUEST_LINE_BYTES
# gunicorn's defaults, pinned: headers per request and bytes per header (431 beyond).
limit_request_fields = 100
limit_request_field_size = 8190
# Web workers do not ratchet memory (extraction runs in the pool's processes, which recycle).
max_requests = 0
preload_app = False  # each worker builds its app (and its pool) after gevent has patched
accesslog = None  # the app writes one JSON line per request itself
errorlog = "-"
loglevel = _settings.log_level
# No "Server: gunicorn/x.y" banner.
proc_name = "pagecleaner"


# gunicorn's runtime control socket is not needed, and several servers (tests) would share it.
control_socket_disable = True


def post_fork(server: Any, worker: Any) -> None:
    from gunicorn.http import wsgi

    wsgi.SERVER = "pagecleaner"  # no "Server: gunicorn" version banner


def on_reload(server: Any) -> None:
    """``kill -HUP``: the old web workers serve until the new ones do (service/http/reload.py)."""
    stop_old_workers_after_boot(server)


def post_worker_init(worker: Any) -> None:
    mark_booted(worker)


def worker_exit(server: Any, worker: Any) -> None:
    app = getattr(worker, "wsgi", None)
    runtime = getattr(app, "extensions", {}).get("cleaner") if app is not None else None
    if runtime is not None:
        runtime.close()


# Prometheus multiprocess mode (service/http/metrics_registry.py): every web worker writes its samples
# to files in one directory, and /metrics sums them. The directory must be fresh for each server.
_PROMETHEUS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
_owned_prometheus_dir: list[str] = []


def on_starting(server: Any) -> None:
    """Before any worker exists: the addresses to bind checked, a fresh metrics directory (a temp
    dir unless one is given)."""
    _check_bind(list(server.cfg.bind))
    given = os.environ.get(_PROMETHEUS_DIR_ENV)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):  # samples of a previous server would be summed in
            stale.unlink()
    else:
        created = tempfile.mkdtemp(prefix="pagecleaner-metrics-")
        _owned_prometheus_dir.append(created)
        os.environ[_PROMETHEUS_DIR_ENV] = created


def _check_bind(addresses: list[str]) -> None:
    """A non-loopback address needs API keys or CLEANER_ALLOW_OPEN=1 (``Settings.validate``), for
    what gunicorn binds, too: GUNICORN_CMD_ARGS="--bind 0.0.0.0:80" replaced the checked HOST and
    served the network without keys (s20 audit). A unix socket is local."""
    if _settings.allow_open or _settings.api_key_digests():
        return
    for address in addresses:
        if address.startswith("unix:"):
            continue
        host = address.rsplit(":", 1)[0] if address.count(":") == 1 or address.startswith("[") else address
        if not is_loopback_host(host.strip("[]")):
            print(
                f"configuration error: gunicorn is to bind {address!r}, which is not loopback, and no API keys "
                "are configured: set CLEANER_API_KEYS or CLEANER_API_KEYS_FILE, or CLEANER_ALLOW_OPEN=1",
                file=sys.stderr,
            )
            sys.exit(2)


def child_exit(server: Any, worker: Any) -> None:
    """A web worker is gone: drop its live gauges (its counters stay, as Prometheus expects)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    for directory in _owned_prometheus_dir:
        shutil.rmtree(directory, ignore_errors=True)
