"""Extraction quality: score pagecleaner beside trafilatura on datasets in the common form.

A dataset folder holds ``pages/<id>.html`` (or ``pages/<id>.txt`` for a text-mode set) and
``truth.jsonl`` (one ``{"id", "url", "text", "with", "without", ...}`` per line). Pages with a
truth ``text`` get the shingle metric, pages with ``with``/``without`` snippets the snippet
metric (``bench/metrics.py``, a port of the upstream definitions: the numbers agree with the
reference ``shared/bench/score.py``).

Each page goes, in the same process and one right after the other (so machine noise hits both
alike; which one goes first rotates from page to page), through
  * pagecleaner: ``service.pipeline.run`` in-process with default options (``--favor`` to change
    it), or over HTTP with ``--http URL`` (raw bytes POSTed as ``text/html``, or
    ``text/plain; charset=utf-8`` for a text-mode set, with ``?url=`` when known);
  * trafilatura: ``extract(page, url=url, include_comments=False)`` as both public benchmarks run
    it; for a text-mode page, trafilatura over the lines wrapped in ``<p>`` (what a user can do
    today without us);
  * optional anchors (``--anchors justext``, ``readability`` when installed).

Under each set's table: how many pages pagecleaner answers with an F1 >= 0.3 below trafilatura's
on the same page (issue 22's collapse count; page F1 is the shingle page F1, or 2TP/(2TP+FP+FN)
of the page's snippets), with their ids; ``--json`` has them as ``collapsed``.

Timing covers the extractor call only (the HTTP round trip included), after a garbage
collection; untimed warm-up calls come first (in-process, ours runs ``service.pipeline.warm_up``
as an extraction process does). A crash or an HTTP error counts as an empty output.

    .venv/bin/python -m bench.quality ../shared/bench/mozilla-readability ../shared/bench/trafilatura
    .venv/bin/python -m bench.quality --http http://127.0.0.1:8080/v1/extract DATASET --json q.json
"""

from __future__ import annotations

import argparse
import gc
import html as html_lib
import http.client
import json
import platform
import sys
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script (python bench/quality.py) as well as with -m
    sys.path.insert(0, str(ROOT))

from bench import metrics  # noqa: E402

# Extractor: (page bytes, url or None, text mode?) -> text (None or an exception = empty output)
Extractor = Callable[[bytes, str | None, bool], str | None]

OURS = "pagecleaner"
TRAFILATURA = "trafilatura"
# Long enough for every lazy load to happen here, untimed (language detection needs ~40 letters).
WARMUP_SENTENCE = b"The warm-up paragraph has enough ordinary words for every stage to run once. "
WARMUP_HTML = (
    b"<html><head><title>t</title></head><body><article><p>" + WARMUP_SENTENCE * 4 + b"</p></article></body></html>"
)
WARMUP_TEXT = b"Warm up title\n\n" + WARMUP_SENTENCE * 4
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"
HTML_CONTENT_TYPE = "text/html"
DEFAULT_HTTP_TIMEOUT_S = 60.0
ERROR_CHARS = 200
NAME_WIDTH = 14
# Collapsed pages listed by id under the table (the count is always printed).
MAX_LISTED_COLLAPSES = 10


# --- extractors ----------------------------------------------------------------------------------


def pipeline_extractor(favor: str) -> Extractor:
    """The service's own pipeline, in this process, with default options (and ``favor``)."""
    from service.models import Job, Options
    from service.pipeline import run, warm_up

    warm_up()  # what an extraction process does before it reports ready
    options = Options(favor=favor)

    def extract(page: bytes, url: str | None, as_text: bool) -> str | None:
        answer = run(Job(mode="text" if as_text else "html", body=page, url=url, options=options))
        text = answer.get("text")
        return text if isinstance(text, str) else None

    return extract


