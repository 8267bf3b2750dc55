"""Learned line classifier of the plain-text mode: features of a line and its neighbours, and the model.

``text_mode`` first scores lines with its rules and finds the article region (maximum-sum run);
this module turns each line into a feature vector (the line's own shape, its clutter label, the
rule score, where it sits relative to the rule region, and the same for the lines around it) and
a small gradient-boosted tree ensemble gives the probability that the line belongs to the article.

The ensemble is trained by ``scripts/train_text_model.py`` on the development text sets and
shipped as ``models/text_lines.json`` (plain JSON: no pickle, no network). Inference is numpy
only and vectorised over the page's lines, so it stays linear in the number of lines.

No rule here depends on a page's wording: the features are lengths, ratios, the multilingual
clutter labels of ``clutter_patterns`` and positions, plus the line's words as a ``lexicon``
learned across sites weighs them (a word counts only when seen on several sites).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from service.pipeline.lexicon import Lexicon
from service.pipeline.text_features import Line, char_counts
from service.pipeline.trees import TreeEnsemble, best_expected_f1, calibrated, likely_shares, shifted, window_mean

MODEL_PATH: Final = Path(__file__).parent / "models" / "text_lines.json"

# Clutter labels grouped for the model (one indicator each); anything else falls in "other".
LABEL_GROUPS: Final[tuple[tuple[str, ...], ...]] = (
    ("relative-date",),
    ("share-buttons",),
    ("byline",),
    ("related-links",),
    ("comments",),
    ("tags",),
    ("image-credit",),
    ("footer",),
    ("pagination", "read-more", "navigation"),
    ("date",),
    ("newsletter", "cookie-banner", "boilerplate", "markup"),
)
_LABEL_INDEX: Final[dict[str, int]] = {name: i for i, group in enumerate(LABEL_GROUPS) for name in group}

# Neighbour offsets whose features are copied onto a line (the +/-2 window).
NEIGHBOUR_OFFSETS: Final[tuple[int, ...]] = (-2, -1, 1, 2)
# Half-width (in lines) of the wider window whose prose density is a feature.
DENSITY_WINDOW: Final = 5
# The rule score is clipped to this magnitude before scaling (a 200-word paragraph is no more
# "article" than a 60-word one; the boundary cost is -60).
SCORE_CLIP: Final = 60.0

# Per-line ("own") features; the neighbour features repeat NEIGHBOUR_FEATURES for each offset.
OWN_FEATURES: Final[tuple[str, ...]] = (
    "log_words",
    "log_chars",
    "stop_ratio",
    "terminal",
    "truncated",
    "bullet",
    "cjk",
    "repeated",
    "prose",
    "score",
    "in_region",
    "before_region",
    "log_dist_region",
    "rel_pos",
    "rel_pos_region",
    "digit_ratio",
    "upper_ratio",
    "punct_ratio",
    "mean_word_len",
    "comma_per_word",
    "separators",
    "ends_colon",
    "starts_upper",
    "has_url",
    "log_block_lines",
    "block_first",
    "block_last",
    "words_vs_max",
    "density_window",
    "labelled",
    "block_prose_share",
    "block_stop_ratio",
    "block_terminal_share",
    "block_log_words",
    "block_labelled_share",
    *(f"label_{group[0]}" for group in LABEL_GROUPS),
)
NEIGHBOUR_FEATURES: Final[tuple[str, ...]] = (
    "log_words",
    "stop_ratio",
    "terminal",
    "prose",
    "score",
    "labelled",
    "same_block",
)
FEATURE_NAMES: Final[tuple[str, ...]] = (
    *OWN_FEATURES,
    *(f"{name}@{off:+d}" for off in NEIGHBOUR_OFFSETS for name in NEIGHBOUR_FEATURES),
)
_OWN: Final = {name: i for i, name in enumerate(OWN_FEATURES)}
# A model with a lexicon (``lexicon.Lexicon.score``: the mean and the lowest weight of the line's
# known words) reads these two columns after ``FEATURE_NAMES``.
LEXICON_FEATURES: Final[tuple[str, ...]] = ("lexicon_mean", "lexicon_min")
# A missing neighbour (before the first or after the last line) gets this value in every column.
MISSING: Final = -1.0


def _block_mean(
    blocks: npt.NDArray[np.int64], values: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Per line, the weighted mean of ``values`` over the line's blank-line block."""
    total = np.bincount(blocks, weights=values * weights)
    return (total / np.maximum(np.bincount(blocks, weights=weights), 1.0))[blocks]


