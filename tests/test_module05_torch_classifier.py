"""Module 5: a three-class classifier in PyTorch, and cross-entropy as torch computes it.

Expected values are hand-computed constants (-log softmax([2, 1, .1])[0] =
0.417030, ...) and torch itself (F.cross_entropy, F.nll_loss, a training loop
written here), never the reference. Known mistakes have their own diagnosis.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from kata.given.data import three_blobs
from kata.testing.expect import expect_close, expect_raises, expect_shape, expect_true, fail

MODULE = "module05_torch_classifier"

LOG3 = math.log(3)

# -log softmax of three rows of logits, by hand (float64):
LOGITS = [[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [0.3, 0.2, 3.0]]
NLL = [[0.417030, 1.417030, 2.317030],   # -log softmax([2, 1, .1])
       [2.220050, 0.220050, 2.420050],   # -log softmax([.5, 2.5, .3])
       [2.820460, 2.920460, 0.120460]]   # -log softmax([.3, .2, 3])
L0, L1, L2 = NLL[0][0], NLL[1][1], NLL[2][2]
W = [1.0, 3.0, 1.0]
WEIGHTED_SUM = L0 + 3 * L1           # 1.077179
WEIGHTED_MEAN = 0.269295             # COURSE.md's oracle: 1.077179 / (1 + 3)
WEIGHTED_MEAN_OVER_N = 0.538590      # the naive one: 1.077179 / 2


def t64(values):
    return torch.tensor(values, dtype=torch.float64)


def log_probs(rows=3):
    return torch.log_softmax(t64(LOGITS[:rows]), dim=1)


def targets(values):
    return torch.tensor(values, dtype=torch.long)


def call_nll(mod, lp, y, call, **kwargs):
    """nll_loss_manual, with one sentence for the classic crash of indexing with an ignored target."""
    try:
        return mod.nll_loss_manual(lp, y, **kwargs)
    except IndexError as error:
        fail(f"{call} raised IndexError ({error}): an ignored target such as -100 is not a valid index. "
             "Replace ignored targets by 0 before indexing (torch.where), then zero those rows with a mask")


def expect_tensor(got, call):
    if not isinstance(got, torch.Tensor):
        fail(f"{call} returned {type(got).__name__}, expected a torch tensor: stay in torch (no .item(), no numpy) "
             "so that loss.backward() can flow through it")
    return got


# --- 5.1 per-row losses ----------------------------------------------------------


@pytest.mark.task("5.1")
def test_per_row_losses_pick_each_rows_target(mod):
    call = "nll_loss_manual(log_softmax(logits), [0, 1, 2], reduction='none')"
    got = expect_tensor(call_nll(mod, log_probs(), targets([0, 1, 2]), call, reduction="none"), call)
    got = expect_shape(got, (3,), call, diagnoses={
        (3, 3): "log_probs[:, targets] takes every target for every row; pick one entry per row with "
                "log_probs[torch.arange(N), targets]",
        (): "reduction='none' returns one loss per row, not their sum or mean"})
    expect_close(got, [L0, L1, L2], call, rtol=1e-5, mistakes=[
        ([-L0, -L1, -L2], "the losses are negative: the loss is MINUS the log-probability of the target"),
        ([L0, NLL[0][1], NLL[0][2]], "every value comes from row 0: index row i with i (torch.arange(N)), not 0")])


@pytest.mark.task("5.1")
def test_per_row_losses_are_weighted_by_the_target_class(mod):
    weight = t64([1.0, 3.0, 2.0])
    y = targets([0, 1, 0])
    call = "nll_loss_manual(log_probs, [0, 1, 0], weight=[1, 3, 2], reduction='none')"
    got = call_nll(mod, log_probs(), y, call, weight=weight, reduction="none")
    expect_close(got, [L0, 3 * L1, NLL[2][0]], call, rtol=1e-5, mistakes=[
        ([L0, L1, NLL[2][0]], "the weights are ignored: multiply row i by weight[targets[i]]"),
        ([L0, 3 * L1, 2 * NLL[2][0]], "row i was weighted by weight[i]; weight holds one weight per CLASS: "
                                      "use weight[targets[i]]")])


@pytest.mark.task("5.1")
def test_ignored_rows_have_zero_loss(mod):
    call = "nll_loss_manual(log_probs, [0, 1, -100], reduction='none')"
    got = call_nll(mod, log_probs(), targets([0, 1, -100]), call, reduction="none")
    expect_close(got, [L0, L1, 0.0], call, rtol=1e-5, atol=1e-12, mistakes=[
        ([L0, L1, NLL[2][0]], "the ignored row got the loss of class 0: after replacing the ignored target by 0, "
                              "zero that row (its weight) with the mask targets != ignore_index"),
        ([L0, L1, NLL[2][2]], "the ignored row got the loss of the last class (index -100 wrapped around?): "
                              "ignored rows must be exactly 0")])
    call = "nll_loss_manual(log_probs, [0, 1, 2], ignore_index=1, reduction='none')"
    got = call_nll(mod, log_probs(), targets([0, 1, 2]), call, ignore_index=1, reduction="none")
    expect_close(got, [L0, 0.0, L2], call, rtol=1e-5, atol=1e-12, mistakes=[
        ([L0, L1, L2], "nothing was ignored: compare the targets with the ignore_index parameter, not with -100")])


@pytest.mark.task("5.1")
def test_nll_loss_manual_refuses_bad_input(mod):
    lp, y = log_probs(2), targets([0, 1])
    mod.nll_loss_manual(lp, y, reduction="none")  # the function must work before its checks matter
    logits = t64(LOGITS[:2])
    expect_raises(ValueError, mod.nll_loss_manual, logits, y, call="nll_loss_manual(raw logits, y)",
                  why="raw logits are not log-probabilities (each row's exp must sum to 1)")
    expect_raises(ValueError, mod.nll_loss_manual, lp, t64([0.0, 1.0]), call="nll_loss_manual(lp, float targets)",
                  why="targets are class indices, an integer tensor")
    expect_raises(ValueError, mod.nll_loss_manual, lp, targets([0, 1, 2]), call="nll_loss_manual(2 rows, 3 targets)",
                  why="there must be one target per row")
    expect_raises(ValueError, mod.nll_loss_manual, lp, targets([0, 3]), call="nll_loss_manual(3 classes, target 3)",
                  why="3 is not a class index in [0, 3)")
    expect_raises(ValueError, mod.nll_loss_manual, lp, y, weight=t64([1.0, 2.0]),
                  call="nll_loss_manual(3 classes, weight of 2)", why="weight needs one entry per class")
    expect_raises(ValueError, mod.nll_loss_manual, lp, y, weight=t64([1.0, -1.0, 1.0]),
                  call="nll_loss_manual(weight=[1, -1, 1])", why="a class weight cannot be negative")
    expect_raises(ValueError, mod.nll_loss_manual, torch.zeros(0, 3), targets([]),
                  call="nll_loss_manual(empty)", why="there is no example")
    expect_raises(ValueError, mod.nll_loss_manual, lp, y, reduction="average",
                  call="nll_loss_manual(reduction='average')", why="reduction is 'mean', 'sum' or 'none'")


# --- 5.2 the reductions ------------------------------------------------------------------


@pytest.mark.task("5.2")
def test_sum_and_mean_without_weights(mod):
    lp, y = log_probs(2), targets([0, 1])
    call = "nll_loss_manual(log_probs, [0, 1], reduction='sum')"
    expect_close(expect_tensor(mod.nll_loss_manual(lp, y, reduction="sum"), call), L0 + L1, call,
                 mistakes=[((L0 + L1) / 2, "that is the mean: reduction='sum' adds the per-row losses")])
    call = "nll_loss_manual(log_probs, [0, 1])  (reduction='mean')"
    expect_close(expect_tensor(mod.nll_loss_manual(lp, y), call), (L0 + L1) / 2, call,
                 mistakes=[(L0 + L1, "a sum was returned for a mean: divide by the sum of the per-row weights "
                                     "(here 2 rows of weight 1)")])


@pytest.mark.task("5.2")
def test_weighted_mean_divides_by_the_sum_of_the_weights(mod):
    lp, y, w = log_probs(2), targets([0, 1]), t64(W)
    call = "nll_loss_manual(log_probs, [0, 1], weight=[1, 3, 1], reduction='sum')"
    expect_close(mod.nll_loss_manual(lp, y, weight=w, reduction="sum"), WEIGHTED_SUM, call,
                 mistakes=[(L0 + L1, "the weights are ignored: multiply row i by weight[targets[i]]")])
    call = "nll_loss_manual(log_probs, [0, 1], weight=[1, 3, 1])  (reduction='mean')"
    expect_close(mod.nll_loss_manual(lp, y, weight=w), WEIGHTED_MEAN, call, mistakes=[
        (WEIGHTED_MEAN_OVER_N, "the weighted mean was divided by N = 2. It is a weighted average: "
                               "divide by the sum of the targets' weights, 1 + 3 = 4"),
        (WEIGHTED_SUM, "a sum was returned for a mean: divide by the sum of the targets' weights, 1 + 3 = 4"),
        ((L0 + L1) / 2, "the weights are ignored: multiply row i by weight[targets[i]]"),
        (WEIGHTED_SUM / 5, "you divided by the sum of ALL class weights (1 + 3 + 1); divide by the weights of the "
                           "rows' targets only, 1 + 3 = 4")])


@pytest.mark.task("5.2")
def test_ignored_rows_leave_the_denominator(mod):
    lp, y = log_probs(3), targets([0, 1, -100])
    call = "nll_loss_manual(log_probs, [0, 1, -100])  (reduction='mean')"
    got = call_nll(mod, lp, y, call)
    expect_close(got, (L0 + L1) / 2, call, mistakes=[
        ((L0 + L1) / 3, "ignored targets were counted in the mean: 3 rows, but only 2 count. "
                        "Divide by the sum of the per-row weights, which is 0 for ignored rows"),
        (L0 + L1, "a sum was returned for a mean"),
        ((L0 + L1 + NLL[2][0]) / 3, "the ignored row was counted, with the loss of class 0: its loss and its "
                                    "weight must both be 0 (mask with targets != ignore_index)")])
    call = "nll_loss_manual(log_probs, [0, 1, -100], weight=[1, 3, 1])  (reduction='mean')"
    got = call_nll(mod, lp, y, call, weight=t64(W))
    expect_close(got, WEIGHTED_MEAN, call, mistakes=[
        (WEIGHTED_SUM / 3, "the weighted mean was divided by N = 3 (and the ignored row counted): divide by the "
                           "sum of the weights of the rows that count, 1 + 3 = 4"),
        (WEIGHTED_SUM / 5, "ignored targets were counted in the mean: the ignored row added the weight of class 0 "
                           "to the denominator. Zero the weight of ignored rows before summing the weights"),
        (WEIGHTED_SUM, "a sum was returned for a mean")])


@pytest.mark.task("5.2")
@given(data=st.data())
def test_nll_loss_manual_equals_torch_in_every_mode(mod, data):
    case = data.draw(loss_cases())
    lp = torch.log_softmax(case["logits"], dim=1)
    kwargs = {k: case[k] for k in ("weight", "ignore_index", "reduction")}
    expected = F.nll_loss(lp, case["targets"], **kwargs)
    call = f"nll_loss_manual({case_words(case)})"
    expect_close(call_nll(mod, lp, case["targets"], call, **kwargs), expected.numpy(), call, rtol=1e-7, atol=1e-10,
                 mistakes=reduction_mistakes(case, lp))


# --- 5.3 cross_entropy_manual -----------------------------------------------------------------


@pytest.mark.task("5.3")
def test_the_course_example_in_every_reduction(mod):
    logits, y, w = t64(LOGITS[:2]), targets([0, 1]), t64(W)
    for reduction, expected in (("none", [L0, 3 * L1]), ("sum", WEIGHTED_SUM), ("mean", WEIGHTED_MEAN)):
        call = f"cross_entropy_manual([[2, 1, .1], [.5, 2.5, .3]], [0, 1], weight=[1, 3, 1], reduction={reduction!r})"
        got = expect_tensor(mod.cross_entropy_manual(logits, y, weight=w, reduction=reduction), call)
        expect_close(got, expected, call, rtol=1e-5, mistakes=[
            (WEIGHTED_MEAN_OVER_N, "the weighted mean was divided by N: divide by the sum of the targets' weights"),
            (WEIGHTED_SUM, "a sum was returned for a mean")])
        torch_value = F.cross_entropy(logits, y, weight=w, reduction=reduction)
        expect_close(torch_value, expected, f"F.cross_entropy(..., reduction={reduction!r}) (the oracle)", rtol=1e-5)
        expect_close(F.nll_loss(F.log_softmax(logits, dim=1), y, weight=w, reduction=reduction), torch_value,
                     "F.nll_loss(F.log_softmax(logits)) (torch's own split)", rtol=1e-12)


@pytest.mark.task("5.3")
def test_equal_logits_cost_log_of_the_class_count(mod):
    expect_close(mod.cross_entropy_manual(torch.zeros(5, 3), targets([0, 1, 2, 0, 1])), LOG3,
                 "cross_entropy_manual(all-zero logits, 3 classes)", rtol=1e-6,
                 mistakes=[(1 / 3, "that is the probability 1/3; the loss is its surprisal -log(1/3) = log 3"),
                           (5 * LOG3, "a sum was returned for a mean (5 rows of log 3)")])
    expect_close(mod.cross_entropy_manual(torch.zeros(2, 10), targets([4, 9])), math.log(10),
                 "cross_entropy_manual(all-zero logits, 10 classes)", rtol=1e-6)


@pytest.mark.task("5.3")
def test_extreme_logits_stay_finite(mod):
    logits = t64([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0]])
    call = "cross_entropy_manual([[1000, 0, -1000], [0, 1000, 0]], [2, 1], reduction='none')"
    expect_close(mod.cross_entropy_manual(logits, targets([2, 1]), reduction="none"), [2000.0, 0.0], call,
                 rtol=1e-9, atol=1e-9, mistakes=[
                     ([np.inf, 0.0], "softmax underflowed to 0 and log 0 = -inf: use torch.log_softmax, "
                                     "not torch.log(torch.softmax(...))")])


@pytest.mark.task("5.3")
def test_the_gradient_flows_back_to_the_logits(mod):
    logits = t64(LOGITS[:2]).requires_grad_()
    y, w = targets([0, 1]), t64(W)
    loss = expect_tensor(mod.cross_entropy_manual(logits, y, weight=w), "cross_entropy_manual(logits, y, weight=w)")
    expect_true(loss.requires_grad, "cross_entropy_manual(...) lost the graph (no grad_fn): compute it with torch "
                "operations only, without .item(), .detach(), numpy or torch.tensor(...) of a result")
    loss.backward()
    reference = t64(LOGITS[:2]).requires_grad_()
    F.cross_entropy(reference, y, weight=w).backward()
    expected = reference.grad.numpy()
    expect_close(logits.grad, expected, "d cross_entropy_manual / d logits", rtol=1e-7, atol=1e-12, mistakes=[
        (2 * expected, "the gradient is twice torch's: the weighted mean was divided by N = 2 instead of the sum "
                       "of the targets' weights, 1 + 3 = 4"),
        (4 * expected, "the gradient is 4x torch's: a sum was returned for a mean")])


@pytest.mark.task("5.3")
@given(data=st.data())
def test_cross_entropy_manual_equals_torch_in_every_mode(mod, data):
    case = data.draw(loss_cases())
    kwargs = {k: case[k] for k in ("weight", "ignore_index", "reduction")}
    expected = F.cross_entropy(case["logits"], case["targets"], **kwargs)
    call = f"cross_entropy_manual({case_words(case)})"
    got = mod.cross_entropy_manual(case["logits"], case["targets"], **kwargs)
    expect_close(got, expected.numpy(), call, rtol=1e-7, atol=1e-10,
                 mistakes=reduction_mistakes(case, torch.log_softmax(case["logits"], dim=1)))


@pytest.mark.task("5.3")
def test_cross_entropy_manual_refuses_bad_input(mod):
    logits, y = t64(LOGITS[:2]), targets([0, 1])
    mod.cross_entropy_manual(logits, y)  # the function must work before its checks matter
    expect_raises(ValueError, mod.cross_entropy_manual, t64([2.0, 1.0, 0.1]), targets([0]),
                  call="cross_entropy_manual(logits of shape (3,), ...)", why="logits must have shape (N, C)")
    expect_raises(ValueError, mod.cross_entropy_manual, logits, targets([0, 5]),
                  call="cross_entropy_manual(3 classes, target 5)", why="5 is not a class index")
    expect_raises(ValueError, mod.cross_entropy_manual, logits, y, reduction="batchmean",
                  call="cross_entropy_manual(reduction='batchmean')", why="reduction is 'mean', 'sum' or 'none'")


# --- hypothesis cases: every combination of weight, ignore_index and reduction --------


@st.composite
def loss_cases(draw):
    n = draw(st.integers(1, 6))
    c = draw(st.integers(2, 5))
    values = draw(st.lists(st.floats(-10, 10), min_size=n * c, max_size=n * c))
    logits = t64(values).reshape(n, c)
    ignore_index = draw(st.sampled_from([-100, 0, c - 1]))
    y = draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n))
    ignored = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    y = [ignore_index if skip else t for t, skip in zip(y, ignored)]
    counted = [i for i, t in enumerate(y) if t != ignore_index]
    if not counted:  # keep one row that counts: an all-ignored mean is 0/0
        y[0] = draw(st.sampled_from([k for k in range(c) if k != ignore_index]))
    weight = draw(st.one_of(st.none(), st.lists(st.floats(0.1, 5), min_size=c, max_size=c).map(t64)))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    return {"logits": logits, "targets": targets(y), "weight": weight, "ignore_index": ignore_index,
            "reduction": reduction}


def case_words(case):
    weight = "None" if case["weight"] is None else np.array2string(case["weight"].numpy(), precision=3)
    return (f"logits of shape {tuple(case['logits'].shape)}, targets={case['targets'].tolist()}, weight={weight}, "
            f"ignore_index={case['ignore_index']}, reduction={case['reduction']!r}")


def reduction_mistakes(case, lp):
    """What the listed mistakes give for this case, with their diagnosis (scalars only)."""
    y, ignore_index, reduction = case["targets"], case["ignore_index"], case["reduction"]
    if reduction != "mean":
        return []
    n, c = lp.shape
    keep = y != ignore_index
    safe = torch.where(keep, y, torch.zeros_like(y))
    class_weight = case["weight"] if case["weight"] is not None else torch.ones(c, dtype=lp.dtype)
    w = class_weight[safe] * keep
    total = float((-w * lp[torch.arange(n), safe]).sum())
    over_n, counting_ignored = total / n, total / float(class_weight[safe].sum())
    mistakes = []
    if not keep.all():
        also = f" (that is also dividing by N = {n})" if math.isclose(over_n, counting_ignored, rel_tol=1e-9) else ""
        mistakes.append((counting_ignored, "ignored targets were counted in the mean" + also + ": ignored rows weigh 0 "
                                           "and must leave the denominator too"))
    mistakes += [
        (over_n, f"the mean was divided by N = {n}: divide by the sum of the per-row weights w[y_i] of the rows "
                 "that count"),
        (total, "a sum was returned for a mean"),
    ]
    return mistakes


# --- 5.4 and 5.5 the models ------------------------------------------------------------------


def oracle_linear(seed=0):
    torch.manual_seed(seed)
    return nn.Linear(2, 3)


def oracle_mlp(hidden=16, seed=0, relu=True):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU() if relu else nn.Identity(), nn.Linear(hidden, 3))


POINTS = torch.tensor([[0.0, 0.0], [3.0, 3.0], [-3.0, 3.0], [1.5, -0.5]])


def model_outputs(model, call):
    if not isinstance(model, nn.Module):
        fail(f"{call} returned {type(model).__name__}, expected a torch.nn.Module")
    with torch.no_grad():
        return model(POINTS)


def expect_seeded(factory, call):
    """Two calls, with torch's random state moved on in between, must give the same model."""
    first = model_outputs(factory(), call)
    torch.rand(5)
    again = model_outputs(factory(), call)
    expect_true(first.shape == again.shape and torch.equal(first, again),
                f"{call} gave different weights on two calls: call torch.manual_seed(seed) first, before creating "
                "the layers, so every run (and every figure) starts from the same weights")


