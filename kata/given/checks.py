"""Input checks every lesson shares (given code: the learner does not write these).

One place per check. Each takes numpy arrays (or lists) and, where a module
works in torch, torch tensors too, and gives back the same kind it was given.
Each raises ``ValueError`` with a sentence that says what was wrong, so a bad
call fails at the door rather than deep in the maths. torch is never imported
here: a tensor is recognised by its type.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

REDUCTIONS = ("mean", "sum", "none")


def is_tensor(x) -> bool:
    return type(x).__module__.split(".")[0] == "torch" and hasattr(x, "detach")


def _torch():
    import torch

    return torch


def _shape(x) -> tuple:
    return tuple(x.shape)


# --- probabilities and distributions (module 1 on) ---


def as_probabilities(x, name: str = "q"):
    """``x`` as floats in [0, 1] (a float64 array, or the tensor itself); empty input is refused."""
    array = x if is_tensor(x) else np.asarray(x, dtype=float)
    if array.numel() == 0 if is_tensor(array) else array.size == 0:
        raise ValueError(f"{name} is empty: a distribution needs at least one class")
    if is_tensor(array):
        if not array.is_floating_point():
            array = array.double()
        bad_nan, low, high = bool(array.isnan().any()), float(array.min()), float(array.max())
    else:
        bad_nan = bool(np.isnan(array).any())
        low, high = (float(np.nanmin(array)), float(np.nanmax(array))) if not bad_nan else (0.0, 1.0)
    if bad_nan:
        raise ValueError(f"{name} contains NaN")
    if low < 0 or high > 1:
        raise ValueError(f"{name} must hold probabilities in [0, 1], got min {low!r}, max {high!r}")
    return array


def as_distribution(x, name: str = "p", atol: float = 1e-6):
    """``x`` as probabilities whose last axis sums to 1 (within ``atol``)."""
    array = as_probabilities(x, name)
    totals = np.asarray(array.detach().sum(-1).cpu().numpy() if is_tensor(array) else array.sum(axis=-1))
    if not np.allclose(totals, 1.0, atol=atol):
        worst = totals.ravel()[np.argmax(np.abs(totals - 1).ravel())]
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


# --- logits and class targets (modules 3, 5, 6, 8, 9, 11) ---


def as_logits(x, name: str = "logits", *, rows: bool = False, min_classes: int = 1, finite: bool = True,
              scalar: bool = False):
    """``x`` as floating logits with the classes on the last axis (dim 1 if ``rows``).

    rows: require the batch layout (N, C), N >= 1. min_classes: the least C.
    scalar: a single number is fine too (binary logits, one per example).
    finite: refuse infinities too (NaN is always refused). Floating input keeps
    its dtype (module 6 needs float32 to stay float32); integers become float64.
    """
    if is_tensor(x):
        array = x if x.is_floating_point() else x.double()
    else:
        array = np.asarray(x)
        if array.dtype.kind != "f":
            try:
                array = array.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"{name} must be numbers, got {array.dtype}") from None
    shape = _shape(array)
    if rows and len(shape) != 2:
        raise ValueError(f"{name} must have shape (N, C), one row of C class scores per example, got shape {shape}")
    if len(shape) == 0 and not scalar:
        raise ValueError(f"{name} must have at least one axis (the classes), got the single number {float(array)}")
    if 0 in shape:
        raise ValueError(f"{name} is empty (shape {shape}): there is nothing to score")
    classes = shape[1] if rows else (shape[-1] if shape else 1)
    if classes < min_classes:
        raise ValueError(f"{name} has {classes} class(es): at least {min_classes} are needed (shape {shape})")
    values = array.detach() if is_tensor(array) else array
    if bool((values != values).any()):
        raise ValueError(f"{name} contains NaN")
    if finite and not bool(np.isfinite(values.cpu().numpy() if is_tensor(values) else values).all()):
        raise ValueError(f"{name} must be finite: it contains an infinity")
    return array


def as_class_targets(targets, n: int, n_classes: int, *, ignore_index: int | None = None, name: str = "targets"):
    """``targets`` as N integer class indices in [0, C) (or ``ignore_index``), int64, the same kind as given."""
    tensor = is_tensor(targets)
    if tensor:
        floating, dtype = targets.is_floating_point() or str(targets.dtype) == "torch.bool", targets.dtype
    else:
        targets = np.asarray(targets)
        floating, dtype = targets.dtype.kind not in "iu", targets.dtype
    if floating:
        raise ValueError(f"{name} must hold class indices (integers, e.g. torch.long or np.int64), got dtype {dtype}")
    if _shape(targets) != (n,):
        raise ValueError(f"{name} must have shape ({n},), one class index per row, got shape {_shape(targets)}")
    targets = targets.long() if tensor else targets.astype(np.int64)
    counted = targets != ignore_index if ignore_index is not None else (targets == targets)
    bad = counted & ((targets < 0) | (targets >= n_classes))
    if bool(bad.any()):
        value = int(targets[bad][0])
        also = f" nor ignore_index = {ignore_index}" if ignore_index is not None else ""
        raise ValueError(f"{name} holds {value}, which is not a class index in [0, {n_classes}){also}")
    return targets


def check_reduction(reduction, allowed: tuple[str, ...] = REDUCTIONS) -> str:
    if reduction not in allowed:
        raise ValueError(f"reduction must be one of {', '.join(map(repr, allowed))}, got {reduction!r}")
    return reduction


# --- features, labels and parameters (module 4 on) ---


def as_features(X, name: str = "X", dtype=None):
    """``X`` as (N, D) features, N >= 1, all finite: a float64 array, or a tensor (cast to ``dtype`` if given)."""
    if is_tensor(X):
        array = X.to(dtype) if dtype is not None else (X if X.is_floating_point() else X.double())
    else:
        array = np.asarray(X, dtype=float)
        if dtype is not None:
            array = _torch().as_tensor(array, dtype=dtype)
    shape = _shape(array)
    if len(shape) != 2:
        raise ValueError(f"{name} must be a 2-D array of shape (N, D), one row per sample, got shape {shape}")
    if shape[0] == 0:
        raise ValueError(f"{name} is empty: there are no samples to learn from")
    values = array.detach().cpu().numpy() if is_tensor(array) else array
    if not np.isfinite(values).all():
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


# --- numbers: counts, rates, temperatures ---


def check_whole(value, name: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum`` (a bool is not a count)."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def check_positive(value, name: str) -> float:
    """``value`` as a finite float > 0."""
    if isinstance(value, bool) or not isinstance(value, Real) and not (hasattr(value, "item") and np.ndim(value) == 0):
        raise ValueError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a positive, finite number, got {number}")
    return number


def check_training(lr, epochs) -> None:
    """A learning rate >= 0 (0 takes no step: handy to look at gradients) and a whole number of epochs >= 1."""
    if isinstance(lr, bool) or not isinstance(lr, Real) or not math.isfinite(lr) or lr < 0:
        raise ValueError(f"the learning rate must be a finite number >= 0 (a negative one climbs the loss), got {lr!r}")
    check_whole(epochs, "epochs")


def check_snapshot_epochs(snapshot_epochs) -> None:
    """Whole numbers >= 0; epochs past the end of training are simply never reached."""
    for epoch in snapshot_epochs:
        check_whole(epoch, "a snapshot epoch", minimum=0)
