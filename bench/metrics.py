"""The two public extraction metrics, ported from the upstream evaluation code.

The project must not import ``../shared/bench`` at run time (a fresh clone does not have it), so
the metrics live here. They follow the upstream definitions exactly, so our numbers agree with
``shared/bench/score.py`` (checked by ``tests/test_bench_metrics.py``).

shingle -- scrapinghub/article-extraction-benchmark ``evaluate.py`` (ground-truth text):
  tokens are ``\\w+`` runs (Unicode, case kept); each text becomes a multiset of 4-token
  shingles (a text of fewer than 4 tokens is one shorter shingle, an empty text has none).
  Per page: tp = shingles in both (with multiplicity), fp = extra predicted, fn = missed,
  then normalised to sum to 1 so that long pages do not weigh more. Page precision is 1 when
  fp = fn = 0 and 0 when tp = fp = 0; page recall likewise. P = mean page precision over pages
  with tp + fp > 0 (an empty output does not lower P, only R), R = mean page recall over pages
  with tp + fn > 0, F1 = 2PR / (P + R) -- the F1 of the means, not a mean of F1s.
  Accuracy = share of pages whose token lists are identical. The ``*_std`` values are standard
  deviations over bootstrap resamples of the pages (upstream draws ``randint(0, n - 1)``; we use
  a seeded ``random.Random`` so runs repeat, as ``score.py`` does).
  One deliberate difference: upstream crashes on an all-empty run (mean of nothing); we give 0.

snippet -- adbar/trafilatura ``tests/eval_common.py`` (hand-picked snippets):
  output and snippets are whitespace-normalised; a ``with`` snippet contained in the output is a
  TP (else FN), a ``without`` snippet contained in it is a FP (else TN). Counts are summed over
  all pages (micro average): P = TP/(TP+FP), R = TP/(TP+FN), accuracy = (TP+TN)/all,
  F1 = 2TP/(2TP+FP+FN). A crash (``None`` output) finds nothing: all ``with`` are FN and all
  ``without`` are TN.
"""

from __future__ import annotations

import random
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

SHINGLE_SIZE = 4
DEFAULT_BOOTSTRAP = 1000
DEFAULT_SEED = 0

_TOKEN = re.compile(r"\w+", re.UNICODE)
_SPACES = re.compile(r"\s+")

ShingleCounts = tuple[float, float, float]
SnippetCounts = tuple[int, int, int, int]


# --- shingle metric (scrapinghub) ----------------------------------------------------------------


def tokens(text: str | None) -> list[str]:
    """The ``\\w+`` tokens of ``text`` (``None`` and ``""`` have none)."""
    return _TOKEN.findall(text or "")


def shingles(text: str | None, size: int = SHINGLE_SIZE) -> Counter[tuple[str, ...]]:
    """Multiset of ``size``-token shingles; a shorter text is one shorter shingle, empty none."""
    toks = tokens(text)
    return Counter(tuple(toks[i : i + size]) for i in range(max(1, len(toks) - size + 1)) if toks[i : i + size])


def shingle_counts(true: str | None, pred: str | None, size: int = SHINGLE_SIZE) -> ShingleCounts:
    """(tp, fp, fn) of one page, normalised to sum to 1 (all zero when both texts are empty)."""
    truth, predicted = shingles(true, size), shingles(pred, size)
    tp = fp = fn = 0.0
    for key in truth.keys() | predicted.keys():
        t, p = truth.get(key, 0), predicted.get(key, 0)
        tp += min(t, p)
        fp += max(0, p - t)
        fn += max(0, t - p)
    total = tp + fp + fn
    if total > 0:
        return tp / total, fp / total, fn / total
    return tp, fp, fn


def page_precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fp == 0:
        return 0.0
    return tp / (tp + fp)


def page_recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fn == 0:
        return 0.0
    return tp / (tp + fn)


def page_f1(counts: ShingleCounts) -> float:
    """Per-page F1 (for finding the worst pages; the dataset F1 is *not* the mean of these)."""
    p, r = page_precision(*counts), page_recall(*counts)
    return 2 * p * r / (p + r) if p + r else 0.0


