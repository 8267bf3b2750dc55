"""Where an input's results go, how they become final, and when a re-run may skip an input.

``DIR/<name>.jsonl.gz`` (``<name>``: the input's file name without ``.warc.gz`` and the like)
holds one JSON line per page; ``DIR/<name>.summary.json`` its counts. Lines are written to a
hidden partial file; at the end it is renamed to its final name (atomic on one filesystem) and
the summary is written the same way, last: an input is complete when its summary exists, says
``"complete": true``, and carries the ``fingerprint`` of this run (``run_fingerprint``: the
input's size and mtime, the options and limits that shape the lines), so a changed input or
other flags are redone rather than skipped. A run killed half-way leaves only a partial file, which the next run
overwrites. The JSONL file is a concatenation of gzip members (one per chunk, compressed by the
worker), which gzip, zcat and Python's ``gzip`` read as one stream.

Lines come in completion order of the chunks, not archive order: waiting for a slow or retried
chunk would hold every later chunk in the client's memory.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from service.models import Options
from service.settings import Settings

# Input suffixes dropped to name the outputs (compression first, then the archive format).
COMPRESSION_SUFFIXES = (".gz", ".zst", ".lz4", ".bz2", ".br")
ARCHIVE_SUFFIXES = (".warc", ".arc")
JSONL_SUFFIX = ".jsonl.gz"
SUMMARY_SUFFIX = ".summary.json"
PARTIAL_PREFIX = "."
PARTIAL_SUFFIX = ".partial"


def output_name(input_path: str) -> str:
    """``CC-MAIN-...-00001.warc.gz`` -> ``CC-MAIN-...-00001``."""
    name = Path(input_path).name
    for suffixes in (COMPRESSION_SUFFIXES, ARCHIVE_SUFFIXES):
        for suffix in suffixes:
            if name.lower().endswith(suffix) and len(name) > len(suffix):
                name = name[: -len(suffix)]
                break
    return name


@dataclass(frozen=True)
class OutputPaths:
    jsonl: Path
    summary: Path

    @classmethod
    def for_input(cls, out_dir: str | Path, input_path: str) -> OutputPaths:
        name = output_name(input_path)
        return cls(Path(out_dir) / (name + JSONL_SUFFIX), Path(out_dir) / (name + SUMMARY_SUFFIX))

    def is_complete(self, fingerprint: dict[str, Any]) -> bool:
        """Both files exist, and the summary says a run of this ``fingerprint`` finished every chunk."""
        if not (self.jsonl.is_file() and self.summary.is_file()):
            return False
        try:
            document = json.loads(self.summary.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return (
            isinstance(document, dict)
            and document.get("complete") is True
            and document.get("fingerprint") == fingerprint
        )

    def read_summary(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.summary.read_text(encoding="utf-8"))
        return document


def run_fingerprint(input_path: str, options: Options, settings: Settings) -> dict[str, Any]:
    """What a complete output must have been made from, as JSON (the summary's ``fingerprint``).

    The input's size and mtime stand for its content (hashing a 1 GB file would cost a read of it);
    the options and the limits that decide a page's answer (budget, body size, tree size) stand for
    the run. Not the chunk size, workers or scheduler: they change the order of lines, not the lines.
    """
    stat = os.stat(input_path)
    document = {
        "input": {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns},
        "options": dataclasses.asdict(options),
        "limits": {
            name: getattr(settings, name)
            for name in ("time_budget_s", "max_body_bytes", "max_elements", "max_depth", "extractor_memory_limit_mb")
        },
    }
    normal: dict[str, Any] = json.loads(json.dumps(document))  # tuples as lists, as read back
    return normal


def _partial(path: Path) -> Path:
    return path.with_name(PARTIAL_PREFIX + path.name + PARTIAL_SUFFIX)


class OutputFile:
    """The partial JSONL file of one input, made final by ``finish``."""

    def __init__(self, paths: OutputPaths) -> None:
        self.paths = paths
        paths.jsonl.parent.mkdir(parents=True, exist_ok=True)
        # A stale summary must not vouch for the new file if this run dies before finishing.
        paths.summary.unlink(missing_ok=True)
        self._partial = _partial(paths.jsonl)
        self._stream: BinaryIO | None = open(self._partial, "wb")  # noqa: SIM115 - closed in finish/abort
        self._written = False

    def append(self, gzip_member: bytes) -> None:
        assert self._stream is not None
        self._stream.write(gzip_member)
        self._written = True

    def finish(self, summary: dict[str, Any]) -> None:
        """Flush, rename into place, then write the summary (atomically, last).

        An incomplete input with no line at all (every chunk failed) gets no JSONL file: an empty
        one under the final name looked like a result (issue 24, item 15). Its summary says why.
        """
        assert self._stream is not None
        self._stream.flush()
        os.fsync(self._stream.fileno())
        self._stream.close()
        self._stream = None
        if self._written or summary.get("complete") is True:
            os.replace(self._partial, self.paths.jsonl)
        else:
            self._partial.unlink()
            self.paths.jsonl.unlink(missing_ok=True)  # a previous run's file is not this run's
        partial_summary = _partial(self.paths.summary)
        partial_summary.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        os.replace(partial_summary, self.paths.summary)

    def abort(self) -> None:
        """Close without making anything final (the partial file stays for inspection)."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None
