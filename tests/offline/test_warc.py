"""``python -m service warc``: WARC files in, JSON Lines out, on a Dask LocalCluster of 2 workers.

The archives are built at test time from fixtures/*/input.html (with their expected.json), plus
the records a crawl also holds: warcinfo, requests, an image, a 404, and a page slow enough to
overrun the time budget. One run of the real command is shared by the tests that read its output.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from service.models import Options
from service.offline.warc.output import OutputFile, OutputPaths, output_name
from service.offline.warc.records import (
    SKIP_HTTP_STATUS,
    SKIP_NOT_HTML,
    SKIP_NOT_RESPONSE,
    SKIP_UNREADABLE,
    ChunkScanner,
    Page,
    Refused,
    Skipped,
    dechunk,
    decode_payload,
    read_chunk,
)
from service.offline.warc.summary import Summary
from service.offline.warc.tasks import record_url
from service.offline.warc.writer import Request, Response, Warcinfo, write_warc
from service.settings import Settings
from tests.conftest import FIXTURES, ROOT

# Budget for the command runs: the fixtures clean in 10-250 ms, the slow page needs seconds.
TEST_BUDGET_S = 1.0
# <div>s of the slow page: about 2 s of extraction on this machine (2026-11-28), twice the budget.
# More divs do not take longer: the page is truncated at the element cap (warning page-truncated).
SLOW_PAGE_DIVS = 20000
# Small chunks so that two workers share even this small archive.
TEST_CHUNK_RECORDS = 6
COMMAND_TIMEOUT_S = 180
SLOW_URI = "https://slow.example/huge-page"
# The fingerprint of a run (output.run_fingerprint), as the output tests give it.
RUN: dict[str, Any] = {"input": {"size": 1, "mtime_ns": 1}}


@dataclass
class Archive:
    """A WARC file built for a test and what must come out of it."""

    path: Path
    expected: dict[str, dict[str, Any]] = field(default_factory=dict)  # record id -> expected.json
    uris: dict[str, str] = field(default_factory=dict)  # record id -> WARC-Target-URI
    slow_id: str = ""
    skipped: dict[str, int] = field(default_factory=dict)
    records: int = 0


def slow_page() -> bytes:
    divs = "".join(
        f"<div class='c{i % 7}'><p>Paragraph {i} with a few words <a href='/x{i}'>link</a></p><span>x</span></div>"
        for i in range(SLOW_PAGE_DIVS)
    )
    return f"<html><body>{divs}</body></html>".encode()


def build_archive(path: Path) -> Archive:
    """Every HTML fixture as a response (some chunked, some gzip-encoded), plus records to skip."""
    archive = Archive(path)
    records: list[Response | Request | Warcinfo] = [Warcinfo()]
    cases = sorted(p for p in FIXTURES.iterdir() if (p / "input.html").exists() and (p / "expected.json").exists())
    for number, case in enumerate(cases):
        request = json.loads((case / "request.json").read_text()) if (case / "request.json").exists() else {}
        uri = request.get("url", f"https://{case.name}.example/")
        response = Response(
            uri,
            (case / "input.html").read_bytes(),
            content_type=request.get("content_type", "text/html"),  # the HTTP charset, if any
            chunked=number % 2 == 0,
            content_encoding="gzip" if number % 3 == 0 else None,
        )
        records += [Request(uri), response]
        archive.expected[response.record_id] = json.loads((case / "expected.json").read_text(encoding="utf-8"))
        archive.uris[response.record_id] = uri
    image = Response("https://img.example/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(64), content_type="image/png")
    missing = Response("https://gone.example/", b"<html><body><p>Not found</p></body></html>", status=404)
    slow = Response(SLOW_URI, slow_page(), chunked=True, content_encoding="gzip")
    records += [image, missing, slow]
    archive.slow_id = slow.record_id
    archive.uris[slow.record_id] = SLOW_URI
    archive.records = write_warc(str(path), records)
    archive.skipped = {SKIP_NOT_RESPONSE: 1 + len(cases), SKIP_NOT_HTML: 1, SKIP_HTTP_STATUS: 1}
    return archive


def run_command(*args: str, timeout: float = COMMAND_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """``python -m service warc ARGS`` from the repository root."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "service", "warc", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_job(archive: Archive, out_dir: Path, *cluster: str) -> subprocess.CompletedProcess[str]:
    """The command over ``archive`` with the tests' budget and chunk size, on ``cluster``'s flags."""
    return run_command(
        str(archive.path),
        "--out",
        str(out_dir),
        *cluster,
        "--budget",
        str(TEST_BUDGET_S),
        "--chunk-records",
        str(TEST_CHUNK_RECORDS),
        "--no-progress",
    )