class HttpExtractor:
    """POSTs raw bytes to the service over one keep-alive connection (reopened after errors)."""

    def __init__(self, endpoint: str, favor: str, timeout: float = DEFAULT_HTTP_TIMEOUT_S) -> None:
        parsed = urllib.parse.urlsplit(endpoint)
        if parsed.scheme not in {"http", "https"} or not parsed.hostname:
            raise ValueError(f"not an http(s) URL: {endpoint}")
        self.scheme, self.host, self.port = parsed.scheme, parsed.hostname, parsed.port
        self.path = parsed.path or "/v1/extract"
        self.base_query = urllib.parse.parse_qsl(parsed.query)
        if favor != "balanced":
            self.base_query.append(("favor", favor))
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
            self._conn = cls(self.host, self.port, timeout=self.timeout)
        return self._conn

    def __call__(self, page: bytes, url: str | None, as_text: bool) -> str | None:
        query = list(self.base_query) + ([("url", url)] if url else [])
        target = self.path + ("?" + urllib.parse.urlencode(query) if query else "")
        headers = {"Content-Type": TEXT_CONTENT_TYPE if as_text else HTML_CONTENT_TYPE}
        conn = self._connection()
        try:
            conn.request("POST", target, body=page, headers=headers)
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            self._conn = None
            raise
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {body[:ERROR_CHARS]!r}")
        text = json.loads(body).get("text")
        return text if isinstance(text, str) else None


def _wrap_lines(page: bytes) -> str:
    lines = [line for line in page.decode("utf-8").splitlines() if line.strip()]
    body = "".join(f"<p>{html_lib.escape(line)}</p>" for line in lines)
    return f"<html><body><article>{body}</article></body></html>"


def trafilatura_extractor() -> Extractor:
    """trafilatura's default ``extract()`` without comments; text pages wrapped line by line."""
    import trafilatura

    def extract(page: bytes, url: str | None, as_text: bool) -> str | None:
        source: bytes | str = _wrap_lines(page) if as_text else page
        result = trafilatura.extract(source, url=url, include_comments=False)
        return result if result is not None or not as_text else ""

    return extract


def justext_extractor() -> Extractor:
    """jusText with every language's stoplist (as trafilatura's benchmark runs it)."""
    import justext
    from trafilatura.utils import decode_file

    stoplist = frozenset().union(*(justext.get_stoplist(lang) for lang in justext.get_stoplists()))

    def extract(page: bytes, url: str | None, as_text: bool) -> str | None:
        if as_text:
            paragraphs = justext.justext(_wrap_lines(page).encode(), stoplist)
        else:
            paragraphs = justext.justext(decode_file(page), stoplist, 50, 200, 0.1, 0.2, 0.2, 200, True)
        return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)

    return extract


def readability_extractor() -> Extractor:
    """readability-lxml's summary turned to text with html_text (as scrapinghub runs it)."""
    import html_text
    from readability import Document
    from trafilatura.utils import decode_file

    def extract(page: bytes, url: str | None, as_text: bool) -> str | None:
        source = _wrap_lines(page) if as_text else decode_file(page)
        return str(html_text.extract_text(Document(source, url=url).summary(html_partial=True)))

    return extract


ANCHORS: dict[str, Callable[[], Extractor]] = {
    "justext": justext_extractor,
    "readability": readability_extractor,
}


# --- datasets and scoring ------------------------------------------------------------------------


@dataclass
class Page:
    id: str
    path: Path
    as_text: bool
    truth: dict[str, Any]

    @property
    def url(self) -> str | None:
        url = self.truth.get("url")
        return url if isinstance(url, str) and url else None


@dataclass
class Run:
    """One extractor's outputs on one dataset, in page order."""

    name: str
    outputs: list[str | None] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    # CPU time of this thread during the call: the ratio to trafilatura on a shared, noisy machine
    # (wall time counts the moments another process had the core; CPU time does not).
    cpu_seconds: list[float] = field(default_factory=list)
    errors: list[str | None] = field(default_factory=list)


def label(path: Path) -> str:
    """``<parent>/<name>`` of a dataset folder, as score.py labels it."""
    return f"{path.parent.name}/{path.name}"


def load_pages(dataset: Path, limit: int | None = None) -> list[Page]:
    """The dataset's pages sorted by id (score.py's order), the first ``limit`` of them."""
    with (dataset / "truth.jsonl").open(encoding="utf-8") as lines:
        records = sorted((json.loads(line) for line in lines if line.strip()), key=lambda r: r["id"])
    pages = []
    for record in records[:limit]:
        page_file = dataset / "pages" / f"{record['id']}.html"
        as_text = not page_file.exists()
        pages.append(Page(record["id"], page_file.with_suffix(".txt") if as_text else page_file, as_text, record))
    return pages


