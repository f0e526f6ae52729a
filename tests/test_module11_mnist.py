"""Module 11: the final project, handwritten digits with cross-entropy.

Expected values are hand-computed constants (CE of fixed logits), torch itself
(F.cross_entropy, models built here, kata.testing.oracles' training loops) and
thresholds for what a trained network must reach; never the reference module.
Training here is small and seeded: slices of a few hundred of the 5,000 real
28x28 MNIST digits, or tiny random images where only the mechanics matter.
"""

import copy
import functools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from kata import TODO
from kata.given.mnist import mnist5k_splits
from kata.testing.expect import (
    Call,
    expect_close,
    expect_number,
    expect_refusals,
    expect_shape,
    expect_true,
    fail,
    show,
)
from kata.testing.oracles import dataloader_order, flat_parameters, minibatch_epoch
from kata.testing.strategies import logits

MODULE = "module11_mnist"
LOG10 = math.log(10)
DOUBLE_SOFTMAX_FLOOR = math.log(1 + 9 / math.e)  # 1.461150: CE of softmax outputs read as logits, 10 classes

SOFTMAX_WHY = ("but nn.CrossEntropyLoss and F.cross_entropy apply log_softmax themselves, so a softmax before them "
               "squashes the outputs twice: the loss can never fall below log(1 + 9/e) = 1.461 nats for 10 classes "
               "and the gradients weaken; drop it and output the raw logits")
SOFTMAX_INTO_CE = "outputs probabilities (every row >= 0 and summing to 1): the model ends in a softmax, " + SOFTMAX_WHY
LOG_SOFTMAX_OUT = ("outputs log-probabilities (every row's logsumexp is 0): the model ends in a log_softmax; end "
                   "with the last Linear layer (logits) and let the loss take the log_softmax")
AVERAGED = {(): "you averaged over the batch: keep one CE per example (reduction='none')"}
# Tests that train get more than the default per-test limit: the first optimizer built imports
# part of torch (torch._dynamo: seconds on a busy machine).
TRAINS = pytest.mark.timeout(60)


def images(n, size=28, seed=0):
    return torch.rand(n, 1, size, size, generator=torch.Generator().manual_seed(seed))


@functools.cache
def digits(per_class):
    """A seeded, class-balanced slice of the 5,000 MNIST digits: per_class = (train, validation, test)."""
    return mnist5k_splits(0, per_class)


def tensors(X, y):
    return torch.tensor(X).unsqueeze(1), torch.tensor(y)


def check_logits_not_probabilities(out, call):
    if bool((out >= 0).all()) and bool(torch.allclose(out.sum(dim=1), torch.ones(len(out)), atol=1e-5)):
        fail(f"{call} {SOFTMAX_INTO_CE}.")
    if bool((out <= 0).all()) and bool(torch.allclose(torch.logsumexp(out, dim=1), torch.zeros(len(out)), atol=1e-5)):
        fail(f"{call} {LOG_SOFTMAX_OUT}.")


def same_outputs(got_model, oracle_model, x, call):
    got_model.eval()
    oracle_model.eval()
    with torch.no_grad():
        got, expected = got_model(x), oracle_model(x)
    check_logits_not_probabilities(got, call)
    expect_close(got, expected, f"{call}(x) in eval mode", rtol=1e-5, atol=1e-6)


def layer_names(model):
    return [type(layer).__name__ for layer in model] if isinstance(model, nn.Sequential) else None


# Neighbours that give the same network in either order: dropout's mask and scale and a max-pool both commute
# with ReLU, and none of them has weights or draws from the seed when it is built.
COMMUTING = {frozenset({"ReLU", "Dropout"}), frozenset({"ReLU", "MaxPool2d"})}


def same_network_orders(expected):
    """``expected`` and every order reached by swapping neighbours that commute."""
    orders, frontier = {tuple(expected)}, [tuple(expected)]
    while frontier:
        order = frontier.pop()
        for i in range(len(order) - 1):
            if frozenset(order[i:i + 2]) in COMMUTING and order[i] != order[i + 1]:
                swapped = order[:i] + (order[i + 1], order[i]) + order[i + 2:]
                if swapped not in orders:
                    orders.add(swapped)
                    frontier.append(swapped)
    return orders


def check_layers(model, call, expected):
    names = layer_names(model)
    if names is None or tuple(names) in same_network_orders(expected):
        return
    why = ""
    if "LazyLinear" in names:
        why = (": nn.LazyLinear makes its weights at the first call, after the seed has been used for the others, so "
               "the seed no longer gives the course's weights. Work out the input size (follow the image's size "
               "through each layer) and use nn.Linear")
    elif "Dropout2d" in names and "Dropout" not in names:
        why = (": Dropout2d drops whole channels of an image; the contract's Dropout(dropout) drops single values, "
               "after the flatten")
    elif names and names[-1] == "Softmax":
        why = f": it ends in a Softmax, {SOFTMAX_WHY}"
    elif names and names[-1] == "LogSoftmax":
        why = ": it ends in LogSoftmax; output the logits and let the loss take the log_softmax"
    elif "Dropout" not in names:
        why = ": the Dropout(dropout) is missing"
    elif sorted(names) == sorted(expected):
        why = ": the right layers in another order; the order fixes the network (and which weights the seed gives)"
    fail(f"{call} has the layers {names}, expected {expected}{why}.")


