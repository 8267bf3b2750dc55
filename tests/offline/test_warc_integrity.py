"""A truncated or corrupt archive is never marked complete, and a changed run is never skipped.

Audit s20 (/work/runs/s20/cli/findings.md, items 2 and 5): a .warc.gz cut short (an interrupted
download) was read up to the cut without an error and marked ``"complete": true``, so the next run
skipped it as ``already_complete``; a record cut short in a plain WARC was cleaned from half a
page; a re-run with other options, or over a changed input, was skipped as complete.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from pathlib import Path

import pytest

from service.models import Options
from service.offline.cli.common import EXIT_FAILED
from service.offline.warc.output import OutputFile, OutputPaths, run_fingerprint
from service.offline.warc.records import SKIP_UNREADABLE, ChunkScanner, Page, Refused, Skipped, read_chunk
from service.offline.warc.summary import Summary
from service.offline.warc.writer import Request, Response, Warcinfo, write_warc
from service.settings import Settings
from tests.offline.test_warc import run_command

BODY = b"<html><head><title>Page %d</title></head><body><article><p>" + b"A sentence of the page. " * 40
PAGES = 6


def _archive(path: Path, per_record_gzip: bool = True) -> Path:
    records: list[Response | Request | Warcinfo] = [Warcinfo()]
    for n in range(PAGES):
        records += [Request(f"https://p.example/{n}"), Response(f"https://p.example/{n}", BODY % n + b"</p></article>")]
    write_warc(str(path), records, per_record_gzip)
    return path


def _cut(source: Path, target: Path, missing: int) -> Path:
    target.write_bytes(source.read_bytes()[:-missing])
    return target


def _scan(path: Path) -> tuple[ChunkScanner, list[Page | Skipped | Refused]]:
    scanner = ChunkScanner(str(path), 4)
    return scanner, [item for chunk in scanner for item in read_chunk(chunk, 10**7)]


@pytest.mark.parametrize("missing", [1, 30, 300, 3000])
def test_a_gzip_archive_cut_short_is_a_read_error(tmp_path: Path, missing: int) -> None:
    whole = _archive(tmp_path / "a.warc.gz")
    scanner, _items = _scan(_cut(whole, tmp_path / "cut.warc.gz", missing))
    assert scanner.error is not None
    assert _scan(whole)[0].error is None


def test_a_plain_archive_whose_last_record_is_cut_is_a_read_error_and_not_a_page(tmp_path: Path) -> None:
    whole = _archive(tmp_path / "a.warc", per_record_gzip=False)
    scanner, items = _scan(_cut(whole, tmp_path / "cut.warc", 400))
    assert scanner.error is not None
    last = items[-1]
    assert isinstance(last, Skipped)
    assert last.reason == SKIP_UNREADABLE
    assert "Content-Length" in (last.detail or "")
    assert sum(isinstance(item, Page) for item in items) == PAGES - 1
    assert _scan(whole)[0].error is None


def test_garbage_after_the_last_record_is_a_read_error(tmp_path: Path) -> None:
    path = _archive(tmp_path / "a.warc", per_record_gzip=False)
    with path.open("ab") as stream:
        stream.write(b"THIS IS NOT A WARC RECORD\r\n\r\n")
    assert _scan(path)[0].error is not None


def test_read_errors_leave_the_input_incomplete() -> None:
    summary = Summary(read_errors=["OSError: Gzip decompression error (after 4 records)"])
    assert not summary.complete
    assert summary.to_dict()["complete"] is False
    assert "read error" in summary.line()


def test_a_summary_of_another_run_shape_does_not_vouch_for_the_output(tmp_path: Path) -> None:
    source = _archive(tmp_path / "a.warc.gz")
    settings = Settings.from_env(host="127.0.0.1")
    text = run_fingerprint(str(source), Options(), settings)
    paths = OutputPaths.for_input(tmp_path / "out", str(source))
    OutputFile(paths).finish(Summary().to_dict(fingerprint=text))
    assert paths.is_complete(text)
    markdown = run_fingerprint(str(source), dataclasses.replace(Options(), formats=("markdown",)), settings)
    assert not paths.is_complete(markdown)
    os.utime(source, ns=(0, 0))  # the input was replaced since
    assert not paths.is_complete(run_fingerprint(str(source), Options(), settings))


def _run(source: Path, out: Path, *flags: str) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:
    result = run_command(str(source), "--out", str(out), "--no-progress", "--workers", "1", *flags)
    return result, json.loads(result.stdout.splitlines()[-1])


@pytest.mark.slow
def test_a_truncated_input_fails_the_run_and_is_redone_by_the_next(tmp_path: Path) -> None:
    whole = _archive(tmp_path / "whole.warc.gz")
    source = _cut(whole, tmp_path / "crawl.warc.gz", 300)
    out = tmp_path / "out"
    result, summary = _run(source, out)
    assert result.returncode == EXIT_FAILED, result.stderr
    assert summary["complete"] is False
    assert summary["read_errors"]
    source.write_bytes(whole.read_bytes())  # the download is done again, whole
    result, summary = _run(source, out)
    assert result.returncode == 0, result.stderr
    assert "already_complete" not in summary
    assert summary["complete"] is True
    assert summary["cleaned"] == PAGES
    result, summary = _run(source, out, "--format", "markdown")  # other options: redone too
    assert result.returncode == 0, result.stderr
    assert "already_complete" not in summary
    result, summary = _run(source, out, "--format", "markdown")
    assert summary["already_complete"] is True
