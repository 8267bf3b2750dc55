#!/usr/bin/env python3
"""Train the plain-text mode's line classifier (``service/pipeline/text_model.py``) and validate it.

    .venv/bin/python scripts/train_text_model.py /work/shared/bench        # train on all, save, in-sample F1
    .venv/bin/python scripts/train_text_model.py /work/shared/bench --cv   # the report: CV, in-sample, anchors

Data: the three development text sets, read in place (never copied into the repo):
``trafilatura-text`` (snippet truth), ``mozilla-readability-text`` and ``fundus-text`` (text truth).

Validation (``--cv``, ``bench/sites.py``, ``bench/README.md`` "Text mode"): grouped 5-fold
cross-validation by site over the three sets together. Each fold's model, and everything it learns
(both tree stages and the keep threshold), is fitted on the other four folds only; the held-out
folds' outputs are pooled and scored per set with ``bench/metrics.py``.

Line labels:
- text truth: a line is content when most of its 4-token shingles occur in the truth (lines of
  fewer than 4 tokens: when their token sequence occurs in the truth);
- snippet truth: a line overlapped by a "with" snippet is content, by a "without" snippet not;
  other lines are unlabelled (not trained on).

The model is a small gradient-boosted tree ensemble (logistic loss, histogram splits, complete
trees of fixed depth), fitted by ``bench/gbdt.py`` and evaluated with numpy in the service; a second
stage sees the first stage's probabilities around each line.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import text_cv  # noqa: E402
from text_cv import Page  # noqa: E402

from bench import metrics, sites  # noqa: E402
from bench.gbdt import fit_gbdt  # noqa: E402
from service.models import Options  # noqa: E402
from service.pipeline import serialize, text_features, text_mode, text_model  # noqa: E402
from service.pipeline.lexicon import Lexicon, fit_lexicon  # noqa: E402
from service.pipeline.text_features import Line  # noqa: E402

# A text-truth page has ~100 labelled lines, a snippet page ~6: the text-truth pages get
# TEXT_PAGE_WEIGHT per 10 labelled lines in all, spread by sqrt(tokens) (the shingle metric counts tokens).
SNIPPET_LINE_WEIGHT = 1.0
TEXT_PAGE_WEIGHT = 8.0
# Share of a line's 4-token shingles that must occur in the truth for the line to be content.
SHINGLE_SHARE = 0.5
# The stage-2 training contexts (and the threshold's probabilities) come out of this many
# site-grouped inner folds of the training pages, so neither sees a stage-1 probability of a
# page that stage 1 was trained on.
INNER_FOLDS = 4
# Word evidence (``service/pipeline/lexicon.py``) as two more stage-1 inputs.
LEXICON = True
# Calibration shifts (logit) of the page's expected-F1 decision tried on the training pages'
# out-of-fold probabilities (``text_model.LineModel.keep``).
SHIFTS = tuple(round(-2.0 + 0.25 * i, 2) for i in range(17))

_TOKEN = re.compile(r"\w+")
_SPACES = re.compile(r"\s+")


def key(page: Page) -> str:
    return f"{page.set_name}/{page.id}"


def _shingles(tokens: list[str]) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3)}


def line_labels(page: Page, lines: list[Line]) -> tuple[list[float | None], list[float]]:
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
    texts: list[str]


def page_data(page: Page) -> PageData:
    lines, start, end = analyse(page)
    prose = [text_features.is_prose(line) for line in lines]
    x = text_model.line_features(lines, start, end, prose)
    labels, weights = line_labels(page, lines)
    mask = np.array([v is not None for v in labels], dtype=bool)
    y = np.array([v if v is not None else 0.0 for v in labels])
    return PageData(x, y, np.array(weights), mask, [line.text for line in lines])


def _labelled(
    data: list[PageData], extra: list[npt.NDArray[np.float64]] | None = None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    xs = [d.x for d in data] if extra is None else [np.hstack((d.x, e)) for d, e in zip(data, extra, strict=True)]
    return (
        np.vstack([x[d.mask] for x, d in zip(xs, data, strict=True)]),
        np.concatenate([d.y[d.mask] for d in data]),
        np.concatenate([d.w[d.mask] for d in data]),
    )


def _context(d: PageData, probs: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    own = text_model.OWN_FEATURES
    words, block_first = d.x[:, own.index("log_words")], d.x[:, own.index("block_first")]
    return text_model.context_features(probs, np.expm1(words), block_first)


def fit_model(pages: Sequence[Page], data: dict[str, PageData]) -> text_model.LineModel:
    """Both stages and the keep threshold, from these pages only.

    Stage 2 is trained on out-of-fold stage-1 probabilities (site-grouped inner folds); the same
    inner folds give out-of-fold two-stage probabilities, on which the threshold is chosen. The
    lexicon's columns of these pages are out-of-fold too (a lexicon of the other inner folds), so
    the trees learn how much a lexicon says about lines it has not seen; the model's lexicon is
    fitted on all of them.
    """
    keys = [key(p) for p in pages]
    inner = sites.assign_folds(pages, INNER_FOLDS)
    lexicon = None
    if LEXICON:
        lexicon = _train_lexicon(pages, data)
        data = dict(data)
        for g in range(INNER_FOLDS):
            lexicon_g = _train_lexicon([p for p, f in zip(pages, inner, strict=True) if f != g], data)
            for k, f in zip(keys, inner, strict=True):
                if f == g:
                    d = data[k]
                    data[k] = PageData(np.hstack((d.x, lexicon_g.columns(d.texts))), d.y, d.w, d.mask, d.texts)
    first = fit_gbdt(*_labelled([data[k] for k in keys]))
    firsts = [
        fit_gbdt(*_labelled([data[k] for k, f in zip(keys, inner, strict=True) if f != g])) for g in range(INNER_FOLDS)
    ]
    contexts = {k: _context(data[k], firsts[f].predict(data[k].x)) for k, f in zip(keys, inner, strict=True)}
    second = fit_gbdt(*_labelled([data[k] for k in keys], [contexts[k] for k in keys]))
    if len(SHIFTS) == 1:  # nothing to choose (a quicker experiment)
        return text_model.LineModel(first, second, SHIFTS[0], lexicon)
    oof: dict[str, npt.NDArray[np.float64]] = {}
    for g in range(INNER_FOLDS):
        rest = [k for k, f in zip(keys, inner, strict=True) if f != g]
        second_g = fit_gbdt(*_labelled([data[k] for k in rest], [contexts[k] for k in rest]))
        for k, f in zip(keys, inner, strict=True):
            if f == g:
                oof[k] = second_g.predict(np.hstack((data[k].x, contexts[k])))
    return text_model.LineModel(first, second, fit_shift(pages, oof), lexicon)


def _train_lexicon(pages: Sequence[Page], data: dict[str, PageData]) -> Lexicon:
    """The lexicon of the labelled lines of ``pages`` (words counted once per site)."""
    lines = [data[key(p)] for p in pages]
    return fit_lexicon(
        (group, text, bool(y))
        for d, group in zip(lines, sites.site_groups(pages), strict=True)
        for text, y, labelled in zip(d.texts, d.y, d.mask, strict=True)
        if labelled
    )


def fit_shift(pages: Sequence[Page], probs: dict[str, npt.NDArray[np.float64]]) -> float:
    """The calibration shift whose outputs score best (mean F1 over the sets) on these pages."""
    best, best_score = 0.0, -1.0
    for shift in SHIFTS:
        outputs = [clean(p, _Fixed(probs[key(p)], shift)) for p in pages]
        score = text_cv.objective(text_cv.score(pages, outputs))
        if score > best_score:
            best, best_score = shift, score
    return best


class _Fixed:
    """Stands in for a LineModel whose probabilities for one page are already known."""

    keep = text_model.LineModel.keep

    def __init__(self, probs: npt.NDArray[np.float64], shift: float) -> None:
        self.probs, self.shift = probs, shift

    def predict(self, x: npt.NDArray[np.float64], texts: Sequence[str] = ()) -> npt.NDArray[np.float64]:
        return self.probs


_ANALYSED: dict[str, tuple[list[Line], int, int]] = {}


def analyse(page: Page) -> tuple[list[Line], int, int]:
    """``text_mode.analyse`` of the page, once per run (the costly part of cleaning); fresh copies."""
    if (cached := _ANALYSED.get(key(page))) is None:
        cached = _ANALYSED[key(page)] = text_mode.analyse(page.text)
    lines, start, end = cached
    return [copy.copy(line) for line in lines], start, end


def clean(page: Page, model: object | None) -> str:
    """The text mode's output for one page, with this model (None: the rules alone)."""
    saved = text_model.load_model
    text_model.load_model = lambda path=text_model.MODEL_PATH: model  # type: ignore[assignment]
    try:
        return serialize.render_text(text_mode.clean_lines(*analyse(page), Options(), None).body)
    finally:
        text_model.load_model = saved


