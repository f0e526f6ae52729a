"""Input checks for module 6 (given code: the learner does not write these).

Logits that may hold -inf (a masked class), binary logits with their labels and
weights, class targets in torch's layout (classes on dim 1) and the smoothing
strength, each refused with a ``ValueError`` that says what was wrong. Logits
go through ``kata.given.checks.as_logits``, which keeps float32 in float32 (and
float16 in float16): module 6 is about what those dtypes do at large logits.
"""

from __future__ import annotations

import numpy as np

from kata.given.checks import as_distribution, as_logits, as_probabilities, check_reduction


def as_masked_logits(x, name: str = "logits", *, rows_may_be_all_masked: bool = False) -> np.ndarray:
    """``x`` as floating logits (..., C) in their own dtype; -inf is allowed (a masked class), NaN and +inf are not.

    rows_may_be_all_masked: a row of only -inf is fine too (its logsumexp is -inf);
    a log-softmax refuses it, since a row with no class left has no probabilities.
    """
    z = as_logits(x, name, finite=False)
    if np.isposinf(z).any():
        raise ValueError(f"{name} contains +inf: a logit may be -inf (a masked class, probability 0) "
                         "but +inf has no log-probability")
    if not rows_may_be_all_masked and np.isneginf(z).all(axis=-1).any():
        raise ValueError(f"{name} has a row of only -inf logits: every class is masked, so there is no "
                         "distribution to take the log of")
    return z


def _broadcasts_to(weights, shape: tuple, name: str) -> np.ndarray:
    try:
        broadcast = np.broadcast_shapes(weights.shape, shape)
    except ValueError:
        broadcast = None
    if broadcast != shape:
        raise ValueError(f"{name} of shape {weights.shape} does not broadcast against z of shape {shape} "
                         "(as in torch, the result keeps z's shape)")
    return weights


def as_binary_inputs(z, y, pos_weight=None, weight=None, reduction="mean"):
    """(z, y, pos_weight, weight, reduction) for a binary loss, all float64.

    z: finite logits (any shape, a single number too); y: labels in [0, 1] of z's shape;
    pos_weight: None or weights >= 0 of the positive term; weight: None or finite
    weights of each element (torch allows any sign); both broadcast against z.
    reduction: "mean", "sum" or "none".
    """
    z = as_logits(np.asarray(z, dtype=np.float64), "z", scalar=True)
    y = as_probabilities(y, "y")
    if y.shape != z.shape:
        raise ValueError(f"z and y must have the same shape (one label per logit), got {z.shape} and {y.shape}")
    if pos_weight is not None:
        pos_weight = np.asarray(pos_weight, dtype=np.float64)
        if not np.isfinite(pos_weight).all() or (pos_weight < 0).any():
            raise ValueError(f"pos_weight must be finite and >= 0 (it multiplies the positive term), got {pos_weight}")
        _broadcasts_to(pos_weight, z.shape, "pos_weight")
    if weight is not None:
        weight = np.asarray(weight, dtype=np.float64)
        if not np.isfinite(weight).all():
            raise ValueError(f"weight must be finite, got {weight}")
        _broadcasts_to(weight, z.shape, "weight")
    return z, y, pos_weight, weight, check_reduction(reduction)


def as_binary_pair(z, y, pos_weight=None):
    """(z, y, pos_weight): the check of module 6 before weight and reduction, kept so that a learner's older file still imports."""
    z, y, pos_weight, _, _ = as_binary_inputs(z, y, pos_weight)
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


def classes_last(logits, targets):
    """torch's layout, (C,), (N, C) or (N, C, d1, ...), with the classes moved to the last axis.

    Returns (z (..., C), targets): class indices keep their shape, () for (C,) logits and
    (N, d1, ...) otherwise; probability targets have the logits' shape and get the same move.
    """
    z = as_logits(logits)
    t = np.asarray(targets)
    if z.ndim >= 3:
        z = np.moveaxis(z, 1, -1)
        if t.dtype.kind == "f" and t.ndim >= 3:
            t = np.moveaxis(t, 1, -1)
    if t.dtype.kind in "iu":
        expected = z.shape[:-1]
        if t.shape != expected:
            layout = "one index" if not expected else f"indices of shape {expected}"
            raise ValueError(f"logits of shape {np.asarray(logits).shape} (classes on dim 1, as in torch) need "
                             f"{layout}, one per row of logits; got targets of shape {t.shape}")
    elif t.dtype.kind == "f" and t.shape != z.shape:
        raise ValueError(f"probability targets must have the logits' shape {np.asarray(logits).shape} "
                         f"(classes on dim 1, as in torch), got {np.asarray(targets).shape}")
    return z, t


__all__ = ["as_binary_inputs", "as_binary_pair", "as_logits", "as_masked_logits", "as_target_rows", "check_smoothing", "classes_last"]
