"""Given code for module 9 (distillation and calibration): input checks and data.

The learner does not write these. Each check returns float64 tensors and raises
``ValueError`` with a sentence that says what was wrong.
"""

from __future__ import annotations

import numpy as np
import torch

from kata.given.checks import as_class_targets, as_logits, check_positive, check_whole
from kata.given.data import THREE_BLOB_CENTRES

SPREAD = 1.5  # standard deviation of each blob: wide enough that the classes overlap


def overlapping_blobs(n_per_class: int, seed: int, spread: float = SPREAD):
    """Module 5's three blobs at (0, 0), (3, 3), (-3, 3), but with std ``spread``, so they overlap.

    Returns X (3n, 2) float64 tensor and y (3n,) int64 tensor, ordered by class.
    """
    rng = np.random.RandomState(seed)
    X = np.vstack([rng.randn(n_per_class, 2) * spread + centre for centre in THREE_BLOB_CENTRES])
    y = np.repeat(np.arange(3), n_per_class)
    return torch.tensor(X, dtype=torch.float64), torch.tensor(y, dtype=torch.int64)


def _as_tensor(x, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        try:
            x = torch.as_tensor(np.asarray(x, dtype=float))
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be numbers (a tensor or an array), got {type(x).__name__}") from None
    if not x.is_floating_point():
        x = x.double()
    return x


def check_logits(logits, name: str = "logits") -> torch.Tensor:
    """``logits`` as a float tensor of shape (N, C) with N >= 1, C >= 2, all finite."""
    return as_logits(_as_tensor(logits, name), name, rows=True, min_classes=2)


def check_logit_pair(student_logits, teacher_logits):
    """Student and teacher logits, both (N, C) and of the same shape."""
    student = check_logits(student_logits, "student_logits")
    teacher = check_logits(teacher_logits, "teacher_logits")
    if student.shape != teacher.shape:
        raise ValueError(f"student_logits and teacher_logits must have the same shape, "
                         f"got {tuple(student.shape)} and {tuple(teacher.shape)}")
    return student, teacher


def check_temperature(T) -> float:
    """A temperature must be a finite number > 0."""
    return check_positive(T, "the temperature T")


def check_labels(labels, n_rows: int, n_classes: int) -> torch.Tensor:
    """Class indices: an integer tensor of shape (N,) with values in [0, C)."""
    if not isinstance(labels, torch.Tensor):
        labels = torch.as_tensor(np.asarray(labels))
    return as_class_targets(labels, n_rows, n_classes, name="labels")


def check_probabilities(probs, labels, n_bins: int):
    """(N, C) probability rows summing to 1, (N,) labels, and a bin count >= 1."""
    probs = _as_tensor(probs, "probs")
    if probs.dim() != 2 or probs.shape[0] == 0:
        raise ValueError(f"probs must have shape (N, C) with N >= 1, got shape {tuple(probs.shape)}")
    if torch.isnan(probs).any() or (probs < 0).any() or (probs > 1).any():
        raise ValueError("probs must hold probabilities in [0, 1]")
    totals = probs.sum(dim=-1)
    if not torch.allclose(totals, torch.ones_like(totals), atol=1e-6):
        worst = totals[(totals - 1).abs().argmax()]
        raise ValueError(f"each row of probs must sum to 1 (a distribution over the classes), got a sum of {float(worst):.6g}")
    labels = check_labels(labels, probs.shape[0], probs.shape[1])
    check_whole(n_bins, "n_bins")
    return probs, labels