@pytest.mark.task("5.4")
def test_linear_model_is_a_seeded_linear_layer_2_to_3(mod):
    model = mod.make_linear_model(seed=0)
    out = model_outputs(model, "make_linear_model()")
    out = expect_shape(out, (4, 3), "make_linear_model()(4 points)",
                       diagnoses={(4, 2): "the model outputs 2 numbers per point; it needs 3, one logit per class"})
    shapes = sorted(tuple(p.shape) for p in model.parameters())
    expect_true(shapes == [(3,), (3, 2)], f"make_linear_model() has parameters of shapes {shapes}, expected a weight "
                "(3, 2) and a bias (3,): nn.Linear(2, 3), in_features first")
    expect_seeded(lambda: mod.make_linear_model(seed=0), "make_linear_model(seed=0)")
    oracle = oracle_linear(0)
    with torch.no_grad():
        expected = oracle(POINTS)
    expect_close(out, expected.numpy(), "make_linear_model(seed=0)(points)", rtol=1e-6, mistakes=[
        (torch.softmax(expected, dim=1).numpy(), "the model ends with a softmax: it must output raw logits "
                                                 "(nn.CrossEntropyLoss applies log_softmax itself)")])
    with torch.no_grad():
        expected = oracle_linear(7)(POINTS)
    expect_close(model_outputs(mod.make_linear_model(seed=7), "make_linear_model(seed=7)"), expected.numpy(),
                 "make_linear_model(seed=7)(points)", rtol=1e-6, mistakes=[
                     (out, "seed=7 gave the same model as seed=0: call torch.manual_seed(seed) with the seed passed in")])


