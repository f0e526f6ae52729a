"""Module 5: a three-class classifier in PyTorch, and cross-entropy exactly as torch computes it.

THE IDEA
--------
A classifier with C classes outputs C raw scores per example, the *logits* z.
Softmax turns them into probabilities, and the loss of an example whose true
class is y is the surprisal of that class:
    loss = -log softmax(z)[y] = -log_softmax(z)[y]           (nats)
PyTorch splits this in two, and so will you:
    log_softmax   logits -> log-probabilities (stable: no exp overflow)
    nll_loss      "negative log-likelihood": pick -log p[y] in each row, reduce
so that
    F.cross_entropy(z, y) == F.nll_loss(F.log_softmax(z, dim=1), y)
and nn.CrossEntropyLoss() is the same function wrapped as a module. The model
must therefore output raw logits: a softmax at its end would be applied twice.

THE OPTIONS, AND WHERE THE BUGS HIDE
------------------------------------
weight (C,)      a weight per class: row i's loss is multiplied by w[y_i].
ignore_index     rows whose target equals it (default -100, e.g. padding) get
                 loss 0 and do not count at all.
reduction        "none": the N per-row losses (ignored rows hold 0);
                 "sum":  their sum;
                 "mean": their sum divided by the sum of the weights of the
                         rows that count,   Σ_i w[y_i]·l_i / Σ_i w[y_i].
The weighted mean is a *weighted average*, not the sum divided by N. With
logits [[2, 1, .1], [.5, 2.5, .3]], y = [0, 1] and w = [1, 3, 1]:
    l = [0.417030, 0.220050],  Σ w·l = 0.417030 + 3·0.220050 = 1.077179
    mean = 1.077179 / (1 + 3) = 0.269295      (not 1.077179 / 2 = 0.538590)
Without weights every w is 1, and the mean divides by the number of rows that
are not ignored (not by N).

A SANITY CHECK: LOG 3
---------------------
A model that knows nothing gives every class the same probability 1/3, and
its loss is -log(1/3) = log 3 = 1.0986 nats. An untrained network should start
near it. Ours are close: the MLP starts at 1.25; the linear model at 2.17,
because its random weights multiply inputs as large as 4 and make confident
random guesses. A first loss of 10, or of 0.01, means a bug.

TRAINING, AND WHY THE GRADIENTS MUST BE ZEROED
----------------------------------------------
loss.backward() *adds* each parameter's gradient into p.grad (so gradients of
several losses can be summed). A training loop must therefore clear p.grad
(model.zero_grad()) before each backward pass; otherwise step t uses the sum
of all the gradients so far and the steps grow out of control.
You write the plain gradient step p <- p - lr·p.grad yourself: it is exactly
what torch.optim.SGD(model.parameters(), lr=lr) does (no momentum), and the
first use of torch.optim costs about 2 s of imports, on every test run.

THE DATA
--------
Three unit Gaussian blobs centred at (0, 0), (3, 3) and (-3, 3), 300 points
each (kata.given.data.three_blobs, seeded). Full batch: every epoch is one
gradient step on all 900 points, lr = 0.1, 200 epochs.

WHAT YOU WRITE
--------------
5.1 nll_loss_manual(log_probs, targets, weight, ignore_index, reduction="none")
                           the per-row losses -w[y_i]·log_probs[i, y_i], 0 where ignored
5.2 nll_loss_manual(...)   the "sum" and the weighted "mean"; now it equals F.nll_loss
5.3 cross_entropy_manual(logits, targets, weight, ignore_index, reduction)
                           log_softmax, then your nll_loss_manual: equals F.cross_entropy
5.4 make_linear_model(seed)             nn.Linear(2, 3), seeded
5.5 make_mlp(hidden, seed)              Linear(2, hidden) -> ReLU -> Linear(hidden, 3), seeded
5.6 train(model, X, y, lr, epochs)      full-batch gradient descent, returns the losses
5.7 predict(model, X)                   the predicted class of each row

THE FIGURES (make run-module-5, and the tests compare them with plots_baseline/)
-----------
1. The training loss of both models over 200 epochs, with log 3 (the loss of
   a uniform guess) for reference: both fall fast, the MLP ends lower.
2. The decision regions of both models over the data: the linear model splits
   the plane with straight lines; the MLP's boundaries can bend.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from kata import TODO  # noqa: F401  (the stubs raise it)
from kata.given.data import three_blobs
from kata.given.module05 import (
    as_class_weight,
    as_features,
    as_log_probs,
    as_scores,
    as_targets,
    as_training_data,
    check_reduction,
    check_training,
)
from kata.given.plots import module05 as draw
from kata.given.cache import course_cache
from kata.given.torchtools import one_thread

N_CLASSES = 3


def nll_loss_manual(log_probs, targets, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of the targets, as F.nll_loss computes it.

    log_probs: (N, C) log-probabilities; targets: (N,) class indices (long), or
    ignore_index for rows that do not count; weight: None or (C,) class weights.
    reduction "none" -> (N,) per-row losses; "sum" and "mean" -> a 0-d tensor (nats).
    """
    log_probs = as_log_probs(log_probs, "log_probs")
    n, n_classes = log_probs.shape
    targets = as_targets(targets, n, n_classes, ignore_index)
    weight = as_class_weight(weight, n_classes, log_probs.dtype)
    check_reduction(reduction)
    # TODO 5.1: the per-row losses, a tensor of shape (N,):
    #   loss_i = -weight[targets[i]] * log_probs[i, targets[i]], and exactly 0 for a
    #   row whose target == ignore_index. weight=None means every class weighs 1.
    #   Ignored targets (e.g. -100) are not valid indices: replace them by 0 before
    #   indexing (torch.where), then zero those rows' weights with a mask.
    #   Pick one entry per row with log_probs[torch.arange(N), t] (or gather), not
    #   log_probs[:, t]. Name the result `losses` (the line below returns it) and keep
    #   the per-row weights in a tensor `w` (0 where ignored): 5.2 needs them.
    # BEGIN SOLUTION
    keep = targets != ignore_index
    safe = torch.where(keep, targets, torch.zeros_like(targets))
    class_weight = weight if weight is not None else torch.ones(n_classes, dtype=log_probs.dtype)
    w = class_weight[safe] * keep
    losses = -w * log_probs[torch.arange(n), safe]
    # END SOLUTION
    if reduction == "none":
        return losses
    # TODO 5.2: reduce the per-row losses. "sum": their sum. "mean": their sum
    #   divided by the sum of the per-row weights w (ignored rows have w = 0, so
    #   they leave the denominator too); without weights that is the number of
    #   rows that are not ignored, NOT N. Return a 0-d tensor.
    # BEGIN SOLUTION
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / w.sum()
    # END SOLUTION


