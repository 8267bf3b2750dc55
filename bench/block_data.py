"""The block model's data: per-page candidate blocks, features and labels (cached), scoring, fitting.

Shared by ``bench/crossval.py`` (the validation protocol) and ``scripts/train_block_model.py``
(the shipped model), so both fit exactly the same way:

* a page goes through the service's own stages (decode, parse, extract, ``blocks``) and each
  candidate block keeps its feature row, its rendered text and its label; trafilatura's default
  ``extract()`` output (the anchor of the collapse count) is kept beside it;
* labels: against a text truth a block is article when >= half of its 4-token shingles are in the
  truth (a shorter block: its tokens appear in order); against snippets a block overlapped by a
  ``with`` snippet is article, by a ``without`` snippet clutter, others are unlabelled;
* ``fit`` trains the trees (``bench/gbdt.py``) on the given pages, and fits the decision threshold
  and the guard's share on out-of-fold predictions of an inner grouped CV (``bench/sites.py``)
  over the same pages only.

Pages are cached in ``bench/cache/`` (gitignored) under a key of the service's pipeline sources
and trafilatura's version: changing a feature rebuilds, changing the decision does not.
"""

from __future__ import annotations

import functools
import hashlib
import json
import pickle
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from copy import deepcopy
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import metrics, sites  # noqa: E402
from bench.gbdt import fit_gbdt  # noqa: E402
from service.pipeline import blocks as block_features  # noqa: E402
from service.pipeline.block_model import BlockModel, context_features, guard  # noqa: E402
from service.pipeline.trees import TreeEnsemble  # noqa: E402

SETS = ("trafilatura", "mozilla-readability", "fundus")
CACHE = ROOT / "bench" / "cache"
# The pipeline modules a page's blocks and features do not depend on: the decision (its module,
# the tree evaluator, the model file: re-fitting needs no rebuild) and the plain-text mode's own.
# tests/bench/test_block_data.py checks that no hashed module imports one of them.
NOT_FEATURE_MODULES = frozenset(
    {"block_model", "trees", "text_model", "text_mode", "text_features", "text_metadata", "lexicon"}
)
# The pipeline sources whose change changes a page's blocks or features.
FEATURE_SOURCES = sorted(p for p in (ROOT / "service" / "pipeline").glob("*.py") if p.stem not in NOT_FEATURE_MODULES)
# Bumped when PageRecord or the labels change (the pipeline sources are hashed anyway).
RECORD_VERSION = 5
# A block is article text when this share of its 4-token shingles is in the truth.
LABEL_SHARE = 0.5
# Each text-truth page's labelled blocks weigh this much in all (spread by tokens: the metric
# counts shingles); a snippet's block weighs 1 (a snippet page has ~6 labelled blocks). CV by site
# (trafilatura / mozilla-readability / fundus F1): 10: 0.9401 / 0.9747 / 0.9558; 40: 0.9387 /
# 0.9776 / 0.9574 (the 184 text-truth pages then weigh about as much as the 990 snippet pages).
TEXT_PAGE_WEIGHT = 40.0
# Inner grouped folds for the out-of-fold predictions the threshold and the guard are fitted on.
INNER_FOLDS = 4
# A collapsed page costs this much page F1 in the fitting objective: a whole page lost (issue 22:
# "one such page costs more than twenty small wins earn", and a small win is +0.01-0.05).
COLLAPSE_COST = 1.0
# Tree stages: 1 (the block features) or 2 (then again with the first stage's probabilities
# around each block, ``block_model.context_features``).
STAGES = 2
# The trees' size (``bench/gbdt.py``).
N_TREES = 120
DEPTH = 4
# Unicode format characters (category Cf) trafilatura drops and the service keeps.
_FORMAT_CHARS = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")
THRESHOLDS = tuple(round(0.2 + 0.05 * i, 2) for i in range(13))
GUARD_SHARES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
_RULE_FIRED = block_features.FEATURE_NAMES.index("rule_fired")


@dataclass
class PageRecord:
    """One page as the block model sees it."""

    set_name: str
    id: str
    truth: dict[str, Any]  # text, with, without; url and meta (the site, ``bench/sites.py``)
    trafilatura: str  # trafilatura.extract(page, url, include_comments=False): the anchor
    x: npt.NDArray[np.float64]
    own: npt.NDArray[np.bool_]  # the block is in trafilatura's body
    texts: list[str]  # each block rendered as the service renders the body
    tails: list[str]  # the text after each block (always kept: dropping a block moves its tail)
    lead: str  # the body's text before its first block (always kept)
    chars: npt.NDArray[np.float64]  # len of each block's text (what the guard counts)
    y: npt.NDArray[np.float64]
    w: npt.NDArray[np.float64]  # 0 for an unlabelled block


