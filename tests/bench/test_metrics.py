"""bench/metrics.py: hand-made cases with known answers, and agreement with the reference scorer.

The reference (``../shared/bench/metrics.py``) exists only on the team's machine; its test is
skipped elsewhere. The hand-made cases stand on their own.
"""

from __future__ import annotations

import random
from pathlib import Path
from types import ModuleType

import pytest

from bench import metrics
from tests.modules import load_module

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "bench" / "metrics.py"
WORDS = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "ünïcode", "42")
SYNTHETIC_PAGES = 60
SYNTHETIC_SEED = 7
BOOTSTRAP = 200


# --- shingle metric -----------------------------------------------------------------------------


def test_tokens_are_unicode_word_runs() -> None:
    assert metrics.tokens("Hello, wörld! x_y 3.14") == ["Hello", "wörld", "x_y", "3", "14"]
    assert metrics.tokens(None) == []


def test_shingles_of_short_and_empty_texts() -> None:
    assert metrics.shingles("a b c d e") == {("a", "b", "c", "d"): 1, ("b", "c", "d", "e"): 1}
    assert metrics.shingles("a b") == {("a", "b"): 1}  # shorter than 4: one short shingle
    assert metrics.shingles("") == {}
    assert metrics.shingles("a b c d a b c d")[("a", "b", "c", "d")] == 2  # a multiset


def test_shingle_counts_normalised() -> None:
    # truth: 3 shingles (a b c d, b c d e, c d e f); prediction: 2 shared + 1 extra (d e f g)
    tp, fp, fn = metrics.shingle_counts("a b c d e f", "b c d e f g")
    assert (tp, fp, fn) == pytest.approx((2 / 4, 1 / 4, 1 / 4))
    assert metrics.shingle_counts("", "") == (0.0, 0.0, 0.0)
    assert metrics.shingle_counts("a b c d", "") == (0.0, 0.0, 1.0)


def test_shingle_counts_respect_multiplicity() -> None:
    # the prediction repeats the article: the second copy is all false positives
    tp, fp, fn = metrics.shingle_counts("a b c d", "a b c d a b c d")
    # pred shingles: abcd x2, bcda, cdab, dabc -> tp 1, fp 4
    assert (tp, fp, fn) == pytest.approx((1 / 5, 4 / 5, 0.0))


def test_page_precision_recall_edge_cases() -> None:
    assert metrics.page_precision(0.0, 0.0, 0.0) == 1.0
    assert metrics.page_recall(0.0, 0.0, 0.0) == 1.0
    assert metrics.page_precision(0.0, 0.0, 1.0) == 0.0  # empty output
    assert metrics.page_recall(0.0, 1.0, 0.0) == 0.0  # empty truth, something predicted
    assert metrics.page_precision(0.5, 0.25, 0.25) == pytest.approx(2 / 3)


def test_shingle_scores_mean_of_pages_and_empty_output_only_costs_recall() -> None:
    pairs = [
        ("a b c d e f", "a b c d e f"),  # perfect: P 1, R 1
        ("a b c d e f", "b c d e f g"),  # P 2/3, R 2/3
        ("a b c d e f", ""),  # empty: excluded from P, R 0
    ]
    scores, counts = metrics.shingle_metric(pairs, n_bootstrap=0)
    assert len(counts) == 3
    assert scores["precision"] == pytest.approx((1 + 2 / 3) / 2)
    assert scores["recall"] == pytest.approx((1 + 2 / 3 + 0) / 3)
    p, r = scores["precision"], scores["recall"]
    assert scores["f1"] == pytest.approx(2 * p * r / (p + r))  # F1 of the means
    assert scores["accuracy"] == pytest.approx(1 / 3)  # token lists identical on page 1 only


def test_shingle_bootstrap_is_seeded_and_zero_for_identical_pages() -> None:
    pairs = [("a b c d e", "a b c d x"), ("p q r s t", "p q r s t"), ("u v w x", "")]
    first, _ = metrics.shingle_metric(pairs, n_bootstrap=50, seed=3)
    second, _ = metrics.shingle_metric(pairs, n_bootstrap=50, seed=3)
    assert first == second
    assert first["f1_std"] > 0
    same, _ = metrics.shingle_metric([("a b c d", "a b c d")] * 4, n_bootstrap=20)
    assert same["f1_std"] == 0.0


def test_all_empty_run_scores_zero_instead_of_crashing() -> None:
    scores, _ = metrics.shingle_metric([("a b c d", ""), ("e f g h", None)], n_bootstrap=5)
    assert scores["precision"] == scores["recall"] == scores["f1"] == 0.0