def exact_match(true: str | None, pred: str | None) -> float:
    """1.0 when both texts have the same token list (upstream ``get_accuracy``)."""
    return float(tokens(true) == tokens(pred))


def shingle_scores(counts: Sequence[ShingleCounts], exact: Sequence[float]) -> dict[str, float]:
    """P, R, F1 and accuracy from per-page counts and exact-match flags."""
    precisions = [page_precision(*c) for c in counts if c[0] + c[1] > 0]
    recalls = [page_recall(*c) for c in counts if c[0] + c[2] > 0]
    p = statistics.mean(precisions) if precisions else 0.0
    r = statistics.mean(recalls) if recalls else 0.0
    return {
        "precision": p,
        "recall": r,
        "f1": 2 * p * r / (p + r) if p + r else 0.0,
        "accuracy": statistics.mean(exact) if exact else 0.0,
    }


def shingle_metric(
    pairs: Sequence[tuple[str | None, str | None]],
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
) -> tuple[dict[str, float], list[ShingleCounts]]:
    """Scores of ``[(true_text, predicted_text)]`` with bootstrap stds, and the per-page counts."""
    counts = [shingle_counts(t, p) for t, p in pairs]
    exact = [exact_match(t, p) for t, p in pairs]
    scores = shingle_scores(counts, exact)
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {}
    for _ in range(n_bootstrap):
        idx = [rng.randrange(len(counts)) for _ in counts]
        resampled = shingle_scores([counts[i] for i in idx], [exact[i] for i in idx])
        for key, value in resampled.items():
            samples.setdefault(key, []).append(value)
    for key, values in samples.items():
        scores[f"{key}_std"] = statistics.stdev(values) if len(values) > 1 else 0.0
    return scores, counts


# --- snippet metric (trafilatura) ----------------------------------------------------------------


def norm(text: str) -> str:
    """Whitespace-normalise: runs of whitespace become one space, ends stripped."""
    return _SPACES.sub(" ", text).strip()


def snippet_counts(with_: Iterable[str], without: Iterable[str], pred: str | None) -> SnippetCounts:
    """(tp, fp, fn, tn) of one page; ``pred=None`` (a crash) finds nothing."""
    with_, without = list(with_), list(without)
    if isinstance(pred, str):
        out = norm(pred)
        tp = sum(1 for s in with_ if norm(s) in out)
        fp = sum(1 for s in without if norm(s) in out)
    else:
        tp = fp = 0
    return tp, fp, len(with_) - tp, len(without) - fp


def snippet_page_f1(counts: SnippetCounts) -> float:
    """One page's snippet F1, 2TP / (2TP + FP + FN); 1.0 for a page with no snippet to find or avoid."""
    tp, fp, fn, _tn = counts
    return 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else 1.0


def truth_f1(truth: Mapping[str, Any], pred: str | None) -> float:
    """One page's F1 under its truth's metric: shingle F1 against a ``text``, else snippet F1
    (2TP / (2TP + FP + FN), 1 with no snippet)."""
    if truth.get("text") is not None:
        return page_f1(shingle_counts(truth["text"], pred))
    return snippet_page_f1(snippet_counts(truth.get("with") or [], truth.get("without") or [], pred))


# A page "collapses" when its F1 is at least this far below trafilatura's on the same page
# (issue 22: one such page costs more than twenty small wins earn).
COLLAPSE_GAP = 0.3


def collapsed(ours: float, trafilatura: float) -> bool:
    """Whether a page's F1 is ``COLLAPSE_GAP`` or more below trafilatura's (rounding aside)."""
    return ours <= trafilatura - COLLAPSE_GAP + 1e-9


def snippet_scores(counts: Iterable[SnippetCounts]) -> dict[str, Any]:
    """Micro-averaged P, R, accuracy, F1 and the summed counts."""
    tp = fp = fn = tn = 0
    for c_tp, c_fp, c_fn, c_tn in counts:
        tp, fp, fn, tn = tp + c_tp, fp + c_fp, fn + c_fn, tn + c_tn
    total = tp + fp + fn + tn
    return {
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "accuracy": (tp + tn) / total if total else 0.0,
        "f1": 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else 0.0,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
    }