# --- building the records ------------------------------------------------------------------------


def cache_key() -> str:
    import trafilatura

    digest = hashlib.sha1(f"{RECORD_VERSION} {trafilatura.__version__}".encode())
    for path in FEATURE_SOURCES:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def load_records(bench: Path, sets: Sequence[str] = SETS, workers: int = 2) -> list[PageRecord]:
    """Every page of ``sets``, from the cache when the pipeline sources are unchanged."""
    CACHE.mkdir(parents=True, exist_ok=True)
    key = cache_key()
    records: list[PageRecord] = []
    for set_name in sets:
        path = CACHE / f"{set_name}-{key}.pkl"
        if path.exists():
            records.extend(pickle.loads(path.read_bytes()))
            continue
        truths = [
            json.loads(line) for line in (bench / set_name / "truth.jsonl").open(encoding="utf-8") if line.strip()
        ]
        jobs = [(set_name, str(bench / set_name / "pages" / f"{t['id']}.html"), t) for t in truths]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            built = list(pool.map(_build_job, jobs, chunksize=8))
        path.write_bytes(pickle.dumps(built))
        records.extend(built)
    return records


def _build_job(job: tuple[str, str, dict[str, Any]]) -> PageRecord:
    set_name, path, truth = job
    return build_record(set_name, Path(path).read_bytes(), truth)


def build_record(set_name: str, page: bytes, truth: dict[str, Any]) -> PageRecord:
    """The page through the service's stages up to the block decision, plus trafilatura's answer."""
    import trafilatura

    from service.models import Options
    from service.pipeline import library_swaps

    url = truth.get("url") or None
    anchor = trafilatura.extract(page, url=url, include_comments=False) or ""
    options = Options()
    with library_swaps.keeping_format_characters():  # the text as the service returns it
        return _service_record(set_name, page, truth, url, anchor, options)


def _service_record(
    set_name: str, page: bytes, truth: dict[str, Any], url: str | None, anchor: str, options: Any
) -> PageRecord:
    from lxml import etree

    from service.pipeline import decode, extract, parse, serialize

    html, _charset, _warnings = decode.decode(page, None, is_html=True)
    tree = parse.parse_html(html, 30_000, 180).tree
    candidates = extract.extract_candidates(tree, url, options, with_readability=True)
    article = candidates.article
    blocks = block_features.candidate_blocks(article, candidates.readability, options)
    x = block_features.block_features(blocks, candidates.readability)
    texts, tails = [], []
    for block in blocks:
        holder = etree.Element("body")
        copy = deepcopy(block.element)
        copy.tail = None
        holder.append(copy)
        texts.append(serialize.render_text(holder))
        tail = etree.Element("body")
        tail.text = block.element.tail if block.from_trafilatura else None
        tails.append(serialize.render_text(tail) if tail.text else "")
    lead = etree.Element("body")
    lead.text = article.body.text
    # The labels from the text without format characters (soft hyphens, ZWJ, ...): the service
    # keeps them as the page has them, the truth (made with trafilatura) has none; the answers
    # keep them, so the scores count what the service returns.
    y, w = labels(truth, [_FORMAT_CHARS.sub("", t) for t in texts])
    return PageRecord(
        set_name=set_name,
        id=truth["id"],
        truth={k: truth.get(k) for k in ("text", "with", "without", "url", "meta")},
        trafilatura=anchor,
        x=x,
        own=np.array([b.from_trafilatura for b in blocks], dtype=bool),
        texts=texts,
        tails=tails,
        lead=serialize.render_text(lead) if lead.text else "",
        chars=np.array([len(b.text) for b in blocks], dtype=np.float64),
        y=y,
        w=w,
    )


