"""Module 11: the final project, handwritten digits with cross-entropy.

THE IDEA
--------
Everything so far, on real data: a network reads an image of a handwritten
digit and outputs 10 logits z; softmax turns them into probabilities q; the loss
of one example with true digit y is its cross-entropy with the one-hot truth,
    CE = -log q_y = -z_y + log Σ_k exp(z_k)        (nats)
and the training loss is the mean of that over a batch. Accuracy only asks
whether argmax z = y. The two tell different stories, and reading them side by
side is the skill this project teaches:
- an untrained network guesses uniformly: CE ≈ log 10 = 2.303 nats, accuracy ≈ 0.1;
- CE keeps falling after accuracy has stopped moving (the network grows surer
  of answers it already gets right);
- validation CE can *rise* while validation accuracy stays put: the network is
  overconfident on the few it gets wrong, and one confident mistake costs a lot
  (q_y = 0.001 costs 6.9 nats, a right answer at q_y = 0.9 only 0.105);
- the misclassified examples, ranked by their CE, show which mistakes the loss
  punishes most: often odd-looking digits, sometimes a label you would dispute.

THE DATA (kata/mnist.py, given)
--------
By default scikit-learn's bundled 8x8 digits: 1,797 real handwritten digits,
pixels 0..16 scaled to [0, 1], split with a seed into 1079 train, 359
validation and 359 test images. No network needed. With MNIST in data/mnist/
(`make download-mnist`: checked with SHA-256, written atomically) `make
run-module-11` trains on its 70,000 28x28 digits instead.
Images reach the models as float32 tensors (N, 1, H, W); labels as int64 (N,).

WHAT YOU WRITE
--------------
10.1 make_mlp       Flatten -> Linear(H·W, 128) -> ReLU -> Dropout(0.2) -> Linear(128, 10).
                    It outputs LOGITS: no softmax at the end (nn.CrossEntropyLoss
                    and F.cross_entropy apply log_softmax themselves).
10.2 make_cnn       two conv blocks (3x3 conv, ReLU, 2x2 max-pool), then a linear layer.
10.3 per_example_cross_entropy(logits, targets)   one CE per example, shape (N,)
10.4 accuracy(logits, targets)                     argmax over the CLASSES (dim=1)
10.5 evaluate(model, X, y)   in eval mode and without gradients: mean CE, accuracy,
                             per-example CE
10.6 train_epoch(...)        one pass over the shuffled training set with Adam
10.7 fit(...)                epochs of train_epoch + evaluate, recorded per epoch
10.8 misclassified(model, X, y)   the wrong answers, highest CE first

THE FIGURES (make run-module-11; the tests compare them with plots_baseline/)
-----------
1. training_curves: train and validation CE (nats) and accuracy per epoch of the
   MLP. CE keeps falling on the training set; validation CE bottoms out and
   creeps up while validation accuracy stays flat.
2. misclassified: the test digits the MLP gets wrong, each titled with its true
   and predicted label and its CE, highest CE first.
3. tracked_examples: the CE of a few fixed validation digits across the epochs
   (log scale): an easy one falls below 0.001 nats within a few epochs, a hard
   one takes 25 epochs, an ambiguous one hovers around log 10, and the ones the
   network gets wrong climb to 6-10 nats.

MAKE RUN-MODULE-10
------------------
Trains the MLP and the CNN (30 epochs on the 8x8 digits, 5 on MNIST), prints
one line per epoch, the test CE and accuracy of each, picks the model with the
lower validation CE and ends with `test accuracy: 0.xxxx`. Optional TensorBoard:
install the extra (.venv/bin/pip install -e '.[tensorboard]') and run
`KATA_TENSORBOARD=runs make run-module-11`, then `tensorboard --logdir runs`.
"""

from __future__ import annotations

import functools
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
from kata.given.mnist import DigitSplits, default_splits, digits_splits, tensorboard_writer
from kata.given.module11 import as_tensors, check_logits_and_targets
from kata.given.plots import module11 as draw
from kata.given.torchtools import one_thread