def read_lines(path: Path) -> dict[str, dict[str, Any]]:
    """The output's lines by WARC-Record-ID."""
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        lines = [json.loads(line) for line in stream]
    return {line["warc_record_id"]: line for line in lines}


def check_run(archive: Archive, out_dir: Path) -> None:
    """Every rule the tests below check one by one, for reuse by the e2e test on a real cluster."""
    paths = OutputPaths.for_input(out_dir, str(archive.path))
    lines = read_lines(paths.jsonl)
    assert set(lines) == {*archive.expected, archive.slow_id}
    for record_id, expected in archive.expected.items():
        line = lines[record_id]
        assert "error" not in line, line.get("error")
        assert line["title"] == expected["metadata"]["title"]
        assert line["authors"] == expected["metadata"]["authors"]
        assert line["warc_target_uri"] == archive.uris[record_id]
    assert lines[archive.slow_id]["error"]["code"] == "time-budget-exceeded"
    summary = paths.read_summary()
    assert summary["complete"] is True
    assert summary["skipped"] == archive.skipped
    assert summary["errors"] == {"time-budget-exceeded": 1}
    assert summary["cleaned"] == len(archive.expected)


@pytest.fixture(scope="module")
def warc_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Archive, Path, subprocess.CompletedProcess[str]]:
    """One run of the command over a fixture archive, on a LocalCluster of 2 workers."""
    base = tmp_path_factory.mktemp("warc")
    archive = build_archive(base / "crawl-00001.warc.gz")
    out_dir = base / "out"
    result = run_job(archive, out_dir, "--workers", "2")
    assert result.returncode == 0, result.stderr[-4000:]
    return archive, out_dir, result


# -- the command on a LocalCluster ---------------------------------------------------------------


@pytest.mark.slow
def test_every_html_response_is_cleaned_like_its_fixture(warc_run: Any) -> None:
    archive, out_dir, _ = warc_run
    lines = read_lines(out_dir / "crawl-00001.jsonl.gz")
    for record_id, expected in archive.expected.items():
        line = lines[record_id]
        assert "error" not in line, f"{archive.uris[record_id]}: {line.get('error')}"
        for name in ("title", "authors"):
            assert line[name] == expected["metadata"][name], f"{archive.uris[record_id]}: {name}"
        assert line["word_count"] > 0


@pytest.mark.slow
def test_output_lines_carry_the_record_uri_id_and_date(warc_run: Any) -> None:
    archive, out_dir, _ = warc_run
    lines = read_lines(out_dir / "crawl-00001.jsonl.gz")
    for record_id, line in lines.items():
        assert line["warc_record_id"] == record_id
        assert line["warc_target_uri"] == archive.uris[record_id]
        assert line["warc_date"] == "2024-03-12T10:00:00Z"


@pytest.mark.slow
def test_http_charset_of_the_record_decodes_the_page(warc_run: Any) -> None:
    # html-russian-cp1251-header declares windows-1251 only in its HTTP Content-Type.
    archive, out_dir, _ = warc_run
    lines = read_lines(out_dir / "crawl-00001.jsonl.gz")
    russian = [rid for rid, exp in archive.expected.items() if exp["metadata"].get("language") == "ru"]
    assert russian
    for record_id in russian:
        assert lines[record_id]["title"] == archive.expected[record_id]["metadata"]["title"]
        assert "charset-guessed" not in lines[record_id]["warnings"]


@pytest.mark.slow
def test_a_page_over_the_time_budget_is_killed_and_recorded_without_stopping_the_job(warc_run: Any) -> None:
    archive, out_dir, _ = warc_run
    line = read_lines(out_dir / "crawl-00001.jsonl.gz")[archive.slow_id]
    assert line["error"]["code"] == "time-budget-exceeded"
    assert line["warc_target_uri"] == SLOW_URI
    summary = json.loads((out_dir / "crawl-00001.summary.json").read_text())
    assert summary["errors"] == {"time-budget-exceeded": 1}
    assert summary["cleaned"] == len(archive.expected)