def cross_entropy_manual(logits, targets, weight=None, ignore_index=-100, reduction="mean"):
    """Cross-entropy from raw logits, as F.cross_entropy computes it (nats).

    logits: (N, C) raw scores; the other arguments as in nll_loss_manual.
    reduction "none" -> (N,); "sum" and "mean" -> a 0-d tensor.
    """
    logits = as_scores(logits, "logits")
    # TODO 5.3: turn the logits into log-probabilities with torch.log_softmax over
    #   the classes (dim=1), then return your nll_loss_manual of them, passing
    #   targets, weight, ignore_index and reduction on. Not torch.log(torch.softmax(...)):
    #   softmax underflows to 0 for a logit 1000 below the others, and log 0 = -inf.
    # BEGIN SOLUTION
    log_probs = torch.log_softmax(logits, dim=1)
    return nll_loss_manual(log_probs, targets, weight=weight, ignore_index=ignore_index, reduction=reduction)
    # END SOLUTION


def make_linear_model(seed=0):
    """A linear classifier for 2-D points and 3 classes: logits = x W^T + b, W (3, 2)."""
    # TODO 5.4: call torch.manual_seed(seed) first (so the random initial weights
    #   are the same on every run), then return nn.Linear(2, 3): 2 input features,
    #   3 classes. No softmax: the model outputs raw logits.
    # BEGIN SOLUTION
    torch.manual_seed(seed)
    return nn.Linear(2, N_CLASSES)
    # END SOLUTION


def make_mlp(hidden=16, seed=0):
    """A small MLP for 2-D points and 3 classes, outputting raw logits (N, 3)."""
    # TODO 5.5: call torch.manual_seed(seed) first, then return
    #   nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, 3)),
    #   layers created in that order (they draw their random weights in turn).
    #   No softmax at the end: nn.CrossEntropyLoss applies log_softmax itself.
    # BEGIN SOLUTION
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, N_CLASSES))
    # END SOLUTION


def train(model, X, y, lr=0.1, epochs=200):
    """Full-batch gradient descent on the mean cross-entropy; returns the losses.

    X: (N, 2) float32 features; y: (N,) long labels. Trains `model` in place.
    Returns a list of `epochs` Python floats: the loss (nats) of each epoch,
    measured before that epoch's update (so losses[0] is the untrained loss).
    """
    X, y = as_training_data(X, y)
    check_training(lr, epochs)
    loss_fn = nn.CrossEntropyLoss()
    # TODO 5.6: for each of the `epochs` epochs, in this order:
    #   1. model.zero_grad()  (clear every p.grad: backward() ADDS into it);
    #   2. loss = loss_fn(model(X), y)  (the mean over all N rows);
    #   3. loss.backward();
    #   4. inside `with torch.no_grad():`, for p in model.parameters(): p -= lr * p.grad;
    #   5. append loss.item() (a Python float, not the tensor) to the history.
    #   Return the history (a list of `epochs` floats).
    # BEGIN SOLUTION
    history = []
    for _ in range(epochs):
        model.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        history.append(loss.item())
    return history
    # END SOLUTION