SEED = 0
HIDDEN = 128
DROPOUT = 0.2
EPOCHS = 30  # on the embedded 8x8 digits
LR = 0.01  # Adam's learning rate
BATCH_SIZE = 64
MNIST_EPOCHS = 5  # MNIST is 50 times bigger: fewer passes suffice
MNIST_BATCH_SIZE = 128
TRACKED = (3, 21, 178, 90, 119)  # validation digits the third figure follows: easy, slow, ambiguous, wrong, wrong
HISTORY_KEYS = ("train_ce", "train_acc", "val_ce", "val_acc", "tracked_ce")


# ---------------------------------------------------------------------------
# 11.1, 11.2 the models


def make_mlp(n_pixels=64, hidden=HIDDEN, n_classes=10, dropout=DROPOUT, seed=SEED):
    """A one-hidden-layer MLP: images (N, 1, H, W) with H·W = n_pixels -> logits (N, n_classes)."""
    torch.manual_seed(seed)  # the same initial weights every time
    # TODO 11.1: return nn.Sequential(nn.Flatten(), nn.Linear(n_pixels, hidden), nn.ReLU(),
    #   nn.Dropout(dropout), nn.Linear(hidden, n_classes)), in exactly that order (so the
    #   seed gives everyone the same weights). Do NOT end with a softmax: the model
    #   outputs logits, and the loss applies log_softmax itself.
    raise TODO("11.1")


def make_cnn(image_size=8, n_classes=10, channels=(16, 32), dropout=DROPOUT, seed=SEED):
    """A small CNN: images (N, 1, image_size, image_size) -> logits (N, n_classes); image_size divisible by 4."""
    if image_size % 4:
        raise ValueError(f"image_size must be divisible by 4 (two 2x2 poolings), got {image_size}")
    torch.manual_seed(seed)
    c1, c2 = channels
    # TODO 11.2: return nn.Sequential of, in this order: nn.Conv2d(1, c1, 3, padding=1),
    #   nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(),
    #   nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(dropout), and
    #   nn.Linear(c2 * (image_size // 4) ** 2, n_classes). Logits out, no softmax.
    raise TODO("11.2")


# ---------------------------------------------------------------------------
# 11.3 - 11.5 measuring


def per_example_cross_entropy(logits, targets):
    """CE of each example, -log softmax(logits)[i, targets[i]], in nats: shape (N,).

    logits: (N, C) float tensor; targets: (N,) int64 class indices.
    """
    check_logits_and_targets(logits, targets)
    # TODO 11.3: one CE per example, no averaging: F.cross_entropy(logits, targets,
    #   reduction="none"), or -F.log_softmax(logits, dim=1) picked at each row's target
    #   (gather along dim=1). Never log(softmax(...)): it underflows to -inf.
    raise TODO("11.3")


def accuracy(logits, targets):
    """The fraction of examples whose largest logit is the target's: a float in [0, 1]."""
    check_logits_and_targets(logits, targets)
    # TODO 11.4: the predicted class is the argmax over the CLASSES, dim=1 (dim=0 would
    #   pick an example per class). Return the mean of (predicted == targets) as a
    #   Python float (.float().mean().item()).
    raise TODO("11.4")


def evaluate(model, X, y, batch_size=1000):
    """(mean CE in nats: float, accuracy: float, per-example CE: tensor (N,)) of ``model`` on (X, y).

    X: (N, 1, H, W) float32 tensor; y: (N,) int64. Runs in eval mode (dropout off)
    and without gradients; the model is left in eval mode.
    """
    X, y = as_tensors(X, y)
    # TODO 11.5: call model.eval() (dropout off), then inside `with torch.no_grad():`
    #   compute the logits in chunks, torch.cat([model(chunk) for chunk in
    #   X.split(batch_size)]). Return (per.mean().item(), accuracy(logits, y), per) where
    #   per = per_example_cross_entropy(logits, y).
    raise TODO("11.5")


# ---------------------------------------------------------------------------
# 11.6, 11.7 training


