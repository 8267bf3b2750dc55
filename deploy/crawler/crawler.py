"""An example crawler that cleans its pages through a pagecleaner sidecar (standard library only).

    PAGECLEANER_URL=http://127.0.0.1:8080 PAGECLEANER_API_KEY=... python3 crawler.py [PAGE.html ...]

It stands in for the application container of deploy/kubernetes/pod.yaml and compose.yaml: it
waits until the sidecar answers ``/readyz``, posts each page (by default every ``pages/*.html``
beside this file) to ``POST /v1/extract`` with the key as ``Authorization: Bearer``, and prints
each answer as one JSON line on stdout. Exit status: 0 when every page was cleaned, 1 when one
was not, 2 when the sidecar never became ready.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8080"
# The sidecar starts with the crawler (a pod has no start order before Kubernetes 1.29's native
# sidecars): gunicorn, then one warm extraction process per core; ~10 s here, more on a busy node.
DEFAULT_READY_TIMEOUT_S = 120.0
READY_POLL_S = 1.0
# Over the service's own time budget (CLEANER_TIME_BUDGET_S, 10 s) plus upload and queueing.
REQUEST_TIMEOUT_S = 30.0
# Busy answers (429 overloaded, 503 no free extraction process) are worth another try; a page
# over the time budget (503 time-budget-exceeded) would only fail again.
RETRY_STATUSES = frozenset({429, 503})
NO_RETRY_CODES = frozenset({"time-budget-exceeded"})
ATTEMPTS = 3
RETRY_WAIT_S = 2.0
PAGES_DIR = Path(__file__).resolve().parent / "pages"


def main(argv: list[str]) -> int:
    base_url = os.environ.get("PAGECLEANER_URL", DEFAULT_URL).rstrip("/")
    api_key = os.environ.get("PAGECLEANER_API_KEY", "").strip()
    ready_timeout_s = float(os.environ.get("CRAWLER_READY_TIMEOUT_S", DEFAULT_READY_TIMEOUT_S))
    pages = [Path(arg) for arg in argv] or sorted(PAGES_DIR.glob("*.html"))
    if not wait_ready(base_url, ready_timeout_s):
        print(f"crawler: {base_url}/readyz did not answer 200 within {ready_timeout_s:.0f} s", file=sys.stderr)
        return 2
    failed = 0
    for page in pages:
        try:
            answer = clean(base_url, api_key, page.read_bytes())
        except (OSError, ValueError) as error:  # urllib's errors are OSErrors; bad JSON a ValueError
            print(f"crawler: {page.name}: {error}", file=sys.stderr)
            failed += 1
            continue
        print(json.dumps({"page": page.name, **answer}, ensure_ascii=False), flush=True)
    print(f"crawler: {len(pages) - failed} of {len(pages)} pages cleaned", file=sys.stderr)
    return 1 if failed or not pages else 0


def wait_ready(base_url: str, timeout_s: float) -> bool:
    """True once ``/readyz`` answers 200 (it needs no key), False when ``timeout_s`` ran out."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(base_url + "/readyz", timeout=READY_POLL_S * 5) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass  # not listening yet, or 503 while its extraction processes warm up
        if time.monotonic() >= deadline:
            return False
        time.sleep(READY_POLL_S)


def clean(base_url: str, api_key: str, html: bytes) -> dict[str, Any]:
    """The service's answer for one page; raises OSError (HTTPError: the service said no)."""
    headers = {"Content-Type": "text/html; charset=utf-8"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    request = urllib.request.Request(base_url + "/v1/extract", data=html, headers=headers, method="POST")
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
                answer: dict[str, Any] = json.load(response)
                return answer
        except urllib.error.HTTPError as error:
            problem = error.read(2000).decode("utf-8", "replace")
            busy = error.code in RETRY_STATUSES and not any(f'"{code}"' in problem for code in NO_RETRY_CODES)
            if not busy or attempt == ATTEMPTS:
                raise OSError(f"HTTP {error.code}: {problem}") from error
        time.sleep(RETRY_WAIT_S * attempt)
    raise AssertionError("unreachable: the last attempt returns or raises")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
