"""What one web worker holds for its whole life: settings, extraction pool, cache, admission."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from service.models import Job
from service.settings import Settings
from service.workers.admission import Admission
from service.workers.cache import AnswerCache
from service.workers.pool import ExtractionPool


@dataclass
class Runtime:
    settings: Settings
    pool: ExtractionPool
    cache: AnswerCache
    admission: Admission
    reading: Admission

    @classmethod
    def start(cls, settings: Settings) -> Runtime:
        pool = ExtractionPool(settings)
        pool.start()
        return cls(
            settings=settings,
            pool=pool,
            cache=AnswerCache.from_settings(settings),
            admission=Admission(settings.in_flight_limit),
            reading=Admission(settings.max_uploads),
        )

    def extract(self, job: Job, budget_s: float | None = None) -> tuple[dict[str, Any], bool]:
        """(answer, came from cache) within ``budget_s`` (default: the server's budget), or the
        job's ``timeout`` when that is shorter.

        Raises:
            InvalidOption: the job's ``timeout`` is over the server's budget.
            ServiceError: what the pool raises.
        """
        budget_s = min(job.options.budget_s(self.settings.time_budget_s), math.inf if budget_s is None else budget_s)
        if not self.cache.enabled:  # hashing the page (~0.1 ms per 100 KB) only serves the cache
            return self.pool.submit(job, budget_s)[0], False
        key = self.cache.key(job)
        cached = self.cache.get(key)
        if cached is not None:
            return cached, True
        answer, _seconds = self.pool.submit(job, budget_s)
        self.cache.put(key, answer)
        return answer, False

    def canary(self, page: bytes, budget_s: float) -> bool:
        from service.models import Options

        answer, _seconds = self.pool.submit(Job(mode="html", body=page, options=Options()), budget_s)
        return "readiness canary" in answer.get("text", "")

    def close(self) -> None:
        self.pool.close()
