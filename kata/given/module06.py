"""Input checks for module 6 (given code: the learner does not write these).

Binary logits with their targets, class targets as rows and the smoothing
strength, each refused with a ``ValueError`` that says what was wrong. Logits go
through ``kata.given.checks.as_logits``, which keeps float32 in float32: module 6
is about what float32 does at large logits.
"""

from __future__ import annotations

import numpy as np

from kata.given.checks import as_distribution, as_logits, as_probabilities


def as_binary_pair(z, y, pos_weight=None):
    """(z, y, pos_weight) for a binary loss: same shapes, y in [0, 1], pos_weight > 0 (or None)."""
    z = as_logits(np.asarray(z, dtype=np.float64), "z", scalar=True)
    y = as_probabilities(y, "y")
    if y.shape != z.shape:
        raise ValueError(f"z and y must have the same shape (one label per logit), got {z.shape} and {y.shape}")
    if pos_weight is not None:
        pos_weight = np.asarray(pos_weight, dtype=np.float64)
        if (pos_weight <= 0).any() or not np.isfinite(pos_weight).all():
            raise ValueError(f"pos_weight must be positive and finite, got {pos_weight}")
        try:
            shape = np.broadcast_shapes(pos_weight.shape, z.shape)
        except ValueError:
            shape = None
        if shape != z.shape:
            raise ValueError(f"pos_weight of shape {pos_weight.shape} does not broadcast against z of shape {z.shape}")
    return z, y, pos_weight


def check_smoothing(smoothing) -> float:
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"smoothing must be in [0, 1] (0 = plain one-hot targets), got {smoothing}")
    return float(smoothing)


def as_target_rows(targets, n_classes: int) -> np.ndarray:
    """Targets as probability rows (..., C): class indices become one-hot rows; probability rows stay."""
    if int(n_classes) != n_classes or n_classes < 2:
        raise ValueError(f"n_classes must be a whole number >= 2, got {n_classes}")
    n_classes = int(n_classes)
    t = np.asarray(targets)
    if t.size == 0:
        raise ValueError("targets is empty: there is nothing to smooth")
    if t.dtype.kind in "iu":
        if (t < 0).any() or (t >= n_classes).any():
            raise ValueError(f"class indices must be in [0, {n_classes - 1}], got min {t.min()}, max {t.max()}")
        return (t[..., None] == np.arange(n_classes)).astype(np.float64)  # one-hot rows
    if t.dtype.kind == "f":
        if t.ndim == 0 or t.shape[-1] != n_classes:
            raise ValueError(f"targets must be integer class indices or probability rows of {n_classes} "
                             f"columns, got floats of shape {t.shape}")
        return as_distribution(t, "targets")
    raise ValueError(f"targets must be integer class indices or probability rows, got {t.dtype}")


__all__ = ["as_binary_pair", "as_logits", "as_target_rows", "check_smoothing"]