@pytest.mark.task("5.5")
def test_mlp_is_linear_relu_linear_seeded(mod):
    for hidden, seed in ((16, 0), (8, 3)):
        call = f"make_mlp(hidden={hidden}, seed={seed})"
        model = mod.make_mlp(hidden=hidden, seed=seed)
        out = expect_shape(model_outputs(model, call), (4, 3), f"{call}(4 points)")
        count = sum(p.numel() for p in model.parameters())
        expected_count = 2 * hidden + hidden + hidden * 3 + 3
        expect_true(count == expected_count, f"{call} has {count} parameters, expected {expected_count}: "
                    f"Linear(2, {hidden}) -> ReLU -> Linear({hidden}, 3)")
        expect_seeded(lambda hidden=hidden, seed=seed: mod.make_mlp(hidden=hidden, seed=seed), call)
        with torch.no_grad():
            expected = oracle_mlp(hidden, seed)(POINTS)
            linear_only = oracle_mlp(hidden, seed, relu=False)(POINTS)
        expect_close(out, expected.numpy(), f"{call}(points)", rtol=1e-6, mistakes=[
            (torch.softmax(expected, dim=1).numpy(), "the MLP ends with a softmax: it must output raw logits "
                                                     "(nn.CrossEntropyLoss applies log_softmax itself)"),
            (linear_only.numpy(), "the ReLU is missing: two linear layers in a row are just one linear map"),
        ])


