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


# --- features, labels and parameters (module 4 on) ---


def as_features(X, name: str = "X") -> np.ndarray:
    """``X`` as a float array of shape (N, D) with N >= 1 finite rows."""
    array = np.asarray(X, dtype=float)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of shape (N, D), one row per sample, got shape {array.shape}")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty: there are no samples to learn from")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return array


def as_labels(y, n: int | None = None, name: str = "y", hard: bool = False) -> np.ndarray:
    """``y`` as a float array of shape (N,) with values in [0, 1] (exactly 0 or 1 if ``hard``)."""
    array = np.asarray(y, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of shape (N,), one label per sample, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty: there are no samples")
    if n is not None and array.shape[0] != n:
        raise ValueError(f"{name} has {array.shape[0]} labels but there are {n} samples")
    if np.isnan(array).any() or (array < 0).any() or (array > 1).any():
        raise ValueError(f"{name} must hold labels in [0, 1], got min {np.nanmin(array):.4g}, max {np.nanmax(array):.4g}")
    if hard and not np.isin(array, (0.0, 1.0)).all():
        raise ValueError(f"{name} must hold class labels 0 or 1")
    return array


def as_probability_vector(p, n: int, name: str = "y_prob") -> np.ndarray:
    """``p`` as a float array of shape (n,) of probabilities in [0, 1]."""
    array = np.asarray(p, dtype=float)
    if array.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one probability per label, got shape {array.shape}")
    if np.isnan(array).any() or (array < 0).any() or (array > 1).any():
        raise ValueError(f"{name} must hold probabilities in [0, 1] (logits go through sigmoid first), "
                         f"got min {np.nanmin(array):.4g}, max {np.nanmax(array):.4g}")
    return array


def as_parameters(w, b, n_features: int) -> tuple[np.ndarray, float]:
    """The weights ``w`` as shape (D,) and the bias ``b`` as a float."""
    weights = np.asarray(w, dtype=float)
    if weights.shape != (n_features,):
        raise ValueError(f"w must have shape ({n_features},), one weight per feature of X, got shape {weights.shape}")
    if np.ndim(b) != 0:
        raise ValueError(f"b must be a single number, got shape {np.shape(b)}")
    return weights, float(b)


def check_training(lr, epochs, snapshot_epochs) -> None:
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    if int(epochs) != epochs or epochs < 1:
        raise ValueError(f"epochs must be a whole number >= 1, got {epochs}")
    for epoch in snapshot_epochs:  # epochs past the end are simply never reached
        if int(epoch) != epoch or epoch < 0:
            raise ValueError(f"snapshot epoch {epoch} is not a whole number >= 0")
