"""Datasets the exercises share (given code). Small and seeded."""

from __future__ import annotations

import numpy as np


def two_blobs(n_per_class: int = 100, seed: int = 42):
    """The seed course's binary data: two Gaussian blobs at (-2, -2) and (2, 2).

    Returns X (2n, 2) float64 and y (2n,) in {0, 1}, class 0 first, drawn
    exactly as the seed draws them (np.random.seed(42), then randn twice).
    """
    rng = np.random.RandomState(seed)
    x0 = rng.randn(n_per_class, 2) + np.array([-2.0, -2.0])
    x1 = rng.randn(n_per_class, 2) + np.array([2.0, 2.0])
    X = np.vstack([x0, x1])
    y = np.array([0] * n_per_class + [1] * n_per_class)
    return X, y


THREE_BLOB_CENTRES = np.array([[0.0, 0.0], [3.0, 3.0], [-3.0, 3.0]])


def three_blobs(n_per_class: int = 300, seed: int = 0):
    """The seed course's 3-class data: unit Gaussians at (0, 0), (3, 3), (-3, 3).

    Returns X (3n, 2) float64 and y (3n,) in {0, 1, 2}, ordered by class.
    """
    rng = np.random.RandomState(seed)
    X = np.vstack([rng.randn(n_per_class, 2) + centre for centre in THREE_BLOB_CENTRES])
    y = np.repeat(np.arange(3), n_per_class)
    return X, y
