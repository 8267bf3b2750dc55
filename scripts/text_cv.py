"""The text mode's validation protocol: site groups, grouped K-fold split, scoring and the anchors.

Used by ``scripts/train_text_model.py --cv`` (see ``bench/README.md``, "Text mode"). Pages of one
site share templates (menus, footers, teaser lists): a split by page would let the model learn a
site's furniture on some of its pages and be scored on others. So folds hold whole sites.
"""

from __future__ import annotations

import html
import json
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import metrics  # noqa: E402

SETS = ("trafilatura-text", "mozilla-readability-text", "fundus-text")
FOLDS = 5
# trafilatura's "hard::<file>" pages name their site in the file name: "<host>-<slug>.html".
_HARD_FILE = re.compile(r"^hard::(?P<host>[^-]+?)(?:-.*)?\.html?$")
# Readability.js test pages of one site are numbered: "nytimes-2", "wikipedia-3".
_NUMBERED = re.compile(r"-\d+$")
# An archived page's site is the archived URL's: "https://web.archive.org/web/<time>/<url>".
_ARCHIVED = re.compile(r"^https?://web\.archive\.org/web/[^/]+/(?P<url>.+)$")


@dataclass
class Page:
    set_name: str
    id: str
    text: str
    truth: dict[str, object]


def load_pages(bench: Path, sets: Sequence[str] = SETS) -> Iterator[Page]:
    for set_name in sets:
        folder = bench / set_name
        for raw in (folder / "truth.jsonl").open(encoding="utf-8"):
            if not raw.strip():
                continue
            rec = json.loads(raw)
            path = folder / "pages" / f"{rec['id']}.txt"
            yield Page(set_name, rec["id"], path.read_text(encoding="utf-8", errors="replace"), rec)


def site_keys(page: Page) -> set[str]:
    """What ties a page to its site: hostname (no "www."), fundus publisher; else the page id."""
    keys = set()
    url = page.truth.get("url")
    if isinstance(url, str):
        if archived := _ARCHIVED.match(url):
            url = archived["url"] if "://" in archived["url"] else f"http://{archived['url']}"
        if match := _HARD_FILE.match(url):
            keys.add(match["host"].lower().removeprefix("www."))
        elif host := urlsplit(url).hostname:
            keys.add(host.lower().removeprefix("www."))
    meta = page.truth.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("publisher"), str):
        keys.add(f"publisher:{meta['publisher']}")
    if not keys:
        # No URL (the Readability.js pages): the id without its number groups "medium-1".."medium-3".
        keys.add(f"id:{_NUMBERED.sub('', page.id)}")
    return keys


def site_groups(pages: Sequence[Page]) -> list[int]:
    """A group number per page: pages sharing any site key (across sets) are one group (union-find)."""
    parent = list(range(len(pages)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[str, int] = {}
    for i, page in enumerate(pages):
        for key in sorted(site_keys(page)):
            if key in first:
                parent[root(i)] = root(first[key])
            else:
                first[key] = i
    roots: dict[int, int] = {}
    return [roots.setdefault(root(i), len(roots)) for i in range(len(pages))]


def assign_folds(pages: Sequence[Page], k: int = FOLDS) -> list[int]:
    """Grouped K-fold: whole site groups, largest first, each to the fold where its sets are least full.

    Deterministic (no seed): ties go to the lower fold; each set ends up spread evenly over the folds.
    """
    groups = site_groups(pages)
    members: dict[int, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        members[g].append(i)
    set_sizes: dict[str, int] = defaultdict(int)
    for page in pages:
        set_sizes[page.set_name] += 1
    load: list[dict[str, float]] = [defaultdict(float) for _ in range(k)]
    folds = [0] * len(pages)
    for g in sorted(members, key=lambda g: (-len(members[g]), min(members[g]))):
        share: dict[str, float] = defaultdict(float)
        for i in members[g]:
            share[pages[i].set_name] += 1 / set_sizes[pages[i].set_name]
        best = min(range(k), key=lambda f: (sum(load[f][s] + v for s, v in share.items()), f))
        for s, v in share.items():
            load[best][s] += v
        for i in members[g]:
            folds[i] = best
    return folds


def score(pages: Sequence[Page], outputs: Sequence[str]) -> dict[str, float]:
    """F1 per set with ``bench/metrics.py``: snippet metric for snippet truth, shingle for text truth."""
    by_set: dict[str, list[tuple[Page, str]]] = defaultdict(list)
    for page, out in zip(pages, outputs, strict=True):
        by_set[page.set_name].append((page, out))
    result = {}
    for set_name in sorted(by_set, key=lambda s: SETS.index(s) if s in SETS else len(SETS)):
        pairs = by_set[set_name]
        if pairs[0][0].truth.get("with") is not None:
            counts = [
                metrics.snippet_counts(p.truth["with"], p.truth.get("without") or [], out)  # type: ignore[arg-type]
                for p, out in pairs
            ]
            result[set_name] = metrics.snippet_scores(counts)["f1"]
        else:
            shingle, _ = metrics.shingle_metric([(p.truth["text"], out) for p, out in pairs], 0)  # type: ignore[misc]
            result[set_name] = shingle["f1"]
    return result


def objective(scores: dict[str, float]) -> float:
    """One number to choose a threshold by: the mean F1 over the sets (each set counts the same)."""
    return sum(scores.values()) / len(scores) if scores else 0.0


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def floor(text: str) -> str:
    """No cleaning at all."""
    return text


_STOPWORDS: frozenset[str] | None = None


def justext_lines(text: str) -> str:
    """jusText (all-language stoplist) over the lines wrapped in ``<p>``: the shared README's anchor."""
    import justext

    global _STOPWORDS
    if _STOPWORDS is None:
        _STOPWORDS = frozenset().union(*(justext.get_stoplist(lang) for lang in justext.get_stoplists()))
    body = "".join(f"<p>{html.escape(line)}</p>" for line in _lines(text))
    paragraphs = justext.justext(f"<html><body>{body}</body></html>".encode(), _STOPWORDS)
    return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)


ANCHORS: dict[str, Callable[[str], str]] = {"floor": floor, "justext": justext_lines}
