"""A small bounded LRU of answers, keyed by the body's hash and everything that shapes the answer.

Crawlers re-send the same bytes; a hit skips the extraction process entirely (issue 5).
Per web worker, in memory: bounded by ``CLEANER_CACHE_ENTRIES`` answers (0 turns it off) and by
``CLEANER_CACHE_MB`` of answers (issue 24: 25 pages of 2.5 MB asked as html+markdown held 175 MB
under the entry cap alone). An answer's size is what its objects take in memory
(``sys.getsizeof``, walked through its dicts and lists), so non-ASCII text counts 2-4 bytes a
character, as Python stores it.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from collections import OrderedDict
from typing import Any

from service.models import Job
from service.settings import Settings


class AnswerCache:
    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.held_bytes = 0
        # key -> (answer, its size in bytes)
        self._entries: OrderedDict[str, tuple[dict[str, Any], int]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> AnswerCache:
        return cls(settings.cache_entries, settings.cache_mb * 1024 * 1024)

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0

    @staticmethod
    def key(job: Job) -> str:
        digest = hashlib.blake2b(job.body, digest_size=20)
        digest.update(
            repr((job.mode, job.url, job.url_ignored, job.declared_charset, job.options.cache_key())).encode()
        )
        return digest.hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        if not self.max_entries:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, key: str, answer: dict[str, Any]) -> None:
        if not self.max_entries:
            return
        size = answer_bytes(answer)
        if size > self.max_bytes:  # would evict everything else and still not fit
            return
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self.held_bytes -= previous[1]
            self._entries[key] = (answer, size)
            self.held_bytes += size
            while len(self._entries) > self.max_entries or self.held_bytes > self.max_bytes:
                _key, (_answer, evicted) = self._entries.popitem(last=False)
                self.held_bytes -= evicted


def answer_bytes(value: Any) -> int:
    """The memory ``value`` takes: its own object plus, for dicts and lists, every key and item."""
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        size += sum(answer_bytes(key) + answer_bytes(item) for key, item in value.items())
    elif isinstance(value, (list, tuple)):
        size += sum(answer_bytes(item) for item in value)
    return size
