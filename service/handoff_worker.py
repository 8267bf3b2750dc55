"""The web worker's gunicorn class: gunicorn's gevent worker, with ``POST /v1/extract`` handed to
the extraction processes (``handoff_front`` for the per-request work, ``connection_handoff`` for
why). The worker class of ``gunicorn.conf.py``.

gunicorn imports this module in its master process, before any hook runs: it imports nothing
of the service there (the metrics registry, for one, must first see its multiprocess directory).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from gunicorn.workers.ggevent import GeventWorker

if TYPE_CHECKING:
    from service.handoff_front import HandoffFront

log = logging.getLogger("service")


class HandoffWorker(GeventWorker):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn's gevent worker with the hand-off; plain gevent when ``CLEANER_HANDOFF=0`` or the
    app is not the service's."""

    front: HandoffFront | None = None
    alive: bool  # gunicorn's Worker attributes, untyped there
    nr: int
    max_requests: int

    def load_wsgi(self) -> None:
        super().load_wsgi()
        from service.handoff_front import HandoffFront

        extensions = getattr(self.wsgi, "extensions", {})
        runtime = extensions.get("cleaner")
        if runtime is not None and runtime.settings.handoff:
            idle = float(self.cfg.keepalive) if self.cfg.keepalive > 0 else runtime.settings.read_timeout_s
            self.front = HandoffFront(runtime, extensions["keyring"], extensions["cors_origins"], idle)

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        front = self.front
        if front is None:
            super().handle(listener, client, addr)
            return
        try:
            conn = front.open(client)
            while True:
                outcome = front.serve(conn, keep_alive=self.alive and self.cfg.keepalive > 0)
                if outcome == front.FALLBACK:
                    # Nothing of this request was read: gunicorn serves the connection from it on.
                    super().handle(listener, client, addr)
                    return
                self.nr += 1
                if self.nr >= self.max_requests:
                    self.alive = False
                if outcome == front.CLOSE or not self.alive:
                    return
        except OSError:  # the client reset or went away
            log.debug("connection dropped", exc_info=True)
        except Exception:
            log.exception("unexpected error serving a connection")
        finally:
            client.close()