# --- 5.6 train ------------------------------------------------------------------------------------


def small_blobs(n_per_class=20):
    X, y = three_blobs(n_per_class, seed=1)
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.long)


def oracle_history(model, X, y, lr, epochs, zero_grad=True, record_after=False):
    """Gradient descent written out here, plus two known mistakes as switches."""
    history = []
    for _ in range(epochs):
        if zero_grad:
            for p in model.parameters():
                p.grad = None
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
            if record_after:
                loss = F.cross_entropy(model(X), y)
        history.append(loss.item())
    return history


def learner_history(mod, model, X, y, call, **kwargs):
    history = mod.train(model, X, y, **kwargs)
    if not isinstance(history, (list, tuple)):
        fail(f"{call} returned {type(history).__name__}, expected a list of floats, one loss per epoch")
    if history and isinstance(history[0], torch.Tensor):
        fail(f"{call} returned a list of tensors: append loss.item() (a Python float), not the loss tensor, "
             "which would keep every epoch's graph alive")
    return history


@pytest.mark.task("5.6")
def test_train_is_full_batch_gradient_descent(mod):
    X, y = small_blobs()
    lr, epochs = 0.05, 30
    call = f"train(linear model, 60 points, lr={lr}, epochs={epochs})"
    got = learner_history(mod, oracle_linear(0), X, y, call, lr=lr, epochs=epochs)
    got = expect_shape(got, (epochs,), call + "'s history", diagnoses={
        (epochs - 1,): "one loss is missing: record every epoch's loss"})
    expected = oracle_history(oracle_linear(0), X, y, lr, epochs)
    expect_close(got, expected, call, rtol=1e-5, mistakes=[
        (oracle_history(oracle_linear(0), X, y, lr, epochs, zero_grad=False),
         "the gradients are never zeroed: backward() ADDS into p.grad, so every step used the sum of all the "
         "gradients so far. Call model.zero_grad() at the start of each epoch"),
        (oracle_history(oracle_linear(0), X, y, lr, epochs, record_after=True),
         "you recorded the loss after the update; record the loss the gradient was computed from (before the step)"),
        (oracle_history(oracle_linear(0), X, y, 0.1, epochs),
         "that is training with lr = 0.1: use the lr passed in"),
        ([expected[0]] * epochs, "the loss never changes: the parameters are not updated (p -= lr * p.grad inside "
                                 "torch.no_grad(), and not on a copy)"),
    ])