def train_epoch(model, X, y, optimizer, batch_size=BATCH_SIZE, generator=None):
    """One pass over (X, y) in shuffled mini-batches; returns the epoch's mean training CE (nats, float).

    The order is torch.randperm(N, generator=generator); the last batch may be smaller.
    """
    X, y = as_tensors(X, y)
    # TODO 11.6: model.train() (dropout on). order = torch.randperm(len(y), generator=generator).
    #   For each start in range(0, len(y), batch_size): idx = order[start:start + batch_size];
    #   optimizer.zero_grad(); loss = F.cross_entropy(model(X[idx]), y[idx]) (the batch mean);
    #   loss.backward(); optimizer.step(). Return Σ loss.item() * len(idx) / len(y), the
    #   mean CE over the epoch's examples.
    raise TODO("11.6")


def fit(model, data: DigitSplits, epochs=EPOCHS, lr=LR, batch_size=BATCH_SIZE, seed=SEED,
        tracked=TRACKED, progress=False, log=None, log_dir=None):
    """Train ``model`` on data's training split with Adam; record CE and accuracy per epoch.

    Returns a dict of numpy arrays with epochs + 1 rows (row 0: before training):
    train_ce, train_acc, val_ce, val_acc (nats, fractions) and tracked_ce
    (epochs + 1, len(tracked)): the CE of the validation examples ``tracked``.
    progress shows a tqdm bar; log (e.g. print) gets one line per epoch;
    log_dir writes TensorBoard scalars there (needs the `tensorboard` extra).
    """
    X_train, y_train = as_tensors(data.X_train, data.y_train)
    X_val, y_val = as_tensors(data.X_val, data.y_val)
    tracked = list(tracked)
    if tracked and not all(0 <= i < len(y_val) for i in tracked):
        raise ValueError(f"tracked indices must lie in 0..{len(y_val) - 1} (the validation set), got {tracked}")
    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise ValueError(f"epochs and batch_size must be at least 1 and lr positive, got {epochs}, {batch_size}, {lr}")
    writer = tensorboard_writer(log_dir) if log_dir else None
    torch.manual_seed(seed)  # dropout's random masks
    generator = torch.Generator().manual_seed(seed)  # the shuffling
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = {key: [] for key in HISTORY_KEYS}
    bar = tqdm(range(epochs + 1), desc="epochs", unit="epoch", disable=not progress, leave=False)
    with one_thread():
        for epoch in bar:
            # TODO 11.7: row `epoch` of the history. For epoch >= 1 first train one epoch,
            #   train_epoch(model, X_train, y_train, optimizer, batch_size, generator); epoch 0
            #   records the untrained network. Then evaluate() on (X_train, y_train) and on
            #   (X_val, y_val) and append the four numbers to history["train_ce"],
            #   history["train_acc"], history["val_ce"], history["val_acc"], and the validation
            #   per-example CE at `tracked` (per[tracked].tolist()) to history["tracked_ce"].
            raise TODO("11.7")
            _show_epoch(epoch, epochs, history, bar, log, writer)
    if writer is not None:
        writer.close()
    return {key: np.asarray(values, dtype=float) for key, values in history.items()}


def _show_epoch(epoch, epochs, history, bar, log, writer) -> None:
    """Given: the progress bar's numbers, the epoch's line, the TensorBoard scalars."""
    last = {key: history[key][-1] for key in HISTORY_KEYS[:4]}
    bar.set_postfix(train_ce=f"{last['train_ce']:.3f}", val_ce=f"{last['val_ce']:.3f}", val_acc=f"{last['val_acc']:.3f}")
    if log is not None:
        (tqdm.write if log is print else log)(
            f"epoch {epoch:>2}/{epochs}  train CE {last['train_ce']:.4f} nats, acc {last['train_acc']:.4f}   "
            f"val CE {last['val_ce']:.4f} nats, acc {last['val_acc']:.4f}")
    if writer is not None:
        writer.add_scalars("cross-entropy (nats)", {"train": last["train_ce"], "validation": last["val_ce"]}, epoch)
        writer.add_scalars("accuracy", {"train": last["train_acc"], "validation": last["val_acc"]}, epoch)


