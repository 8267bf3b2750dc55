"""Metadata quality: the answer's title, authors, date, site name and language against the
development sets' annotations, beside trafilatura's own metadata on the same pages.

    .venv/bin/python -m bench.metadata ../shared/bench/trafilatura ../shared/bench/mozilla-readability \\
        ../shared/bench/fundus --json metadata.json

Issue 22 asks that the learned block decision not regress the metadata. The sets carry it:
fundus (title, authors, date of all 129 pages), Readability.js's pages (title, byline,
publishedTime, siteName, lang) and trafilatura's (title, author, date, sitename of many pages).
Each field is scored on the pages whose annotation is present, the same way for both columns:

* title, site name: equal after case folding and whitespace collapsing;
* date: the same day (the first 10 characters, ``YYYY-MM-DD``); where trafilatura's set says
  there is none (``""``), no date;
* authors: F1 of the name words (``\\w+``, case folded, without "by"/"and"/"von"/"und"), so a
  byline "By Jane Doe" and the authors ``["Jane Doe"]`` agree; the page counts as right at 1.0;
* language: the primary subtag (trafilatura computes none: its column is empty).

Under each set, per field: on how many pages we score higher than trafilatura, and the pages where
we score lower (``--json``: their ids), the list to read before adding a fixture.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from bench.quality import Page, load_pages  # noqa: E402
from service.errors import InvalidField  # noqa: E402
from service.models import Job  # noqa: E402
from service.pipeline import run  # noqa: E402
from service.request_forms import page_url  # noqa: E402

FIELDS = ("title", "authors", "date", "sitename", "language")
_WORD = re.compile(r"\w+")
# Words of a byline that are no name.
_CONNECTORS = frozenset({"by", "and", "von", "und"})

Metadata = dict[str, Any]


def truth_fields(page: Page) -> Metadata:
    """The page's annotated fields under this module's names (absent: not annotated)."""
    meta = page.truth.get("meta") or {}
    fields: Metadata = {
        "title": page.truth.get("title"),
        "authors": meta.get("authors") or meta.get("author") or meta.get("byline"),
        "date": meta.get("date") or meta.get("publishedTime"),
        "sitename": meta.get("sitename") or meta.get("siteName"),
        "language": meta.get("lang"),
    }
    present = {k: v for k, v in fields.items() if v not in (None, "", [])}
    if meta.get("date") == "":  # trafilatura's set annotates "no date" as ""
        present["date"] = ""
    return present


def ours(page: Page) -> Metadata:
    """The service's answer on the page, default options (its url as the API would take it)."""
    try:
        url, _ignored = page_url(page.url, "url")
    except InvalidField:
        url = None
    answer = run(Job(mode="html", body=page.path.read_bytes(), url=url))
    return {name: answer.get(name) for name in FIELDS}


def trafilaturas(page: Page) -> Metadata:
    """trafilatura's ``extract_metadata`` on the same page (no language: it computes none)."""
    url = page.url if page.url and page.url.startswith(("http://", "https://")) else None
    tree = trafilatura.load_html(page.path.read_bytes())
    document = trafilatura.extract_metadata(tree, default_url=url) if tree is not None else None
    if document is None:
        return {}
    return {"title": document.title, "authors": document.author, "date": document.date, "sitename": document.sitename}


def _norm(value: Any) -> str:
    return " ".join(str(value).casefold().split())


def _names(value: Any) -> set[str]:
    text = " ".join(value) if isinstance(value, list) else str(value or "")
    return {w for w in _WORD.findall(text.casefold()) if w not in _CONNECTORS}


def authors_f1(truth: Any, found: Any) -> float:
    expected, got = _names(truth), _names(found)
    if not expected or not got:
        return float(expected == got)
    common = len(expected & got)
    return 2 * common / (len(expected) + len(got))


def _day(value: Any) -> str:
    return str(value or "")[:10]


def _primary(value: Any) -> str:
    return str(value or "").split("-")[0].split("_")[0].casefold()


SCORERS: dict[str, Callable[[Any, Any], float]] = {
    "title": lambda t, f: float(f is not None and _norm(t) == _norm(f)),
    "authors": authors_f1,
    "date": lambda t, f: float(not f) if t == "" else float(bool(f) and _day(t) == _day(f)),
    "sitename": lambda t, f: float(f is not None and _norm(t) == _norm(f)),
    "language": lambda t, f: float(bool(f) and _primary(t) == _primary(f)),
}


def score_set(pages: Sequence[Page]) -> dict[str, Any]:
    """Per field: annotated pages, mean score of ours and trafilatura's, and where we lose."""
    rows: dict[str, Any] = {
        name: {"pages": 0, "ours": 0.0, "trafilatura": 0.0, "better": 0, "worse": []} for name in FIELDS
    }
    for page in pages:
        truth = truth_fields(page)
        if not truth:
            continue
        mine, theirs = ours(page), trafilaturas(page)
        for name, expected in truth.items():
            row = rows[name]
            a, b = SCORERS[name](expected, mine.get(name)), SCORERS[name](expected, theirs.get(name))
            row["pages"] += 1
            row["ours"] += a
            row["trafilatura"] += b
            if a < b and a < 1.0:
                row["worse"].append(page.id)
            row["better"] += a > b
    for name in FIELDS:
        row = rows[name]
        for column in ("ours", "trafilatura"):
            row[column] = row[column] / row["pages"] if row["pages"] else None
        if name == "language":
            row["trafilatura"] = None  # not computed by trafilatura: no comparison
            row["better"], row["worse"] = 0, []
    return rows


def format_table(dataset: str, rows: dict[str, Any]) -> str:
    header = f"{'field':10} {'pages':>5} {'ours':>7} {'traf':>7} {'better':>6}  worse than trafilatura"
    lines = [f"== {dataset}", header]
    for name, row in rows.items():
        if not row["pages"]:
            continue
        cells = [f"{row[c]:7.3f}" if row[c] is not None else f"{'-':>7}" for c in ("ours", "trafilatura")]
        worse = row["worse"]
        shown = " ".join(worse[:6]) + (" ..." if len(worse) > 6 else "")
        counts = f"{row['better']:6d}  {len(worse)}: {shown}".rstrip(": ")
        lines.append(f"{name:10} {row['pages']:5d} {cells[0]} {cells[1]} {counts}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("datasets", nargs="+", type=Path, help="HTML dataset folders in the common form")
    ap.add_argument("--limit", type=int, help="the first N pages of each set")
    ap.add_argument("--json", type=Path, help="write the per-set, per-field results here")
    args = ap.parse_args(argv)
    results = {}
    for dataset in args.datasets:
        rows = score_set(load_pages(dataset, args.limit))
        results[dataset.name] = rows
        print(format_table(dataset.name, rows), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
