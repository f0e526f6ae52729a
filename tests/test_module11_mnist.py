"""Module 11: the final project, handwritten digits with cross-entropy.

Expected values are hand-computed constants (CE of fixed logits), torch itself
(F.cross_entropy, models and training loops the tests build on their own), and
thresholds for what a trained network must reach; never the reference module.
Training in these tests is small and seeded: the 8x8 digits, at most 30 epochs.
"""

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from kata import TODO
from kata.given.mnist import DigitSplits, digits_splits
from kata.testing.expect import expect_close, expect_number, expect_raises, expect_shape, expect_true, fail
from kata.testing.strategies import logits

MODULE = "module11_mnist"
LOG10 = math.log(10)

SOFTMAX_WHY = ("nn.CrossEntropyLoss and F.cross_entropy apply log_softmax themselves, so a softmax before them "
               "squashes the outputs twice and the network barely learns: drop it and output the raw logits")
SOFTMAX_INTO_CE = "outputs probabilities (every row >= 0 and summing to 1): the model ends in a softmax. " + SOFTMAX_WHY
AVERAGED = {(): "you averaged over the batch: keep one CE per example (reduction='none')"}
# Tests that train get more than the default per-test limit: the first optimizer step imports
# part of torch (seconds on a busy machine) and the figures' network trains for 30 epochs.
TRAINS = pytest.mark.timeout(60)


def images(n, size=8, seed=0):
    return torch.rand(n, 1, size, size, generator=torch.Generator().manual_seed(seed))


def check_logits_not_probabilities(out, call):
    if bool((out >= 0).all()) and bool(torch.allclose(out.sum(dim=1), torch.ones(len(out)), atol=1e-5)):
        fail(f"{call} {SOFTMAX_INTO_CE}.")


def same_outputs(got_model, oracle_model, x, call):
    got_model.eval()
    oracle_model.eval()
    with torch.no_grad():
        got, expected = got_model(x), oracle_model(x)
    check_logits_not_probabilities(got, call)
    expect_close(got, expected, f"{call}(x) in eval mode", rtol=1e-5, atol=1e-6,
                 mistakes=[(F.softmax(expected, dim=1), SOFTMAX_INTO_CE),
                           (F.log_softmax(expected, dim=1), "these are log-probabilities: the model must end with "
                            "the last Linear layer (logits), no log_softmax")])


def layer_names(model):
    return [type(layer).__name__ for layer in model] if isinstance(model, nn.Sequential) else None


# --- 11.1 make_mlp ------------------------------------------------------------------


def oracle_mlp(n_pixels=64, hidden=128, n_classes=10, dropout=0.2, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(n_pixels, hidden), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(hidden, n_classes))


@pytest.mark.task("11.1")
def test_mlp_outputs_one_logit_per_class(mod):
    model = mod.make_mlp()
    expect_true(isinstance(model, nn.Module), f"make_mlp() returned {type(model).__name__}, expected a torch nn.Module")
    model.eval()
    with torch.no_grad():
        out = model(images(5))
    expect_shape(out, (5, 10), "make_mlp()(5 images of 1x8x8)",
                 diagnoses={(5, 128): "the last layer is missing: end with nn.Linear(hidden, n_classes)"})
    check_logits_not_probabilities(out, "make_mlp()")


@pytest.mark.task("11.1")
def test_mlp_layers_are_the_ones_the_todo_lists(mod):
    model = mod.make_mlp()
    names = layer_names(model)
    expected = ["Flatten", "Linear", "ReLU", "Dropout", "Linear"]
    if names is not None and names != expected:
        why = ""
        if names[-1] in ("Softmax", "LogSoftmax"):
            why = f": it ends in a Softmax. {SOFTMAX_WHY}" if names[-1] == "Softmax" else \
                ": it ends in LogSoftmax; output the logits and let the loss take the log_softmax"
        elif "Dropout" not in names:
            why = ": the Dropout(dropout) after the ReLU is missing"
        fail(f"make_mlp() has the layers {names}, expected {expected}{why}.")
    n_params = sum(p.numel() for p in model.parameters())
    expect_close(n_params, 64 * 128 + 128 + 128 * 10 + 10, "the number of parameters of make_mlp()")
    same_outputs(model, oracle_mlp(), images(4), "make_mlp()")