def forward(model, x, call):
    """model(x) in eval mode; a shape error becomes one sentence about the layers' sizes."""
    expect_true(isinstance(model, nn.Module), f"{call} returned {type(model).__name__}, expected a torch nn.Module")
    model.eval()
    try:
        with torch.no_grad():
            return model(x)
    except RuntimeError as error:
        if isinstance(error, TODO):
            raise
        fail(f"{call} cannot take images of shape {tuple(x.shape)} ({str(error).splitlines()[0]}): the size a layer "
             "expects differs from what the layer before hands it; follow the image's size through each layer")


# --- 11.1 make_mlp ------------------------------------------------------------------

MLP_LAYERS = ["Flatten", "Linear", "ReLU", "Dropout", "Linear"]


def oracle_mlp(n_pixels=784, hidden=128, n_classes=10, dropout=0.2, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(n_pixels, hidden), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(hidden, n_classes))


@pytest.mark.task("11.1")
def test_mlp_outputs_one_logit_per_class(mod):
    out = forward(mod.make_mlp(), images(5), "make_mlp()")
    expect_shape(out, (5, 10), "make_mlp()(5 images of 1x28x28)",
                 diagnoses={(5, 128): "the last layer is missing: end with a Linear layer to n_classes"})
    check_logits_not_probabilities(out, "make_mlp()")


@pytest.mark.task("11.1")
def test_mlp_layers_are_the_ones_the_todo_lists(mod):
    model = mod.make_mlp()
    check_layers(model, "make_mlp()", MLP_LAYERS)
    n_params = sum(p.numel() for p in model.parameters())
    expect_close(n_params, 784 * 128 + 128 + 128 * 10 + 10, "the number of parameters of make_mlp()")
    same_outputs(model, oracle_mlp(), images(4), "make_mlp()")


@pytest.mark.task("11.1")
def test_mlp_takes_other_sizes_and_seeds(mod):
    model = mod.make_mlp(n_pixels=64, hidden=32, n_classes=4, dropout=0.5, seed=3)
    check_layers(model, "make_mlp(n_pixels=64, hidden=32, n_classes=4, dropout=0.5, seed=3)", MLP_LAYERS)
    if layer_names(model) == MLP_LAYERS:
        expect_close(model[3].p, 0.5, "the dropout probability of make_mlp(..., dropout=0.5)",
                     mistakes=[(0.2, "dropout=0.5 was ignored: give nn.Dropout the `dropout` argument")])
    same_outputs(model, oracle_mlp(64, 32, 4, 0.5, seed=3), images(2, 8), "make_mlp(n_pixels=64, hidden=32, seed=3)")


# --- 11.2 make_cnn --------------------------------------------------------------------

CNN_LAYERS = ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Dropout", "Linear"]


