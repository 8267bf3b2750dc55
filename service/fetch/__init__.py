"""Fetching a page by URL (``CLEANER_FETCH=1``): a fetch job becomes an ordinary page job.

The fetch runs in the web worker, not in an extraction process: it is network I/O, which a
gevent web worker waits on for the cost of a greenlet, while an extraction process waiting on a
slow site would hold one of the cores' workers idle, and its kill-on-budget would have to cover
the network's time too. The page then goes to the pool like a posted one, with its own budget.
``guard`` decides which addresses may be reached, ``client`` fetches.
"""

from __future__ import annotations

import dataclasses
import math
import socket
import time

from service.errors import FetchRefused
from service.fetch import guard
from service.fetch.client import Fetched, FetchPolicy, fetch
from service.models import Job
from service.settings import Settings

__all__ = ["FetchPolicy", "Fetched", "FetchedJob", "fetch_job", "policy_for"]


@dataclasses.dataclass(frozen=True)
class FetchedJob:
    job: Job  # the page job: body, mode, charset and url (the final one) from the fetch
    page: Fetched
    budget_s: float | None  # what is left of the request's ``timeout`` for the extraction

    def within(self, budget_s: float) -> float:
        """``budget_s``, shortened to what the fetch left of the request's ``timeout``."""
        return budget_s if self.budget_s is None else min(budget_s, self.budget_s)


def policy_for(settings: Settings, timeout_s: float | None = None) -> FetchPolicy:
    """The fetch limits of ``settings``; a request's ``timeout`` shortens the fetch's time."""
    return FetchPolicy(
        allowed=settings.fetch_networks,
        timeout_s=min(settings.fetch_timeout_s, timeout_s or math.inf),
        max_bytes=settings.max_body_bytes,
        user_agent=settings.fetch_user_agent,
    )


def fetch_job(
    job: Job, settings: Settings, require_setting: bool = True, lookup: guard.Resolver = socket.getaddrinfo
) -> FetchedJob:
    """Fetch ``job.url`` and return the job of the page it gave.

    ``require_setting``: refuse unless ``CLEANER_FETCH`` is on (the CLI, whose user typed the
    URL, does not require it; the address guard applies to both).

    Raises:
        FetchRefused / FetchFailed / FetchTimeout: as ``client.fetch``; FetchRefused also when
            fetching is off.
    """
    if require_setting and not settings.fetch:
        raise FetchRefused(
            "This server does not fetch pages (CLEANER_FETCH is off): send the page as 'html' or 'text'.",
            reason="disabled",
        )
    assert job.url is not None  # request_forms makes fetch jobs only with a URL
    started = time.monotonic()
    timeout = job.options.timeout
    page = fetch(job.url, policy_for(settings, timeout), lookup)
    fetched = dataclasses.replace(
        job, mode=page.mode, body=page.body, url=page.url, declared_charset=page.charset, fetch=False
    )
    budget = None if timeout is None else max(timeout - (time.monotonic() - started), 0.0)
    return FetchedJob(job=fetched, page=page, budget_s=budget)