@pytest.mark.task("5.6")
def test_train_zeroes_the_gradients_every_epoch(mod):
    X, y = small_blobs()
    model = oracle_linear(0)
    before = [p.detach().clone() for p in model.parameters()]
    mod.train(model, X, y, lr=0.0, epochs=3)
    for old, new in zip(before, model.parameters()):
        expect_true(torch.equal(old, new.detach()), "train(..., lr=0) changed the parameters: the step is "
                    "p -= lr * p.grad, which does nothing when lr = 0")
    once = oracle_linear(0)
    F.cross_entropy(once(X), y).backward()
    for (name, p), q in zip(model.named_parameters(), once.parameters()):
        if p.grad is None or not p.grad.abs().sum() > 0:
            continue  # zeroed at the end of each epoch: fine
        for k in (3, 2):
            if torch.allclose(p.grad, k * q.grad, rtol=1e-4, atol=1e-7):
                fail(f"after train(..., lr=0, epochs=3) the {name}'s .grad is {k}x the gradient of one epoch: "
                     "the gradients are never zeroed, so backward() piles them up. Call model.zero_grad() at the "
                     "start of each epoch")
        expect_close(p.grad, q.grad.numpy(), f"the {name}'s .grad after train(..., lr=0, epochs=3)", rtol=1e-4,
                     atol=1e-7)


