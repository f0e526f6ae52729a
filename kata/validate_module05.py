"""Input checks for module 5 (given code: torch tensors rather than numpy arrays).

Each returns a tensor and raises ``ValueError`` with a sentence that says what
was wrong, so a bad call fails at the door rather than deep in the maths.
Imported only by module 5, so modules without torch never pay for it.
"""

from __future__ import annotations

import torch

REDUCTIONS = ("mean", "sum", "none")


def _tensor(x, name: str) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    try:
        return torch.as_tensor(x)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"{name} must be a tensor (or an array of numbers), got {type(x).__name__}") from None


def as_scores(x, name: str = "logits") -> torch.Tensor:
    """``x`` as a floating tensor of shape (N, C): N >= 1 examples, C >= 2 classes, no NaN."""
    x = _tensor(x, name)
    if not x.is_floating_point():
        x = x.to(torch.get_default_dtype())
    if x.ndim != 2:
        raise ValueError(f"{name} must have shape (N, C), one row of class scores per example, got shape {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty: there is no example to score")
    if x.shape[1] < 2:
        raise ValueError(f"{name} has {x.shape[1]} class: a classifier needs at least 2 classes (shape (N, C))")
    if torch.isnan(x).any():
        raise ValueError(f"{name} contains NaN")
    return x


def as_log_probs(x, name: str = "log_probs", atol: float = 1e-4) -> torch.Tensor:
    """``x`` as (N, C) log-probabilities: each row's logsumexp must be 0 (its probabilities sum to 1)."""
    x = as_scores(x, name)
    totals = torch.logsumexp(x.detach(), dim=1)
    worst = totals[torch.argmax(totals.abs())].item()
    if abs(worst) > atol:
        raise ValueError(
            f"{name} must hold log-probabilities (every row's exp sums to 1, i.e. logsumexp = 0), "
            f"got a row with logsumexp {worst:.4g}: raw logits need log_softmax first"
        )
    return x


def as_targets(targets, n: int, n_classes: int, ignore_index: int = -100, name: str = "targets") -> torch.Tensor:
    """``targets`` as a long tensor of N class indices in [0, C), or ``ignore_index``."""
    targets = _tensor(targets, name)
    if targets.is_floating_point() or targets.dtype == torch.bool:
        raise ValueError(f"{name} must hold class indices (an integer tensor, e.g. torch.long), got dtype {targets.dtype}")
    if targets.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one class index per row, got shape {tuple(targets.shape)}")
    targets = targets.long()
    bad = (targets != ignore_index) & ((targets < 0) | (targets >= n_classes))
    if bad.any():
        raise ValueError(
            f"{name} holds {targets[bad][0].item()}, which is not a class index in [0, {n_classes}) "
            f"nor ignore_index = {ignore_index}"
        )
    return targets


def as_class_weight(weight, n_classes: int, dtype: torch.dtype) -> torch.Tensor | None:
    """``weight``: None, or a tensor of C non-negative class weights (cast to ``dtype``)."""
    if weight is None:
        return None
    weight = _tensor(weight, "weight")
    if weight.shape != (n_classes,):
        raise ValueError(f"weight must have shape ({n_classes},), one weight per class, got shape {tuple(weight.shape)}")
    weight = weight.to(dtype)
    if torch.isnan(weight).any() or (weight < 0).any():
        raise ValueError("weight must hold non-negative class weights")
    return weight


def check_reduction(reduction) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(map(repr, REDUCTIONS))}, got {reduction!r}")


def as_training_data(X, y) -> tuple[torch.Tensor, torch.Tensor]:
    """Features X (N, D) as float32 and labels y (N,) as long class indices >= 0."""
    X = as_features(X)
    y = _tensor(y, "y")
    if y.is_floating_point() or y.dtype == torch.bool:
        raise ValueError(f"y must hold class indices (an integer tensor, e.g. torch.long), got dtype {y.dtype}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), one label per row of X, got shape {tuple(y.shape)}")
    if (y < 0).any():
        raise ValueError(f"y holds {y.min().item()}: class indices start at 0")
    return X, y.long()


def as_features(X) -> torch.Tensor:
    X = _tensor(X, "X")
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X must have shape (N, D) with N >= 1 examples, got shape {tuple(X.shape)}")
    return X.to(torch.float32)


def check_training(lr, epochs) -> None:
    if not lr >= 0:
        raise ValueError(f"the learning rate must be >= 0, got {lr}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a whole number >= 1, got {epochs!r}")