def oracle_cnn(image_size=28, n_classes=10, channels=(16, 32), dropout=0.2, seed=0):
    torch.manual_seed(seed)
    c1, c2 = channels
    return nn.Sequential(nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Dropout(dropout), nn.Linear(c2 * (image_size // 4) ** 2, n_classes))


@pytest.mark.task("11.2")
def test_cnn_outputs_logits_for_28x28_digits(mod):
    model = mod.make_cnn()
    out = forward(model, images(5), "make_cnn()")
    expect_shape(out, (5, 10), "make_cnn()(5 images of 1x28x28)")
    check_logits_not_probabilities(out, "make_cnn()")
    n_params = sum(p.numel() for p in model.parameters())
    expect_close(n_params, (9 * 16 + 16) + (16 * 9 * 32 + 32) + (32 * 7 * 7 * 10 + 10),
                 "the number of parameters of make_cnn()",
                 mistakes=[((9 * 16 + 16) + (16 * 9 * 32 + 32) + (32 * 28 * 28 * 10 + 10),
                            "the linear layer sees 32 x 28 x 28 inputs: both MaxPool2d(2) layers are missing")])


@pytest.mark.task("11.2")
def test_cnn_layers_are_the_ones_the_todo_lists(mod):
    model = mod.make_cnn()
    names = layer_names(model)
    if names is not None and names[:-1] == CNN_LAYERS[:7] + ["Linear"] and names[-1] == "Dropout":
        fail(f"make_cnn() has the layers {names}: the Dropout comes after the last Linear layer, so it drops "
             "logits; it goes between the Flatten and the Linear layer.")
    check_layers(model, "make_cnn()", CNN_LAYERS)
    same_outputs(model, oracle_cnn(), images(3), "make_cnn()")


@pytest.mark.task("11.2")
def test_cnn_takes_8x8_images(mod):
    model = mod.make_cnn(image_size=8, channels=(4, 8), seed=1)
    forward(model, images(2, 8), "make_cnn(image_size=8, channels=(4, 8), seed=1)")
    same_outputs(model, oracle_cnn(8, channels=(4, 8), seed=1), images(2, 8),
                 "make_cnn(image_size=8, channels=(4, 8), seed=1)")


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
                           ([0.417030, 2.220050], "that is the CE of the first class for every row: pick each row's own target"),
                           ([math.exp(-v) for v in CE_ROWS], "those are the probabilities of the targets, not -log of them")])


@pytest.mark.task("11.3")
def test_per_example_cross_entropy_is_stable_at_huge_logits(mod):
    call = "per_example_cross_entropy([[1000, 0], [0, 1000]], [1, 1])"
    got = mod.per_example_cross_entropy(torch.tensor([[1000.0, 0.0], [0.0, 1000.0]]), torch.tensor([1, 1]))
    expect_close(got, [1000.0, 0.0], call, atol=1e-4, shape_diagnoses=AVERAGED,
                 mistakes=[([np.inf, 0.0], "log(softmax(...)) underflows to log 0 = -inf: use F.log_softmax "
                            "(or F.cross_entropy), which never forms the tiny probability")])
    # rows twenty thousand apart: each row needs its own shift (float64: float32 keeps 3 decimals at 10,000)
    z = torch.tensor([[10000.0, 10001.0, 9999.0], [-10000.0, -9998.0, -10001.0]], dtype=torch.float64)
    call = "per_example_cross_entropy([[10000, 10001, 9999], [-10000, -9998, -10001]] in float64, [1, 0])"
    expect_close(mod.per_example_cross_entropy(z, torch.tensor([1, 0])), [0.407606, 2.169846], call, rtol=1e-5,
                 shape_diagnoses=AVERAGED,
                 mistakes=[([0.407606, sign * np.inf], "the row far below the batch's largest logit came out infinite: "
                            "shift each row by its own largest logit (max over dim=1), not one shift for the whole "
                            "batch") for sign in (1, -1)])


@pytest.mark.task("11.3")
def test_per_example_cross_entropy_keeps_float64(mod):
    z = torch.tensor([[1.0, 1.0 + 1e-9], [3.0, -2.0]], dtype=torch.float64)
    got = mod.per_example_cross_entropy(z, torch.tensor([0, 1]))
    expect_true(torch.is_tensor(got) and got.dtype == torch.float64,
                f"per_example_cross_entropy(float64 logits) returned {getattr(got, 'dtype', type(got).__name__)}: "
                "keep the logits' dtype (no .float()); float32 keeps only 7 significant digits")
    expected = [math.log(1 + math.exp(1e-9)), 5 + math.log(1 + math.exp(-5))]  # 0.693147181, 5.006715348
    expect_close(got, expected, "per_example_cross_entropy([[1, 1 + 1e-9], [3, -2]] in float64, [0, 1])", rtol=1e-12)


@pytest.mark.task("11.3")
def test_per_example_cross_entropy_refuses_bad_input(mod):
    expect_refusals(mod.per_example_cross_entropy, works=Call(LOGITS, TARGETS), refuses=[
        (Call(LOGITS, torch.tensor([0, 1, 2]), shown="per_example_cross_entropy(2 rows, 3 targets)"),
         "there are 2 examples but 3 targets"),
        (Call(LOGITS, torch.tensor([0, 3]), shown="per_example_cross_entropy(3 classes, target 3)"),
         "class 3 does not exist among 3 classes"),
        (Call(torch.tensor([2.0, 1.0]), torch.tensor([0]), shown="per_example_cross_entropy(1-d logits, ...)"),
         "logits need shape (N, classes)"),
    ])


@st.composite
def shifted_logits(draw):
    """Moderate logits plus a shift per row that reaches +-1e6: the CE must not notice the shift."""
    z = draw(logits(max_classes=10, max_rows=6, scale=50.0))
    shifts = draw(st.lists(st.floats(-1e6, 1e6), min_size=len(z), max_size=len(z)))
    return z, np.asarray(shifts)[:, None]


@pytest.mark.task("11.3")
@given(case=shifted_logits(), data=st.data())
def test_per_example_cross_entropy_matches_torch_at_any_offset(mod, case, data):
    z, shifts = case
    targets = torch.tensor(data.draw(st.lists(st.integers(0, z.shape[1] - 1), min_size=len(z), max_size=len(z))))
    expected = F.cross_entropy(torch.tensor(z, dtype=torch.float64), targets, reduction="none")
    shifted = torch.tensor(z + shifts, dtype=torch.float64)
    expect_close(mod.per_example_cross_entropy(shifted, targets), expected,
                 f"per_example_cross_entropy(logits of shape {tuple(z.shape)} shifted by up to "
                 f"{np.abs(shifts).max():.3g} per row, targets {targets.tolist()})",
                 rtol=1e-6, atol=1e-6, shape_diagnoses=AVERAGED)


@pytest.mark.task("11.3")
@given(z=logits(max_classes=10, max_rows=6, scale=1e4))
def test_cross_entropy_after_a_softmax_never_falls_below_1_461_nats(mod, z):
    probabilities = F.softmax(torch.tensor(z, dtype=torch.float64), dim=1)  # a model that ends in a softmax
    targets = probabilities.argmax(dim=1)  # even the most favourable targets
    got = mod.per_example_cross_entropy(probabilities, targets)
    floor = math.log(1 + (z.shape[1] - 1) / math.e)
    expect_true(bool((torch.as_tensor(got) >= floor - 1e-9).all()),
                f"per_example_cross_entropy(softmax outputs read as logits, {z.shape[1]} classes) returned "
                f"{show(got)}, below log(1 + (C - 1)/e) = {floor:.6f}: logits in [0, 1] cannot do better")


@pytest.mark.task("11.3")
def test_the_double_softmax_floor_is_reached_by_one_hot_outputs(mod):
    one_hot = torch.eye(10, dtype=torch.float64)
    got = mod.per_example_cross_entropy(one_hot, torch.arange(10))
    expect_close(got, [DOUBLE_SOFTMAX_FLOOR] * 10, "per_example_cross_entropy(one-hot rows as logits, their own "
                 "classes), the best a double softmax can do: log(1 + 9/e) = 1.461150", rtol=1e-9, shape_diagnoses=AVERAGED)


@pytest.mark.task("11.3")
def test_an_untrained_network_guesses_uniformly_because_its_logits_are_small(mod):
    data = digits((1, 20, 0))
    X, y = tensors(data.X_val, data.y_val)
    model = oracle_mlp().eval()
    with torch.no_grad():
        z = model(X)
    expect_true(float(z.abs().max()) < 1, "(course check) the untrained MLP's logits should be small")
    untrained = expect_number(mod.per_example_cross_entropy(z, y).mean(), "the untrained MLP's mean CE")
    expect_close(untrained, float(F.cross_entropy(z, y)), "per_example_cross_entropy(the untrained MLP's logits on "
                 "200 digits, their labels).mean()", rtol=1e-5)
    expect_true(abs(untrained - LOG10) < 0.02, f"the untrained MLP's mean CE is {untrained:.4f} nats, expected "
                "about log 10 = 2.303: small logits make a nearly uniform guess")
    confident = float(mod.per_example_cross_entropy(30 * z, y).mean())
    expect_true(confident > 4, f"the same logits times 30 give a mean CE of {confident:.3f} nats, expected more than "
                "4: large random logits are confident random guesses, and cost more than log 10")


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
    got = mod.accuracy(z, targets)
    value = expect_number(got, "accuracy(10 x 10 logits, targets)")
    expect_close(value, 0.7, "accuracy(10 x 10 logits with 7 rows right, targets)",
                 mistakes=[(wrong_axis, "argmax over the wrong axis: dim=0 picks an example per class; the "
                            "prediction of each example is the argmax over its classes, dim=1"),
                           (7.0, "that is the number right: accuracy is the fraction (the mean)"),
                           (0.3, "that is the error rate, the fraction wrong")])
    expect_true(isinstance(got, float), f"accuracy(...) returned a {type(got).__name__}, expected a Python float: "
                "turn the one-number tensor into a float with .item()")


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
    expect_close(mod.accuracy(z[:3], targets[:3]), 2 / 3, "accuracy([[3, 1, 0], [0, 2, 1], [0, 0, 1]], [0, 1, 1]), "
                 "the TODO's check value")


@pytest.mark.task("11.4")
def test_accuracy_refuses_mismatched_targets(mod):
    z, targets, _ = accuracy_case()
    expect_refusals(mod.accuracy, works=Call(z, targets), refuses=[
        (Call(z, targets[:5], shown="accuracy(10 rows, 5 targets)"), "there are 10 examples but 5 targets")])


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


def check_eval_mode_without_gradients(spy, call):
    expect_true(spy.calls, f"{call} never called the model")
    if any(training for _, training, _ in spy.calls):
        fail(f"{call} ran the model in training mode (model.training was True): dropout was still dropping "
             "units, so the numbers come out noisy and too pessimistic; call model.eval() first")
    if any(grad for _, _, grad in spy.calls):
        fail(f"{call} ran the model with gradients enabled: measuring must not build an autograd graph "
             "(it costs memory and time, and nothing should learn from it); wrap the forward pass in "
             "`with torch.no_grad():`")


def tiny_model(seed=1, n_pixels=16, n_classes=10, dropout=0.5):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(n_pixels, n_classes))


