"""WARC throughput: pages/s of ``python -m service warc``'s runner on 1 and 2 Dask workers, and
the read speed of FastWARC against warcio on the same archive (``--readers``).

    .venv/bin/python -m bench.warc_scaling                      # 200 pages, 1 and 2 workers
    .venv/bin/python -m bench.warc_scaling --pages 400 --workers 1 2 4
    .venv/bin/python -m bench.warc_scaling --readers            # needs `pip install warcio` too

The archive is generated (a request and a response record per page, gzip per record, some
payloads chunked and gzip-encoded) from fixtures/*/input.html and, when present, the pages of
../shared/bench/mozilla-readability/pages (read in place), cycled to ``--pages``. Each worker's
extraction pool is started before the clock starts, so the numbers are steady-state throughput.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from service.models import Options
from service.offline.warc.records import ChunkScanner, Page, read_chunk
from service.offline.warc.writer import Request, Response, Warcinfo, write_warc
from service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SHARED_PAGES = ROOT.parent / "shared" / "bench" / "mozilla-readability" / "pages"
# 200 pages = 401 records: the 200-500 records, ~10-20 s a run on one core.
DEFAULT_PAGES = 200
# The reader comparison needs more records than the scaling runs to time more than noise.
READER_PAGES = 3000
READER_REPEATS = 5
# Chunks of 40 records (~20 pages) give even 2 workers ~10 tasks each on 200 pages.
BENCH_CHUNK_RECORDS = 40
# The service's default body limit (Settings.max_body_bytes).
MAX_BODY_BYTES = Settings().max_body_bytes


def source_pages() -> list[tuple[str, bytes]]:
    pages = [
        (f"https://{p.parent.name}.example/", p.read_bytes()) for p in sorted((ROOT / "fixtures").glob("*/input.html"))
    ]
    if SHARED_PAGES.is_dir():
        pages += [
            (f"https://readability.example/{p.stem}", p.read_bytes()) for p in sorted(SHARED_PAGES.glob("*.html"))
        ]
    return pages


def build(path: Path, count: int, encoded: bool = True) -> int:
    """An archive of ``count`` pages (request + response each); returns its record count.

    ``encoded``: a quarter of the payloads chunked and a third gzip-encoded, as a crawler that
    stores raw transfers writes them; off: all identity, as Common Crawl stores them.
    """
    pages = source_pages()
    records: list[Response | Request | Warcinfo] = [Warcinfo()]
    for number in range(count):
        uri, body = pages[number % len(pages)]
        uri = f"{uri}?n={number}"
        chunked = encoded and number % 4 == 0
        coding = "gzip" if encoded and number % 3 == 0 else None
        records += [Request(uri), Response(uri, body, chunked=chunked, content_encoding=coding)]
    return write_warc(str(path), records)


def scaling(archive: Path, worker_counts: list[int], settings: Settings) -> dict[int, float]:
    from service.offline.warc.runner import WarcJob, WarcRunner, dask_client
    from service.offline.warc.tasks import warm_up

    rates: dict[int, float] = {}
    for workers in worker_counts:
        out_dir = Path(tempfile.mkdtemp(prefix="warc-bench-"))
        try:
            with dask_client(None, workers) as client:
                client.run(warm_up, settings)
                job = WarcJob([str(archive)], out_dir, Options(), settings, BENCH_CHUNK_RECORDS)
                started = time.perf_counter()
                (report,) = WarcRunner(job, client).run()
                seconds = time.perf_counter() - started
        finally:
            shutil.rmtree(out_dir, ignore_errors=True)
        summary = report.summary
        rates[workers] = summary.pages / seconds
        print(
            f"{workers} worker(s): {summary.pages} pages in {seconds:.1f} s = {rates[workers]:.1f} pages/s "
            f"({summary.cleaned} cleaned, errors {dict(summary.errors) or 0})"
        )
    if 1 in rates:
        for workers, rate in rates.items():
            if workers != 1:
                print(f"scaling {workers} vs 1 worker: x{rate / rates[1]:.2f} (ideal x{workers})")
    return rates


def read_fastwarc(path: Path) -> int:
    """Every record in one pass, sorted and decoded as a worker does (``records._classify``)."""
    from fastwarc.warc import ArchiveIterator

    from service.offline.warc.records import READ_BUFFER_BYTES, _classify

    total = 0
    with open(path, "rb") as stream:
        for record in ArchiveIterator(stream, parse_http=True, auto_decode="none", buffer_size=READ_BUFFER_BYTES):
            item = _classify(record, MAX_BODY_BYTES)
            if isinstance(item, Page):
                total += len(item.body)
    return total


def scan_fastwarc(path: Path) -> int:
    """The client's scan alone: record offsets, no HTTP parsing."""
    scanner = ChunkScanner(str(path), BENCH_CHUNK_RECORDS)
    return sum(chunk.count for chunk in scanner)


