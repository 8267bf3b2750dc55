"""The text mode's validation data: the pages of the three text sets, scoring and the anchors.

Used by ``scripts/train_text_model.py --cv`` (see ``bench/README.md``, "Text mode"); the folds
hold whole sites (``bench/sites.py``, shared with the HTML protocol).
"""

from __future__ import annotations

import html
import json
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import metrics  # noqa: E402

SETS = ("trafilatura-text", "mozilla-readability-text", "fundus-text")


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


def collapsed(pages: Sequence[Page], outputs: Sequence[str], reference: Sequence[str]) -> dict[str, int]:
    """Per set, the pages whose F1 is ``metrics.COLLAPSE_GAP`` or more below the reference's
    output on the same page (issue 22's collapse count)."""
    counts = dict.fromkeys((p.set_name for p in pages), 0)
    for page, ours, theirs in zip(pages, outputs, reference, strict=True):
        ours_f1, theirs_f1 = metrics.truth_f1(page.truth, ours), metrics.truth_f1(page.truth, theirs)
        counts[page.set_name] += metrics.collapsed(ours_f1, theirs_f1)
    return counts


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


def trafilatura_lines(text: str) -> str:
    """trafilatura's default ``extract()`` over the lines wrapped in ``<p>`` (``bench/quality.py``'s
    text-mode reference, which the collapse count compares with)."""
    from bench.quality import trafilatura_extractor

    return trafilatura_extractor()(text.encode("utf-8"), None, True) or ""


ANCHORS: dict[str, Callable[[str], str]] = {"floor": floor, "justext": justext_lines}