def tiny_data(n=10, size=4, n_classes=10, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, size, size, generator=generator), torch.randint(0, n_classes, (n,), generator=generator)


def oracle_evaluate(model, X, y):
    """Mean CE, accuracy and per-example CE, in eval mode and without gradients."""
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
    check_eval_mode_without_gradients(spy, "evaluate()")
    expect_true(not getattr(per, "requires_grad", False),
                "evaluate()'s per-example CE requires grad: compute it under torch.no_grad()")
    expect_true(not spy.training, "evaluate() left the model in training mode: it must leave it in eval mode")


@pytest.mark.task("11.5")
def test_evaluate_returns_mean_ce_accuracy_and_per_example_ce(mod):
    X, y = tiny_data()
    model = tiny_model()
    result = mod.evaluate(model, X, y)
    expect_true(isinstance(result, tuple) and len(result) == 3,
                f"evaluate() returned {type(result).__name__}, expected a tuple (mean CE, accuracy, per-example CE)")
    mean_ce, acc, per = result
    expected_mean, expected_acc, expected_per = oracle_evaluate(tiny_model(), X, y)
    expect_close(mean_ce, expected_mean, "evaluate(model, X, y)[0], the mean CE", rtol=1e-5,
                 mistakes=[(float(expected_per.sum()), "that is the sum over the examples: return the mean")])
    expect_close(acc, expected_acc, "evaluate(model, X, y)[1], the accuracy")
    expect_close(per, expected_per, "evaluate(model, X, y)[2], the per-example CE", rtol=1e-5)
    for value, what in ((mean_ce, "mean CE"), (acc, "accuracy")):
        expect_true(isinstance(value, float), f"evaluate()'s {what} is a {type(value).__name__}, expected a Python "
                    "float (.item())")


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
    chunk_means = float(torch.stack([chunk.mean() for chunk in torch.as_tensor(expected_per).split(3)]).mean())
    expect_close(mean_ce, expected_mean, "evaluate(..., batch_size=3)[0]", rtol=1e-5, mistakes=[
        (chunk_means, "that is the plain mean of the 4 chunks' means: the last chunk holds 1 example, not 3, so "
                      "average over the examples (sum the chunks' CE, divide once by N)")])


