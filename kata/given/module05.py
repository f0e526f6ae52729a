"""Input checks for module 5 (given code: torch tensors rather than numpy arrays).

The losses take every layout and argument F.cross_entropy and F.nll_loss take.
The checks refuse, with a ``ValueError`` that says what was wrong, what torch
itself refuses (a target of the wrong shape or dtype, a class index out of
range, ignore_index with probability targets, label_smoothing outside [0, 1]),
plus NaN, empty input and negative probabilities. Where torch computes silently
something that is rarely meant (nll_loss of raw logits, probability targets that
do not sum to 1, negative class weights), the loss computes the same numbers
and warns with a ``LossInputWarning``.

The generic checks (features, reductions, training settings) live in
``kata.given.checks``. Imported only by module 5, so modules without torch never
pay for it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch

from kata.given.checks import REDUCTIONS, as_features, check_reduction, check_training

__all__ = ["REDUCTIONS", "LossArguments", "LossInputWarning", "as_features", "as_training_data", "check_reduction",
           "check_rows", "check_training", "cross_entropy_arguments", "nll_loss_arguments"]

# How far a row's logsumexp (or a target row's sum) may be from 0 (or 1) before the loss warns.
ATOL = 1e-4


class LossInputWarning(UserWarning):
    """torch computes this silently, and so does the course's loss, but it is rarely what was meant."""


def as_tensor(x, name: str) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    try:
        return torch.as_tensor(x)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"{name} must be a tensor (or an array of numbers), got {type(x).__name__}") from None


def as_scores(x, name: str) -> torch.Tensor:
    """Floating scores with the classes on dim 1 (dim 0 when unbatched): (C,), (N, C) or (N, C, d1, ...)."""
    x = as_tensor(x, name)
    if not x.is_floating_point():
        x = x.double()
    if x.dim() == 0:
        raise ValueError(f"{name} must have a class axis: (C,), (N, C) or (N, C, d1, ...), got a single number")
    if x.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)}): there is no example to score")
    n_classes = x.shape[0 if x.dim() == 1 else 1]
    if n_classes < 2:
        raise ValueError(f"{name} has {n_classes} class on its class axis (dim {0 if x.dim() == 1 else 1}): "
                         f"a classifier needs at least 2 (shape {tuple(x.shape)})")
    if torch.isnan(x.detach()).any():
        raise ValueError(f"{name} contains NaN")
    return x


def class_dim(x: torch.Tensor) -> int:
    """Where the classes are: dim 1, or dim 0 for an unbatched (C,) input."""
    return 0 if x.dim() == 1 else 1


def index_target_shape(scores: torch.Tensor) -> tuple:
    """The shape class-index targets must have: the scores' shape without the class axis."""
    shape = list(scores.shape)
    del shape[class_dim(scores)]
    return tuple(shape)


def as_index_targets(targets: torch.Tensor, scores: torch.Tensor, ignore_index: int, name: str) -> torch.Tensor:
    """Class indices (long) of the scores' shape without the class axis; each in [0, C) or ignore_index."""
    wanted = index_target_shape(scores)
    if targets.is_floating_point() or targets.dtype == torch.bool or targets.is_complex():
        raise ValueError(f"{name} must hold class indices (an integer tensor, e.g. torch.long) of shape {wanted}, "
                         f"got dtype {targets.dtype} of shape {tuple(targets.shape)}; probability targets have the "
                         f"input's own shape {tuple(scores.shape)}")
    if tuple(targets.shape) != wanted:
        layout = ("(N, d1, ...) for input (N, C, d1, ...): the classes are on dim 1" if scores.dim() > 2
                  else "() for an unbatched (C,) input" if scores.dim() == 1 else "(N,), one class index per row")
        raise ValueError(f"{name} must have shape {wanted} (the input's shape without its class axis, {layout}), "
                         f"got shape {tuple(targets.shape)}")
    targets = targets.long()
    n_classes = scores.shape[class_dim(scores)]
    bad = (targets != ignore_index) & ((targets < 0) | (targets >= n_classes))
    if bad.any():
        value = int(targets[bad][0])
        raise ValueError(f"{name} holds {value}, which is not a class index in [0, {n_classes}) "
                         f"nor ignore_index = {ignore_index}")
    return targets


def as_probability_targets(targets: torch.Tensor, scores: torch.Tensor, ignore_index: int,
                           name: str) -> torch.Tensor:
    """Probability targets: the input's shape, floating, no NaN, no negative entry; warns unless rows sum to 1."""
    if not targets.is_floating_point():
        raise ValueError(f"{name} has the input's shape {tuple(scores.shape)}, so it is read as class probabilities, "
                         f"which must be floating point, got dtype {targets.dtype}; class indices have one axis "
                         f"fewer, {index_target_shape(scores)}")
    if ignore_index >= 0:
        raise ValueError(f"ignore_index = {ignore_index} cannot be used with probability targets (torch refuses it "
                         "too): a row that should not count needs class-index targets")
    values = targets.detach()
    if torch.isnan(values).any():
        raise ValueError(f"{name} contains NaN")
    if (values < 0).any():
        raise ValueError(f"{name} must hold probabilities >= 0, got {values.min().item():.4g}")
    totals = values.sum(dim=class_dim(scores))
    worst = (totals - 1).abs().max().item()
    if worst > ATOL:
        warnings.warn(f"{name}: a row of probabilities sums to {totals.flatten()[(totals - 1).abs().argmax()]:.4g}, "
                      "not 1; torch does not check this and computes -Σ p·log q as given", LossInputWarning,
                      stacklevel=4)
    return targets.to(scores.dtype)