def read_chunks_fastwarc(path: Path) -> int:
    """The scan, then every chunk read by seeking to its offset: the whole cost of the design."""
    total = 0
    for chunk in ChunkScanner(str(path), BENCH_CHUNK_RECORDS):
        for item in read_chunk(chunk, MAX_BODY_BYTES):
            if isinstance(item, Page):
                total += len(item.body)
    return total


def read_warcio(path: Path) -> int:
    """The same with warcio: every record, HTTP content type, payload decoded (chunked, gzip)."""
    from warcio.archiveiterator import ArchiveIterator  # not a dependency: installed by hand

    total = 0
    with open(path, "rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type != "response" or record.http_headers is None:
                continue
            if (record.http_headers.get_header("Content-Type") or "").split(";")[0].strip() != "text/html":
                continue
            total += len(record.content_stream().read())
    return total


def readers(pages: int) -> None:
    candidates: list[tuple[str, Callable[[Path], int]]] = [
        ("fastwarc, one pass", read_fastwarc),
        ("warcio, one pass", read_warcio),
        ("fastwarc, scan only (client)", scan_fastwarc),
        ("fastwarc, scan + chunks by offset", read_chunks_fastwarc),
    ]
    with tempfile.TemporaryDirectory(prefix="warc-readers-") as tmp:
        for encoded in (False, True):
            archive = Path(tmp) / f"readers-{encoded}.warc.gz"
            records = build(archive, pages, encoded)
            size_mb = archive.stat().st_size / 2**20
            kind = "payloads chunked/gzip-encoded" if encoded else "identity payloads (Common Crawl style)"
            print(f"{records} records, {size_mb:.1f} MB gzip, {kind}; best of {READER_REPEATS}")
            for name, read in candidates:
                try:
                    best = min(_timed(read, archive) for _ in range(READER_REPEATS))
                except ImportError:
                    print(f"  {name}: not installed")
                    continue
                print(f"  {name:36} {best:5.2f} s = {records / best:8,.0f} records/s, {size_mb / best:6.1f} MB/s")


def _timed(read: Callable[[Path], int], archive: Path) -> float:
    started = time.perf_counter()
    read(archive)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=DEFAULT_PAGES)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--readers", action="store_true", help="compare FastWARC and warcio instead")
    parser.add_argument("--reader-pages", type=int, default=READER_PAGES)
    args = parser.parse_args()
    if args.readers:
        readers(args.reader_pages)
        return
    settings = Settings.from_env(host="127.0.0.1")
    with tempfile.TemporaryDirectory(prefix="warc-bench-") as tmp:
        archive = Path(tmp) / "bench.warc.gz"
        records = build(archive, args.pages)
        print(f"archive: {args.pages} pages, {records} records, {archive.stat().st_size / 2**20:.1f} MB gzip")
        scaling(archive, args.workers, settings)


if __name__ == "__main__":
    main()