def blank_linear():
    """A linear model whose logits are all 0: it gives every class probability 1/3."""
    model = nn.Linear(2, 3)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    return model


@pytest.mark.task("5.6")
def test_a_model_that_knows_nothing_starts_at_log_3(mod):
    X, y = small_blobs()
    call = "train(all-zero linear model, 60 points, epochs=2)"
    history = expect_shape(learner_history(mod, blank_linear(), X, y, call, epochs=2), (2,), call)
    after_one_step = oracle_history(blank_linear(), X, y, 0.1, 1, record_after=True)[0]
    expect_close(history[0], LOG3, f"{call}[0], the untrained loss", rtol=1e-6, mistakes=[
        (after_one_step, "that is the loss after the first update: record the loss before the step, so that "
                         "losses[0] is the untrained loss, log 3 for a uniform guess")])
    expect_true(history[1] < history[0], f"the loss went from {history[0]:.4f} to {history[1]:.4f} after one step "
                "from the uniform guess: a gradient step must lower it (p -= lr * p.grad: mind the minus)")


@pytest.mark.task("5.6")
def test_train_refuses_bad_input(mod):
    X, y = small_blobs()
    mod.train(oracle_linear(0), X, y, epochs=1)  # the function must work before its checks matter
    expect_raises(ValueError, mod.train, oracle_linear(0), X, y[:-1], call="train(model, 60 points, 59 labels)",
                  why="there must be one label per point")
    expect_raises(ValueError, mod.train, oracle_linear(0), X, y.float(), call="train(model, X, float labels)",
                  why="labels are class indices, an integer tensor")
    expect_raises(ValueError, mod.train, oracle_linear(0), X, y, epochs=0, call="train(..., epochs=0)",
                  why="there must be at least one epoch")
    expect_raises(ValueError, mod.train, oracle_linear(0), X, y, lr=-0.1, call="train(..., lr=-0.1)",
                  why="a negative learning rate climbs the loss")