@pytest.mark.task("11.5")
def test_evaluate_refuses_mismatched_data(mod):
    X, y = tiny_data()
    expect_refusals(mod.evaluate, works=Call(tiny_model(), X, y), refuses=[
        (Call(tiny_model(), X, y[:4], shown="evaluate(model, 10 images, 4 labels)"), "every image needs one label")])


# --- 11.6 train_epoch --------------------------------------------------------------------------


def oracle_epoch(start, X, y, order, **mistake):
    """One epoch of SGD (lr 0.1, batches of 4) from a copy of ``start`` in ``order``: (mean CE, weights after)."""
    model = copy.deepcopy(start)
    mean = minibatch_epoch(model, X, y, torch.optim.SGD(model.parameters(), lr=0.1), batch_size=4, order=order,
                           **mistake)
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
    weights = flat_parameters(model)
    randperm = torch.randperm(10, generator=torch.Generator().manual_seed(0))
    loader = dataloader_order(10, torch.Generator().manual_seed(0))
    expected, expected_weights = oracle_epoch(start, X, y, randperm)
    by_loader, loader_weights = oracle_epoch(start, X, y, loader)
    if np.allclose(weights, loader_weights, rtol=1e-5, atol=1e-6):  # a DataLoader's order: accepted as well
        expected, expected_weights = by_loader, loader_weights
    variants = {name: oracle_epoch(start, X, y, randperm if name != "unshuffled" else torch.arange(10), **kwargs)
                for name, kwargs in {"unshuffled": {}, "accumulated": {"zero_grad": False}, "summed": {"reduction": "sum"},
                                     "softmax": {"softmax_first": True}, "unweighted": {"weighted": False}}.items()}
    expect_close(weights, expected_weights, "the weights after train_epoch(10 examples, batch_size=4, SGD lr 0.1)",
                 rtol=1e-5, atol=1e-6, mistakes=[
                     (variants["unshuffled"][1], "the batches were taken in order 0..9: shuffle with "
                      "torch.randperm(len(y), generator=generator) (or a DataLoader with shuffle=True)"),
                     (variants["accumulated"][1], "optimizer.zero_grad() is missing: each step used the gradients "
                      "of every batch so far"),
                     (variants["summed"][1], "the loss was summed over the batch: use F.cross_entropy's default "
                      "reduction='mean'"),
                     (variants["softmax"][1], "softmax was applied before F.cross_entropy: it applies log_softmax "
                      "itself, give it the raw logits")])
    expect_close(got, expected, "train_epoch(...)'s returned mean CE", rtol=1e-5, mistakes=[
        (variants["unweighted"][0], "that is the plain mean of the 3 batch losses, but the last batch has only 2 "
         "of the 10 examples: weight each batch loss by its size"),
        (expected * 10 / 4, "divide by the number of examples N, not batch_size")])
    expect_true(isinstance(got, float), "train_epoch() must return a Python float (.item() on each batch's loss)")


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

FIT_SLICE = (20, 6, 0)  # 200 training and 60 validation digits


def oracle_fit(model, data, epochs, lr=0.01, batch_size=64, seed=0, tracked=(1, 7), record_before=False,
               tracked_from_training=False):
    """fit() as the TODO describes it, written independently; the switches make two named mistakes
    (record_before: measure before each epoch's training; tracked_from_training: track training digits)."""
    X_train, y_train = tensors(data.X_train, data.y_train)
    X_val, y_val = tensors(data.X_val, data.y_val)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    rows, running = [], []

    def measure():
        train_ce, train_acc, _ = oracle_evaluate(model, X_train, y_train)
        val_ce, val_acc, per = oracle_evaluate(model, X_val, y_val)
        if tracked_from_training:
            per = oracle_evaluate(model, X_train, y_train)[2]
        return train_ce, train_acc, val_ce, val_acc, per[list(tracked)].tolist()

    for epoch in range(epochs + 1):
        before = measure() if record_before else None
        if epoch > 0:
            order = torch.randperm(len(y_train), generator=generator)
            running.append(minibatch_epoch(model, X_train, y_train, optimizer, batch_size=batch_size, order=order))
        rows.append(before or measure())
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
    data = digits(FIT_SLICE)
    lines = []
    call = "fit(model, 200 digits, epochs=3, tracked=(1, 7))"
    got = history_of(mod.fit(oracle_mlp(), data, epochs=3, lr=0.01, batch_size=64, seed=0, tracked=(1, 7),
                             log=lines.append), call)
    expected, running = oracle_fit(oracle_mlp(), data, epochs=3)
    before, _ = oracle_fit(oracle_mlp(), data, epochs=3, record_before=True)
    from_training, _ = oracle_fit(oracle_mlp(), data, epochs=3, tracked_from_training=True)
    missing_row0 = {(3,): "row 0 (the untrained network, before any training) is missing: epochs + 1 rows"}
    got_val = np.asarray(got["val_ce"], dtype=float)
    if got_val.shape == (4,) and np.allclose(got_val[:3], expected["val_ce"][1:], rtol=1e-4):
        fail(f"{call}['val_ce'] returned {np.round(got_val, 6).tolist()}: each row is one epoch late; row 0 must be "
             "the untrained network (at epoch 0 skip train_epoch and only record)")
    expect_close(got["val_ce"], expected["val_ce"], f"{call}['val_ce']", rtol=1e-4, shape_diagnoses=missing_row0,
                 mistakes=[(before["val_ce"], "each row was measured before that epoch's training: train first, then "
                            "evaluate, so row k is the network after k epochs")])
    expect_close(got["train_ce"], expected["train_ce"], f"{call}['train_ce']", rtol=1e-4, shape_diagnoses=missing_row0,
                 mistakes=[(np.r_[expected["train_ce"][0], running], "that is train_epoch's running mean (dropout on, "
                            "weights moving within the epoch): record evaluate() on the training set after the epoch")])
    expect_close(got["val_acc"], expected["val_acc"], f"{call}['val_acc']", shape_diagnoses=missing_row0)
    expect_close(got["train_acc"], expected["train_acc"], f"{call}['train_acc']", shape_diagnoses=missing_row0)
    expect_close(got["tracked_ce"], expected["tracked_ce"], f"{call}['tracked_ce'] (validation examples 1 and 7)",
                 rtol=1e-4, shape_diagnoses={(4, 60): "that is every validation example: record only the tracked "
                                             "ones, per[tracked]", (4, 200): "that is every training example: record "
                                             "the validation CE of the tracked examples only"},
                 mistakes=[(from_training["tracked_ce"], "those are training digits 1 and 7: `tracked` indexes the "
                            "validation set, so take the per-example CE of evaluate() on (X_val, y_val)")])
    expect_true(len(lines) == 4, f"fit(..., epochs=3, log=...) logged {len(lines)} lines, expected 4 (epochs 0 to 3)")