def warm_up(extractors: dict[str, Extractor]) -> None:
    for name, extract in extractors.items():
        for page, as_text in ((WARMUP_HTML, False), (WARMUP_TEXT, True)):
            try:
                extract(page, None, as_text)
            except Exception as exc:
                print(f"warm-up of {name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)


def run_dataset(extractors: dict[str, Extractor], pages: Sequence[Page]) -> dict[str, Run]:
    """Every page through every extractor, interleaved page by page. The order rotates from one
    page to the next: an extractor that runs right after another on the same page finds the
    page's bytes and the shared library code warm in the CPU caches (always running second
    made trafilatura ~0.1 cheaper relative to us on the mozilla set)."""
    runs = {name: Run(name) for name in extractors}
    names = list(extractors)
    for number, page in enumerate(pages):
        body = page.path.read_bytes()
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            extract = extractors[name]
            error = None
            # Each call starts with no garbage left by the previous one: a full collection
            # otherwise lands on whichever extractor crosses the threshold (tens of ms after the
            # large pages), a few times per set.
            gc.collect()
            started, cpu_started = time.perf_counter(), time.thread_time()
            try:
                text = extract(body, page.url, page.as_text)
            except Exception as exc:  # a crash is scored as an empty output
                text, error = None, f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]
            elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
            if text is not None and not isinstance(text, str):
                text, error = None, f"returned {type(text).__name__}, not str"
            run = runs[name]
            run.outputs.append(text)
            run.seconds.append(elapsed)
            run.cpu_seconds.append(cpu)
            run.errors.append(error)
    return runs


def score_run(pages: Sequence[Page], run: Run, n_bootstrap: int, seed: int) -> dict[str, Any]:
    """score.py's result shape: counts, timing, shingle and/or snippet scores, per-page rows."""
    rows: list[dict[str, Any]] = [
        {"id": page.id, "seconds": seconds, "error": error, "chars": len(text or "")}
        for page, text, seconds, error in zip(pages, run.outputs, run.seconds, run.errors, strict=True)
    ]
    total = sum(run.seconds)
    result: dict[str, Any] = {
        "documents": len(rows),
        "errors": sum(1 for row in rows if row["error"]),
        "empty": sum(1 for row in rows if not row["chars"]),
        "ms_per_page": 1000 * total / len(rows) if rows else 0.0,
        "pages_per_s": len(rows) / total if total else 0.0,
        "cpu_ms_per_page": 1000 * sum(run.cpu_seconds) / len(rows) if rows else 0.0,
    }
    text_idx = [i for i, page in enumerate(pages) if page.truth.get("text") is not None]
    if text_idx:
        pairs = [(pages[i].truth["text"], run.outputs[i] or "") for i in text_idx]
        result["shingle"], counts = metrics.shingle_metric(pairs, n_bootstrap, seed)
        for i, c in zip(text_idx, counts, strict=True):
            p, r = metrics.page_precision(*c), metrics.page_recall(*c)
            rows[i].update(precision=p, recall=r, f1=metrics.page_f1(c))
    snippet_idx = [i for i, page in enumerate(pages) if page.truth.get("with") is not None]
    if snippet_idx:
        snippet_counts = [
            metrics.snippet_counts(pages[i].truth["with"], pages[i].truth.get("without") or [], run.outputs[i])
            for i in snippet_idx
        ]
        result["snippet"] = metrics.snippet_scores(snippet_counts)
        for i, counted in zip(snippet_idx, snippet_counts, strict=True):
            rows[i].update(
                dict(zip(("tp", "fp", "fn", "tn"), counted, strict=True)), f1=metrics.snippet_page_f1(counted)
            )
    result["per_page"] = rows
    return result


def collapsed_pages(results: dict[str, dict[str, Any]], name: str = OURS) -> list[str] | None:
    """Ids of the pages where ``name``'s F1 is >= 0.3 below trafilatura's (None: no trafilatura run)."""
    if TRAFILATURA not in results or name not in results:
        return None
    anchor = results[TRAFILATURA]["per_page"]
    return [
        row["id"]
        for row, base in zip(results[name]["per_page"], anchor, strict=True)
        if "f1" in row and metrics.collapsed(row["f1"], base["f1"])
    ]