@pytest.mark.slow
def test_summary_counts_skips_by_reason_and_errors_by_code(warc_run: Any) -> None:
    archive, out_dir, result = warc_run
    summary = json.loads((out_dir / "crawl-00001.summary.json").read_text())
    assert summary["complete"] is True
    assert summary["records"] == archive.records
    assert summary["skipped"] == archive.skipped
    assert summary["records"] == summary["pages"] + sum(summary["skipped"].values())
    assert summary["pages"] == summary["cleaned"] + sum(summary["errors"].values())
    printed = json.loads(result.stdout.splitlines()[-1])
    assert printed["skipped"] == summary["skipped"]
    assert printed["errors"] == summary["errors"]
    assert "Dask dashboard" in result.stderr


@pytest.mark.slow
def test_rerun_skips_an_input_whose_output_is_complete(warc_run: Any) -> None:
    archive, out_dir, _ = warc_run
    output = out_dir / "crawl-00001.jsonl.gz"
    before = output.stat().st_mtime_ns
    # The same budget (it is in the run's fingerprint); other --workers and --chunk-records are
    # the same run: they change the order of lines, not the lines.
    result = run_command(str(archive.path), "--out", str(out_dir), "--budget", str(TEST_BUDGET_S), "--no-progress")
    assert result.returncode == 0, result.stderr
    assert output.stat().st_mtime_ns == before
    printed = json.loads(result.stdout.splitlines()[-1])
    assert printed["already_complete"] is True
    assert printed["skipped"] == archive.skipped  # by reason, as in the first run (issue 24 item 15)
    assert "complete already" in result.stderr


def test_an_unreadable_input_is_refused_before_any_work(tmp_path: Path) -> None:
    result = run_command(str(tmp_path / "missing.warc.gz"), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert json.loads(result.stderr.splitlines()[-1])["code"] == "input-unreadable"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.warc.gz", gzip.compress(b"hello, this is no archive\n")),
        ("page.warc", b"<html><body><p>Not a WARC</p></body></html>"),
        ("empty.warc.gz", b""),
    ],
    ids=["gzipped-text", "html", "empty"],
)
def test_a_file_that_is_not_a_warc_is_refused_before_any_work(tmp_path: Path, name: str, content: bytes) -> None:
    """It used to exit 0 and be marked complete, so a re-run skipped it (issue 24 item 15)."""
    path = tmp_path / name
    path.write_bytes(content)
    result = run_command(str(path), "--out", str(tmp_path / "out"))
    assert result.returncode == 1, result.stderr
    problem = json.loads(result.stderr.splitlines()[-1])
    assert problem["code"] == "not-a-warc"
    assert name in problem["detail"]
    assert not (tmp_path / "out").exists()


# -- reading records -----------------------------------------------------------------------------


def _items(path: Path, chunk_records: int) -> list[Page | Skipped | Refused]:
    return [item for chunk in ChunkScanner(str(path), chunk_records) for item in read_chunk(chunk, 10**7)]


def _describe(item: Page | Skipped | Refused) -> tuple[str, str | None]:
    return (item.reason, None) if isinstance(item, Skipped) else (type(item).__name__, item.record_id)


@pytest.mark.parametrize("chunk_records", [1, 4, 1000])
def test_chunks_cover_every_record_exactly_once(tmp_path: Path, chunk_records: int) -> None:
    archive = build_archive(tmp_path / "a.warc.gz")
    scanner = ChunkScanner(str(archive.path), chunk_records)
    chunks = list(scanner)
    assert scanner.seekable
    assert sum(chunk.count for chunk in chunks) == scanner.records == archive.records
    assert all(chunk.skip == 0 for chunk in chunks)
    pages = [item for item in _items(archive.path, chunk_records) if isinstance(item, Page)]
    page_ids = [page.record_id for page in pages if page.record_id is not None]
    assert len(page_ids) == len(pages)  # every page has its record id
    assert sorted(page_ids) == sorted([*archive.expected, archive.slow_id])


def test_a_file_gzipped_as_one_stream_is_read_by_skipping_records(tmp_path: Path) -> None:
    member_per_record = build_archive(tmp_path / "a.warc.gz")
    one_stream = tmp_path / "b.warc.gz"
    with gzip.open(member_per_record.path) as source:
        one_stream.write_bytes(gzip.compress(source.read()))
    scanner = ChunkScanner(str(one_stream), 4)
    chunks = list(scanner)
    assert not scanner.seekable
    assert any(chunk.skip for chunk in chunks)
    assert [_describe(i) for i in _items(one_stream, 4)] == [_describe(i) for i in _items(member_per_record.path, 4)]