# --- the report ------------------------------------------------------------------------------


def cross_validate(
    pages: Sequence[Page], data: dict[str, PageData], by_set: bool = False, workers: int = 1
) -> tuple[list[str], list[str], text_model.LineModel]:
    """Grouped K-fold by site: each page's output from the model fitted on the other folds, the
    same with the model's lexicon knowing none of the page's words (a language it never saw), and
    the model fitted on all pages (the shipped one). ``by_set``: one fold per set (each set
    answered by a model fitted on the other two). ``workers``: fits run at once (forked processes)."""
    folds = sites.set_folds(pages) if by_set else sites.assign_folds(pages)
    models, shipped = sites.fit_per_fold(lambda train: fit_model([pages[i] for i in train], data), folds, workers)
    # Without a lexicon a model's answer is already the one with no word known.
    wordless = [_wordless(model) if model.lexicon is not None else None for model in models]
    outputs, unknown = [], []
    for page, f in zip(pages, folds, strict=True):
        outputs.append(clean(page, models[f]))
        unknown.append(outputs[-1] if wordless[f] is None else clean(page, wordless[f]))
    for k, model in enumerate(models):
        print(f"  fold {k}: shift {model.shift}", file=sys.stderr, flush=True)
    return outputs, unknown, shipped


def drop_features(prefixes: Sequence[str]) -> None:
    """Zero the columns of these feature families in every feature matrix of this process, for
    training and answering alike (``sites.feature_columns``; no tree can split on them)."""
    columns = sites.feature_columns(text_model.FEATURE_NAMES, prefixes)
    features = text_model.line_features

    def zeroed(*args: Any, **kwargs: Any) -> npt.NDArray[np.float64]:
        x = features(*args, **kwargs)
        x[:, columns] = 0.0
        return x

    text_model.line_features = zeroed


