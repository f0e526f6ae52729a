"""Module 5: a three-class classifier in PyTorch, and F.cross_entropy rebuilt argument by argument.

THE IDEA
--------
A classifier with C classes outputs C raw scores per example, the *logits* z.
Softmax turns them into probabilities q = softmax(z), and the loss is the
cross-entropy of module 1 between the target and q, in nats:
    a class index y:           loss = -log q[y]
    a target distribution p:   loss = -Σ_c p[c]·log q[c]
PyTorch splits the first case in two:
    log_softmax   logits -> log-probabilities (stable: no exp overflow)
    nll_loss      "negative log-likelihood": pick -log q[y] at each target, reduce
so that, for class-index targets without label smoothing (and only then),
    F.cross_entropy(z, y, weight, ignore_index, reduction)
        == F.nll_loss(F.log_softmax(z, dim=1), y, weight, ignore_index, reduction).
nll_loss takes class indices only, and checks nothing: given raw logits instead
of log-probabilities it returns a number all the same. nn.CrossEntropyLoss() is
F.cross_entropy wrapped as a module, so a model must output raw logits: a
softmax at its end would be applied twice.

THE LAYOUT: THE CLASSES ARE ON DIM 1
------------------------------------
    input (N, C)              class-index targets (N,)
    input (C,)  (unbatched)   class-index target  ()        (a 0-d tensor)
    input (N, C, d1, ..., dK) class-index targets (N, d1, ..., dK)
The last one scores a class at every position: every pixel of an image, every
time step of a sequence. A sequence model's logits usually come out as
(N, T, C), time before classes; F.cross_entropy wants (N, C, T), so they are
transposed first. reduction="none" returns one loss per position, the input's
shape without its class axis, and "mean" averages over the N·d1⋯dK positions
(weighted, below). Probability targets have the input's own shape: that is
how torch tells the two kinds apart (the same shape: probabilities; one axis
fewer: class indices).

CLASS-INDEX TARGETS: WEIGHT, IGNORE_INDEX AND THE WEIGHTED MEAN
---------------------------------------------------------------
weight (C,)      a weight per class: position i's loss is multiplied by w[y_i].
ignore_index     positions whose target equals it (default -100, e.g. padding)
                 get loss exactly 0 and do not count at all, whatever their
                 logits hold (even -inf).
reduction        "none": the per-position losses (ignored ones hold 0);
                 "sum":  their sum;
                 "mean": their sum divided by the sum of the weights of the
                         positions that count, Σ_i w[y_i]·l_i / Σ_i w[y_i].
The weighted mean is a *weighted average*, not the sum divided by N. With
logits [[2, 1, .1], [.5, 2.5, .3]], y = [0, 1] and w = [1, 3, 1]:
    l = [0.417030, 0.220050],  Σ w·l = 0.417030 + 3·0.220050 = 1.077179
    mean = 1.077179 / (1 + 3) = 0.269295      (not 1.077179 / 2 = 0.538589)
Without weights every w is 1, and the mean divides by the number of positions
that are not ignored (not by N). When every position is ignored the mean is
0/0: NaN, in torch as here (the sum is 0).

PROBABILITY TARGETS: OTHER RULES
--------------------------------
The weights and ignore_index rules above are those of class indices only.
With a target distribution p per position:
    loss = -Σ_c w[c]·p[c]·log q[c]      the weight multiplies inside the sum,
                                        class by class;
    "mean" divides by the number of positions N·d1⋯dK, whatever the weights;
    ignore_index plays no part: torch refuses one >= 0, and the default -100
    (any negative value) is simply unused; a position that should not count
    needs class-index targets.
So one-hot rows and class indices give the same "none" and "sum", but not the
same weighted "mean": F.cross_entropy(z, one_hot(y).float(), weight=w) for the
example above is 1.077179 / 2 = 0.538589, where the class indices give 0.269295.
torch does not check that the rows sum to 1; this module computes the same, and warns.

LABEL SMOOTHING
---------------
label_smoothing = ε in [0, 1] mixes the uniform distribution into the target:
the target becomes (1 - ε)·target + ε/C. With probability targets that is the
whole story: smooth them, then the rules above. With class indices torch keeps
the class-index rules: each position's loss becomes (1 - ε) times its plain
loss plus ε/C times its loss against the uniform target, in which every class
carries its own weight; ignored positions stay exactly 0, and "mean" still
divides by Σ_i w[y_i]. (With weights that is not the same number as smoothing
one-hot rows.) Check value: logits [2, 1, .1], y = 0, ε = 0.1 give 0.513697
nats (0.417030 without smoothing). torch mixes the uniform part in only when
ε > 0: with ε = 0, a logit of -inf (a masked class) leaves the plain loss
finite, while its uniform part is infinite, and 0·∞ is NaN. Module 6 shows what
smoothing does to the logits a model learns.

WHAT THE CHECKS SAY
-------------------
The given checks refuse what torch refuses (a target of the wrong shape or
dtype, a class index out of range, ignore_index with probability targets,
label_smoothing outside [0, 1]) and also NaN, empty input and negative
probabilities. Where torch computes silently something rarely meant (nll_loss
of raw logits, probability rows that do not sum to 1, negative class weights)
the functions here compute the same numbers and warn (LossInputWarning).

A SANITY CHECK: LOG 3
---------------------
A model that knows nothing gives every class the same probability 1/3, and
its loss is -log(1/3) = log 3 = 1.0986 nats. An untrained network should start
near it. Ours are close: the MLP starts at 1.25; the linear model at 2.17,
because its random weights multiply inputs as large as 6.2 and make confident
random guesses. A first loss of 10, or of 0.01, means a bug.

TRAINING, AND WHY THE GRADIENTS MUST BE ZEROED
----------------------------------------------
Calling backward() *adds* each parameter's gradient into p.grad (so gradients of
several losses can be summed). A training loop must therefore clear p.grad
before each backward pass. Otherwise the step at epoch t uses the sum of all
the gradients so far: plain gradient descent turns into momentum that never
decays (heavy-ball momentum with β = 1: torch.optim.SGD(momentum=1) gives the
same losses, within float32 rounding).
The loss does not blow up, it overshoots and swings: on the blobs the linear
model's loss falls to 0.11 by epoch 55, climbs, falls again, and ends at 0.39
after 200 epochs, where zeroed gradients reach 0.14.
torch.optim.SGD(model.parameters(), lr=lr), without momentum, makes the plain
step p <- p - lr·p.grad; writing that step yourself gives the same numbers
(within float32 rounding), and spares the few seconds (machine-dependent) of
imports that building the first torch.optim optimizer costs on every test run.
Either way passes.

THE DATA
--------
Three unit Gaussian blobs centred at (0, 0), (3, 3) and (-3, 3), 300 points
each (kata.given.data.three_blobs, seeded); the coordinates reach 6.2 in
absolute value. Full batch: every epoch is one gradient step on all 900
points, lr = 0.1, 200 epochs.

WHAT YOU WRITE
--------------
The losses work on rows: M rows of C scores, one row per position.
5.1 target_weights(targets, weight, ignore_index)     the weight each row carries in the loss
5.2 picked_losses(log_probs, targets, weight, ignore_index)
                                                      each row's loss at its target class
5.3 reduce_losses(losses, row_weights, reduction)     "none", "sum" and the weighted "mean"
5.4 class_rows(x)                                     any layout -> rows (M, C), classes last
    (given) nll_loss_manual(log_probs, targets, weight, ignore_index, reduction)
                                                      5.1-5.4 put together: equals F.nll_loss
5.5 soft_target_losses(log_probs, probs, weight)      each row's loss against a target distribution
5.6 smoothed_losses(log_probs, targets, weight, ignore_index, smoothing)
                                                      label smoothing with class-index targets
5.7 cross_entropy_manual(logits, targets, weight, ignore_index, reduction, label_smoothing)
                                                      all of it: equals F.cross_entropy
5.8 make_linear_model(seed)             nn.Linear(2, 3), seeded
5.9 make_mlp(hidden, seed)              Linear(2, hidden) -> ReLU -> Linear(hidden, 3), seeded
5.10 train(model, X, y, lr, epochs)     full-batch gradient descent, returns the losses
5.11 predict(model, X)                  the predicted class of each row
Every loss stays in torch, graph intact: its gradients must be torch's too.

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
from kata.given.cache import course_cache
from kata.given.data import three_blobs
from kata.given.module05 import (
    as_features,
    as_training_data,
    check_reduction,
    check_rows,
    check_training,
    cross_entropy_arguments,
    nll_loss_arguments,
)
from kata.given.plots import module05 as draw
from kata.given.torchtools import one_thread

N_CLASSES = 3


def target_weights(targets, weight, ignore_index=-100):
    """The weight each row carries in the loss: (M,), in weight's dtype.

    targets: (M,) long class indices, or ignore_index for rows that do not count;
    weight: (C,) class weights (all 1 when the loss was given none).
    """
    if not isinstance(targets, torch.Tensor) or targets.dim() != 1:
        raise ValueError("targets must be a 1-D tensor of class indices (M,)")
    if not isinstance(weight, torch.Tensor) or weight.dim() != 1:
        raise ValueError("weight must be a 1-D tensor of class weights (C,), all 1 for none")
    # TODO 5.1: return the weight of each row's target class, a tensor (M,) in
    #   weight's dtype, and exactly 0 for a row whose target equals ignore_index
    #   (whatever value ignore_index has). An ignored target such as -100 is no
    #   valid index, and -1 is one that means the last class: neither may reach
    #   the indexing as it is. Check value: targets [0, 1, -100, 2] with
    #   weight [1, 3, 2] give [1, 3, 0, 2].
    raise TODO("5.1")


def picked_losses(log_probs, targets, weight, ignore_index=-100):
    """Each row's loss at its target class, in nats: (M,).

    log_probs: (M, C) log-probabilities; targets: (M,) class indices or
    ignore_index; weight: (C,) class weights. Ignored rows hold exactly 0.
    """
    check_rows(log_probs, targets, weight)
    # TODO 5.2: the per-row losses, a tensor (M,): the surprisal of row i's
    #   target class, times the weight that row carries (your target_weights),
    #   and exactly 0 for an ignored row, even where its log-probabilities hold
    #   -inf (a masked row): a zero weight times -inf is NaN, not 0, so an
    #   ignored row's value must be chosen, not multiplied away. Take ONE entry
    #   per row (row i at column targets[i]), not a whole column per row. Stay
    #   in torch (gradients flow back to log_probs). Check value: log_softmax of
    #   [[2, 1, .1], [.5, 2.5, .3]], targets [0, 1], weight [1, 3, 1] give
    #   [0.417030, 0.660149].
    raise TODO("5.2")


def reduce_losses(losses, row_weights, reduction="mean"):
    """Reduce per-row losses (M,) as torch does: "none" -> (M,), "sum" and "mean" -> 0-d.

    row_weights: (M,) the weight each row carries in the mean (0 for ignored rows).
    """
    check_reduction(reduction)
    if not isinstance(losses, torch.Tensor) or not isinstance(row_weights, torch.Tensor) \
            or losses.dim() != 1 or losses.shape != row_weights.shape:
        raise ValueError("losses and row_weights must be 1-D tensors of the same shape (M,)")
    # TODO 5.3: return the losses unchanged for "none"; for "sum" their sum; for
    #   "mean" the weighted average over the rows, in which row i counts
    #   row_weights[i] times (a row of weight 0, such as an ignored one, does
    #   not count at all; with every weight 1 it is the plain mean). The losses
    #   arrive already weighted: 5.2 multiplied row i's loss by row_weights[i],
    #   so do not weight them again. When every weight is 0 the mean is 0/0 =
    #   NaN, as in torch: do not guard against it. "sum" and "mean" return 0-d
    #   tensors. Check value: losses [0.417030, 0.660149] (row weights [1, 3]
    #   already applied: the second row's own loss is 0.220050) give a mean of
    #   0.269295.
    raise TODO("5.3")


def class_rows(x):
    """``x`` with its classes on dim 1 (dim 0 when unbatched) as rows of classes: (M, C).

    (C,) -> (1, C); (N, C) -> (N, C); (N, C, d1, ..., dK) -> (N·d1⋯dK, C), row m
    holding the C scores of the m-th position in the order of
    ``targets.reshape(-1)`` for targets (N, d1, ..., dK).
    """
    if not isinstance(x, torch.Tensor) or x.dim() == 0:
        raise ValueError("x must be a tensor with a class axis: (C,), (N, C) or (N, C, d1, ...)")
    # TODO 5.4: return the rows (M, C) described in the docstring: C is x's size
    #   on dim 1 (dim 0 for an unbatched x of shape (C,), which is one row). Row
    #   m must hold the C class scores of position m, positions counted in
    #   row-major order over (N, d1, ..., dK), exactly the order in which the
    #   targets of shape (N, d1, ..., dK) flatten. Reshaping x to (-1, C) as it
    #   lies would mix scores of different positions into one row: the classes
    #   must become the last axis first. Keep the graph (no numpy, no copy out of
    #   torch). Check value: for x of shape (1, 3, 2) with x[0, c, t] = 10·c + t,
    #   the rows are [[0, 10, 20], [1, 11, 21]].
    raise TODO("5.4")


def nll_loss_manual(log_probs, targets, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of class-index targets, as F.nll_loss computes it (nats). Given code.

    log_probs: (N, C), (C,) or (N, C, d1, ...) log-probabilities, classes on dim 1;
    targets: class indices of that shape without the class axis, or ignore_index;
    weight: None or (C,) class weights. reduction "none" -> the targets' shape;
    "sum" and "mean" -> a 0-d tensor. It puts your 5.1-5.4 together.
    """
    args = nll_loss_arguments(log_probs, targets, weight, ignore_index, reduction)
    rows, flat = class_rows(args.scores), args.targets.reshape(-1)
    losses = picked_losses(rows, flat, args.weight, ignore_index)
    loss = reduce_losses(losses, target_weights(flat, args.weight, ignore_index), reduction)
    return loss.reshape(args.out_shape) if reduction == "none" else loss