# ---------------------------------------------------------------------------
# 11.8 what the network gets wrong


def misclassified(model, X, y):
    """The examples ``model`` gets wrong, highest CE first.

    Returns (indices: int64 tensor (M,), predicted labels: int64 tensor (M,),
    CE: float tensor (M,) in nats, descending). M = 0 if everything is right.
    """
    X, y = as_tensors(X, y)
    # TODO 11.8: in eval mode and without gradients get the logits of all of X, the
    #   per-example CE (per_example_cross_entropy) and the predictions (argmax, dim=1).
    #   Keep the examples whose prediction differs from y, sort them by CE, highest
    #   first (torch.argsort(ce, descending=True, stable=True)), and return
    #   (their indices into X, their predictions, their CE).
    raise TODO("11.8")


# ---------------------------------------------------------------------------
# Given code: the trained run behind the figures, the figures, the printout.


class Run(NamedTuple):
    data: DigitSplits
    model: nn.Module
    history: dict


_LATEST: list[Run] = []  # the run report() made, which the figures then show


@functools.cache
def default_run() -> Run:
    """The MLP trained on the embedded digits with the module's settings (cached: trained once)."""
    data = digits_splits(SEED)
    model = make_mlp(n_pixels=data.image_size ** 2)
    return Run(data, model, fit(model, data))


def latest_run() -> Run:
    """The run report() trained last, else the default run."""
    return _LATEST[-1] if _LATEST else default_run()


def _tracked(data) -> list[int]:
    return [i for i in TRACKED if i < len(data.y_val)]


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
    tracked = _tracked(run.data)
    return draw.tracked_examples(run.history["tracked_ce"], run.data.X_val[tracked], run.data.y_val[tracked], tracked)


def report():
    """Train the MLP and the CNN (make run-module-11): MNIST if present, else the embedded digits."""
    started = time.perf_counter()
    data = default_splits(SEED)
    mnist = data.name == "MNIST"
    epochs, batch_size = (MNIST_EPOCHS, MNIST_BATCH_SIZE) if mnist else (EPOCHS, BATCH_SIZE)
    size = data.image_size
    print(f"data: {data.name}, {size}x{size} pixels: {data.sizes()}")
    if not mnist:
        print("      (MNIST is not in data/mnist/: `make download-mnist` fetches it)")
    log_root = os.environ.get("KATA_TENSORBOARD")  # e.g. KATA_TENSORBOARD=runs make run-module-11
    results = {}
    for name, model in (("MLP", make_mlp(n_pixels=size * size)), ("CNN", make_cnn(image_size=size))):
        n_params = sum(p.numel() for p in model.parameters())
        print(f"\n{name} ({n_params:,} parameters), Adam lr {LR}, batch {batch_size}, {epochs} epochs:")
        settings = {"epochs": epochs, "batch_size": batch_size, "progress": sys.stderr.isatty(), "log": print,
                    "tracked": _tracked(data)}
        try:
            history = fit(model, data, **settings, log_dir=os.path.join(log_root, name) if log_root else None)
        except ImportError as error:  # fit() stops before training when TensorBoard is missing
            print(f"{error}; training without TensorBoard")
            log_root = None
            history = fit(model, data, **settings)
        test_ce, test_acc, _ = evaluate(model, data.X_test, data.y_test)
        print(f"{name}: test CE {test_ce:.4f} nats, test accuracy {test_acc:.4f}")
        results[name] = (history["val_ce"][-1], test_acc, Run(data, model, history))
    _LATEST.append(results["MLP"][2])  # the figures show the MLP of this run
    best = min(results, key=lambda name: results[name][0])
    print(f"\nchosen on validation CE: {best} (val CE {results[best][0]:.4f} nats)")
    print(f"time taken: {time.perf_counter() - started:.1f} s")
    print(f"test accuracy: {results[best][1]:.4f}")