def predict(model, X):
    """The predicted class of each row of X (N, 2): a long tensor (N,) of indices in [0, 3)."""
    X = as_features(X, dtype=torch.float32)
    # TODO 5.7: inside `with torch.no_grad():` (no graph is needed to predict),
    #   return the index of the largest logit in each row: model(X).argmax(dim=1).
    #   (Softmax would not change the winner: it keeps the order of the logits.)
    # BEGIN SOLUTION
    with torch.no_grad():
        return model(X).argmax(dim=1)
    # END SOLUTION


# ---------------------------------------------------------------------------
# Given code: the data, the trained models, the figures and the printout.
# They use your functions above.

LR = 0.1
EPOCHS = 200
HIDDEN = 16


def blob_tensors(n_per_class=300, seed=0):
    """The three blobs as tensors: X (3n, 2) float32 and y (3n,) long."""
    X, y = three_blobs(n_per_class, seed)
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.long)


def accuracy(model, X, y):
    """The fraction of rows of X whose predicted class is y."""
    return float((predict(model, X) == torch.as_tensor(y)).double().mean())


@course_cache
def trained_models(lr=LR, epochs=EPOCHS):
    """Both models trained on the blobs: {name: (model, losses)}. Cached: both figures use it."""
    X, y = blob_tensors()
    fitted = {}
    with one_thread():
        for name, model in ((f"linear: nn.Linear(2, {N_CLASSES})", make_linear_model()),
                            (f"MLP: 2 -> {HIDDEN} -> ReLU -> {N_CLASSES}", make_mlp(HIDDEN))):
            fitted[name] = (model, train(model, X, y, lr=lr, epochs=epochs))
    return fitted


def decision_grid(model, limits=(-6.5, 6.5, -3.5, 7.0), n=400):
    """The predicted class on an n x n grid over limits (xmin, xmax, ymin, ymax).

    Returns (xs (n,), ys (n,), classes (n, n)) with classes[i, j] at (xs[j], ys[i]).
    """
    xs = np.linspace(limits[0], limits[1], n)
    ys = np.linspace(limits[2], limits[3], n)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    classes = predict(model, torch.tensor(grid, dtype=torch.float32)).numpy().reshape(n, n)
    return xs, ys, classes


def plot_loss_curves():
    """Figure 1: the cross-entropy of both models over the training epochs."""
    histories = {name: losses for name, (_, losses) in trained_models().items()}
    return draw.loss_curves(histories, uniform=math.log(N_CLASSES), lr=LR)


def plot_decision_regions():
    """Figure 2: the decision regions of both trained models, with the data."""
    X, y = blob_tensors()
    panels = []
    for name, (model, _) in trained_models().items():
        with one_thread():
            xs, ys, classes = decision_grid(model)
        panels.append((name, xs, ys, classes, accuracy(model, X, y)))
    return draw.decision_regions(panels, X.numpy(), y.numpy(), epochs=EPOCHS)


def report():
    """Print the module's numbers (make run-module-5)."""
    import torch.nn.functional as F

    logits = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    targets = torch.tensor([0, 1])
    weight = torch.tensor([1.0, 3.0, 1.0])
    for reduction in ("none", "sum", "mean"):
        mine = cross_entropy_manual(logits, targets, weight=weight, reduction=reduction)
        torchs = F.cross_entropy(logits, targets, weight=weight, reduction=reduction)
        mine, torchs = (np.array2string(x.numpy(), precision=6, floatmode="fixed") for x in (mine, torchs))
        print(f"weight [1, 3, 1], reduction={reduction!r}: cross_entropy_manual {mine}   F.cross_entropy {torchs}")
    uniform = cross_entropy_manual(torch.zeros(4, N_CLASSES), torch.tensor([0, 1, 2, 0]))
    print(f"equal logits: loss {uniform.item():.6f} nats = log 3 = {math.log(3):.6f}")
    X, y = blob_tensors()
    for name, (model, losses) in trained_models().items():
        print(f"{name:<28} loss {losses[0]:.4f} -> {losses[-1]:.4f} nats after {len(losses)} epochs, "
              f"accuracy {accuracy(model, X, y):.1%}")