def line_features(lines: Sequence[Line], start: int, end: int, prose: Sequence[bool]) -> npt.NDArray[np.float64]:
    """The feature matrix (one row per line, columns as ``FEATURE_NAMES``); linear, mostly vectorised.

    ``start``/``end`` are the rule region, ``prose`` the rule's prose flags; ``line.score`` must be set.
    """
    n = len(lines)
    if n == 0:
        return np.zeros((0, len(FEATURE_NAMES)), dtype=np.float64)
    texts = [line.text for line in lines]
    words = np.array([line.words for line in lines])
    chars = np.fromiter((len(t) for t in texts), dtype=np.float64, count=n)
    blocks = np.array([line.block for line in lines])
    counts = char_counts(texts)
    idx = np.arange(n)
    block_sizes = np.bincount(blocks)[blocks]
    labels = np.zeros((n, len(LABEL_GROUPS)))
    for i, line in enumerate(lines):
        if line.label is not None:
            labels[i, _LABEL_INDEX.get(line.label, len(LABEL_GROUPS) - 1)] = 1.0
    prose_arr = np.array(prose, dtype=np.float64)
    prose_words = words * prose_arr
    cumulative = np.concatenate(([0.0], np.cumsum(prose_words)))
    lo = np.maximum(idx - DENSITY_WINDOW, 0)
    hi = np.minimum(idx + DENSITY_WINDOW + 1, n)
    dist = np.where(idx < start, start - idx, np.where(idx >= end, idx - end + 1, 0))
    safe_words = np.maximum(words, 1.0)
    stops = np.array([line.stop_ratio for line in lines])
    terminal = np.array([line.terminal for line in lines], dtype=np.float64)
    labelled = np.asarray(labels.any(axis=1), dtype=np.float64)
    columns = {
        "log_words": np.log1p(words),
        "log_chars": np.log1p(chars),
        "stop_ratio": stops,
        "terminal": terminal,
        "truncated": np.array([line.truncated for line in lines], dtype=np.float64),
        "bullet": np.array([line.bullet for line in lines], dtype=np.float64),
        "cjk": np.array([line.cjk for line in lines], dtype=np.float64),
        "repeated": np.array([line.repeated for line in lines], dtype=np.float64),
        "prose": prose_arr,
        "score": np.clip([line.score for line in lines], -SCORE_CLIP, SCORE_CLIP) / SCORE_CLIP,
        "in_region": ((idx >= start) & (idx < end)).astype(np.float64),
        "before_region": (idx < start).astype(np.float64),
        "log_dist_region": np.log1p(dist),
        "rel_pos": idx / n,
        "rel_pos_region": (idx - start) / max(end - start, 1),
        "digit_ratio": counts["digits"] / chars,
        "upper_ratio": counts["upper"] / chars,
        "punct_ratio": counts["punct"] / chars,
        "mean_word_len": np.minimum(chars / safe_words, 30.0) / 30.0,
        "comma_per_word": np.minimum(counts["commas"] / safe_words, 1.0),
        "separators": np.minimum(counts["seps"], 10.0) / 10.0,
        "ends_colon": np.array([t.endswith(":") for t in texts], dtype=np.float64),
        "starts_upper": np.array([t[:1].isupper() for t in texts], dtype=np.float64),
        "has_url": np.array([("http" in t or "www." in t or "@" in t) for t in texts], dtype=np.float64),
        "log_block_lines": np.log1p(block_sizes),
        "block_first": np.concatenate(([True], blocks[1:] != blocks[:-1])).astype(np.float64),
        "block_last": np.concatenate((blocks[:-1] != blocks[1:], [True])).astype(np.float64),
        "words_vs_max": words / max(float(words.max()), 1.0),
        "density_window": np.log1p(cumulative[hi] - cumulative[lo]),
        "labelled": labelled,
        # The blank-line block around the line: a paragraph group, a menu, a teaser card.
        "block_prose_share": _block_mean(blocks, prose_arr, words),
        "block_stop_ratio": _block_mean(blocks, stops, words),
        "block_terminal_share": _block_mean(blocks, terminal, np.ones(n)),
        "block_log_words": np.log1p(np.bincount(blocks, weights=words)[blocks]),
        "block_labelled_share": _block_mean(blocks, labelled, np.ones(n)),
    }
    own = np.empty((n, len(OWN_FEATURES)))
    for name, column in columns.items():
        own[:, _OWN[name]] = column
    own[:, _OWN[f"label_{LABEL_GROUPS[0][0]}"] :] = labels
    neighbour_cols = [_OWN[name] for name in NEIGHBOUR_FEATURES if name != "same_block"]
    parts = [own]
    for off in NEIGHBOUR_OFFSETS:
        shifted = np.full((n, len(NEIGHBOUR_FEATURES)), MISSING)
        src = idx + off
        ok = (src >= 0) & (src < n)
        shifted[ok, :-1] = own[src[ok]][:, neighbour_cols]
        shifted[ok, -1] = blocks[src[ok]] == blocks[ok]
        parts.append(shifted)
    return np.hstack(parts)