@pytest.mark.task("11.1")
def test_mlp_takes_mnist_sized_images(mod):
    model = mod.make_mlp(n_pixels=28 * 28, hidden=32, seed=3)
    same_outputs(model, oracle_mlp(28 * 28, 32, seed=3), images(2, 28), "make_mlp(n_pixels=784, hidden=32, seed=3)")


# --- 11.2 make_cnn --------------------------------------------------------------------


def oracle_cnn(image_size=8, n_classes=10, channels=(16, 32), dropout=0.2, seed=0):
    torch.manual_seed(seed)
    c1, c2 = channels
    return nn.Sequential(nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Dropout(dropout), nn.Linear(c2 * (image_size // 4) ** 2, n_classes))


@pytest.mark.task("11.2")
def test_cnn_outputs_logits_for_8x8_digits(mod):
    model = mod.make_cnn()
    expect_true(isinstance(model, nn.Module), f"make_cnn() returned {type(model).__name__}, expected a torch nn.Module")
    model.eval()
    with torch.no_grad():
        out = model(images(5))
    expect_shape(out, (5, 10), "make_cnn()(5 images of 1x8x8)")
    check_logits_not_probabilities(out, "make_cnn()")
    n_params = sum(p.numel() for p in model.parameters())
    expect_close(n_params, (9 * 16 + 16) + (16 * 9 * 32 + 32) + (32 * 2 * 2 * 10 + 10),
                 "the number of parameters of make_cnn()",
                 mistakes=[((9 * 16 + 16) + (16 * 9 * 32 + 32) + (32 * 8 * 8 * 10 + 10),
                            "the linear layer sees 32 x 8 x 8 inputs: both MaxPool2d(2) layers are missing")])
    same_outputs(model, oracle_cnn(), images(3), "make_cnn()")


@pytest.mark.task("11.2")
def test_cnn_takes_mnist_sized_images(mod):
    model = mod.make_cnn(image_size=28, channels=(4, 8), seed=1)
    same_outputs(model, oracle_cnn(28, channels=(4, 8), seed=1), images(2, 28),
                 "make_cnn(image_size=28, channels=(4, 8), seed=1)")


# --- 11.3 per_example_cross_entropy -----------------------------------------------------

LOGITS = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
TARGETS = torch.tensor([0, 1])
CE_ROWS = [0.417030, 0.220050]  # log(e^2 + e + e^0.1) - 2, log(e^0.5 + e^2.5 + e^0.3) - 2.5


@pytest.mark.task("11.3")
def test_per_example_cross_entropy_of_two_rows(mod):
    call = "per_example_cross_entropy([[2, 1, .1], [.5, 2.5, .3]], [0, 1])"
    got = mod.per_example_cross_entropy(LOGITS, TARGETS)
    expect_true(torch.is_tensor(got), f"{call} returned {type(got).__name__}, expected a torch tensor")
    expect_close(got, CE_ROWS, call, rtol=1e-5,
                 shape_diagnoses=AVERAGED,
                 mistakes=[([-v for v in CE_ROWS], "negative: the minus sign is missing, CE = -log q(target)"),
                           ([1.417030, 0.720050], "that is the CE of the first class for every row: pick each row's own target"),
                           ([math.exp(-v) for v in CE_ROWS], "those are the probabilities of the targets, not -log of them")])


@pytest.mark.task("11.3")
def test_per_example_cross_entropy_is_stable_at_huge_logits(mod):
    call = "per_example_cross_entropy([[1000, 0], [0, 1000]], [1, 1])"
    got = mod.per_example_cross_entropy(torch.tensor([[1000.0, 0.0], [0.0, 1000.0]]), torch.tensor([1, 1]))
    expect_close(got, [1000.0, 0.0], call, atol=1e-4, shape_diagnoses=AVERAGED,
                 mistakes=[([np.inf, 0.0], "log(softmax(...)) underflows to log 0 = -inf: use F.log_softmax "
                            "(or F.cross_entropy), which never forms the tiny probability")])


@pytest.mark.task("11.3")
def test_per_example_cross_entropy_refuses_bad_input(mod):
    mod.per_example_cross_entropy(LOGITS, TARGETS)
    expect_raises(ValueError, mod.per_example_cross_entropy, LOGITS, torch.tensor([0, 1, 2]),
                  call="per_example_cross_entropy(2 rows, 3 targets)", why="there are 2 examples but 3 targets")
    expect_raises(ValueError, mod.per_example_cross_entropy, LOGITS, torch.tensor([0, 3]),
                  call="per_example_cross_entropy(3 classes, target 3)", why="class 3 does not exist among 3 classes")
    expect_raises(ValueError, mod.per_example_cross_entropy, torch.tensor([2.0, 1.0]), torch.tensor([0]),
                  call="per_example_cross_entropy(1-d logits, ...)", why="logits need shape (N, classes)")


@pytest.mark.task("11.3")
@given(z=logits(max_classes=10, max_rows=6, scale=50.0), data=st.data())
def test_per_example_cross_entropy_matches_torch(mod, z, data):
    targets = data.draw(st.lists(st.integers(0, z.shape[1] - 1), min_size=len(z), max_size=len(z)))
    z, targets = torch.tensor(z, dtype=torch.float64), torch.tensor(targets)
    expect_close(mod.per_example_cross_entropy(z, targets), F.cross_entropy(z, targets, reduction="none"),
                 f"per_example_cross_entropy(logits of shape {tuple(z.shape)}, targets {targets.tolist()})",
                 rtol=1e-6, atol=1e-9, shape_diagnoses=AVERAGED)


# --- 11.4 accuracy --------------------------------------------------------------------------


def accuracy_case():
    """10 examples x 10 classes: 7 right by rows (dim=1); argmax over dim=0 matches 6 instead."""
    predicted = [0, 1, 2, 3, 4, 5, 6, 0, 0, 0]
    z = torch.zeros(10, 10)
    for row, column in enumerate(predicted):
        z[row, column] = 5 + 0.1 * row
    targets = torch.arange(10)
    wrong_axis = float((z.argmax(dim=0) == targets).float().mean())
    return z, targets, wrong_axis


@pytest.mark.task("11.4")
def test_accuracy_counts_rows_whose_largest_logit_is_the_target(mod):
    z, targets, wrong_axis = accuracy_case()
    got = expect_number(mod.accuracy(z, targets), "accuracy(10 x 10 logits, targets)")
    expect_close(got, 0.7, "accuracy(10 x 10 logits with 7 rows right, targets)",
                 mistakes=[(wrong_axis, "argmax over the wrong axis: dim=0 picks an example per class; the "
                            "prediction of each example is the argmax over its classes, dim=1"),
                           (7.0, "that is the number right: accuracy is the fraction (the mean)"),
                           (0.3, "that is the error rate, the fraction wrong")])


@pytest.mark.task("11.4")
def test_accuracy_when_examples_and_classes_differ_in_number(mod):
    z = torch.tensor([[3.0, 1.0, 0.0], [0.0, 2.0, 1.0], [0.0, 0.0, 1.0], [5.0, 0.0, 0.0], [0.0, 4.0, 0.0]])
    targets = torch.tensor([0, 1, 1, 0, 2])
    try:
        got = mod.accuracy(z, targets)
    except RuntimeError as error:
        if isinstance(error, TODO):
            raise
        fail(f"accuracy(5 examples x 3 classes) raised RuntimeError ({str(error).splitlines()[0]}): "
             "the argmax was taken over the wrong axis (dim=0 gives one value per class, 3, not one per example, 5); "
             "use dim=1")
    expect_close(got, 0.6, "accuracy(5 examples x 3 classes, 3 right)")


@pytest.mark.task("11.4")
def test_accuracy_refuses_mismatched_targets(mod):
    z, targets, _ = accuracy_case()
    mod.accuracy(z, targets)
    expect_raises(ValueError, mod.accuracy, z, targets[:5], call="accuracy(10 rows, 5 targets)",
                  why="there are 10 examples but 5 targets")


# --- 11.5 evaluate -----------------------------------------------------------------------------


class Spy(nn.Module):
    """Wraps a model; records, per forward call, the batch size, the mode and whether gradients are on."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.calls = []

    def forward(self, x):
        self.calls.append((len(x), self.training, torch.is_grad_enabled()))
        return self.inner(x)


def tiny_model(seed=1, n_pixels=16, n_classes=10, dropout=0.5):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(n_pixels, n_classes))


def tiny_data(n=10, size=4, n_classes=10, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, size, size, generator=generator), torch.randint(0, n_classes, (n,), generator=generator)


def oracle_evaluate(model, X, y):
    model.eval()
    with torch.no_grad():
        z = model(X)
    per = F.cross_entropy(z, y, reduction="none")
    return float(per.mean()), float((z.argmax(dim=1) == y).double().mean()), per


@pytest.mark.task("11.5")
def test_evaluate_runs_in_eval_mode_without_gradients(mod):
    X, y = tiny_data()
    spy = Spy(tiny_model())
    spy.train()
    _, _, per = mod.evaluate(spy, X, y)
    expect_true(spy.calls, "evaluate() never called the model")
    if any(training for _, training, _ in spy.calls):
        fail("evaluate() ran the model in training mode (model.training was True): dropout was still dropping "
             "units, so validation numbers come out noisy and too pessimistic. Call model.eval() first.")
    if any(grad for _, _, grad in spy.calls):
        fail("evaluate() ran the model with gradients enabled: validation must not build an autograd graph "
             "(it costs memory and time, and nothing should learn from it). Wrap the forward pass in "
             "`with torch.no_grad():`.")
    expect_true(not getattr(per, "requires_grad", False),
                "evaluate()'s per-example CE requires grad: compute it under torch.no_grad()")


@pytest.mark.task("11.5")
def test_evaluate_returns_mean_ce_accuracy_and_per_example_ce(mod):
    X, y = tiny_data()
    model = tiny_model()
    result = mod.evaluate(model, X, y)
    expect_true(isinstance(result, tuple) and len(result) == 3,
                f"evaluate() returned {type(result).__name__}, expected a tuple (mean CE, accuracy, per-example CE)")
    mean_ce, acc, per = result
    expect_true(not model.training, "evaluate() left the model in training mode: call model.eval() before the forward "
                "pass (dropout off), as the TODO says")
    expected_mean, expected_acc, expected_per = oracle_evaluate(tiny_model(), X, y)
    torch.manual_seed(5)
    model.train()
    with torch.no_grad():
        noisy = float(F.cross_entropy(model(X), y))
    expect_close(mean_ce, expected_mean, "evaluate(model, X, y)[0], the mean CE", rtol=1e-5,
                 mistakes=[(float(expected_per.sum()), "that is the sum over the examples: return the mean"),
                           (noisy, "that CE comes from training mode: dropout was on (call model.eval())")])
    expect_close(acc, expected_acc, "evaluate(model, X, y)[1], the accuracy")
    expect_close(per, expected_per, "evaluate(model, X, y)[2], the per-example CE", rtol=1e-5)


@pytest.mark.task("11.5")
def test_evaluate_works_in_chunks(mod):
    X, y = tiny_data(n=10)
    spy = Spy(tiny_model())
    mean_ce, _, per = mod.evaluate(spy, X, y, batch_size=3)
    sizes = [size for size, _, _ in spy.calls]
    expect_true(sizes == [3, 3, 3, 1], f"evaluate(model, 10 examples, batch_size=3) ran the model on batches of "
                f"{sizes}, expected [3, 3, 3, 1]: compute the logits chunk by chunk, X.split(batch_size), so "
                "60,000 MNIST images never go through at once")
    expected_mean, _, expected_per = oracle_evaluate(tiny_model(), X, y)
    expect_close(per, expected_per, "evaluate(..., batch_size=3)[2]", rtol=1e-5)
    expect_close(mean_ce, expected_mean, "evaluate(..., batch_size=3)[0]", rtol=1e-5)


@pytest.mark.task("11.5")
def test_evaluate_refuses_mismatched_data(mod):
    X, y = tiny_data()
    mod.evaluate(tiny_model(), X, y)
    expect_raises(ValueError, mod.evaluate, tiny_model(), X, y[:4], call="evaluate(model, 10 images, 4 labels)",
                  why="every image needs one label")


# --- 11.6 train_epoch --------------------------------------------------------------------------


def flat_parameters(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()]).numpy()


def oracle_epoch(model, X, y, lr=0.1, batch_size=4, seed=0, shuffle=True, zero_grad=True, weighted=True,
                 reduction="mean", softmax_first=False):
    """One epoch of SGD as the TODO describes it, or with one of the known mistakes."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed)) if shuffle else torch.arange(len(y))
    model.train()
    losses = []
    for start in range(0, len(y), batch_size):
        idx = order[start:start + batch_size]
        if zero_grad:
            optimizer.zero_grad()
        out = model(X[idx])
        loss = F.cross_entropy(F.softmax(out, dim=1) if softmax_first else out, y[idx], reduction=reduction)
        loss.backward()
        optimizer.step()
        losses.append((loss.item(), len(idx)))
    mean = sum(v * k for v, k in losses) / len(y) if weighted else sum(v for v, _ in losses) / len(losses)
    return mean, flat_parameters(model)


@TRAINS
@pytest.mark.task("11.6")
def test_train_epoch_takes_the_steps_the_todo_describes(mod):
    X, y = tiny_data(n=10, n_classes=3)
    start = tiny_model(n_classes=3, dropout=0.0)
    model = copy.deepcopy(start)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    got = mod.train_epoch(model, X, y, optimizer, batch_size=4, generator=torch.Generator().manual_seed(0))
    got = expect_number(got, "train_epoch(...), the epoch's mean CE")
    expected, expected_weights = oracle_epoch(copy.deepcopy(start), X, y)
    variants = {name: oracle_epoch(copy.deepcopy(start), X, y, **kwargs) for name, kwargs in {
        "unshuffled": {"shuffle": False}, "accumulated": {"zero_grad": False}, "summed": {"reduction": "sum"},
        "softmax": {"softmax_first": True}, "unweighted": {"weighted": False}}.items()}
    expect_close(flat_parameters(model), expected_weights, "the weights after train_epoch(10 examples, batch_size=4, SGD lr 0.1)",
                 rtol=1e-5, atol=1e-6, mistakes=[
                     (variants["unshuffled"][1], "the batches were taken in order 0..9: shuffle with "
                      "order = torch.randperm(len(y), generator=generator)"),
                     (variants["accumulated"][1], "optimizer.zero_grad() is missing: each step used the gradients "
                      "of every batch so far"),
                     (variants["summed"][1], "the loss was summed over the batch: use F.cross_entropy's default "
                      "reduction='mean'"),
                     (variants["softmax"][1], "softmax was applied before F.cross_entropy: it applies log_softmax "
                      "itself, give it the raw logits")])
    expect_close(got, expected, "train_epoch(...)'s returned mean CE", rtol=1e-5, mistakes=[
        (variants["unweighted"][0], "that is the plain mean of the 3 batch losses, but the last batch has only 2 "
         "of the 10 examples: weight each batch loss by its size, Σ loss·len(idx) / N"),
        (oracle_epoch(copy.deepcopy(start), X, y)[0] * 10 / 4, "divide by the number of examples N, not batch_size")])


@TRAINS
@pytest.mark.task("11.6")
def test_train_epoch_trains_in_training_mode(mod):
    X, y = tiny_data(n=10, n_classes=3)
    spy = Spy(tiny_model(n_classes=3))
    spy.eval()  # as evaluate() leaves it
    mod.train_epoch(spy, X, y, torch.optim.SGD(spy.parameters(), lr=0.1), batch_size=4,
                    generator=torch.Generator().manual_seed(0))
    expect_true([size for size, _, _ in spy.calls] == [4, 4, 2],
                f"train_epoch(10 examples, batch_size=4) ran the model on batches of {[c[0] for c in spy.calls]}, "
                "expected [4, 4, 2]")
    expect_true(all(training for _, training, _ in spy.calls),
                "train_epoch() ran the model in eval mode: call model.train() first (evaluate() leaves the model in "
                "eval mode, and dropout must be on while training)")


# --- 11.7 fit ------------------------------------------------------------------------------------


def small_splits():
    data = digits_splits(0)
    return DigitSplits("a slice of the digits", data.X_train[:200], data.y_train[:200], data.X_val[:60],
                       data.y_val[:60], data.X_test[:60], data.y_test[:60])


def oracle_fit(model, data, epochs, lr=0.01, batch_size=64, seed=0, tracked=(1, 7)):
    """fit() as the TODO describes it, written independently."""
    X_train, y_train = torch.tensor(data.X_train).unsqueeze(1), torch.tensor(data.y_train)
    X_val, y_val = torch.tensor(data.X_val).unsqueeze(1), torch.tensor(data.y_val)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    rows, running = [], []
    for epoch in range(epochs + 1):
        if epoch > 0:
            model.train()
            order, total = torch.randperm(len(y_train), generator=generator), 0.0
            for start in range(0, len(y_train), batch_size):
                idx = order[start:start + batch_size]
                optimizer.zero_grad()
                loss = F.cross_entropy(model(X_train[idx]), y_train[idx])
                loss.backward()
                optimizer.step()
                total += loss.item() * len(idx)
            running.append(total / len(y_train))
        train_ce, train_acc, _ = oracle_evaluate(model, X_train, y_train)
        val_ce, val_acc, per = oracle_evaluate(model, X_val, y_val)
        rows.append((train_ce, train_acc, val_ce, val_acc, per[list(tracked)].tolist()))
    keys = ("train_ce", "train_acc", "val_ce", "val_acc", "tracked_ce")
    return {key: np.array([row[k] for row in rows]) for k, key in enumerate(keys)}, running


def history_of(got, call):
    expect_true(isinstance(got, dict), f"{call} returned {type(got).__name__}, expected the history dict")
    for key in ("train_ce", "train_acc", "val_ce", "val_acc", "tracked_ce"):
        expect_true(key in got, f"{call}'s history has no {key!r}: it needs train_ce, train_acc, val_ce, val_acc, tracked_ce")
    return got


@TRAINS
@pytest.mark.task("11.7")
def test_fit_records_each_epoch_like_an_independent_loop(mod):
    data = small_splits()
    lines = []
    call = "fit(model, 200 digits, epochs=3, tracked=(1, 7))"
    got = history_of(mod.fit(oracle_mlp(), data, epochs=3, lr=0.01, batch_size=64, seed=0, tracked=(1, 7),
                             log=lines.append), call)
    expected, running = oracle_fit(oracle_mlp(), data, epochs=3)
    missing_row0 = {(3,): "row 0 (the untrained network, before any training) is missing: epochs + 1 rows"}
    got_val = np.asarray(got["val_ce"], dtype=float)
    if got_val.shape == (4,) and np.allclose(got_val[:3], expected["val_ce"][1:], rtol=1e-4):
        fail(f"{call}['val_ce'] returned {np.round(got_val, 6).tolist()}: each row is one epoch late. Row 0 must be "
             "the untrained network: at epoch 0 skip train_epoch and only record")
    expect_close(got["val_ce"], expected["val_ce"], f"{call}['val_ce']", rtol=1e-4, shape_diagnoses=missing_row0,
                 )
    expect_close(got["train_ce"], expected["train_ce"], f"{call}['train_ce']", rtol=1e-4, shape_diagnoses=missing_row0,
                 mistakes=[(np.r_[expected["train_ce"][0], running], "that is train_epoch's running mean (dropout on, "
                            "weights moving within the epoch): record evaluate() on the training set after the epoch")])
    expect_close(got["val_acc"], expected["val_acc"], f"{call}['val_acc']", shape_diagnoses=missing_row0)
    expect_close(got["train_acc"], expected["train_acc"], f"{call}['train_acc']", shape_diagnoses=missing_row0)
    expect_close(got["tracked_ce"], expected["tracked_ce"], f"{call}['tracked_ce'] (validation examples 1 and 7)",
                 rtol=1e-4, shape_diagnoses={(4, 200): "that is every training example: record the validation CE "
                                             "of the tracked examples only, per[tracked]"})
    expect_true(len(lines) == 4, f"fit(..., epochs=3, log=...) logged {len(lines)} lines, expected 4 (epochs 0 to 3)")


@TRAINS
@pytest.mark.task("11.7")
def test_the_untrained_network_guesses_uniformly(mod):
    history = history_of(mod.default_run().history, "default_run()")
    untrained_val, _, _ = oracle_evaluate(oracle_mlp(), torch.tensor(digits_splits(0).X_val).unsqueeze(1),
                                          torch.tensor(digits_splits(0).y_val))
    if history["val_ce"][0] < 2.0:
        fail(f"the validation CE at epoch 0 is {history['val_ce'][0]:.4f} nats, far below the log 10 = 2.303 nats of "
             "an untrained network: row 0 must be recorded before any training (skip train_epoch at epoch 0)")
    val = digits_splits(0)
    X_val, y_val = torch.tensor(val.X_val).unsqueeze(1), torch.tensor(val.y_val)
    softmaxed = nn.Sequential(oracle_mlp(), nn.Softmax(dim=1))
    expect_close(history["val_ce"][0], untrained_val, "the validation CE at epoch 0 (untrained)", rtol=1e-4,
                 mistakes=[(oracle_evaluate(softmaxed, X_val, y_val)[0], "that is the CE of a model that ends in a "
                            "softmax: " + SOFTMAX_WHY)])
    expect_true(abs(history["val_ce"][0] - LOG10) < 0.1,
                f"the untrained network's validation CE is {history['val_ce'][0]:.3f} nats; a uniform guess over 10 "
                "digits costs log 10 = 2.303 nats")


@TRAINS
@pytest.mark.task("11.7")
def test_training_on_the_digits_works(mod):
    run = mod.default_run()
    history = history_of(run.history, "default_run()")
    expect_shape(history["val_ce"], (31,), "default_run().history['val_ce'] (30 epochs)")
    expect_true(history["train_ce"][-1] < 0.05,
                f"after 30 epochs the training CE is {history['train_ce'][-1]:.4f} nats; it should fall below 0.05")
    expect_true(history["val_acc"][-1] >= 0.93, f"the final validation accuracy is {history['val_acc'][-1]:.4f}, "
                "expected at least 0.93")
    _, test_acc, _ = oracle_evaluate(run.model, torch.tensor(run.data.X_test).unsqueeze(1), torch.tensor(run.data.y_test))
    expect_true(test_acc >= 0.95, f"the trained MLP's test accuracy is {test_acc:.4f}, expected at least 0.95")
    expect_true(min(history["val_ce"]) < history["val_ce"][-1] - 0.01 or history["val_ce"][-1] < 0.2,
                "validation CE should bottom out and level off")
    _, _, per = oracle_evaluate(run.model, torch.tensor(run.data.X_val).unsqueeze(1), torch.tensor(run.data.y_val))
    tracked = list(mod.TRACKED)
    expect_close(history["tracked_ce"][-1], per[tracked], "the tracked examples' CE at the last epoch", rtol=1e-4)


@TRAINS
@pytest.mark.task("11.7")
def test_fit_refuses_tracked_examples_outside_the_validation_set(mod):
    data = small_splits()
    mod.fit(oracle_mlp(), data, epochs=1, tracked=(0,))
    expect_raises(ValueError, mod.fit, oracle_mlp(), data, epochs=1, tracked=(60,),
                  call="fit(..., tracked=(60,)) with 60 validation examples", why="index 60 is past the last one, 59")


@TRAINS
@pytest.mark.task("11.7")
def test_figure_numbers_training_curves(mod):
    history = history_of(mod.default_run().history, "default_run()")
    train_ce = np.asarray(history["train_ce"])
    expect_true(train_ce[-1] < train_ce[1] / 10, "the training CE should fall by more than 10x from epoch 1 to 30, "
                f"got {train_ce[1]:.3f} -> {train_ce[-1]:.4f}")
    expect_true(np.all(history["train_acc"] <= 1) and np.all(history["train_acc"] >= 0), "accuracy is a fraction in [0, 1]")


@TRAINS
@pytest.mark.task("11.7")
@pytest.mark.mpl_image_compare(filename="module11_training_curves.png")
def test_figure_training_curves(mod):
    return mod.plot_training_curves()


@TRAINS
@pytest.mark.task("11.7")
@pytest.mark.mpl_image_compare(filename="module11_tracked_examples.png")
def test_figure_tracked_examples(mod):
    return mod.plot_tracked_examples()


# --- 11.8 misclassified ----------------------------------------------------------------------------

LOOKUP = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [3.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 4.0], [0.0, 5.0, 0.0]])
LOOKUP_TARGETS = torch.tensor([0, 0, 2, 1, 2, 1])
# wrong: #1 (CE 2.220050, says 1), #2 (3.094923, says 0), #3 (log 3 = 1.098612, a tie: argmax says 0)


class Lookup(nn.Module):
    """A 'network' whose image i (a 1x1 image holding the number i) gets the logits LOOKUP[i]."""

    def forward(self, x):
        return LOOKUP[x.flatten(1)[:, 0].long()]


@pytest.mark.task("11.8")
def test_misclassified_ranks_the_wrong_answers_by_cross_entropy(mod):
    X = torch.arange(6.0).reshape(6, 1, 1, 1)
    result = mod.misclassified(Lookup(), X, LOOKUP_TARGETS)
    expect_true(isinstance(result, tuple) and len(result) == 3,
                f"misclassified() returned {type(result).__name__}, expected (indices, predictions, CE)")
    indices, predicted, ce = result
    call = "misclassified(model, 6 examples of which #1, #2, #3 are wrong)"
    expect_close(indices, [2, 1, 3], f"{call}[0], the indices", shape_diagnoses={
        (6,): "that is every example: keep only those whose prediction differs from the target"},
        mistakes=[([3, 1, 2], "lowest CE first: sort highest first (descending=True)"),
                  ([1, 2, 3], "not sorted: order the wrong answers by their CE, highest first"),
                  ([1, 0, 2], "those are positions in the list of wrong answers: return indices into X")])
    expect_close(predicted, [0, 1, 0], f"{call}[1], the predicted digits")
    expect_close(ce, [3.094923, 2.220050, 1.098612], f"{call}[2], the CE in nats", rtol=1e-5)


@pytest.mark.task("11.8")
def test_misclassified_of_a_perfect_model_is_empty(mod):
    X = torch.tensor([0.0, 4.0, 5.0]).reshape(3, 1, 1, 1)
    indices, predicted, ce = mod.misclassified(Lookup(), X, torch.tensor([0, 2, 1]))
    expect_shape(indices, (0,), "misclassified(a model that gets all 3 right)[0]")


@TRAINS
@pytest.mark.task("11.8")
def test_figure_numbers_misclassified_digits(mod):
    run = mod.default_run()
    images_, true, predicted, ce = mod.misclassified_examples()
    expect_true(len(true) >= 1, "the trained MLP gets every test digit right? The figure expects a few mistakes")
    expect_true(bool(np.all(true != predicted)), "every digit in the figure must be misclassified")
    expect_true(bool(np.all(np.diff(ce) <= 1e-6)), f"the CE must be in descending order, got {np.round(ce, 3)}")
    z = run.model.eval()(torch.tensor(images_).unsqueeze(1)).detach()
    expect_close(ce, F.cross_entropy(z, torch.tensor(true), reduction="none"), "the CE printed under each digit",
                 rtol=1e-4)


@TRAINS
@pytest.mark.task("11.8")
@pytest.mark.mpl_image_compare(filename="module11_misclassified.png")
def test_figure_misclassified(mod):
    return mod.plot_misclassified()
