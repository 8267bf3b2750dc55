#!/usr/bin/env python3
"""Train the plain-text mode's line classifier (``service/pipeline/text_model.py``) and report F1.

    .venv/bin/python scripts/train_text_model.py /work/shared/bench            # train, save, report
    .venv/bin/python scripts/train_text_model.py /work/shared/bench --cv       # tuning run, see below

Data: the development text sets, read in place (never copied into the repo):
``trafilatura-text`` (snippet truth) and ``mozilla-readability-text`` (text truth).

Split (fixed, by page id): ``sha1(id) % 5 == 0`` is HELD OUT: never trained on and never used for
tuning; it is only scored at the end. Tuning used ``--cv``: 4-fold cross-validation over the train
folds 1-4 (train on three, score the fourth, pooled), which never reads the held-out pages.

Line labels:
- text truth: a line is content when most of its 4-token shingles occur in the truth (lines of
  fewer than 4 tokens: when their token sequence occurs in the truth);
- snippet truth: a line overlapped by a "with" snippet is content, by a "without" snippet not;
  other lines are unlabelled (not trained on).

The model is a small gradient-boosted tree ensemble (logistic loss, histogram splits, complete
trees of fixed depth), fitted with numpy here and evaluated with numpy in the service.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.models import Options  # noqa: E402
from service.pipeline import serialize, text_mode, text_model  # noqa: E402

SETS = ("trafilatura-text", "mozilla-readability-text")
HOLDOUT_FOLD = 0  # sha1(id) % 5 == 0: held out
FOLDS = 5

# --- training hyper-parameters, chosen by --cv (4-fold CV on the train folds; trafilatura-text /
# mozilla-readability-text F1, one stage): 120 trees depth 4: 0.882/0.891; 60 trees depth 3:
# 0.868/0.898; 200 trees depth 3: 0.882/0.890; L2 20: 0.879/0.893; 250 trees lr 0.05: 0.881/0.894 ---
N_TREES = 120
DEPTH = 4
LEARNING_RATE = 0.1
L2 = 5.0  # leaf weight regularisation (lambda)
MIN_CHILD_HESSIAN = 2.0  # a split needs at least this much hessian on each side
N_BINS = 32
# A text-truth page has ~100 labelled lines, a snippet page ~6: the text-truth pages get
# TEXT_PAGE_WEIGHT per 10 labelled lines in all (both sets then weigh about the same in total), spread
# by sqrt(tokens) (the shingle metric counts tokens). CV: doubling it gave 0.879/0.897 (vs 0.887/0.897).
SNIPPET_LINE_WEIGHT = 1.0
TEXT_PAGE_WEIGHT = 8.0
# Whether to train the second (context) stage. CV with the rules' fallback: one stage 0.882/~0.89,
# two stages 0.887/0.897.
TWO_STAGES = True
# Share of a line's 4-token shingles that must occur in the truth for the line to be content.
SHINGLE_SHARE = 0.5

_TOKEN = re.compile(r"\w+")
_SPACES = re.compile(r"\s+")


def fold(page_id: str) -> int:
    return int(hashlib.sha1(page_id.encode("utf-8")).hexdigest(), 16) % FOLDS


@dataclass
class Page:
    set_name: str
    id: str
    text: str
    truth: dict[str, object]


def load_pages(bench: Path) -> Iterator[Page]:
    for set_name in SETS:
        folder = bench / set_name
        for raw in (folder / "truth.jsonl").open(encoding="utf-8"):
            if not raw.strip():
                continue
            rec = json.loads(raw)
            path = folder / "pages" / f"{rec['id']}.txt"
            yield Page(set_name, rec["id"], path.read_text(encoding="utf-8", errors="replace"), rec)


def _shingles(tokens: list[str]) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3)}


def line_labels(page: Page, lines: list[text_mode.Line]) -> tuple[list[float | None], list[float]]:
    """Per line: label (1 content, 0 clutter, None unknown) and training weight."""
    labels: list[float | None] = [None] * len(lines)
    weights = [0.0] * len(lines)
    truth_text = page.truth.get("text")
    if page.truth.get("with") is not None:
        # Lines joined with one space, as the snippet metric normalises whitespace.
        parts, offsets, pos = [], [], 0
        for line in lines:
            norm = _SPACES.sub(" ", line.text)
            offsets.append((pos, pos + len(norm)))
            parts.append(norm)
            pos += len(norm) + 1
        joined = " ".join(parts)
        marks: list[set[float]] = [set() for _ in lines]
        for key, value in (("with", 1.0), ("without", 0.0)):
            for snippet in page.truth.get(key) or []:  # type: ignore[attr-defined]
                snip = _SPACES.sub(" ", snippet).strip()
                at = joined.find(snip) if snip else -1
                if at < 0:
                    continue
                for i, (a, b) in enumerate(offsets):
                    if a < at + len(snip) and at < b:
                        marks[i].add(value)
        for i, mark in enumerate(marks):
            if len(mark) == 1:
                labels[i] = mark.pop()
                weights[i] = SNIPPET_LINE_WEIGHT
    elif isinstance(truth_text, str):
        truth_tokens = _TOKEN.findall(truth_text)
        truth_sh = _shingles(truth_tokens)
        truth_joined = f" {' '.join(truth_tokens)} "
        total = 0.0
        for i, line in enumerate(lines):
            toks = _TOKEN.findall(line.text)
            if not toks:
                continue
            if len(toks) >= 4:
                sh = [tuple(toks[j : j + 4]) for j in range(len(toks) - 3)]
                share = sum(s in truth_sh for s in sh) / len(sh)
                labels[i] = 1.0 if share >= SHINGLE_SHARE else 0.0
            else:
                labels[i] = 1.0 if f" {' '.join(toks)} " in truth_joined else 0.0
            weights[i] = len(toks) ** 0.5
            total += weights[i]
        if total:
            # The page's weights sum to TEXT_PAGE_WEIGHT per 10 labelled lines.
            scale = TEXT_PAGE_WEIGHT * sum(1 for v in labels if v is not None) / 10 / total
            weights = [w * scale for w in weights]
    return labels, weights


@dataclass
class PageData:
    """One page's feature matrix (all lines), labels, weights and which lines are labelled."""

    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    w: npt.NDArray[np.float64]
    mask: npt.NDArray[np.bool_]


