"""Input checks the exercises share (given code: the learner does not write these).

Each returns a float array and raises ``ValueError`` with a sentence that says
what was wrong, so a bad call fails at the door rather than deep in the maths.
"""

from __future__ import annotations

import numpy as np


def as_probabilities(x, name: str = "q") -> np.ndarray:
    """``x`` as a float array of values in [0, 1]; empty input is refused."""
    array = np.asarray(x, dtype=float)
    if array.size == 0:
        raise ValueError(f"{name} is empty: a distribution needs at least one class")
    if np.isnan(array).any():
        raise ValueError(f"{name} contains NaN")
    if (array < 0).any() or (array > 1).any():
        raise ValueError(f"{name} must hold probabilities in [0, 1], got min {array.min():.4g}, max {array.max():.4g}")
    return array


def as_distribution(x, name: str = "p", atol: float = 1e-6) -> np.ndarray:
    """``x`` as probabilities whose last axis sums to 1 (within ``atol``)."""
    array = as_probabilities(x, name)
    totals = array.sum(axis=-1)
    if not np.allclose(totals, 1.0, atol=atol):
        worst = np.asarray(totals).ravel()[np.argmax(np.abs(np.asarray(totals) - 1).ravel())]
        raise ValueError(f"{name} must sum to 1 over its last axis (the classes), got a sum of {worst:.6g}")
    return array


def broadcast_pair(p: np.ndarray, q: np.ndarray, names: str = "p and q") -> tuple[np.ndarray, np.ndarray]:
    """``p`` and ``q`` broadcast to one shape, with the same number of classes."""
    if p.shape[-1:] != q.shape[-1:]:
        raise ValueError(f"{names} need the same number of classes (last axis), got shapes {p.shape} and {q.shape}")
    try:
        return np.broadcast_arrays(p, q)
    except ValueError:
        raise ValueError(f"{names} have shapes {p.shape} and {q.shape}, which do not broadcast") from None


def check_base(base) -> None:
    if base is not None and (base <= 0 or base == 1):
        raise ValueError(f"base must be positive and not 1 (use None for nats, 2 for bits), got {base}")