def format_table(dataset: str, results: dict[str, dict[str, Any]], cpu_ratio: bool = True) -> str:
    """One row per extractor and metric, with the time ratio to trafilatura: of CPU times when
    every extractor runs in this process (``cpu_ratio``), else of wall times (``--http``)."""
    key = "cpu_ms_per_page" if cpu_ratio else "ms_per_page"
    anchor_ms = results[TRAFILATURA][key] if TRAFILATURA in results else 0.0
    header = (
        f"{'extractor':{NAME_WIDTH}} {'metric':7} {'F1':>6} {'±std':>6} {'P':>6} {'R':>6} {'acc':>6} "
        f"{'ms/page':>8} {'cpu ms':>7} {'x traf':>7} {'n':>5} {'err':>4} {'empty':>5}"
    )
    lines = [f"== {dataset}", header, "-" * len(header)]
    for name, res in results.items():
        ratio = res[key] / anchor_ms if anchor_ms else float("nan")
        for kind in ("shingle", "snippet"):
            if kind not in res:
                continue
            s = res[kind]
            std = f"{s['f1_std']:.3f}" if "f1_std" in s else "-"
            lines.append(
                f"{name:{NAME_WIDTH}} {kind:7} {s['f1']:6.3f} {std:>6} {s['precision']:6.3f} "
                f"{s['recall']:6.3f} {s['accuracy']:6.3f} {res['ms_per_page']:8.1f} "
                f"{res['cpu_ms_per_page']:7.1f} {ratio:7.2f} "
                f"{res['documents']:5d} {res['errors']:4d} {res['empty']:5d}"
            )
    collapsed = collapsed_pages(results)
    if collapsed is not None:
        listed = f": {' '.join(collapsed[:MAX_LISTED_COLLAPSES])}" if collapsed else ""
        lines.append(f"{OURS} pages >= {metrics.COLLAPSE_GAP} F1 below {TRAFILATURA}'s: {len(collapsed)}{listed}")
    return "\n".join(lines)


def save_outputs(directory: Path, dataset: str, pages: Sequence[Page], runs: dict[str, Run]) -> None:
    """DIR/<extractor>/<dataset label>/<id>.txt: the layout worst.py reads."""
    for name, run in runs.items():
        target = directory / name / dataset
        target.mkdir(parents=True, exist_ok=True)
        for page, text in zip(pages, run.outputs, strict=True):
            (target / f"{page.id}.txt").write_text(text or "", encoding="utf-8")


def build_extractors(args: argparse.Namespace) -> dict[str, Extractor]:
    ours: Extractor = (
        HttpExtractor(args.http, args.favor, args.timeout) if args.http else pipeline_extractor(args.favor)
    )
    extractors = {OURS: ours, TRAFILATURA: trafilatura_extractor()}
    for name in args.anchors:
        try:
            extractors[name] = ANCHORS[name]()
        except ImportError as exc:
            print(f"anchor {name} skipped: {exc}", file=sys.stderr)
    return extractors


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("datasets", nargs="+", type=Path, help="dataset folders (pages/ + truth.jsonl)")
    ap.add_argument("--http", metavar="URL", help="score the running service at this endpoint (…/v1/extract)")
    ap.add_argument("--favor", choices=("balanced", "precision", "recall"), default="balanced")
    ap.add_argument("--limit", type=int, help="only the first N pages (by id) of each dataset")
    ap.add_argument("--anchors", nargs="*", default=[], choices=sorted(ANCHORS), help="extra extractors")
    ap.add_argument("--json", type=Path, help="write every result, per-page rows included, here")
    ap.add_argument("--outputs", type=Path, help="save texts as DIR/<extractor>/<dataset>/<id>.txt")
    ap.add_argument("--timeout", type=float, default=DEFAULT_HTTP_TIMEOUT_S, help="HTTP timeout (s)")
    ap.add_argument("--bootstrap", type=int, default=metrics.DEFAULT_BOOTSTRAP, help="resamples for the std")
    ap.add_argument("--seed", type=int, default=metrics.DEFAULT_SEED)
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    extractors = build_extractors(args)
    warm_up(extractors)
    report: dict[str, Any] = {
        "python": platform.python_version(),
        "pagecleaner": args.http or f"in-process, favor={args.favor}",
        "datasets": {},
    }
    for dataset in args.datasets:
        pages = load_pages(dataset, args.limit)
        if not pages:
            print(f"{dataset}: no pages", file=sys.stderr)
            continue
        runs = run_dataset(extractors, pages)
        results = {name: score_run(pages, run, args.bootstrap, args.seed) for name, run in runs.items()}
        if OURS in results:
            results[OURS]["collapsed"] = collapsed_pages(results)
        report["datasets"][label(dataset)] = results
        print(format_table(label(dataset), results, cpu_ratio=not args.http), flush=True)
        if args.outputs:
            save_outputs(args.outputs, label(dataset), pages, runs)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
