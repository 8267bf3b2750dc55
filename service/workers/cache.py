"""A small bounded LRU of answers, keyed by the body's hash and everything that shapes the answer.

Crawlers re-send the same bytes; a hit skips the extraction process entirely (issue 5).
Per web worker, in memory: bounded by ``CLEANER_CACHE_ENTRIES`` answers (0 turns it off).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any

from service.models import Job


class AnswerCache:
    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0

    @staticmethod
    def key(job: Job) -> str:
        digest = hashlib.blake2b(job.body, digest_size=20)
        digest.update(repr((job.mode, job.url, job.declared_charset, job.options.cache_key())).encode())
        return digest.hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        if not self.max_entries:
            return None
        with self._lock:
            answer = self._entries.get(key)
            if answer is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return answer

    def put(self, key: str, answer: dict[str, Any]) -> None:
        if not self.max_entries:
            return
        with self._lock:
            self._entries[key] = answer
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