def soft_target_losses(log_probs, probs, weight):
    """Each row's cross-entropy against a target distribution, in nats: (M,).

    log_probs: (M, C) log-probabilities; probs: (M, C) target probabilities;
    weight: (C,) class weights (all 1 when the loss was given none).
    """
    check_rows(log_probs, probs, weight)
    if probs.shape != log_probs.shape:
        raise ValueError(f"probs must have the shape of log_probs, {tuple(log_probs.shape)}")
    # TODO 5.5: the per-row losses (M,): row i's cross-entropy between its target
    #   distribution probs[i] and its predicted log-probabilities, with each
    #   class's term multiplied by that class's weight inside the sum over the
    #   classes (sum, not mean, over the classes). Stay in torch: gradients flow
    #   back to log_probs and to probs. Check value: log_softmax of [[4, 2, 1],
    #   [0, 5, 1]] against [[1, 0, 0], [0, .8, .2]] with weight [1, 1, 1] give
    #   [0.169846, 0.824745].
    raise TODO("5.5")


def smoothed_losses(log_probs, targets, weight, ignore_index, smoothing):
    """Label-smoothed per-row losses for class-index targets, torch's way, in nats: (M,).

    log_probs: (M, C); targets: (M,) class indices or ignore_index; weight: (C,);
    smoothing: ε in [0, 1]. Ignored rows hold exactly 0.
    """
    check_rows(log_probs, targets, weight)
    # TODO 5.6: the per-row losses (M,) with label smoothing ε = smoothing, the way
    #   torch smooths class-index targets (LABEL SMOOTHING in the lesson): the
    #   row's plain weighted loss (your picked_losses) keeps the share 1 - ε, and
    #   the share ε goes to the row's loss against the uniform target over the C
    #   classes, in which each class's term carries that class's own weight. A
    #   row whose target equals ignore_index holds exactly 0, even where its
    #   log-probabilities hold -inf (choose, do not multiply). Check value:
    #   log_softmax of [[2, 1, .1]], targets [0], weight [1, 1, 1], ε = 0.1
    #   give [0.513697].
    raise TODO("5.6")


