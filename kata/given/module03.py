"""Input checks for module 3 (given code: the learner does not write these).

Logits for softmax along any axis, and logits with their targets for the
cross-entropy, each refused with a ``ValueError`` that says what was wrong.
Everything comes back as float64 (integers and float32 alike): the gradient
check of tasks 3.5 and 3.6 needs float64's 16 digits.
"""

from __future__ import annotations

import numpy as np

from kata.given.checks import as_class_targets, as_distribution, as_logits, check_positive


def as_logits_along(logits, axis: int) -> np.ndarray:
    """``logits`` as a float64 array with classes along ``axis``.

    -inf is allowed (a class that cannot happen: probability 0); +inf and a
    slice along ``axis`` that is all -inf are refused, since their softmax is
    undefined (inf - inf).
    """
    array = as_logits(np.asarray(logits, dtype=np.float64), finite=False)
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool) or not -array.ndim <= axis < array.ndim:
        raise ValueError(f"axis {axis!r} does not exist for logits of shape {array.shape}")
    if np.isposinf(array).any():
        raise ValueError("logits contain +inf, whose softmax is undefined (inf - inf): use a large finite logit")
    if np.isneginf(array).all(axis=axis).any():
        raise ValueError(f"a slice along axis {axis} has every logit at -inf: at least one class must be possible")
    return array


def check_temperature(temperature) -> float:
    return check_positive(temperature, "temperature")


def logits_and_targets(logits, targets):
    """(logits (N, C) float64 and finite, targets, True if targets are class indices (N,), False for rows (N, C))."""
    logits = as_logits(np.asarray(logits, dtype=np.float64), rows=True)
    n, c = logits.shape
    targets = np.asarray(targets)
    if targets.ndim == 1:
        return logits, as_class_targets(targets, n, c), True
    if targets.shape != (n, c):
        raise ValueError(f"targets must be class indices of shape ({n},) or probability rows of shape ({n}, {c}), "
                         f"got shape {targets.shape}")
    return logits, np.asarray(as_distribution(targets, "targets"), dtype=np.float64), False


def check_gradient_inputs(f, h) -> None:
    if not callable(f):
        raise ValueError("f must be a function of x that returns a number")
    if isinstance(h, bool) or not np.isscalar(h) or not np.isfinite(h) or not h > 0:
        raise ValueError(f"h must be a small positive step, got {h!r}")


def same_shape_pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error compares arrays of the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        raise ValueError("relative_error needs at least one number to compare, got empty arrays")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("relative_error compares finite numbers: a gradient with NaN or inf is already wrong")
    return a, b