def test_an_uncompressed_warc_is_cut_by_offsets(tmp_path: Path) -> None:
    path = tmp_path / "plain.warc"
    count = write_warc(str(path), [Response(f"https://p.example/{i}", b"<p>x</p>") for i in range(9)], False)
    scanner = ChunkScanner(str(path), 2)
    chunks = list(scanner)
    assert scanner.seekable
    assert scanner.records == count
    assert len(chunks) == 5
    assert len([i for i in _items(path, 2) if isinstance(i, Page)]) == count


def test_a_corrupt_archive_counts_unreadable_records_and_goes_on(tmp_path: Path) -> None:
    good = tmp_path / "good.warc.gz"
    write_warc(str(good), [Response(f"https://c.example/{i}", b"<html><p>page</p></html>") for i in range(6)])
    data = good.read_bytes()
    corrupt = tmp_path / "corrupt.warc.gz"
    # Cut inside the last gzip member (its 8-byte trailer and more are gone), whatever the
    # random record ids made the member sizes, then add garbage that only looks like gzip.
    corrupt.write_bytes(data[: len(data) - 20] + b"\x1f\x8b\x08\x00garbage" * 20)
    scanner = ChunkScanner(str(corrupt), 2)
    chunks = list(scanner)
    assert scanner.error is not None
    items = [item for chunk in chunks for item in read_chunk(chunk, 10**7)]
    assert len(items) == scanner.records >= 2
    # A chunk whose records later turn out unreadable is counted, not lost.
    broken = ChunkScanner(str(good), 3)
    first = next(iter(broken))
    truncated = tmp_path / "truncated.warc.gz"
    truncated.write_bytes(data[: len(data) // 3])
    moved = type(first)(str(truncated), first.index, first.offset, first.count)
    reasons = [i.reason for i in read_chunk(moved, 10**7) if isinstance(i, Skipped)]
    assert SKIP_UNREADABLE in reasons


def test_payload_decoding_undoes_chunked_and_gzip_and_keeps_already_decoded_bodies() -> None:
    html = b"<html><body><p>" + b"hello " * 2000 + b"</p></body></html>"
    chunked = b"".join(
        f"{len(html[i : i + 100]):x}\r\n".encode() + html[i : i + 100] + b"\r\n" for i in range(0, len(html), 100)
    )
    chunked += b"0\r\n\r\n"
    assert dechunk(chunked) == html
    assert dechunk(html) == html  # stored de-chunked under its original header
    gz = gzip.compress(html)
    assert decode_payload(gz, "", "gzip", 10**7) == html
    assert decode_payload(dechunk_input(gz), "chunked", "gzip", 10**7) == html
    assert decode_payload(html, "chunked", "gzip", 10**7) == html  # both headers stale
    assert decode_payload(zlib.compress(html), "", "deflate", 10**7) == html


def dechunk_input(body: bytes) -> bytes:
    return f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"


def test_a_payload_over_the_body_limit_is_refused_even_when_compressed() -> None:
    from service.errors import BodyTooLarge

    bomb = gzip.compress(b"<p>" + b"a" * 5_000_000)
    with pytest.raises(BodyTooLarge):
        decode_payload(bomb, "", "gzip", 1_000_000)


def test_an_unknown_content_coding_is_an_error_with_its_own_code(tmp_path: Path) -> None:
    path = tmp_path / "z.warc.gz"
    write_warc(str(path), [Response("https://z.example/", b"\x28\xb5\x2f\xfd...", content_encoding="zstd")])
    items = _items(path, 10)
    assert isinstance(items[0], Refused)
    assert items[0].error.code == "unsupported-content-encoding"


# -- outputs -------------------------------------------------------------------------------------


def test_output_names_drop_the_archive_suffixes() -> None:
    assert output_name("/data/CC-MAIN-2024-00001.warc.gz") == "CC-MAIN-2024-00001"
    assert output_name("crawl.warc") == "crawl"
    assert output_name("crawl.warc.zst") == "crawl"
    assert output_name("odd.name") == "odd.name"


def test_an_output_is_final_only_after_its_last_chunk(tmp_path: Path) -> None:
    paths = OutputPaths.for_input(tmp_path, "x.warc.gz")
    output = OutputFile(paths)
    output.append(gzip.compress(b'{"a":1}\n'))
    output.append(gzip.compress(b'{"a":2}\n'))
    assert not paths.jsonl.exists()
    assert not paths.is_complete(RUN)
    output.finish(Summary().to_dict(fingerprint=RUN))
    assert paths.is_complete(RUN)
    with gzip.open(paths.jsonl, "rt") as stream:
        assert [json.loads(line)["a"] for line in stream] == [1, 2]  # members read as one stream
    incomplete = Summary(failed_chunks=[{"chunk": 3}])
    OutputFile(paths).finish(incomplete.to_dict(fingerprint=RUN))
    assert not paths.is_complete(RUN)  # a failed chunk makes the next run redo the input


def test_an_input_whose_every_chunk_failed_leaves_no_empty_output(tmp_path: Path) -> None:
    """Only its summary (incomplete, with the failed chunks) and the hidden partial file: a 0-byte
    ``.jsonl.gz`` under the final name looked like a result (issue 24 item 15)."""
    paths = OutputPaths.for_input(tmp_path, "x.warc.gz")
    failed = Summary(failed_chunks=[{"chunk": 0}, {"chunk": 1}])
    failed.skip("task-failed", 12)
    OutputFile(paths).finish(failed.to_dict(fingerprint=RUN))
    assert not paths.jsonl.exists()
    assert paths.read_summary()["failed_chunks"] == [{"chunk": 0}, {"chunk": 1}]
    assert not paths.is_complete(RUN)


def test_a_restarted_input_loses_its_old_summary_until_it_finishes(tmp_path: Path) -> None:
    paths = OutputPaths.for_input(tmp_path, "x.warc.gz")
    OutputFile(paths).finish(Summary().to_dict(fingerprint=RUN))
    assert paths.is_complete(RUN)
    restarted = OutputFile(paths)  # a new run starts on this input and dies before finishing
    assert not paths.is_complete(RUN)
    restarted.abort()


def test_without_bokeh_where_the_scheduler_runs_no_dashboard_link_is_printed() -> None:
    """Dask serves its HTTP port without bokeh too, but the link leads to no dashboard (issue 24
    item 16)."""
    import importlib.util

    from distributed import Client, LocalCluster

    from service.offline.warc.runner import dashboard_line

    if importlib.util.find_spec("bokeh") is not None:
        pytest.skip("bokeh is installed here: the dashboard exists")
    with (
        # distributed leaves LocalCluster.__init__ and Client.__init__ unannotated.
        LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster,  # type: ignore[no-untyped-call]
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        line = dashboard_line(client)
    assert "http" not in line
    assert "unavailable" in line


# -- Dask: a dead worker's task is retried -------------------------------------------------------


@pytest.mark.slow
def test_a_task_whose_worker_dies_is_retried_on_a_live_worker(tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    archive = build_archive(tmp_path / "a.warc.gz")
    chunk = next(iter(ChunkScanner(str(archive.path), 10_000)))  # the whole archive: a few seconds
    settings = Settings.from_env(environ={}, time_budget_s=TEST_BUDGET_S)
    with (
        # distributed leaves LocalCluster.__init__ and Client.__init__ unannotated.
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,  # type: ignore[no-untyped-call]
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        from service.offline.warc.tasks import clean_chunk

        future = client.submit(clean_chunk, chunk, Options(), settings, retries=2, pure=False)
        deadline = time.monotonic() + 60
        running_on: list[str] = []
        while not running_on and time.monotonic() < deadline:
            running_on = [worker for worker, keys in client.processing().items() if future.key in keys]
            time.sleep(0.1)
        assert running_on
        time.sleep(1.0)  # well inside the task
        pid = client.run(os.getpid, workers=running_on)[running_on[0]]
        assert not future.done()
        os.kill(pid, 9)
        result = future.result(timeout=120)
    assert result.summary.cleaned == len(archive.expected)
    assert result.summary.errors == {"time-budget-exceeded": 1}


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("https://news.example/a", ("https://news.example/a", False)),
        (None, (None, False)),
        ("dns:news.example", (None, True)),  # not http(s): dropped, as the API drops it
        ("http://[::1/", (None, True)),  # malformed: the API's 400, here dropped (the article stays)
        ("http://news.example/\x00", (None, True)),
    ],
)
def test_a_record_uri_the_api_would_not_take_is_dropped_and_said(uri: str | None, expected: Any) -> None:
    assert record_url(uri) == expected
