"""Learned word evidence: which words mark article text and which mark clutter, across sites.

The plain-text mode's line features describe a line's shape (length, punctuation, function words,
position, the clutter patterns of ``clutter_patterns``), not its words; the clutter its model
kept most was prose-shaped clutter inside the article (captions, consent text of an embedded
video, promotion sentences), which has an article's shape and a clutter's words. A ``Lexicon`` is
the log-odds of each word between the article and the clutter lines of the development pages,
counted in *sites* (a word counts once per site and class), so one site's boilerplate weighs what
one site's does, and a word seen on fewer than ``MIN_SITES`` sites is left out. A line's scores
(the mean weight of its known words, and the lowest) are two more inputs of the line model,
fitted on the training folds only like everything else (``scripts/train_text_model.py``).
Grouped CV by site: +0.009 / +0.015 / +0.008 F1 on the three text sets, the gain on the two large
ones holding at every ``MIN_SITES`` tried (3, 5, 10; ``bench/README.md``).
The same scores as inputs of the HTML block model gained in-sample only: not used there.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

# A word: a run of letters (any script), lower-cased. Scripts written without spaces (CJK, Thai)
# give runs of whole phrases, so those runs count as their character pairs instead.
_LETTERS: Final = re.compile(r"[^\W\d_]+")
_UNSPACED: Final = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
MAX_TERM: Final = 24  # longer letter runs are URLs or junk
MIN_SITES: Final = 5  # a word seen on fewer sites says more about those sites than about clutter
SMOOTHING: Final = 1.0


def terms(text: str) -> set[str]:
    """A text's distinct terms: lower-cased letter runs of 2+ letters, or character pairs for
    runs of scripts without spaces."""
    runs = _LETTERS.findall(text.lower())
    if not _UNSPACED.search(text):  # most lines: one search, then a set of the words
        return {run for run in runs if 2 <= len(run) <= MAX_TERM}
    out: set[str] = set()
    for run in runs:
        if _UNSPACED.search(run):
            out.update(run[i : i + 2] for i in range(len(run) - 1))
        elif 2 <= len(run) <= MAX_TERM:
            out.add(run)
    return out


@dataclass(frozen=True)
class Lexicon:
    """Each known term's log-odds of article over clutter."""

    weights: dict[str, float]

    def score(self, text: str) -> tuple[float, float]:
        """The mean weight of the text's known terms and the lowest (the most clutter-like; 0, 0 when it has none)."""
        known = [self.weights[t] for t in terms(text) if t in self.weights]
        return (sum(known) / len(known), min(known)) if known else (0.0, 0.0)

    def columns(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """``score`` of each text as a (len(texts), 2) matrix: the model's input columns."""
        return np.asarray([self.score(t) for t in texts], dtype=np.float64).reshape(-1, 2)

    def to_json(self) -> dict[str, object]:
        return {"min_sites": MIN_SITES, "weights": {t: round(w, 3) for t, w in sorted(self.weights.items())}}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Lexicon:
        weights = data["weights"]
        if not isinstance(weights, dict):
            raise ValueError("lexicon weights must be an object")
        return cls({str(t): float(w) for t, w in weights.items()})


def fit_lexicon(lines: Iterable[tuple[int, str, bool]], min_sites: int = MIN_SITES) -> Lexicon:
    """A lexicon from ``(site, text, is_article)`` of labelled lines (``site``: the site group)."""
    seen: dict[bool, set[tuple[int, str]]] = {True: set(), False: set()}
    sites: dict[bool, set[int]] = {True: set(), False: set()}
    for site, text, article in lines:
        sites[article].add(site)
        seen[article].update((site, t) for t in terms(text))
    counts = {label: Counter(t for _site, t in pairs) for label, pairs in seen.items()}
    n_article, n_clutter = len(sites[True]), len(sites[False])
    weights: dict[str, float] = {}
    for term in counts[True].keys() | counts[False].keys():
        a, c = counts[True][term], counts[False][term]
        if a + c < min_sites:
            continue
        weights[term] = math.log((a + SMOOTHING) / (n_article + 2 * SMOOTHING)) - math.log(
            (c + SMOOTHING) / (n_clutter + 2 * SMOOTHING)
        )
    return Lexicon(weights)