def as_class_weight(weight, n_classes: int, dtype: torch.dtype) -> torch.Tensor:
    """``weight`` as C class weights of ``dtype`` (all 1 for None); warns about negative ones."""
    if weight is None:
        return torch.ones(n_classes, dtype=dtype)
    weight = as_tensor(weight, "weight")
    if tuple(weight.shape) != (n_classes,):
        raise ValueError(f"weight must have shape ({n_classes},), one weight per class, got shape {tuple(weight.shape)}")
    weight = weight.to(dtype)
    if torch.isnan(weight.detach()).any():
        raise ValueError("weight contains NaN")
    if (weight.detach() < 0).any():
        warnings.warn("weight holds a negative class weight: torch accepts it, but a loss that rewards a class's "
                      "errors is rarely meant", LossInputWarning, stacklevel=4)
    return weight


def check_ignore_index(ignore_index) -> int:
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
        raise ValueError(f"ignore_index must be an integer (a class index, or -100 for none), got {ignore_index!r}")
    return ignore_index


def check_label_smoothing(label_smoothing) -> float:
    try:
        value = float(label_smoothing)
    except (TypeError, ValueError):
        raise ValueError(f"label_smoothing must be a number in [0, 1], got {label_smoothing!r}") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1] (0: plain targets, 1: uniform), got {label_smoothing}")
    return value


@dataclass
class LossArguments:
    """The checked arguments of a loss, ready for the row-wise functions."""

    scores: torch.Tensor      # the input, classes on dim 1 (dim 0 when unbatched)
    targets: torch.Tensor     # class indices (long), or probabilities of the scores' shape
    weight: torch.Tensor      # (C,) class weights, all 1 when none were given
    soft: bool                # probability targets?
    out_shape: tuple          # the shape of reduction='none': the scores' shape without the class axis
    n_classes: int


def nll_loss_arguments(log_probs, targets, weight, ignore_index, reduction) -> LossArguments:
    """F.nll_loss's arguments checked; warns when a row that counts is not log-probabilities."""
    log_probs = as_scores(log_probs, "log_probs")
    ignore_index = check_ignore_index(ignore_index)
    check_reduction(reduction)
    targets = as_index_targets(as_tensor(targets, "targets"), log_probs, ignore_index, "targets")
    n_classes = log_probs.shape[class_dim(log_probs)]
    weight = as_class_weight(weight, n_classes, log_probs.dtype)
    totals = torch.logsumexp(log_probs.detach(), dim=class_dim(log_probs))
    off = ((totals.abs() > ATOL) | ~torch.isfinite(totals)) & (targets != ignore_index)
    if off.any():
        warnings.warn(f"log_probs: a row that counts has logsumexp {totals[off].flatten()[0].item():.4g}, not 0, so "
                      "it holds no log-probabilities (raw logits need log_softmax first); torch does not check this "
                      "and picks -log_probs[target] as given", LossInputWarning, stacklevel=3)
    return LossArguments(log_probs, targets, weight, False, tuple(targets.shape), n_classes)


def cross_entropy_arguments(logits, targets, weight, ignore_index, reduction, label_smoothing) -> LossArguments:
    """F.cross_entropy's arguments checked: targets of the logits' shape are probabilities, else class indices."""
    logits = as_scores(logits, "logits")
    ignore_index = check_ignore_index(ignore_index)
    check_reduction(reduction)
    check_label_smoothing(label_smoothing)
    targets = as_tensor(targets, "targets")
    soft = tuple(targets.shape) == tuple(logits.shape)
    if soft:
        targets = as_probability_targets(targets, logits, ignore_index, "targets")
    else:
        targets = as_index_targets(targets, logits, ignore_index, "targets")
    n_classes = logits.shape[class_dim(logits)]
    weight = as_class_weight(weight, n_classes, logits.dtype)
    return LossArguments(logits, targets, weight, soft, index_target_shape(logits), n_classes)


def check_rows(log_probs, targets=None, weight=None, name: str = "log_probs") -> None:
    """For the row-wise functions: log_probs (M, C); targets (M,) or (M, C); weight (C,)."""
    if not isinstance(log_probs, torch.Tensor) or log_probs.dim() != 2:
        shape = tuple(log_probs.shape) if isinstance(log_probs, torch.Tensor) else type(log_probs).__name__
        raise ValueError(f"{name} must be a tensor of rows (M, C) (class_rows makes them), got {shape}")
    m, c = log_probs.shape
    if targets is not None and (not isinstance(targets, torch.Tensor) or tuple(targets.shape) not in ((m,), (m, c))):
        raise ValueError(f"targets must be a tensor of shape ({m},) or ({m}, {c}) to match {name}")
    if weight is not None and (not isinstance(weight, torch.Tensor) or tuple(weight.shape) != (c,)):
        raise ValueError(f"weight must be a tensor of shape ({c},), one weight per class (all 1 for none)")


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