@TRAINS
@pytest.mark.task("11.7")
def test_the_untrained_network_guesses_uniformly(mod):
    run = mod.figure_run()
    history = history_of(run.history, "figure_run()")
    X_val, y_val = tensors(run.data.X_val, run.data.y_val)
    untrained_val, _, _ = oracle_evaluate(oracle_mlp(), X_val, y_val)
    if history["val_ce"][0] < 2.0:
        fail(f"the validation CE at epoch 0 is {history['val_ce'][0]:.4f} nats, far below the log 10 = 2.303 nats of "
             "an untrained network: row 0 must be recorded before any training (skip train_epoch at epoch 0)")
    expect_close(history["val_ce"][0], untrained_val, "the validation CE at epoch 0 (untrained)", rtol=1e-4)
    expect_true(abs(history["val_ce"][0] - LOG10) < 0.02,
                f"the untrained network's validation CE is {history['val_ce'][0]:.3f} nats; a uniform guess over 10 "
                "digits costs log 10 = 2.303 nats")


@TRAINS
@pytest.mark.task("11.7")
def test_training_on_the_digits_works(mod):
    run = mod.figure_run()
    history = history_of(run.history, "figure_run()")
    epochs = len(run.history["val_ce"]) - 1
    expect_true(history["train_ce"][-1] < 0.05,
                f"after {epochs} epochs the training CE is {history['train_ce'][-1]:.4f} nats; it should fall below 0.05")
    expect_true(history["val_acc"][-1] >= 0.85, f"the final validation accuracy is {history['val_acc'][-1]:.4f}, "
                "expected at least 0.85 (600 training digits)")
    _, test_acc, _ = oracle_evaluate(run.model, *tensors(run.data.X_test, run.data.y_test))
    expect_true(test_acc >= 0.85, f"the trained MLP's test accuracy is {test_acc:.4f}, expected at least 0.85")
    _, _, per = oracle_evaluate(run.model, *tensors(run.data.X_val, run.data.y_val))
    expect_close(history["tracked_ce"][-1], per[list(run.tracked)], "the tracked examples' CE at the last epoch",
                 rtol=1e-4)


@TRAINS
@pytest.mark.task("11.7")
def test_fit_refuses_bad_settings(mod):
    data = digits(FIT_SLICE)
    expect_refusals(mod.fit, works=Call(oracle_mlp(), data, epochs=1, tracked=(0,)), refuses=[
        (Call(oracle_mlp(), data, epochs=1, tracked=(60,), shown="fit(..., tracked=(60,)) with 60 validation digits"),
         "index 60 is past the last one, 59"),
        (Call(oracle_mlp(), data, epochs=0, shown="fit(..., epochs=0)"), "it needs at least one epoch"),
        (Call(oracle_mlp(), data, lr=-0.01, shown="fit(..., lr=-0.01)"), "a negative learning rate climbs the loss"),
        (Call(oracle_mlp(), data, batch_size=0, shown="fit(..., batch_size=0)"), "a batch holds at least one example"),
    ])


@TRAINS
@pytest.mark.task("11.7")
def test_a_double_softmax_stalls_above_1_461_nats_with_decent_accuracy(mod):
    data = digits(FIT_SLICE)
    model = nn.Sequential(oracle_mlp(), nn.Softmax(dim=1))  # the mistake: a softmax before the loss
    history = history_of(mod.fit(model, data, epochs=4), "fit(an MLP ending in a softmax, 200 digits, epochs=4)")
    expect_true(bool(np.all(np.asarray(history["train_ce"]) > DOUBLE_SOFTMAX_FLOOR)),
                f"the training CE of a double softmax fell to {np.min(history['train_ce']):.4f} nats, below "
                "log(1 + 9/e) = 1.461, which cannot happen")
    expect_true(history["val_acc"][-1] > 0.6, f"the double softmax's validation accuracy is {history['val_acc'][-1]:.3f}: "
                "it should still learn (above 0.6); what gives it away is the loss stuck above 1.46 nats")