def cross_entropy_manual(logits, targets, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Cross-entropy from raw logits, as F.cross_entropy computes it, every argument included (nats).

    logits: (N, C), (C,) or (N, C, d1, ...), classes on dim 1; targets: class
    indices of that shape without the class axis (or ignore_index), or
    probabilities of the logits' own shape; weight: None or (C,) class weights;
    label_smoothing in [0, 1]. reduction "none" -> the shape without the class
    axis; "sum" and "mean" -> a 0-d tensor.
    """
    args = cross_entropy_arguments(logits, targets, weight, ignore_index, reduction, label_smoothing)
    rows = class_rows(args.scores)                      # (M, C): the logits of each position
    row_targets = class_rows(args.targets) if args.soft else args.targets.reshape(-1)
    weight, soft, smoothing = args.weight, args.soft, float(label_smoothing)
    # TODO 5.7: F.cross_entropy from the pieces, on the rows (M, C) above. Turn the
    #   logits into log-probabilities stably (log of softmax underflows: a logit
    #   1000 below the others gives log 0 = -inf). Then, with `soft` True
    #   (row_targets are probability rows (M, C)): smooth the rows towards the
    #   uniform distribution by `smoothing` as the lesson says, take each row's
    #   loss against them, and let every row count once in the mean (the mean
    #   divides by M, whatever the weights). With class indices (M,): the plain
    #   loss when smoothing is 0 (torch mixes the uniform part in only when it
    #   is > 0), your smoothed loss otherwise, and each row counts with the
    #   weight of its target (0 if ignored). Reduce with your reduce_losses and
    #   name the result `loss` (the line below gives "none" its shape back).
    #   Check values: [[2, 1, .1], [.5, 2.5, .3]], weight [1, 3, 1], mean:
    #   targets [0, 1] give 0.269295, their one-hot rows 0.538589.
    raise TODO("5.7")
    return loss.reshape(args.out_shape) if reduction == "none" else loss


def make_linear_model(seed=0):
    """A linear classifier for 2-D points and 3 classes: logits = x W^T + b, W (3, 2)."""
    # TODO 5.8: a linear layer from 2 input features to 3 class scores, whose
    #   random initial weights are the same on every call with the same seed:
    #   seed torch's global generator with `seed` (torch.manual_seed) right
    #   before creating the layer. No softmax: the model outputs raw logits.
    raise TODO("5.8")


def make_mlp(hidden=16, seed=0):
    """A small MLP for 2-D points and 3 classes, outputting raw logits (N, 3)."""
    # TODO 5.9: an nn.Sequential of three layers, created in this order: a linear
    #   layer from 2 features to `hidden` units, a ReLU, a linear layer from
    #   `hidden` units to 3 class scores. Seed torch's global generator with
    #   `seed` right before creating them (each layer draws its random weights
    #   when it is created, so the order fixes the numbers). No softmax at the
    #   end: nn.CrossEntropyLoss applies log_softmax itself.
    raise TODO("5.9")


def train(model, X, y, lr=0.1, epochs=200):
    """Full-batch gradient descent on the mean cross-entropy; returns the losses.

    X: (N, 2) float32 features; y: (N,) long labels. Trains `model` in place.
    Returns a list of `epochs` Python floats: the loss (nats) of each epoch,
    measured before that epoch's update (so losses[0] is the untrained loss).
    """
    X, y = as_training_data(X, y)
    check_training(lr, epochs)
    loss_fn = nn.CrossEntropyLoss()
    # TODO 5.10: train `model` in place for `epochs` epochs of full-batch gradient
    #   descent: in each epoch, one gradient step of size lr (no momentum) on the
    #   mean cross-entropy of the model's logits over all N rows (loss_fn above),
    #   every parameter moved against its own gradient. backward() ADDS into p.grad: each epoch
    #   must start from cleared gradients. The update itself must not be
    #   recorded by autograd, and must change the parameters in place (not a
    #   copy). Record each epoch's loss as a Python float, the loss the step was
    #   computed from (before the update), and return the list of `epochs`
    #   floats. torch.optim.SGD is fine too (its first use costs seconds of
    #   imports). Check value: the untrained linear model (seed 0) on the blobs
    #   starts at 2.169073.
    raise TODO("5.10")


def predict(model, X):
    """The predicted class of each row of X (N, 2): a long tensor (N,) of indices in [0, 3)."""
    X = as_features(X, dtype=torch.float32)
    # TODO 5.11: the predicted class of each row: the index of its largest logit,
    #   a long tensor (N,). Compute it without building a graph (no gradient is
    #   needed to predict). Softmax first would not change the winner: it keeps
    #   the order of the logits.
    raise TODO("5.11")


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
    X, _ = blob_tensors()
    histories = {name: losses for name, (_, losses) in trained_models().items()}
    return draw.loss_curves(histories, uniform=math.log(N_CLASSES), lr=LR, largest_input=float(X.abs().max()))


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

    def text(x):
        return np.array2string(x.detach().numpy(), precision=6, floatmode="fixed")

    logits = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]], dtype=torch.float64)
    targets = torch.tensor([0, 1])
    weight = torch.tensor([1.0, 3.0, 1.0], dtype=torch.float64)
    one_hot = F.one_hot(targets, N_CLASSES).double()
    for kind, y in (("class indices", targets), ("one-hot rows ", one_hot)):
        for reduction in ("none", "sum", "mean"):
            mine = cross_entropy_manual(logits, y, weight=weight, reduction=reduction)
            torchs = F.cross_entropy(logits, y, weight=weight, reduction=reduction)
            print(f"weight [1, 3, 1], {kind}, reduction={reduction!r:<7}: cross_entropy_manual {text(mine)}   "
                  f"F.cross_entropy {text(torchs)}")
    smoothed = cross_entropy_manual(logits[:1], targets[:1], label_smoothing=0.1)
    print(f"label_smoothing 0.1, logits [2, 1, .1], y = 0: {smoothed.item():.6f} nats "
          f"(F.cross_entropy {F.cross_entropy(logits[:1], targets[:1], label_smoothing=0.1).item():.6f})")
    sequence = logits.unsqueeze(0).transpose(1, 2)          # (N=1, C=3, T=2): classes on dim 1
    per_step = cross_entropy_manual(sequence, targets.unsqueeze(0), reduction="none")
    print(f"a sequence (N, C, T) = {tuple(sequence.shape)}, targets (N, T): per-step losses {text(per_step)}")
    uniform = cross_entropy_manual(torch.zeros(4, N_CLASSES), torch.tensor([0, 1, 2, 0]))
    print(f"equal logits: loss {uniform.item():.6f} nats = log 3 = {math.log(3):.6f}")
    X, y = blob_tensors()
    for name, (model, losses) in trained_models().items():
        print(f"{name:<28} loss {losses[0]:.4f} -> {losses[-1]:.4f} nats after {len(losses)} epochs, "
              f"accuracy {accuracy(model, X, y):.1%}")
