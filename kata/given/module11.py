"""Input checks for module 11, the final project (given code: the learner does not write these).

Each raises ``ValueError`` with a sentence that says what was wrong; the shared
parts (logits, class targets) are ``kata.given.checks``.
"""

from __future__ import annotations

import numpy as np
import torch

from kata.given.checks import as_class_targets, as_logits, check_positive, check_whole

N_CLASSES = 10


def as_tensors(X, y, n_classes: int = N_CLASSES):
    """Images (N, H, W) or (N, 1, H, W) and labels (N,) as float32 (N, 1, H, W) and int64 (N,) tensors."""
    X = torch.as_tensor(np.asarray(X) if not torch.is_tensor(X) else X, dtype=torch.float32)
    y = torch.as_tensor(np.asarray(y) if not torch.is_tensor(y) else y)
    if X.ndim == 3:
        X = X.unsqueeze(1)
    if X.ndim != 4 or X.shape[1] != 1:
        raise ValueError(f"images must have shape (N, H, W) or (N, 1, H, W), got {tuple(X.shape)}")
    if len(X) == 0:
        raise ValueError("there are no examples (empty input)")
    return X, as_class_targets(y, len(X), n_classes)


def check_logits_and_targets(logits, targets) -> None:
    """(N, C) logits and N class indices in [0, C)."""
    if not torch.is_tensor(logits) or not torch.is_tensor(targets):
        raise ValueError("logits and targets must be torch tensors")
    as_logits(logits, rows=True, finite=False)
    as_class_targets(targets, logits.shape[0], logits.shape[1])


def check_tracked(tracked, n_val: int) -> list[int]:
    """``tracked`` as a list of validation indices in 0..n_val - 1."""
    tracked = [int(i) for i in tracked]
    if not all(0 <= i < n_val for i in tracked):
        raise ValueError(f"tracked indices must lie in 0..{n_val - 1} (the validation set), got {tracked}")
    return tracked


def check_training_settings(epochs, lr, batch_size) -> None:
    """A whole number of epochs >= 1, a positive learning rate, a whole batch size >= 1."""
    check_whole(epochs, "epochs")
    check_whole(batch_size, "batch_size")
    check_positive(lr, "lr")