@TRAINS
@pytest.mark.task("11.7")
def test_fit_logs_its_numbers_to_tensorboard(mod, tmp_path):
    data = digits(FIT_SLICE)
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:
        mod.fit(oracle_mlp(), data, epochs=1)  # the task runs (a stub fails here), only the logging goes unchecked
        pytest.skip("tensorboard is not installed (.venv/bin/pip install -e '.[tensorboard]'; make verify installs "
                    "it), so the TensorBoard logging is not checked")
    history = history_of(mod.fit(oracle_mlp(), data, epochs=2, log_dir=tmp_path),
                         "fit(model, 200 digits, epochs=2, log_dir=...)")
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    tags = events.Tags()["scalars"]
    for key, tag in (("train_ce", "cross_entropy_nats/train"), ("val_ce", "cross_entropy_nats/validation"),
                     ("train_acc", "accuracy/train"), ("val_acc", "accuracy/validation")):
        expect_true(tag in tags, f"the TensorBoard event file has no scalar {tag!r} (it has {sorted(tags)})")
        scalars = events.Scalars(tag)
        expect_true([s.step for s in scalars] == [0, 1, 2], f"TensorBoard's {tag!r} has the steps "
                    f"{[s.step for s in scalars]}, expected one per epoch, 0 to 2")
        expect_close([s.value for s in scalars], history[key], f"TensorBoard's {tag!r} (stored as float32)", rtol=1e-6)


@TRAINS
@pytest.mark.task("11.7")
def test_figure_numbers_training_curves(mod):
    history = history_of(mod.figure_run().history, "figure_run()")
    train_ce, val_ce, val_acc = (np.asarray(history[key]) for key in ("train_ce", "val_ce", "val_acc"))
    expect_true(train_ce[-1] < train_ce[1] / 10, "the training CE should fall by more than 10x from epoch 1 to the "
                f"end, got {train_ce[1]:.3f} -> {train_ce[-1]:.4f}")
    best = int(np.argmin(val_ce))
    expect_true(best <= 10 and val_ce[-1] > 1.1 * val_ce[best], "the lesson says validation CE bottoms out within "
                f"10 epochs and then rises; it is lowest at epoch {best} ({val_ce[best]:.3f}) and ends at {val_ce[-1]:.3f}")
    expect_true(np.ptp(val_acc[best:]) <= 0.05, "the lesson says validation accuracy stays within a few points after "
                f"validation CE bottoms out; it spans {val_acc[best:].min():.3f} to {val_acc[best:].max():.3f}")
    expect_true(np.all(history["train_acc"] <= 1) and np.all(history["train_acc"] >= 0), "accuracy is a fraction in [0, 1]")


@TRAINS
@pytest.mark.task("11.7")
@pytest.mark.mpl_image_compare(filename="module11_training_curves.png")
def test_figure_training_curves(mod):
    return mod.plot_training_curves()


@TRAINS
@pytest.mark.task("11.7")
def test_figure_numbers_tracked_examples(mod):
    """The lesson's words about the five tracked digits, checked on the figure's run."""
    run = mod.figure_run()
    ce = np.asarray(history_of(run.history, "figure_run()")["tracked_ce"], dtype=float)
    expect_shape(ce, (len(run.history["val_ce"]), 5), "figure_run().history['tracked_ce'] (epochs + 1, 5 digits)")
    easy, slow, doubtful, wrong, wrong_too = ce.T
    expect_true(easy[3:].max() < 0.01, "the easy digit's CE should fall below 0.01 nats within 3 epochs and stay "
                f"there, got {np.round(easy, 4).tolist()}")
    expect_true(slow[1:3].min() > math.log(2) and slow[-1] < 0.01, "the slow digit should still be above log 2 after "
                f"two epochs and end below 0.01 nats, got {np.round(slow, 3).tolist()}")
    later = doubtful[2:]
    expect_true(later.min() > 0.15 and later.max() < 2.1 and later.min() < math.log(2) < later.max(),
                "the doubtful digit's CE should swing around log 2 = 0.693, between 0.15 and 2.1 nats, from epoch 2 "
                f"on, got {np.round(later, 3).tolist()}")
    model = run.model.eval()
    with torch.no_grad():
        guesses = model(tensors(run.data.X_val, run.data.y_val)[0][list(run.tracked)]).argmax(dim=1)
    for j, name in ((3, "first"), (4, "second")):
        expect_true(ce[-1, j] > 2 and ce[-1, j] > ce[1, j] and int(guesses[j]) != int(run.data.y_val[run.tracked[j]]),
                    f"the {name} mistake should end misclassified, above 2 nats and above its CE after one epoch, got "
                    f"{np.round(ce[:, j], 2).tolist()}")


@TRAINS
@pytest.mark.task("11.7")
@pytest.mark.mpl_image_compare(filename="module11_tracked_examples.png")
def test_figure_tracked_examples(mod):
    return mod.plot_tracked_examples()