def labels(truth: dict[str, Any], texts: Sequence[str]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per block: label (1 article, 0 clutter) and weight (0: unlabelled)."""
    n = len(texts)
    y, w = np.zeros(n), np.zeros(n)
    if truth.get("text") is not None:
        truth_shingles = metrics.shingles(truth["text"])
        truth_tokens = " " + " ".join(metrics.tokens(truth["text"])) + " "
        tokens = [metrics.tokens(t) for t in texts]
        page_tokens = sum(len(t) for t in tokens) or 1
        for i, toks in enumerate(tokens):
            if not toks:
                continue
            if len(toks) < metrics.SHINGLE_SIZE:
                y[i] = float(f" {' '.join(toks)} " in truth_tokens)
            else:
                sh = metrics.shingles(texts[i])
                found = sum(min(c, truth_shingles.get(k, 0)) for k, c in sh.items())
                y[i] = float(found >= LABEL_SHARE * sum(sh.values()))
            w[i] = len(toks) / page_tokens  # TEXT_PAGE_WEIGHT is applied when fitting
        return y, w
    spans, position = [], 0
    normed = [metrics.norm(t) for t in texts]
    for text in normed:
        spans.append((position, position + len(text)))
        position += len(text) + 1
    joined = " ".join(normed)
    for key, value in (("without", 0.0), ("with", 1.0)):  # "with" last: it wins an overlap
        for snippet in truth.get(key) or []:
            snip = metrics.norm(snippet)
            at = joined.find(snip) if snip else -1
            if at < 0:
                continue
            for i, (start, end) in enumerate(spans):
                if start < at + len(snip) and at < end:
                    y[i], w[i] = value, 1.0
    return y, w


# --- scoring -------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _truth_shingles(text: str) -> tuple[Counter[tuple[str, ...]], tuple[str, ...]]:
    return metrics.shingles(text), tuple(metrics.tokens(text))


def shingle_counts(truth: str, text: str) -> tuple[float, float, float]:
    """``metrics.shingle_counts`` with the truth's shingles computed once per page."""
    expected, _tokens = _truth_shingles(truth)
    predicted = metrics.shingles(text)
    tp = sum(min(c, expected[k]) for k, c in predicted.items() if k in expected)
    fp = sum(predicted.values()) - tp
    fn = sum(expected.values()) - tp
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def set_scores(records: Sequence[PageRecord], outputs: Sequence[str]) -> tuple[float, list[str]]:
    """The set's F1 as the reference scorer computes it (shingle: from mean page P and R;
    snippet: pooled counts) and the ids of its collapsed pages (>= 0.3 below trafilatura's F1)."""
    kinds = {r.truth.get("text") is not None for r in records}
    if len(kinds) > 1:
        raise ValueError("one set, one metric")
    collapsed = []
    if kinds == {True}:
        counts = [shingle_counts(r.truth["text"], o) for r, o in zip(records, outputs, strict=True)]
        for r, c in zip(records, counts, strict=True):
            if metrics.collapsed(metrics.page_f1(c), _trafilatura_f1(r)):
                collapsed.append(r.id)
        return float(metrics.shingle_scores(counts, [0.0] * len(counts))["f1"]), collapsed  # F1 needs no accuracy
    snippets = [
        metrics.snippet_counts(r.truth.get("with") or [], r.truth.get("without") or [], o)
        for r, o in zip(records, outputs, strict=True)
    ]
    for r, counted in zip(records, snippets, strict=True):
        if metrics.collapsed(metrics.snippet_page_f1(counted), _trafilatura_f1(r)):
            collapsed.append(r.id)
    return float(metrics.snippet_scores(snippets)["f1"]), collapsed


_TRAFILATURA_F1: dict[tuple[str, str], float] = {}


def _trafilatura_f1(record: PageRecord) -> float:
    key = (record.set_name, record.id)
    if key not in _TRAFILATURA_F1:
        _TRAFILATURA_F1[key] = metrics.truth_f1(record.truth, record.trafilatura)
    return _TRAFILATURA_F1[key]


def output(record: PageRecord, keep: Sequence[bool]) -> str:
    """The answer's text: the body's lead text, the kept blocks, and every tail."""
    parts = [record.lead]
    for text, tail, chosen in zip(record.texts, record.tails, keep, strict=True):
        parts.extend((text if chosen else "", tail))
    return "\n".join(p for p in parts if p)


def by_set(records: Sequence[PageRecord]) -> Iterator[tuple[str, list[int]]]:
    for set_name in SETS:
        idx = [i for i, r in enumerate(records) if r.set_name == set_name]
        if idx:
            yield set_name, idx


def objective(records: Sequence[PageRecord], outputs: Sequence[str]) -> float:
    """What the thresholds and the guard are fitted to: the mean over sets of F1, less
    COLLAPSE_COST per collapsed page (as a share of the set's pages)."""
    scores = []
    for _set_name, idx in by_set(records):
        f1, collapsed = set_scores([records[i] for i in idx], [outputs[i] for i in idx])
        scores.append(f1 - COLLAPSE_COST * len(collapsed) / len(idx))
    return float(np.mean(scores))


# --- fitting -------------------------------------------------------------------------------------


def fit_trees(records: Sequence[PageRecord], xs: Sequence[npt.NDArray[np.float64]] | None = None) -> TreeEnsemble:
    """Trees on the labelled blocks of ``records`` (their features, or ``xs`` in their place)."""
    xs = xs if xs is not None else [r.x for r in records]
    mask = [r.w > 0 for r in records]
    x = np.vstack([xi[m] for xi, m in zip(xs, mask, strict=True)])
    y = np.concatenate([r.y[m] for r, m in zip(records, mask, strict=True)])
    w = np.concatenate(
        [
            r.w[m] * (TEXT_PAGE_WEIGHT if r.truth.get("text") is not None else 1.0)
            for r, m in zip(records, mask, strict=True)
        ]
    )
    return fit_gbdt(x, y, w, n_trees=N_TREES, depth=DEPTH)


def decide(record: PageRecord, probs: npt.NDArray[np.float64], model: BlockModel) -> list[bool]:
    """The service's decision (``BlockModel.keep``) on the page's cached blocks."""
    own = [bool(o) for o in record.own]
    evidence = [bool(e) for e in record.x[:, _RULE_FIRED] > 0]
    return guard(record.chars.tolist(), own, evidence, model.chosen(probs, own, evidence), model.min_kept_share)


def fit(records: Sequence[PageRecord]) -> BlockModel:
    """Both tree stages on ``records``; the second stage's inputs, the thresholds and the guard
    share on inner out-of-fold predictions of them."""
    folds = sites.assign_folds(records, INNER_FOLDS)
    probs = _out_of_fold(records, folds, [r.x for r in records])
    first = fit_trees(records)
    if STAGES == 1:
        return replace(fit_decision(records, probs, BlockModel(first, 0.5, 0.5, 0.0, 0.5)), trees=first)
    stacked = [_stacked(r, p) for r, p in zip(records, probs, strict=True)]
    probs = _out_of_fold(records, folds, stacked)
    decision = fit_decision(records, probs, BlockModel(first, 0.5, 0.5, 0.0, 0.5))
    return replace(decision, trees=first, second=fit_trees(records, stacked))


def _out_of_fold(
    records: Sequence[PageRecord], folds: Sequence[int], xs: Sequence[npt.NDArray[np.float64]]
) -> list[npt.NDArray[np.float64]]:
    """Each page's probabilities from trees fitted on the other inner folds."""
    probs: list[npt.NDArray[np.float64]] = [np.zeros(0)] * len(records)
    for k in range(INNER_FOLDS):
        train = [i for i, f in enumerate(folds) if f != k]
        trees = fit_trees([records[i] for i in train], [xs[i] for i in train])
        for i, f in enumerate(folds):
            if f == k:
                probs[i] = trees.predict(xs[i]) if len(xs[i]) else np.zeros(0)
    return probs


def _stacked(record: PageRecord, probs: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The second stage's input rows: the features and the context of the first stage's probabilities."""
    return np.hstack((record.x, context_features(probs, record.chars)))


def fit_decision(
    records: Sequence[PageRecord], probs: Sequence[npt.NDArray[np.float64]], start: BlockModel
) -> BlockModel:
    """Coordinate search from ``start`` (trees unused): one threshold for both sources, then
    readability's, then the rule-flagged blocks', then the guard's share, each the best
    ``objective`` (ties: the middle value; for the rule-flagged blocks the highest)."""

    def score(model: BlockModel) -> float:
        outs = [output(r, decide(r, p, model)) for r, p in zip(records, probs, strict=True)]
        return objective(records, outs)

    def best(candidates: list[BlockModel], middle: float, value: Callable[[BlockModel], float]) -> BlockModel:
        return max(candidates, key=lambda m: (score(m), -abs(value(m) - middle)))

    model = start
    model = best([replace(model, threshold=t, extra_threshold=t) for t in THRESHOLDS], 0.5, lambda m: m.threshold)
    model = best([replace(model, extra_threshold=t) for t in THRESHOLDS], model.threshold, lambda m: m.extra_threshold)
    rule = [replace(model, rule_threshold=t) for t in THRESHOLDS]
    model = best(rule, 1.0, lambda m: m.rule_threshold)  # ties: the highest (a rule is evidence of clutter)
    return best([replace(model, min_kept_share=s) for s in GUARD_SHARES], 0.5, lambda m: m.min_kept_share)


def predict(model: BlockModel, record: PageRecord) -> str:
    """The answer text the model gives on the page (what the service returns, block for block)."""
    if not len(record.x):
        return output(record, [])
    return output(record, decide(record, model.probabilities(record.x, record.chars), model))