# --- 5.7 predict, and the trained models ---------------------------------------------------------------


@pytest.mark.task("5.7")
def test_predict_returns_the_class_of_the_largest_logit(mod):
    model = nn.Linear(2, 3)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]))
        model.bias.zero_()
    X = torch.tensor([[2.0, 1.0], [0.0, 3.0], [-4.0, 1.0], [1.0, 1.5]])
    call = "predict(model, 4 points)"
    got = mod.predict(model, X)
    if not isinstance(got, torch.Tensor) or got.is_floating_point():
        fail(f"{call} returned {type(got).__name__} {getattr(got, 'dtype', '')}: return class indices, "
             "an integer tensor (argmax gives one)")
    got = expect_shape(got, (4,), call, diagnoses={
        (4, 3): "those are the logits (or probabilities): return the index of the largest one, argmax(dim=1)",
        (3,): "argmax over dim=0 picks a row per class; take it over dim=1, the classes"})
    expect_close(got, [0, 1, 2, 1], call)


# The blobs (300 points a class, seed 0), seeded models, lr 0.1, 200 full-batch epochs, trained by
# oracle_history above (torch 2.13 CPU; identical with 1 or 2 threads and with torch.optim.SGD):
# losses at epochs 0, 1, 10, 199 and the final accuracy.
TRAINED = {
    "linear": ([2.169073, 1.697236, 0.568549, 0.143320], 0.970000),
    "MLP": ([1.251437, 0.976685, 0.463997, 0.080744], 0.978889),
}