def _wordless(model: text_model.LineModel) -> text_model.LineModel:
    """The model with a lexicon that knows no word."""
    wordless = copy.copy(model)
    wordless.lexicon = Lexicon({})
    return wordless


def dump(pages: Sequence[Page], outputs: Sequence[str], folder: Path) -> None:
    """Each page's held-out output as ``folder/<set>/<id>.txt`` (to read them)."""
    for page, output in zip(pages, outputs, strict=True):
        path = folder / page.set_name / f"{page.id}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(output, encoding="utf-8")


def _anchor(pages: Sequence[Page], extract: Callable[[str], str]) -> dict[str, float]:
    return text_cv.score(pages, [extract(p.text) for p in pages])


def _print_table(columns: dict[str, dict[str, float]]) -> None:
    sets = list(next(iter(columns.values())))
    print(f"{'set':26}" + "".join(f"{name:>18}" for name in columns))
    for set_name in sets:
        print(f"{set_name:26}" + "".join(f"{col.get(set_name, float('nan')):>18.3f}" for col in columns.values()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bench", type=Path, help="the bench folder holding the *-text sets")
    ap.add_argument("--cv", action="store_true", help="report: CV F1, in-sample F1 and anchors per set; no save")
    ap.add_argument("--dump", type=Path, help="with --cv: write each page's held-out output here")
    ap.add_argument("--answers", type=Path, help="with --cv: save the held-out outputs (JSON) for --against")
    ap.add_argument("--against", type=Path, help="with --cv: an earlier run's --answers, compared paired by site")
    ap.add_argument("--by-set", action="store_true", help="with --cv: hold out one whole set at a time")
    ap.add_argument("--workers", type=int, default=2, help="with --cv: fits run at once (forked processes)")
    ap.add_argument("--drop-features", nargs="*", default=[], metavar="PREFIX", help="feature families to zero")
    ap.add_argument("--no-anchors", action="store_true", help="with --cv: skip the floor and jusText")
    ap.add_argument("--sets", nargs="+", default=list(text_cv.SETS), help="which text sets")
    ap.add_argument("--out", type=Path, default=text_model.MODEL_PATH)
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()

    if args.drop_features:
        drop_features(args.drop_features)
    pages = list(text_cv.load_pages(args.bench, args.sets))
    started = time.perf_counter()
    data = {key(p): page_data(p) for p in pages}
    y = np.concatenate([d.y[d.mask] for d in data.values()])
    print(
        f"{len(pages)} pages, {len(y)} labelled lines ({y.mean():.2f} content), "
        f"features {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    columns: dict[str, dict[str, float]] = {}
    if args.cv:
        if not args.no_anchors:
            columns = {name: _anchor(pages, extract) for name, extract in text_cv.ANCHORS.items()}
        reference = [text_cv.trafilatura_lines(p.text) for p in pages]
        if not args.no_anchors:
            columns["trafilatura"] = text_cv.score(pages, reference)
        columns["rules only"] = text_cv.score(pages, [clean(p, None) for p in pages])
        started = time.perf_counter()
        held_out, wordless, model = cross_validate(pages, data, args.by_set, args.workers)
        columns["ours CV"] = text_cv.score(pages, held_out)
        columns["CV words unknown"] = text_cv.score(pages, wordless)
    else:
        started = time.perf_counter()
        model = fit_model(pages, data)
    print(f"fit {time.perf_counter() - started:.1f} s, shift {model.shift}", file=sys.stderr)
    if not args.cv and not args.no_save:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(model.to_json(), separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"saved {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)", file=sys.stderr)
    columns["ours in-sample"] = text_cv.score(pages, [clean(p, model) for p in pages])
    _print_table(columns)
    if args.cv:
        counts = text_cv.collapsed(pages, held_out, reference)
        print(
            f"CV pages >= {metrics.COLLAPSE_GAP} below trafilatura over the lines: "
            + "; ".join(f"{name} {n}" for name, n in counts.items())
        )
        sites.report_intervals(pages, held_out, args.answers, args.against)
        if args.dump is not None:
            dump(pages, held_out, args.dump)


if __name__ == "__main__":
    main()
