"""The counts of one input: what came in, what was cleaned, skipped (by reason), failed (by code).

Invariants (tested): ``records == pages + sum(skipped)`` and ``pages == cleaned + sum(errors)``.
A chunk whose task failed for good (after its retries) counts its records as skipped
``task-failed`` and makes the output incomplete, so a re-run does that input again. So does a
read error (``read_errors``: the archive is corrupt or cut short somewhere; its unreadable records
are skipped ``unreadable-record``): a file being written or downloaded must not pass for done.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

SKIP_TASK_FAILED = "task-failed"


@dataclass
class Summary:
    records: int = 0
    pages: int = 0
    cleaned: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    failed_chunks: list[dict[str, Any]] = field(default_factory=list)
    read_errors: list[str] = field(default_factory=list)

    def skip(self, reason: str, count: int = 1) -> None:
        self.records += count
        self.skipped[reason] += count

    def clean(self) -> None:
        self.records += 1
        self.pages += 1
        self.cleaned += 1

    def fail(self, code: str) -> None:
        self.records += 1
        self.pages += 1
        self.errors[code] += 1

    def merge(self, other: Summary) -> None:
        self.records += other.records
        self.pages += other.pages
        self.cleaned += other.cleaned
        self.skipped.update(other.skipped)
        self.errors.update(other.errors)
        self.failed_chunks.extend(other.failed_chunks)
        self.read_errors.extend(other.read_errors)

    @property
    def complete(self) -> bool:
        return not self.failed_chunks and not self.read_errors

    def to_dict(self, **context: Any) -> dict[str, Any]:
        """The summary document (``DIR/<input-name>.summary.json``), ``context`` first."""
        return {
            **context,
            "complete": self.complete,
            "records": self.records,
            "pages": self.pages,
            "cleaned": self.cleaned,
            "skipped": dict(sorted(self.skipped.items())),
            "errors": dict(sorted(self.errors.items())),
            "failed_chunks": self.failed_chunks,
            "read_errors": self.read_errors,
        }

    def line(self) -> str:
        """One human line: ``1200 records, 400 pages: 396 cleaned, 4 errors (...); 800 skipped (...)``."""
        errors = sum(self.errors.values())
        skipped = sum(self.skipped.values())
        text = f"{self.records} records, {self.pages} pages: {self.cleaned} cleaned, {errors} errors"
        if self.errors:
            text += " (" + ", ".join(f"{code} {n}" for code, n in sorted(self.errors.items())) + ")"
        text += f"; {skipped} skipped"
        if self.skipped:
            text += " (" + ", ".join(f"{reason} {n}" for reason, n in sorted(self.skipped.items())) + ")"
        if self.failed_chunks:
            text += f"; {len(self.failed_chunks)} chunks FAILED (output incomplete)"
        if self.read_errors:
            text += f"; {len(self.read_errors)} read errors (output incomplete): {self.read_errors[0]}"
        return text
