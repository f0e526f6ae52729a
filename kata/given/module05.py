"""Input checks for module 5 (given code: torch tensors rather than numpy arrays).

Each returns a tensor and raises ``ValueError`` with a sentence that says what
was wrong. The generic checks (logits, class targets, features, reductions,
training settings) live in ``kata.given.checks``; these add what is torch-only.
Imported only by module 5, so modules without torch never pay for it.
"""

from __future__ import annotations

import torch

from kata.given.checks import (
    REDUCTIONS,
    as_class_targets,
    as_features,
    as_logits,
    check_reduction,
    check_training,
)

__all__ = ["REDUCTIONS", "as_class_weight", "as_features", "as_log_probs", "as_scores", "as_targets",
           "as_training_data", "check_reduction", "check_training"]


def as_tensor(x, name: str) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    try:
        return torch.as_tensor(x)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"{name} must be a tensor (or an array of numbers), got {type(x).__name__}") from None


def as_scores(x, name: str = "logits") -> torch.Tensor:
    """``x`` as a floating tensor of shape (N, C): N >= 1 examples, C >= 2 classes, no NaN."""
    return as_logits(as_tensor(x, name), name, rows=True, min_classes=2, finite=False)


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
    return as_class_targets(as_tensor(targets, name), n, n_classes, ignore_index=ignore_index, name=name)


def as_class_weight(weight, n_classes: int, dtype: torch.dtype) -> torch.Tensor | None:
    """``weight``: None, or a tensor of C non-negative class weights (cast to ``dtype``)."""
    if weight is None:
        return None
    weight = as_tensor(weight, "weight")
    if weight.shape != (n_classes,):
        raise ValueError(f"weight must have shape ({n_classes},), one weight per class, got shape {tuple(weight.shape)}")
    weight = weight.to(dtype)
    if torch.isnan(weight).any() or (weight < 0).any():
        raise ValueError("weight must hold non-negative class weights")
    return weight


def as_training_data(X, y) -> tuple[torch.Tensor, torch.Tensor]:
    """Features X (N, D) as float32 and labels y (N,) as long class indices >= 0."""
    X = as_features(as_tensor(X, "X"), dtype=torch.float32)
    y = as_tensor(y, "y")
    if y.is_floating_point() or y.dtype == torch.bool:
        raise ValueError(f"y must hold class indices (an integer tensor, e.g. torch.long), got dtype {y.dtype}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), one label per row of X, got shape {tuple(y.shape)}")
    if (y < 0).any():
        raise ValueError(f"y holds {y.min().item()}: class indices start at 0")
    return X, y.long()