# --- snippet metric -----------------------------------------------------------------------------


def test_snippet_counts_whitespace_normalised() -> None:
    pred = "First  paragraph\nof the article.\n\nShare this"
    counts = metrics.snippet_counts(["paragraph of the", "missing"], ["Share this", "Cookie banner"], pred)
    assert counts == (1, 1, 1, 1)


def test_snippet_counts_crash_finds_nothing() -> None:
    assert metrics.snippet_counts(["a"], ["b"], None) == (0, 0, 1, 1)


def test_snippet_scores_are_micro_averaged() -> None:
    scores = metrics.snippet_scores([(2, 0, 0, 2), (0, 2, 2, 0)])
    assert (scores["tp"], scores["fp"], scores["fn"], scores["tn"]) == (2, 2, 2, 2)
    assert scores["precision"] == pytest.approx(0.5)
    assert scores["recall"] == pytest.approx(0.5)
    assert scores["accuracy"] == pytest.approx(0.5)
    assert scores["f1"] == pytest.approx(0.5)
    assert metrics.snippet_scores([])["f1"] == 0.0


# --- agreement with the reference implementation --------------------------------------------------


def _load_reference() -> ModuleType:
    return load_module("shared_bench_metrics", REFERENCE)


def _text(rng: random.Random, max_words: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(0, max_words))]
    return "".join(w + rng.choice((" ", "  ", "\n", ", ", ".\n\n")) for w in words)


def _mutate(rng: random.Random, truth: str) -> str | None:
    kind = rng.randrange(5)
    if kind == 0:
        return None if rng.random() < 0.5 else ""
    lines = truth.splitlines()
    if kind == 1:  # drop some lines
        return "\n".join(line for line in lines if rng.random() < 0.7)
    if kind == 2:  # add boilerplate
        return truth + "\n" + _text(rng, 15)
    if kind == 3:  # duplicate
        return truth + truth
    return truth


@pytest.mark.skipif(not REFERENCE.exists(), reason="reference scorer ../shared/bench not on this machine")
def test_agrees_with_reference_on_synthetic_pages() -> None:
    reference = _load_reference()
    rng = random.Random(SYNTHETIC_SEED)
    truths = [_text(rng, 40) for _ in range(SYNTHETIC_PAGES)]
    preds = [_mutate(rng, t) for t in truths]

    for truth, pred in zip(truths, preds, strict=True):
        assert metrics.shingle_counts(truth, pred or "") == pytest.approx(reference.shingle_counts(truth, pred or ""))
    pairs = [(t, p or "") for t, p in zip(truths, preds, strict=True)]
    ours, _ = metrics.shingle_metric(pairs, BOOTSTRAP, seed=1)
    theirs, _ = reference.shingle_metric(pairs, BOOTSTRAP, seed=1)
    assert ours.keys() == theirs.keys()
    for key, value in theirs.items():
        assert ours[key] == pytest.approx(value, abs=1e-12), key

    snippet_ours, snippet_theirs = [], []
    for truth, pred in zip(truths, preds, strict=True):
        chunks = [line for line in truth.splitlines() if line.strip()]
        with_, without = chunks[::2], [_text(rng, 4) or "absent"]
        snippet_ours.append(metrics.snippet_counts(with_, without, pred))
        snippet_theirs.append(reference.snippet_counts(with_, without, pred))
    assert snippet_ours == snippet_theirs
    assert metrics.snippet_scores(snippet_ours) == pytest.approx(reference.snippet_scores(snippet_theirs))


def test_snippet_page_f1_and_the_collapse_rule() -> None:
    assert metrics.snippet_page_f1((2, 0, 0, 1)) == 1.0
    assert metrics.snippet_page_f1((1, 1, 1, 0)) == 0.5
    assert metrics.snippet_page_f1((0, 0, 0, 0)) == 1.0  # nothing to find or avoid
    assert metrics.collapsed(0.6, 0.9)  # exactly 0.3 below counts
    assert not metrics.collapsed(0.61, 0.9)


def test_quality_lists_the_pages_far_below_trafilatura() -> None:
    from bench import quality

    rows = {
        quality.OURS: {"per_page": [{"id": "a", "f1": 0.2}, {"id": "b", "f1": 0.95}, {"id": "c"}]},
        quality.TRAFILATURA: {"per_page": [{"id": "a", "f1": 0.9}, {"id": "b", "f1": 0.9}, {"id": "c"}]},
    }
    assert quality.collapsed_pages(rows) == ["a"]
    assert quality.collapsed_pages({quality.OURS: rows[quality.OURS]}) is None
