"""Fitting the small gradient-boosted tree ensembles both models ship (numpy only).

``scripts/train_text_model.py`` (the text mode's line classifier) and ``bench/block_data.py`` (the
HTML block model) fit with this; the service evaluates the result with
``service.pipeline.trees.TreeEnsemble``. Logistic loss, histogram splits on quantile bins,
complete trees of a fixed depth: small, deterministic and fast enough to refit in every fold.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from service.pipeline.trees import TreeEnsemble

# Defaults for both models (chosen by their cross-validation, see bench/README.md).
N_TREES = 120
DEPTH = 4
LEARNING_RATE = 0.1
L2 = 5.0  # leaf weight regularisation (lambda)
MIN_CHILD_HESSIAN = 2.0  # a split needs at least this much hessian on each side
N_BINS = 32


def fit_gbdt(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    w: npt.NDArray[np.float64],
    n_trees: int = N_TREES,
    depth: int = DEPTH,
) -> TreeEnsemble:
    """Boosted trees for weighted logistic loss; every feature's histogram in one bincount per level."""
    n, n_feat = x.shape
    # Quantile edges per feature: at most N_BINS - 1 of them, so a value's bin is in [0, N_BINS).
    edges = []
    binned = np.zeros((n, n_feat), dtype=np.int64)
    for f in range(n_feat):
        e = np.unique(np.quantile(x[:, f], np.linspace(0, 1, N_BINS + 1)[1:-1]))
        edges.append(e)
        binned[:, f] = np.searchsorted(e, x[:, f], side="left")
    # Splitting after bin j (left: bins <= j) exists only for j below the feature's edge count.
    n_edges = np.array([len(e) for e in edges])
    valid = np.arange(N_BINS - 1)[None, :] < n_edges[:, None]
    padded = np.full((n_feat, N_BINS - 1), np.inf)
    for f, e in enumerate(edges):
        padded[f, : len(e)] = e
    slot = binned + (np.arange(n_feat) * N_BINS)[None, :]  # (row, feature) -> histogram slot
    p0 = float(np.clip(np.average(y, weights=w), 1e-3, 1 - 1e-3))
    bias = float(np.log(p0 / (1 - p0)))
    margin = np.full(n, bias)
    inner = 2**depth - 1
    features = np.zeros((n_trees, inner), dtype=np.int64)
    thresholds = np.full((n_trees, inner), np.inf)
    leaves = np.zeros((n_trees, 2**depth))
    for t in range(n_trees):
        p = 1 / (1 + np.exp(-margin))
        g, h = w * (p - y), w * p * (1 - p)
        node = np.zeros(n, dtype=np.int64)
        for level in range(depth):
            first, count = 2**level - 1, 2**level
            local = node - first
            gsum = np.bincount(local, weights=g, minlength=count)
            hsum = np.bincount(local, weights=h, minlength=count)
            parent = gsum**2 / (hsum + L2)
            idx = (slot + (local * n_feat * N_BINS)[:, None]).ravel()
            size = count * n_feat * N_BINS
            gh = np.bincount(idx, weights=np.repeat(g, n_feat), minlength=size).reshape(count, n_feat, N_BINS)
            hh = np.bincount(idx, weights=np.repeat(h, n_feat), minlength=size).reshape(count, n_feat, N_BINS)
            gl, hl = np.cumsum(gh, axis=2)[:, :, :-1], np.cumsum(hh, axis=2)[:, :, :-1]
            gr, hr = gsum[:, None, None] - gl, hsum[:, None, None] - hl
            gain = gl**2 / (hl + L2) + gr**2 / (hr + L2) - parent[:, None, None]
            gain[(hl < MIN_CHILD_HESSIAN) | (hr < MIN_CHILD_HESSIAN) | ~valid[None]] = 0.0
            flat = gain.reshape(count, -1)
            best = np.argmax(flat, axis=1)  # the first maximum: lowest feature, then lowest bin
            split = flat[np.arange(count), best] > 0.0
            best_feat, best_bin = np.divmod(best, N_BINS - 1)
            features[t, first : first + count] = np.where(split, best_feat, 0)
            thresholds[t, first : first + count] = np.where(split, padded[best_feat, best_bin], np.inf)
            go_right = x[np.arange(n), features[t, node]] > thresholds[t, node]
            node = 2 * node + 1 + go_right
        leaf_idx = node - inner
        gl = np.bincount(leaf_idx, weights=g, minlength=2**depth)
        hl = np.bincount(leaf_idx, weights=h, minlength=2**depth)
        leaves[t] = -LEARNING_RATE * gl / (hl + L2)
        margin += leaves[t][leaf_idx]
    return TreeEnsemble(features, thresholds, leaves, bias, depth)