@pytest.mark.task("5.7")
def test_both_models_learn_the_blobs(mod):
    X, y = three_blobs(300, seed=0)
    X, y = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
    fitted = mod.trained_models()
    expect_true(len(fitted) == 2, f"trained_models() returned {len(fitted)} models, expected 2 (linear and MLP)")
    for (_name, (model, history)), (kind, (losses, accuracy)) in zip(fitted.items(), TRAINED.items()):
        if isinstance(history, list) and history and isinstance(history[0], torch.Tensor):
            fail(f"train() returned a list of tensors for the {kind} model: append loss.item() (a Python float)")
        history = expect_shape(history, (200,), f"the {kind} model's loss history")
        expect_close(history[[0, 1, 10, 199]], losses, f"the {kind} model's losses at epochs 0, 1, 10, 199",
                     rtol=1e-4)
        expect_close(mod.accuracy(model, X, y), accuracy, f"the accuracy of the trained {kind} model", atol=2e-6)
    untrained_mlp = TRAINED["MLP"][0][0]
    expect_true(abs(untrained_mlp - LOG3) < 0.2, f"the untrained MLP's loss {untrained_mlp:.4f} should be near "
                f"log 3 = {LOG3:.4f}")


@pytest.mark.task("5.6")
@pytest.mark.mpl_image_compare(filename="module05_loss_curves.png")
def test_figure_loss_curves(mod):
    return mod.plot_loss_curves()


@pytest.mark.task("5.7")
@pytest.mark.mpl_image_compare(filename="module05_decision_regions.png")
def test_figure_decision_regions(mod):
    return mod.plot_decision_regions()