@TRAINS
@pytest.mark.task("11.7")
def test_figure_numbers_batch_sizes(mod):
    sweep = mod.batch_size_sweep()
    expect_true(isinstance(sweep, dict) and sorted(sweep) == [16, 40, 100, 400],
                f"batch_size_sweep() should map the batch sizes 16, 40, 100, 400 to histories, got {show(sorted(sweep))}")
    n, ce = 400, {size: np.asarray(history_of(h, f"batch size {size}")["train_ce"]) for size, h in sweep.items()}
    after_one = [ce[size][1] for size in sorted(ce)]
    expect_true(bool(np.all(np.diff(after_one) > 0)), "after one epoch, the smaller the batch the lower the training "
                f"CE (more steps per epoch): got {np.round(after_one, 3).tolist()} for batches 16, 40, 100, 400")
    for small in sorted(ce):
        for large in [size for size in sorted(ce) if size > small]:
            steps = (len(ce[large]) - 1) * math.ceil(n / large)  # every step the large batch took
            epoch = math.ceil(steps / math.ceil(n / small))  # the first epoch by which the small one took as many
            expect_true(ce[small][epoch] > ce[large][-1], f"after {steps} or more steps, batch {small} should still "
                        f"be above batch {large} (each of its steps is noisier): {ce[small][epoch]:.3f} against "
                        f"{ce[large][-1]:.3f}")
    expect_true(bool(np.any(ce[16][2:] > 1.2 * ce[16][1:-1])), "batches of 16 make noisy steps: their CE should rise "
                f"(by more than 20%) at least once, got {np.round(ce[16], 3).tolist()}")


@TRAINS
@pytest.mark.task("11.7")
@pytest.mark.mpl_image_compare(filename="module11_batch_sizes.png")
def test_figure_batch_sizes(mod):
    return mod.plot_batch_sizes()


# --- 11.8 misclassified ----------------------------------------------------------------------------

LOOKUP = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [3.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 4.0],
                       [0.0, 5.0, 0.0], [0.0, 0.0, 0.0]])
LOOKUP_TARGETS = torch.tensor([0, 0, 2, 1, 2, 1, 2])
# wrong: #1 (CE 2.220050, says 1), #2 (3.094923, says 0), #3 and #6 (log 3 = 1.098612, ties: argmax says 0)


class Lookup(nn.Module):
    """A 'network' whose image i (a 1x1 image holding the number i) gets the logits LOOKUP[i], then dropout."""

    def __init__(self, dropout=0.0):
        super().__init__()
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(LOOKUP[x.flatten(1)[:, 0].long()])


@pytest.mark.task("11.8")
def test_misclassified_ranks_the_wrong_answers_by_cross_entropy(mod):
    X = torch.arange(7.0).reshape(7, 1, 1, 1)
    spy = Spy(Lookup(dropout=0.5))
    spy.train()  # as train_epoch leaves it: dropout on
    torch.manual_seed(0)
    result = mod.misclassified(spy, X, LOOKUP_TARGETS)
    check_eval_mode_without_gradients(spy, "misclassified()")
    expect_true(isinstance(result, tuple) and len(result) == 3,
                f"misclassified() returned {type(result).__name__}, expected (indices, predictions, CE)")
    indices, predicted, ce = result
    for value, what, kinds in ((indices, "indices", (torch.int64,)), (predicted, "predictions", (torch.int64,)),
                               (ce, "CE", (torch.float32, torch.float64))):
        kind = (f"a tensor of {value.dtype}" if torch.is_tensor(value) else
                f"a {type(value).__name__}" + (f" of {value.dtype}" if hasattr(value, "dtype") else ""))
        expect_true(torch.is_tensor(value) and value.dtype in kinds, f"misclassified()'s {what} came back as {kind}, "
                    f"expected a torch tensor of {kinds[0]}")
    call = "misclassified(model, 7 examples of which #1, #2, #3, #6 are wrong)"
    expect_close(indices, [2, 1, 3, 6], f"{call}[0], the indices", shape_diagnoses={
        (7,): "that is every example: keep only those whose prediction differs from the target"},
        mistakes=[([3, 6, 1, 2], "lowest CE first: sort highest first (descending=True)"),
                  ([1, 2, 3, 6], "not sorted: order the wrong answers by their CE, highest first"),
                  ([2, 1, 6, 3], "#3 and #6 have the same CE and must keep their order in X: sort with stable=True"),
                  ([1, 0, 2, 3], "those are positions in the list of wrong answers: return indices into X")])
    expect_close(predicted, [0, 1, 0, 0], f"{call}[1], the predicted digits")
    expect_close(ce, [3.094923, 2.220050, 1.098612, 1.098612], f"{call}[2], the CE in nats", rtol=1e-5)
    expect_true(not ce.requires_grad, "misclassified()'s CE requires grad: compute it under torch.no_grad()")


@pytest.mark.task("11.8")
def test_misclassified_of_a_perfect_model_is_empty(mod):
    X = torch.tensor([0.0, 4.0, 5.0]).reshape(3, 1, 1, 1)
    indices, predicted, ce = mod.misclassified(Lookup(), X, torch.tensor([0, 2, 1]))
    expect_shape(indices, (0,), "misclassified(a model that gets all 3 right)[0]")
    expect_shape(ce, (0,), "misclassified(a model that gets all 3 right)[2]")


@TRAINS
@pytest.mark.task("11.8")
def test_figure_numbers_misclassified_digits(mod):
    run = mod.figure_run()
    images_, true, predicted, ce = mod.misclassified_examples()
    expect_true(len(true) >= 1, "the trained MLP gets every test digit right? The figure expects a few mistakes")
    expect_true(images_.shape[1:] == (28, 28), f"the figure should show 28x28 digits, got {images_.shape[1:]}")
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
