"""Module 2's own input check (given code): observed counts for a maximum-likelihood fit."""

from __future__ import annotations

import numpy as np


def as_counts(counts, name: str = "counts") -> np.ndarray:
    """``counts`` as float64 of shape (C,) or (K, C): finite, >= 0, each row with at least one observation."""
    try:
        array = np.asarray(counts, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers (how often each class was observed)") from None
    if array.ndim not in (1, 2) or array.size == 0:
        raise ValueError(f"{name} must have shape (C,) or (K, C), one count per class (and per row), "
                         f"got shape {array.shape}")
    if not np.isfinite(array).all() or (array < 0).any():
        raise ValueError(f"{name} must be finite and >= 0, got min {np.nanmin(array):.4g}")
    empty = np.flatnonzero(np.atleast_2d(array).sum(axis=-1) == 0)
    if empty.size:
        raise ValueError(f"row {int(empty[0])} of {name} holds no observation: there is nothing to fit")
    return array