# Second stage: the first stage's probabilities around a line (the article is contiguous, so a
# line between confident content lines is likely content too, and the reverse).
CONTEXT_OFFSETS: Final[tuple[int, ...]] = (-3, -2, -1, 1, 2, 3)
# Half-width (in lines) of the windows whose mean and max probabilities are features.
CONTEXT_WINDOW: Final = 6
# Half-width of a wider window (a section of the page, not a paragraph's neighbours).
WIDE_WINDOW: Final = 20
CONTEXT_FEATURES: Final[tuple[str, ...]] = (
    "p",
    *(f"p@{off:+d}" for off in CONTEXT_OFFSETS),
    "p_mean_window",
    "p_mean_wide",
    "p_block_mean",
    "p_block_max",
    "p_max_before",
    "p_max_after",
    "p_page_mean",
    "p_frac_before",
    "p_frac_after",
)


def context_features(
    probs: npt.NDArray[np.float64], words: npt.NDArray[np.float64], block_first: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Features of the first stage's probabilities around each line (linear in the line count).

    ``block_first`` flags the first line of each blank-line block (the feature of that name).
    """
    n = len(probs)
    out = np.full((n, len(CONTEXT_FEATURES)), MISSING)
    if n == 0:
        return out
    out[:, 0] = probs
    base = 1 + len(CONTEXT_OFFSETS)
    out[:, 1:base] = shifted(probs, CONTEXT_OFFSETS, MISSING)
    weight = np.maximum(words, 1.0)
    out[:, base] = window_mean(probs, weight, CONTEXT_WINDOW)
    out[:, base + 1] = window_mean(probs, weight, WIDE_WINDOW)
    blocks = np.cumsum(block_first > 0) - 1
    out[:, base + 2] = (np.bincount(blocks, weights=probs * weight) / np.bincount(blocks, weights=weight))[blocks]
    block_max = np.zeros(blocks[-1] + 1)
    np.maximum.at(block_max, blocks, probs)
    out[:, base + 3] = block_max[blocks]
    base += 3
    padded = np.concatenate((np.full(CONTEXT_WINDOW, MISSING), probs, np.full(CONTEXT_WINDOW, MISSING)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, CONTEXT_WINDOW)
    out[:, base + 1] = windows[:n].max(axis=1)  # the CONTEXT_WINDOW lines before
    out[:, base + 2] = windows[CONTEXT_WINDOW + 1 : CONTEXT_WINDOW + 1 + n].max(axis=1)  # ... and after
    out[:, base + 3] = window_mean(probs, weight, n)  # the page's mean
    out[:, base + 4], out[:, base + 5] = likely_shares(probs, weight)
    return out


class LineModel:
    """Two stages: line features -> probability; then the same plus the probabilities around it.

    ``shift``: the calibration of the probabilities for the page's decision (``keep``: the lines
    of the best expected F1). The trainer fits it on its training pages only, with the trees, so
    cross-validation scores it like any other parameter.
    """

    def __init__(
        self,
        first: TreeEnsemble,
        second: TreeEnsemble | None,
        shift: float = 0.0,
        lexicon: Lexicon | None = None,
    ) -> None:
        self.first = first
        self.second = second
        self.shift = shift
        self.lexicon = lexicon

    def predict(self, x: npt.NDArray[np.float64], texts: Sequence[str] = ()) -> npt.NDArray[np.float64]:
        """The probability that each row's line is article content."""
        if self.lexicon is not None:
            if len(texts) != len(x):
                raise ValueError("a model with a lexicon needs each line's text")
            x = np.hstack((x, self.lexicon.columns(texts)))
        probs = self.first.predict(x)
        if self.second is None:
            return probs
        words = np.expm1(x[:, _OWN["log_words"]])
        context = context_features(probs, words, x[:, _OWN["block_first"]])
        return self.second.predict(np.hstack((x, context)))

    def keep(self, probs: npt.NDArray[np.float64], lines: Sequence[str]) -> list[bool]:
        """Which ``lines`` (with these probabilities) make the answer: the page's best expected F1
        by characters, or none when the model takes no line for article (the caller then has
        its rules answer). A fixed threshold instead (0.3-0.7, fitted as the shift is) lost in
        site-grouped CV (bench/README.md)."""
        q = calibrated(probs, self.shift)
        if not len(q) or q.max() < 0.5:
            return [False] * len(q)
        lengths = np.asarray([len(line) for line in lines], dtype=np.float64)
        return [bool(k) for k in best_expected_f1(q, lengths)]

    def to_json(self) -> dict[str, object]:
        return {
            "features": list(FEATURE_NAMES),
            "context_features": list(CONTEXT_FEATURES),
            "shift": self.shift,
            "first": self.first.to_json(),
            "second": self.second.to_json() if self.second is not None else None,
            **(
                {"lexicon_features": list(LEXICON_FEATURES), "lexicon": self.lexicon.to_json()}
                if self.lexicon is not None
                else {}
            ),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> LineModel:
        if data.get("features") != list(FEATURE_NAMES) or data.get("context_features") != list(CONTEXT_FEATURES):
            raise ValueError("model was trained on other features; retrain with scripts/train_text_model.py")
        if "lexicon" in data and data.get("lexicon_features") != list(LEXICON_FEATURES):
            raise ValueError("model's lexicon gives other inputs; retrain with scripts/train_text_model.py")
        second = data.get("second")
        return cls(
            TreeEnsemble.from_json(data["first"]),  # type: ignore[arg-type]
            TreeEnsemble.from_json(second) if isinstance(second, dict) else None,
            float(data["shift"]),  # type: ignore[arg-type]
            Lexicon.from_json(data["lexicon"]) if isinstance(data.get("lexicon"), dict) else None,  # type: ignore[arg-type]
        )


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_PATH) -> LineModel | None:
    """The shipped model, or None when there is none (the rules alone then decide)."""
    if not path.exists():
        return None
    return LineModel.from_json(json.loads(path.read_text(encoding="utf-8")))