def page_data(page: Page) -> PageData:
    lines, start, end = text_mode.analyse(page.text)
    prose = [text_mode._is_prose(line) for line in lines]
    x = text_model.line_features(lines, start, end, prose)
    labels, weights = line_labels(page, lines)
    mask = np.array([v is not None for v in labels], dtype=bool)
    y = np.array([v if v is not None else 0.0 for v in labels])
    return PageData(x, y, np.array(weights), mask)


def _labelled(
    data: list[PageData], extra: list[npt.NDArray[np.float64]] | None = None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    xs = [np.hstack((d.x, e)) if extra is not None else d.x for d, e in zip(data, extra or data, strict=True)]
    return (
        np.vstack([x[d.mask] for x, d in zip(xs, data, strict=True)]),
        np.concatenate([d.y[d.mask] for d in data]),
        np.concatenate([d.w[d.mask] for d in data]),
    )


def _context(d: PageData, probs: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return text_model.context_features(probs, np.expm1(d.x[:, 0]))


# Out-of-fold first-stage probabilities for the second stage's training come from this many groups.
INNER_GROUPS = 4


def fit_model(ids: list[str], data: dict[str, PageData]) -> text_model.LineModel:
    """Both stages; the second is trained on out-of-fold first-stage probabilities (no leak)."""
    chosen = [data[i] for i in ids]
    first = fit_gbdt(*_labelled(chosen))
    if not TWO_STAGES:
        return text_model.LineModel(first, None)
    group = {i: int(hashlib.sha1(f"{i}#inner".encode()).hexdigest(), 16) % INNER_GROUPS for i in ids}
    contexts: dict[str, npt.NDArray[np.float64]] = {}
    for g in range(INNER_GROUPS):
        inner = fit_gbdt(*_labelled([data[i] for i in ids if group[i] != g]))
        for i in ids:
            if group[i] == g and len(data[i].x):
                contexts[i] = _context(data[i], inner.predict(data[i].x))
    kept = [i for i in ids if i in contexts]
    second = fit_gbdt(*_labelled([data[i] for i in kept], [contexts[i] for i in kept]))
    return text_model.LineModel(first, second)


# --- gradient boosting -------------------------------------------------------------------------


def fit_gbdt(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], w: npt.NDArray[np.float64]
) -> text_model.TreeEnsemble:
    n, n_feat = x.shape
    edges = []
    binned = np.zeros((n, n_feat), dtype=np.int64)
    for f in range(n_feat):
        e = np.unique(np.quantile(x[:, f], np.linspace(0, 1, N_BINS + 1)[1:-1]))
        edges.append(e)
        binned[:, f] = np.searchsorted(e, x[:, f], side="left")
    p0 = float(np.clip(np.average(y, weights=w), 1e-3, 1 - 1e-3))
    bias = float(np.log(p0 / (1 - p0)))
    margin = np.full(n, bias)
    inner = 2**DEPTH - 1
    features = np.zeros((N_TREES, inner), dtype=np.int64)
    thresholds = np.full((N_TREES, inner), np.inf)
    leaves = np.zeros((N_TREES, 2**DEPTH))
    for t in range(N_TREES):
        p = 1 / (1 + np.exp(-margin))
        g, h = w * (p - y), w * p * (1 - p)
        node = np.zeros(n, dtype=np.int64)
        for level in range(DEPTH):
            first, count = 2**level - 1, 2**level
            local = node - first
            best_gain = np.zeros(count)
            best_feat = np.zeros(count, dtype=np.int64)
            best_bin = np.full(count, -1)
            gsum = np.bincount(local, weights=g, minlength=count)
            hsum = np.bincount(local, weights=h, minlength=count)
            parent = gsum**2 / (hsum + L2)
            for f in range(n_feat):
                k = len(edges[f])
                if k == 0:
                    continue
                idx = local * (k + 1) + binned[:, f]
                gh = np.bincount(idx, weights=g, minlength=count * (k + 1)).reshape(count, k + 1)
                hh = np.bincount(idx, weights=h, minlength=count * (k + 1)).reshape(count, k + 1)
                gl, hl = np.cumsum(gh, axis=1)[:, :k], np.cumsum(hh, axis=1)[:, :k]
                gr, hr = gsum[:, None] - gl, hsum[:, None] - hl
                gain = gl**2 / (hl + L2) + gr**2 / (hr + L2) - parent[:, None]
                gain[(hl < MIN_CHILD_HESSIAN) | (hr < MIN_CHILD_HESSIAN)] = 0.0
                b = np.argmax(gain, axis=1)
                gbest = gain[np.arange(count), b]
                better = gbest > best_gain
                best_gain[better], best_feat[better], best_bin[better] = gbest[better], f, b[better]
            for j in range(count):
                if best_bin[j] >= 0:
                    features[t, first + j] = best_feat[j]
                    thresholds[t, first + j] = edges[best_feat[j]][best_bin[j]]
            go_right = x[np.arange(n), features[t, node]] > thresholds[t, node]
            node = 2 * node + 1 + go_right
        leaf_idx = node - inner
        gl = np.bincount(leaf_idx, weights=g, minlength=2**DEPTH)
        hl = np.bincount(leaf_idx, weights=h, minlength=2**DEPTH)
        leaves[t] = -LEARNING_RATE * gl / (hl + L2)
        margin += leaves[t][leaf_idx]
    return text_model.TreeEnsemble(features, thresholds, leaves, bias, DEPTH)


# --- evaluation with the reference metrics ---------------------------------------------------


def evaluate(bench: Path, pages: list[Page]) -> dict[str, float]:
    sys.path.insert(0, str(bench))
    import metrics  # type: ignore[import-not-found]  # the bench's reference metric code

    out: dict[str, float] = {}
    for set_name in SETS:
        chosen = [p for p in pages if p.set_name == set_name]
        if not chosen:
            continue
        preds = []
        for page in chosen:
            preds.append(serialize.render_text(text_mode.clean_text(page.text, Options(), None).body))
        if set_name.startswith("mozilla"):
            pairs = [(p.truth["text"], pred) for p, pred in zip(chosen, preds, strict=True)]
            scores, _ = metrics.shingle_metric(pairs, 0, 0)
        else:
            counts = [
                metrics.snippet_counts(p.truth["with"], p.truth["without"] or [], pred)
                for p, pred in zip(chosen, preds, strict=True)
                if p.truth.get("with") is not None
            ]
            scores = metrics.snippet_scores(counts)
        out[set_name] = scores["f1"]
    return out


def _use(model: text_model.LineModel | None) -> None:
    """Make ``text_mode`` use this model (None: the rules alone)."""
    text_model.load_model = lambda path=text_model.MODEL_PATH: model  # type: ignore[assignment,misc]


def cross_validate(
    bench: Path,
    train: list[Page],
    data: dict[str, PageData],
    dump: Path | None = None,
) -> dict[str, float]:
    """Train on three of the four train folds, score the fourth, for each; scores pooled over folds."""
    sys.path.insert(0, str(bench))
    import metrics  # type: ignore[import-not-found]

    preds: dict[str, str] = {}
    for k in sorted({fold(p.id) for p in train}):
        fitted = fit_model([p.id for p in train if fold(p.id) != k], data)
        _use(fitted)
        for page in train:
            if fold(page.id) == k:
                body = text_mode.clean_text(page.text, Options(), None).body
                preds[page.id] = serialize.render_text(body)
    if dump is not None:
        dump.mkdir(parents=True, exist_ok=True)
        for page in train:
            (dump / f"{page.id}.txt").write_text(preds[page.id], encoding="utf-8")
    out: dict[str, float] = {}
    for set_name in SETS:
        chosen = [p for p in train if p.set_name == set_name]
        if set_name.startswith("mozilla"):
            out[set_name] = metrics.shingle_metric([(p.truth["text"], preds[p.id]) for p in chosen], 0, 0)[0]["f1"]
        else:
            counts = [
                metrics.snippet_counts(p.truth["with"], p.truth["without"] or [], preds[p.id])
                for p in chosen
                if p.truth.get("with") is not None
            ]
            out[set_name] = metrics.snippet_scores(counts)["f1"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bench", type=Path, help="the bench folder holding the *-text sets")
    ap.add_argument("--cv", action="store_true", help="tuning: 4-fold cross-validation on the train part only")
    ap.add_argument("--dump", type=Path, help="with --cv: write each page's output text here")
    ap.add_argument("--out", type=Path, default=text_model.MODEL_PATH)
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--rules-only", action="store_true", help="score the rules without the model")
    args = ap.parse_args()

    pages = list(load_pages(args.bench))
    train = [p for p in pages if fold(p.id) != HOLDOUT_FOLD]
    held = [p for p in pages if fold(p.id) == HOLDOUT_FOLD]
    started = time.perf_counter()
    data = {p.id: page_data(p) for p in train}
    y = np.concatenate([d.y[d.mask] for d in data.values()])
    print(
        f"{len(train)} train pages, {len(y)} labelled lines ({y.mean():.2f} content), "
        f"features {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    if args.cv:
        scores = cross_validate(args.bench, train, data, args.dump)
        print("cv", " ".join(f"{k} {v:.3f}" for k, v in scores.items()), flush=True)
        return
    started = time.perf_counter()
    model = fit_model([p.id for p in train], data)
    print(f"fit {time.perf_counter() - started:.1f} s", flush=True)
    if not args.no_save:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(model.to_json(), separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"saved {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")
    _use(None if args.rules_only else model)
    for name, subset in (("train", train), ("held-out", held)):
        scores = evaluate(args.bench, subset)
        print(name, " ".join(f"{k} {v:.3f}" for k, v in scores.items()), flush=True)


if __name__ == "__main__":
    main()
