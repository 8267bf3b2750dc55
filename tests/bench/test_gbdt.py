"""The trees both models are fitted with (bench/gbdt.py) learn what the data says."""

from __future__ import annotations

import numpy as np

from bench.gbdt import fit_gbdt


def test_trees_separate_classes_a_feature_tells_apart() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x[:, 1] > 0.3).astype(np.float64)
    trees = fit_gbdt(x, y, np.ones(len(y)))
    p = trees.predict(x)
    assert ((p > 0.5) == (y > 0.5)).mean() > 0.97
    assert trees.feature[0, 0] == 1  # the first split is on the feature that decides


def test_a_zero_weight_row_does_not_move_the_fit() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 2))
    y = (x[:, 0] > 0).astype(np.float64)
    w = np.ones(len(y))
    base = fit_gbdt(x, y, w).predict(x[:5])
    x2, y2 = np.vstack([x, [[5.0, 5.0]]]), np.append(y, 0.0)
    moved = fit_gbdt(x2, y2, np.append(w, 0.0)).predict(x[:5])
    np.testing.assert_allclose(base, moved, atol=0.05)
