"""The small gradient-boosted tree ensembles both learned decisions ship, evaluated with numpy,
and the array helpers their second stages share.

The HTML block model (``block_model``) and the plain-text line model (``text_model``) are each
two ensembles: the second sees the first's probabilities around a row (its neighbours, a window's
mean, the share of likely content before and after). ``bench/gbdt.py`` fits them; the model files
are plain JSON (no pickle).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt


def shifted(values: npt.NDArray[np.float64], offsets: Sequence[int], missing: float) -> npt.NDArray[np.float64]:
    """One column per offset: the value ``offset`` rows away (``missing`` past either end)."""
    n = len(values)
    out = np.full((n, len(offsets)), missing)
    idx = np.arange(n)
    for col, off in enumerate(offsets):
        src = idx + off
        ok = (src >= 0) & (src < n)
        out[ok, col] = values[src[ok]]
    return out


def window_mean(
    values: npt.NDArray[np.float64], weights: npt.NDArray[np.float64], window: int
) -> npt.NDArray[np.float64]:
    """The ``weights``-weighted mean of ``values`` over ``window`` rows on each side of each row
    (linear in the row count: differences of cumulative sums)."""
    n = len(values)
    idx = np.arange(n)
    cum_vw = np.concatenate(([0.0], np.cumsum(values * weights)))
    cum_w = np.concatenate(([0.0], np.cumsum(weights)))
    lo, hi = np.maximum(idx - window, 0), np.minimum(idx + window + 1, n)
    result: npt.NDArray[np.float64] = (cum_vw[hi] - cum_vw[lo]) / (cum_w[hi] - cum_w[lo])
    return result


def likely_shares(
    probs: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The share of the page's likely-content weight (probability >= 0.5) before each row, and
    after it."""
    n = len(probs)
    idx = np.arange(n)
    likely = np.concatenate(([0.0], np.cumsum((probs >= 0.5) * weights)))
    total = max(float(likely[n]), 1.0)
    return likely[idx] / total, (likely[n] - likely[idx + 1]) / total


# Rows evaluated together by TreeEnsemble.margin: large enough that numpy's per-call overhead is
# small, small enough that (trees x rows) index arrays stay a few MB.
PREDICT_CHUNK: Final = 4096


class TreeEnsemble:
    """Gradient-boosted regression trees over the features; ``predict`` gives probabilities.

    Trees are stored level by level as complete binary trees of one depth: node k has children
    2k+1 and 2k+2; ``feature``/``threshold`` hold the inner nodes, ``leaf`` the 2**depth leaves.
    A row goes left when its feature value is <= the threshold.
    """

    def __init__(
        self,
        feature: npt.NDArray[np.int64],
        threshold: npt.NDArray[np.float64],
        leaf: npt.NDArray[np.float64],
        bias: float,
        depth: int,
    ) -> None:
        self.feature = feature  # (trees, inner nodes)
        self.threshold = threshold  # (trees, inner nodes)
        self.leaf = leaf  # (trees, leaves)
        self.bias = bias
        self.depth = depth

    def margin(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The summed tree outputs (log-odds) for each row of ``x``.

        All trees walk down together, one level per step (a handful of numpy calls per page, not
        per tree); rows go in chunks so the working arrays stay small and cache-resident.
        """
        n_trees, inner = self.feature.shape
        n_leaves = self.leaf.shape[1]
        features, thresholds, leaves = self.feature.ravel(), self.threshold.ravel(), self.leaf.ravel()
        tree_inner = (np.arange(n_trees) * inner)[:, None]
        tree_leaf = (np.arange(n_trees) * n_leaves - inner)[:, None]
        out = np.empty(x.shape[0])
        for lo in range(0, x.shape[0], PREDICT_CHUNK):
            chunk = np.ascontiguousarray(x[lo : lo + PREDICT_CHUNK])
            flat, width = chunk.ravel(), chunk.shape[1]
            row_base = (np.arange(chunk.shape[0]) * width)[None, :]
            node = np.zeros((n_trees, chunk.shape[0]), dtype=np.intp)
            for _ in range(self.depth):
                at = tree_inner + node
                node = 2 * node + 1 + (flat[row_base + features[at]] > thresholds[at])
            out[lo : lo + PREDICT_CHUNK] = leaves[tree_leaf + node].sum(axis=0)
        return out + self.bias

    def predict(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The probability that each row's line is article content."""
        return 1.0 / (1.0 + np.exp(-self.margin(x)))

    def to_json(self) -> dict[str, object]:
        return {
            "kind": "gbdt",
            "depth": self.depth,
            "bias": self.bias,
            "feature": self.feature.tolist(),
            # Thresholds at full precision: a third of them equal a feature value seen in training
            # (histogram edges are quantiles of the data), and rounding them moved those values to
            # the other side: the shipped model was not the trained one. Same trees, F1
            # trafilatura-text/mozilla-readability-text, train split: rounded 0.913/0.930, exact
            # 0.914/0.934; held-out split: rounded 0.897/0.898, exact 0.896/0.899. File 74 -> 99 KiB.
            "threshold": self.threshold.tolist(),
            "leaf": [[round(v, 6) for v in row] for row in self.leaf.tolist()],
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> TreeEnsemble:
        return cls(
            feature=np.asarray(data["feature"], dtype=np.int64),
            threshold=np.asarray(data["threshold"], dtype=np.float64),
            leaf=np.asarray(data["leaf"], dtype=np.float64),
            bias=float(data["bias"]),  # type: ignore[arg-type]
            depth=int(data["depth"]),  # type: ignore[call-overload]
        )


def calibrated(probs: npt.NDArray[np.float64], shift: float) -> npt.NDArray[np.float64]:
    """``probs`` moved by ``shift`` in logit space (a fitted calibration)."""
    p = np.clip(probs, 1e-6, 1 - 1e-6)
    return 1.0 / (1.0 + np.exp(-(np.log(p / (1 - p)) + shift)))


def best_expected_f1(probs: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """The rows to keep so that the page's expected F1 is highest, each row weighing ``weights``
    (its characters) and article with its probability in ``probs``.

    With q the probabilities and w the weights, keeping the set S expects about
    F1 = 2 * sum_S(q w) / (sum_S(w) + sum_all(q w)) (the F1 of the expected counts); the best S
    is the k most probable rows for some k >= 1 (Nan Ye et al., "Optimizing F-measures: a tale of
    two approaches", ICML 2012). So a page of unsure rows keeps the surest of them where one fixed
    threshold kept all or none, and a page with a clear article keeps its less sure rows only
    while they add more than they risk.
    """
    keep = np.zeros(len(probs), dtype=bool)
    if not len(probs):
        return keep
    w = np.maximum(weights, 1.0)
    order = np.argsort(-probs, kind="stable")
    expected = 2 * np.cumsum(probs[order] * w[order]) / (np.cumsum(w[order]) + float((probs * w).sum()))
    keep[order[: int(np.argmax(expected)) + 1]] = True
    return keep
