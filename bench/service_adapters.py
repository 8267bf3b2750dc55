"""The service's pipeline as score.py callables, run in-process (no HTTP, no pool).

    cd ../shared/bench && PYTHONPATH=$OLDPWD:$OLDPWD/bench $OLDPWD/.venv/bin/python score.py \
        --extractor service_adapters:pipeline_default trafilatura mozilla-readability trafilatura-text
"""

from __future__ import annotations

from service.models import Job, Mode, Options
from service.pipeline import run


def _extract(page: bytes, url: str | None, content_type: str | None, options: Options) -> str:
    mode: Mode = "text" if content_type and content_type.startswith("text/plain") else "html"
    return str(run(Job(mode=mode, body=page, url=url, options=options))["text"])


def pipeline_default(page: bytes, url: str | None = None, content_type: str | None = None) -> str:
    return _extract(page, url, content_type, Options())


def pipeline_precision(page: bytes, url: str | None = None, content_type: str | None = None) -> str:
    return _extract(page, url, content_type, Options(favor="precision"))


def pipeline_recall(page: bytes, url: str | None = None, content_type: str | None = None) -> str:
    return _extract(page, url, content_type, Options(favor="recall"))
