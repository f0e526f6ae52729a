"""Module 5: a three-class classifier in PyTorch, and F.cross_entropy rebuilt argument by argument.

Expected values are hand-computed constants (-log softmax([2, 1, .1])[0] =
0.417030, ...), torch itself (F.cross_entropy, F.nll_loss) and the training loop
of kata.testing.oracles, never the reference. Known mistakes have their own
diagnosis, computed along the path the TODO prescribes.
"""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from kata.given.data import three_blobs
from kata.given.module05 import LossInputWarning
from kata.testing.expect import Call, expect_close, expect_refusals, expect_shape, expect_true, fail, show
from kata.testing.oracles import full_batch

MODULE = "module05_torch_classifier"

LOG3 = math.log(3)
INF = math.inf

# -log softmax of three rows of logits, by hand (float64):
LOGITS = [[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [0.3, 0.2, 3.0]]
NLL = [[0.417030, 1.417030, 2.317030],   # -log softmax([2, 1, .1])
       [2.220050, 0.220050, 2.420050],   # -log softmax([.5, 2.5, .3])
       [2.820460, 2.920460, 0.120460]]   # -log softmax([.3, .2, 3])
L0, L1, L2 = NLL[0][0], NLL[1][1], NLL[2][2]
W = [1.0, 3.0, 1.0]
WEIGHTED_SUM = L0 + 3 * L1           # 1.077179
WEIGHTED_MEAN = 0.269295             # COURSE.md's oracle: 1.077179 / (1 + 3)
ONE_HOT_MEAN = 0.538589              # probability targets: 1.077179 / N = 2 (F.cross_entropy: 0.5385892927)
SMOOTHED = 0.513697                  # F.cross_entropy([[2, 1, .1]], [0], label_smoothing=0.1)


def t64(values):
    return torch.tensor(values, dtype=torch.float64)


def log_probs(rows=3):
    return torch.log_softmax(t64(LOGITS[:rows]), dim=1)


def targets(values):
    return torch.tensor(values, dtype=torch.long)


def ones(c=3):
    return torch.ones(c, dtype=torch.float64)


def guarded(call, function, *args, **kwargs):
    """``function(*args)``, with one sentence for the classic crash of indexing with an ignored target."""
    try:
        return function(*args, **kwargs)
    except (IndexError, RuntimeError) as error:
        if "out of bounds" not in str(error) and "out of range" not in str(error):
            raise
        ignore_index = kwargs.get("ignore_index", -100)
        which = ("an ignored target such as -100" if ignore_index == -100 else
                 f"an ignored target (here ignore_index = {ignore_index}; find them with the ignore_index you were "
                 "given, not a fixed -100)")
        fail(f"{call} raised {type(error).__name__} ({str(error).splitlines()[0]}): {which} is not a valid index; "
             "replace ignored targets by a valid class before indexing, then give those rows 0")


def expect_tensor(got, call):
    if not isinstance(got, torch.Tensor):
        fail(f"{call} returned {type(got).__name__}, expected a torch tensor: stay in torch (no .item(), no numpy) "
             "so that loss.backward() can flow through it")
    return got


def expect_graph(got, call):
    expect_true(expect_tensor(got, call).requires_grad, f"{call} lost the graph (no grad_fn): compute it with torch "
                "operations only, without .item(), .detach(), numpy or torch.tensor(...) of a result")
    return got


def vjp(out, leaves):
    """d(Σ v·out)/d leaves for a fixed uneven v, so every output's gradient counts."""
    v = torch.linspace(0.5, 1.5, max(out.numel(), 1), dtype=torch.float64)[: out.numel()].reshape(out.shape)
    return torch.autograd.grad((out * v).sum(), leaves, allow_unused=True)


def expect_loss_shape(got, expected, call):
    """The shape of a loss: with an early return the given line that restores it never runs."""
    got_shape, wanted = tuple(expect_tensor(got, call).shape), tuple(expected.shape)
    if got_shape != wanted:
        fail(f"{call} returned shape {got_shape}, expected {wanted}: end your code by naming the result `loss`, so "
             "that the given line below it restores the shape (an early return skips that line)")
    return got


def quiet(function, *args, **kwargs):
    """A call whose LossInputWarning is expected (torch computes silently what the course warns about)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LossInputWarning)
        return function(*args, **kwargs)


# --- 5.1 target_weights ---------------------------------------------------------------------------


@pytest.mark.task("5.1")
def test_each_row_weighs_its_target_class(mod):
    call = "target_weights([0, 1, 0], weight=[1, 3, 2])"
    got = expect_tensor(guarded(call, mod.target_weights, targets([0, 1, 0]), t64([1.0, 3.0, 2.0])), call)
    got_values = expect_shape(got, (3,), call, diagnoses={
        (3, 3): "one weight per row is wanted: index the class weights with the row's target"})
    expect_close(got_values, [1.0, 3.0, 1.0], call, mistakes=[
        ([1.0, 3.0, 2.0], "row i got weight[i]; weight holds one weight per CLASS: row i carries the weight of its "
                          "target class"),
        ([1.0, 1.0, 1.0], "the class weights were ignored: row i carries the weight of its target class")])
    expect_true(got.dtype == torch.float64, f"{call} returned dtype {got.dtype}: return the weights in weight's dtype "
                "(float64 here), not the targets' integer dtype")


@pytest.mark.task("5.1")
def test_ignored_rows_weigh_nothing(mod):
    w = t64([1.0, 3.0, 2.0])
    call = "target_weights([0, 1, 2], weight=[1, 3, 2], ignore_index=1)"
    expect_close(guarded(call, mod.target_weights, targets([0, 1, 2]), w, ignore_index=1), [1.0, 0.0, 2.0], call,
                 mistakes=[([1.0, 3.0, 2.0], "nothing was ignored: compare the targets with the ignore_index "
                                             "parameter, not with -100"),
                           ([1.0, 1.0, 2.0], "the ignored row got the weight of class 0: after replacing the ignored "
                                             "target by a valid class, the row must still get 0")])
    call = "target_weights([0, 1, -100, 2], weight=[1, 3, 2])"
    expect_close(guarded(call, mod.target_weights, targets([0, 1, -100, 2]), w), [1.0, 3.0, 0.0, 2.0], call, mistakes=[
        ([1.0, 3.0, 1.0, 2.0], "the ignored row got the weight of class 0: after replacing the ignored target by a "
                               "valid class, the row must still get 0")])
    call = "target_weights([0, -1, 2], weight=[1, 3, 2], ignore_index=-1)"
    expect_close(guarded(call, mod.target_weights, targets([0, -1, 2]), w, ignore_index=-1), [1.0, 0.0, 2.0], call,
                 mistakes=[([1.0, 2.0, 2.0], "the ignored row got the last class's weight: index -1 wrapped around; "
                                             "an ignored target must not reach the indexing as it is")])


@pytest.mark.task("5.1")
@settings(max_examples=15)
@given(data=st.data())
def test_target_weights_equal_torchs(mod, data):
    case = data.draw(index_cases())
    flat = case["targets"].reshape(-1)
    call = f"target_weights(targets={flat.tolist()}, weight={words(case['weight'])}, ignore_index={case['ignore']})"
    weight = case["weight"] if case["weight"] is not None else ones(case["c"])
    # nll_loss of log-probabilities all -1 is the weight of each row's target, 0 where ignored
    expected = F.nll_loss(-torch.ones(len(flat), case["c"], dtype=torch.float64), flat, weight=weight,
                          ignore_index=case["ignore"], reduction="none")
    expect_close(guarded(call, mod.target_weights, flat, weight, ignore_index=case["ignore"]), expected.numpy(), call,
                 rtol=0, atol=0)


# --- 5.2 picked_losses ----------------------------------------------------------------------------


@pytest.mark.task("5.2")
def test_per_row_losses_pick_each_rows_target(mod):
    call = "picked_losses(log_softmax(logits), [0, 1, 2], weight=[1, 1, 1])"
    got = expect_tensor(guarded(call, mod.picked_losses, log_probs(), targets([0, 1, 2]), ones()), call)
    got = expect_shape(got, (3,), call, diagnoses={
        (3, 3): "every row got every target (a whole column per row): pick ONE entry per row, row i at column "
                "targets[i]",
        (): "one loss per row is wanted, not their sum or mean"})
    expect_close(got, [L0, L1, L2], call, mistakes=[
        ([-L0, -L1, -L2], "the losses are negative: the loss is MINUS the log-probability of the target"),
        ([L0, NLL[0][1], NLL[0][2]], "every value comes from row 0: row i's loss is read from row i"),
        ([NLL[0][0], NLL[1][0], NLL[2][0]], "every value comes from column 0 (a gather along dim 0?): row i's loss is "
                                            "read at column targets[i], so pick along dim 1, the classes")])


@pytest.mark.task("5.2")
def test_per_row_losses_are_weighted_by_the_target_class(mod):
    call = "picked_losses(log_probs, [0, 1, 0], weight=[1, 3, 2])"
    got = guarded(call, mod.picked_losses, log_probs(), targets([0, 1, 0]), t64([1.0, 3.0, 2.0]))
    expect_close(got, [L0, 3 * L1, NLL[2][0]], call, mistakes=[
        ([L0, L1, NLL[2][0]], "the weights are ignored: row i's loss is multiplied by the weight its target carries"),
        ([L0, 3 * L1, 2 * NLL[2][0]], "row i was weighted by weight[i]; weight holds one weight per CLASS: use the "
                                      "weight of row i's target")])


@pytest.mark.task("5.2")
def test_ignored_rows_have_zero_loss_even_at_minus_infinity(mod):
    call = "picked_losses(log_probs, [0, 1, -100], weight=[1, 1, 1])"
    got = guarded(call, mod.picked_losses, log_probs(), targets([0, 1, -100]), ones())
    expect_close(got, [L0, L1, 0.0], call, atol=1e-12, mistakes=[
        ([L0, L1, NLL[2][0]], "the ignored row got the loss of class 0: after replacing the ignored target by a valid "
                              "class, that row must still be 0"),
        ([L0, L1, NLL[2][2]], "the ignored row got the loss of the last class (index -100 wrapped around?): ignored "
                              "rows must be exactly 0")])
    call = "picked_losses(log_probs, [0, 1, 2], weight=[1, 1, 1], ignore_index=1)"
    got = guarded(call, mod.picked_losses, log_probs(), targets([0, 1, 2]), ones(), ignore_index=1)
    expect_close(got, [L0, 0.0, L2], call, atol=1e-12, mistakes=[
        ([L0, L1, L2], "nothing was ignored: compare the targets with the ignore_index parameter, not with -100")])
    masked = torch.cat([log_probs(2), t64([[-INF, 0.0, -INF]])]).requires_grad_()
    call = "picked_losses(log_probs whose ignored row 2 is [-inf, 0, -inf], [0, 1, -100], weight=[1, 1, 1])"
    got = expect_tensor(guarded(call, mod.picked_losses, masked, targets([0, 1, -100]), ones()), call)
    expect_close(got, [L0, L1, 0.0], call, atol=0, mistakes=[
        ([L0, L1, math.nan], "the ignored row holding -inf gave NaN: a zero weight times -inf is NaN, not 0; choose "
                             "0 for ignored rows instead of multiplying them away (F.nll_loss gives exactly 0)")])
    expect_graph(got, call)
    (grad,) = vjp(got, [masked])
    reference = masked.detach().clone().requires_grad_()
    (expected,) = vjp(F.nll_loss(reference, targets([0, 1, -100]), reduction="none"), [reference])
    expect_close(grad, expected.numpy(), f"d {call} / d log_probs", rtol=1e-12, atol=0)


@pytest.mark.task("5.2")
@settings(max_examples=20)
@given(data=st.data())
def test_picked_losses_equal_torchs(mod, data):
    case = data.draw(index_cases(masked_rows=True))
    lp = class_rows_of(torch.log_softmax(case["logits"], dim=class_dim(case["logits"])))
    lp = torch.where(case["masked"].reshape(-1, 1), -INF, lp).requires_grad_()
    flat, weight = case["targets"].reshape(-1), case["weight"] if case["weight"] is not None else ones(case["c"])
    call = f"picked_losses({words(lp)}, targets={flat.tolist()}, weight={words(weight)}, ignore_index={case['ignore']})"
    got = expect_tensor(guarded(call, mod.picked_losses, lp, flat, weight, ignore_index=case["ignore"]), call)
    reference = lp.detach().clone().requires_grad_()
    expected = F.nll_loss(reference, flat, weight=weight, ignore_index=case["ignore"], reduction="none")
    expect_close(got, expected.detach().numpy(), call, rtol=1e-12, atol=0)
    expect_close(vjp(expect_graph(got, call), [lp])[0], vjp(expected, [reference])[0].numpy(),
                 f"d {call} / d log_probs", rtol=1e-12, atol=0)


# --- 5.3 reduce_losses ----------------------------------------------------------------------------


@pytest.mark.task("5.3")
def test_sum_and_mean_without_weights(mod):
    losses, w = t64([L0, L1]), ones(2)
    call = "reduce_losses([0.417030, 0.220050], row_weights=[1, 1], reduction='sum')"
    expect_close(expect_tensor(mod.reduce_losses(losses, w, reduction="sum"), call), L0 + L1, call,
                 mistakes=[((L0 + L1) / 2, "that is the mean: reduction='sum' adds the per-row losses")])
    call = "reduce_losses([0.417030, 0.220050], row_weights=[1, 1], reduction='mean')"
    expect_close(expect_tensor(mod.reduce_losses(losses, w, reduction="mean"), call), (L0 + L1) / 2, call,
                 mistakes=[(L0 + L1, "a sum was returned for a mean: divide by the total weight of the rows "
                                     "(here 2 rows of weight 1)")])
    call = "reduce_losses([0.417030, 0.220050], row_weights=[1, 1], reduction='none')"
    expect_close(mod.reduce_losses(losses, w, reduction="none"), [L0, L1], call, shape_diagnoses={
        (): "reduction='none' returns the per-row losses as they are, not their sum or mean"})


@pytest.mark.task("5.3")
def test_weighted_mean_divides_by_the_sum_of_the_weights(mod):
    losses, w = t64([L0, 3 * L1]), t64([1.0, 3.0])
    call = "reduce_losses([0.417030, 0.660149], row_weights=[1, 3], reduction='mean')"
    expect_close(mod.reduce_losses(losses, w, reduction="mean"), WEIGHTED_MEAN, call, mistakes=[
        (ONE_HOT_MEAN, "the weighted mean was divided by N = 2 rows. It is a weighted average: divide by the sum of "
                       "the row weights, 1 + 3 = 4"),
        (WEIGHTED_SUM, "a sum was returned for a mean: divide by the sum of the row weights, 1 + 3 = 4"),
        ((L0 + 9 * L1) / 4, "the losses were weighted again: they arrive weighted already, only the denominator "
                            "needs the row weights")])


@pytest.mark.task("5.3")
def test_ignored_rows_leave_the_denominator(mod):
    losses, w = t64([L0, L1, 0.0]), t64([1.0, 1.0, 0.0])
    call = "reduce_losses([0.417030, 0.220050, 0], row_weights=[1, 1, 0], reduction='mean')"
    expect_close(mod.reduce_losses(losses, w, reduction="mean"), (L0 + L1) / 2, call, mistakes=[
        ((L0 + L1) / 3, "the ignored row was counted in the mean: 3 rows, but only 2 count. Divide by the sum of the "
                        "row weights, which is 0 for ignored rows"),
        (L0 + L1, "a sum was returned for a mean")])
    call = "reduce_losses([0, 0], row_weights=[0, 0], reduction='mean')  (every row ignored)"
    got = expect_tensor(mod.reduce_losses(t64([0.0, 0.0]), t64([0.0, 0.0]), reduction="mean"), call)
    expect_close(got, math.nan, call, mistakes=[
        (0.0, "the mean of no row at all is 0/0 = NaN in torch (F.nll_loss and F.cross_entropy give NaN): do not "
              "guard the division")])
    everything_ignored = F.nll_loss(log_probs(2), targets([-100, -100]))
    expect_true(math.isnan(everything_ignored.item()), "F.nll_loss with every target ignored (the oracle) is NaN")
    call = "reduce_losses([0, 0], row_weights=[0, 0], reduction='sum')"
    expect_close(mod.reduce_losses(t64([0.0, 0.0]), t64([0.0, 0.0]), reduction="sum"), 0.0, call)


@pytest.mark.task("5.3")
def test_reductions_keep_the_graph(mod):
    losses = t64([L0, 3 * L1]).requires_grad_()
    call = "reduce_losses(losses, row_weights=[1, 3], reduction='mean')"
    got = expect_graph(mod.reduce_losses(losses, t64([1.0, 3.0]), reduction="mean"), call)
    (grad,) = torch.autograd.grad(got, [losses])
    expect_close(grad, [0.25, 0.25], f"d {call} / d losses", rtol=1e-12)


@pytest.mark.task("5.3")
@settings(max_examples=20)
@given(data=st.data())
def test_nll_loss_manual_equals_torch_in_every_mode(mod, data):
    case = data.draw(index_cases(layouts=("rows",)))
    lp = torch.log_softmax(case["logits"], dim=1)
    kwargs = {"weight": case["weight"], "ignore_index": case["ignore"], "reduction": case["reduction"]}
    expected = F.nll_loss(lp, case["targets"], **kwargs)
    call = f"nll_loss_manual({case_words(case)})"
    expect_close(mod.nll_loss_manual(lp, case["targets"], **kwargs), expected.numpy(), call, rtol=1e-7, atol=1e-10,
                 mistakes=reduction_mistakes(case, lp))


# --- 5.4 class_rows -------------------------------------------------------------------------------


def position_scores(shape):
    """x[n, c, ...] = 10·c + (the position's index among the N·d1⋯dK positions): every row tells its position."""
    n, c, *rest = shape
    positions = torch.arange(n * math.prod(rest), dtype=torch.float64).reshape(n, *rest)
    return (10.0 * torch.arange(c, dtype=torch.float64).reshape(1, c, *[1] * len(rest)) + positions.unsqueeze(1))


@pytest.mark.task("5.4")
def test_classes_become_the_last_axis(mod):
    x = position_scores((1, 3, 2))
    call = "class_rows(x of shape (1, 3, 2), x[0, c, t] = 10·c + t)"
    got = expect_tensor(mod.class_rows(x), call)
    got = expect_shape(got, (2, 3), call, diagnoses={
        (3, 2): "the rows are the N·d1 = 2 positions and the columns the C = 3 classes: (2, 3), not (C, positions)",
        (1, 3, 2): "x came back as it was: make rows of classes, one row per position"})
    expect_close(got, [[0.0, 10.0, 20.0], [1.0, 11.0, 21.0]], call, rtol=0, mistakes=[
        ([[0.0, 1.0, 10.0], [11.0, 20.0, 21.0]], "x was reshaped to (-1, C) as it lies, so each row mixes the scores "
                                                 "of different positions: move the classes (dim 1) to the last axis "
                                                 "first, then flatten")])
    x = position_scores((2, 3, 2, 2))
    call = "class_rows(x of shape (2, 3, 2, 2), x[n, c, i, j] = 10·c + position)"
    expected = [[p, p + 10.0, p + 20.0] for p in range(8)]
    swapped = [[p, p + 10.0, p + 20.0] for n in range(2) for j in range(2) for i in range(2) for p in [4 * n + 2 * i + j]]
    got = expect_shape(mod.class_rows(x), (8, 3), call, diagnoses={
        (2, 2, 2, 3): "the classes are last, but the rows are not flattened yet: (N·d1·d2, C)"})
    expect_close(got, expected, call, rtol=0, mistakes=[
        (swapped, "the rows come out with d1 and d2 in reverse order: swapping dim 1 with the last reverses the "
                  "spatial axes; move dim 1 to the end and keep the others in their order"),
        (x.transpose(1, 2).reshape(-1, 3).tolist(), "transpose(1, 2) moves the classes past d1 only: right for "
                                                    "(N, C, T), but with more spatial axes dim 1 must move past all "
                                                    "of them, to the last axis"),
        ([[0.0, 1.0, 2.0], [3.0, 10.0, 11.0], [12.0, 13.0, 20.0], [21.0, 22.0, 23.0], [4.0, 5.0, 6.0],
          [7.0, 14.0, 15.0], [16.0, 17.0, 24.0], [25.0, 26.0, 27.0]],
         "x was reshaped to (-1, C) as it lies, so each row mixes the scores of different positions: move the "
         "classes (dim 1) to the last axis first, then flatten")])


@pytest.mark.task("5.4")
def test_rows_and_unbatched_inputs(mod):
    x = t64(LOGITS)
    expect_close(mod.class_rows(x), LOGITS, "class_rows(x of shape (3, 3))", rtol=0, mistakes=[
        (np.asarray(LOGITS).T, "an (N, C) input is already rows of classes: it comes back as it is, not transposed")])
    call = "class_rows(x of shape (3,)), an unbatched input"
    expect_close(mod.class_rows(t64(LOGITS[0])), [LOGITS[0]], call, rtol=0, shape_diagnoses={
        (3, 1): "an unbatched (C,) input is ONE row of C classes: (1, C), not a column",
        (3,): "an unbatched (C,) input must become one row, of shape (1, C)"})


@pytest.mark.task("5.4")
def test_rows_keep_the_graph(mod):
    x = position_scores((2, 3, 2)).requires_grad_()
    call = "class_rows(x of shape (2, 3, 2))"
    got = expect_graph(mod.class_rows(x), call)
    (grad,) = vjp(got, [x])
    reference = x.detach().clone().requires_grad_()
    (expected,) = vjp(reference.movedim(1, -1).reshape(-1, 3), [reference])
    expect_close(grad, expected.numpy(), f"d {call} / d x", rtol=0)


@pytest.mark.task("5.4")
def test_a_sequence_model_scores_every_time_step(mod):
    # a batch of N = 1 sequences of T = 2 steps over C = 3 classes, as a model outputs it: (N, T, C)
    logits_ntc = t64([LOGITS[:2]])
    logits = logits_ntc.transpose(1, 2)                       # (N, C, T): the classes on dim 1
    y = targets([[0, 1]])                                     # (N, T)
    call = "nll_loss_manual(log_softmax of logits (N=1, C=3, T=2), targets (1, 2), reduction='none')"
    got = mod.nll_loss_manual(torch.log_softmax(logits, dim=1), y, reduction="none")
    expected = F.cross_entropy(logits, y, reduction="none")
    expect_close(got, expected.numpy(), call, rtol=1e-12, shape_diagnoses={
        (2,): "reduction='none' gives one loss per position in the targets' shape (N, T) = (1, 2)"})
    expect_close(expected, [[L0, L1]], "F.cross_entropy(logits (N, C, T), targets (N, T)) (the oracle)")


@pytest.mark.task("5.4")
@settings(max_examples=20)
@given(data=st.data())
def test_nll_loss_manual_handles_every_layout(mod, data):
    case = data.draw(index_cases(layouts=("unbatched", "k1", "k2")))
    lp = torch.log_softmax(case["logits"], dim=class_dim(case["logits"])).requires_grad_()
    kwargs = {"weight": case["weight"], "ignore_index": case["ignore"], "reduction": case["reduction"]}
    reference = lp.detach().clone().requires_grad_()
    expected = F.nll_loss(reference, case["targets"], **kwargs)
    call = f"nll_loss_manual({case_words(case)})"
    got = mod.nll_loss_manual(lp, case["targets"], **kwargs)
    expect_close(got, expected.detach().numpy(), call, rtol=1e-7, atol=1e-10)
    expect_close(vjp(got, [lp])[0], vjp(expected, [reference])[0].numpy(), f"d {call} / d log_probs", rtol=1e-7,
                 atol=1e-10)


# --- 5.5 soft_target_losses -----------------------------------------------------------------------

SOFT_LOGITS = [[4.0, 2.0, 1.0], [0.0, 5.0, 1.0]]
SOFT_TARGETS = [[1.0, 0.0, 0.0], [0.0, 0.8, 0.2]]
SOFT = [0.169846, 0.824745]           # module 3's oracle: per-row -Σ p log softmax(z)


@pytest.mark.task("5.5")
def test_each_row_is_a_cross_entropy_against_its_target(mod):
    lp = torch.log_softmax(t64(SOFT_LOGITS), dim=1)
    call = "soft_target_losses(log_softmax([[4, 2, 1], [0, 5, 1]]), [[1, 0, 0], [0, .8, .2]], weight=[1, 1, 1])"
    got = expect_tensor(mod.soft_target_losses(lp, t64(SOFT_TARGETS), ones()), call)
    got = expect_shape(got, (2,), call, diagnoses={
        (3,): "that is one number per class: the sum runs over the classes (dim 1), one loss per row",
        (): "one loss per row is wanted, not their sum or mean",
        (2, 3): "those are the per-class terms: sum them over the classes, one loss per row"})
    expect_close(got, SOFT, call, mistakes=[
        ([-v for v in SOFT], "the losses are negative: the cross-entropy is MINUS Σ p·log q"),
        ([v / 3 for v in SOFT], "you took the mean over the classes: the cross-entropy sums them")])


@pytest.mark.task("5.5")
def test_class_weights_multiply_inside_the_sum(mod):
    lp, w = log_probs(2), t64(W)
    call = "soft_target_losses(log_probs, one-hot rows of [0, 1], weight=[1, 3, 1])"
    expect_close(mod.soft_target_losses(lp, F.one_hot(targets([0, 1]), 3).double(), w), [L0, 3 * L1], call,
                 mistakes=[([L0, L1], "the weights are ignored: each class's term is multiplied by its class weight")])
    soft = t64(SOFT_TARGETS)
    lp = torch.log_softmax(t64(SOFT_LOGITS), dim=1)
    expected = F.cross_entropy(t64(SOFT_LOGITS), soft, weight=w, reduction="none")
    call = "soft_target_losses(log_probs, [[1, 0, 0], [0, .8, .2]], weight=[1, 3, 1])"
    expect_close(mod.soft_target_losses(lp, soft, w), expected.numpy(), call, mistakes=[
        (SOFT, "the weights are ignored: each class's term is multiplied by its class weight"),
        ([SOFT[0], 3 * SOFT[1]], "row i was weighted by weight[i]; weight holds one weight per CLASS, applied to "
                                 "each class's term inside the sum")])


@pytest.mark.task("5.5")
def test_gradients_flow_to_the_log_probs_and_the_targets(mod):
    lp = torch.log_softmax(t64(SOFT_LOGITS), dim=1).requires_grad_()
    probs = t64(SOFT_TARGETS).requires_grad_()
    call = "soft_target_losses(log_probs, probs, weight=[1, 3, 1])"
    got = expect_graph(mod.soft_target_losses(lp, probs, t64(W)), call)
    grads = vjp(got, [lp, probs])
    lp2, probs2 = lp.detach().clone().requires_grad_(), probs.detach().clone().requires_grad_()
    expected = vjp(-(lp2 * probs2 * t64(W)).sum(dim=1), [lp2, probs2])
    for name, mine, theirs in zip(("log_probs", "probs"), grads, expected):
        if mine is None:
            fail(f"{call} has no gradient with respect to {name}: keep {name} in the computation, in torch")
        expect_close(mine, theirs.numpy(), f"d {call} / d {name}", rtol=1e-12)


# --- 5.6 smoothed_losses --------------------------------------------------------------------------


@pytest.mark.task("5.6")
def test_smoothing_mixes_in_the_uniform_target(mod):
    lp = torch.log_softmax(t64(LOGITS[:1]), dim=1)
    call = "smoothed_losses(log_softmax([[2, 1, .1]]), [0], weight=[1, 1, 1], ignore_index=-100, smoothing=0.1)"
    got = expect_tensor(mod.smoothed_losses(lp, targets([0]), ones(), -100, 0.1), call)
    plain, row = NLL[0][0], NLL[0]
    expect_close(got, [SMOOTHED], call, mistakes=[
        ([plain], "that is the plain loss: the smoothing was left out"),
        ([plain + 0.1 / 3 * sum(row)], "the plain part was not scaled by (1 - ε): the target's share shrinks to "
                                       "1 - ε as the uniform part gets ε"),
        ([0.9 * plain + 0.1 * sum(row)], "the uniform part was not divided by C: the uniform target gives each "
                                         "class ε/C"),
        ([0.9 * plain + 0.1 / 2 * (row[1] + row[2])], "that is ε/(C-1) spread over the other classes, another "
                                                      "convention: torch spreads ε/C over every class, the target's "
                                                      "own included"),
        ([0.9 * plain + 0.1 / 2 * sum(row)], "the uniform part was divided by C - 1: the uniform target gives each of "
                                             "the C classes ε/C")])


@pytest.mark.task("5.6")
def test_smoothing_weighs_every_class(mod):
    lp, w, y = log_probs(2), t64(W), targets([0, 1])
    call = "smoothed_losses(log_probs, [0, 1], weight=[1, 3, 1], ignore_index=-100, smoothing=0.2)"
    expected = F.cross_entropy(t64(LOGITS[:2]), y, weight=w, label_smoothing=0.2, reduction="none")
    plain = np.array([L0, 3 * L1])
    unweighted = 0.8 * plain + 0.2 / 3 * np.array([sum(NLL[0]), sum(NLL[1])])
    by_target = 0.8 * plain + 0.2 / 3 * np.array([1 * sum(NLL[0]), 3 * sum(NLL[1])])
    expect_close(mod.smoothed_losses(lp, y, w, -100, 0.2), expected.numpy(), call, mistakes=[
        (unweighted, "the uniform part ignores the class weights: in it, each class's term carries its own weight"),
        (by_target, "the uniform part was weighted by the target's weight; each class's term carries its own "
                    "class's weight")])


@pytest.mark.task("5.6")
def test_ignored_rows_stay_zero_with_smoothing(mod):
    w = t64(W)
    lp = log_probs(3)
    call = "smoothed_losses(log_probs, [0, 1, -100], weight=[1, 3, 1], ignore_index=-100, smoothing=0.1)"
    expected = F.cross_entropy(t64(LOGITS), targets([0, 1, -100]), weight=w, label_smoothing=0.1, reduction="none")
    got = mod.smoothed_losses(lp, targets([0, 1, -100]), w, -100, 0.1)
    kept = expected.numpy().copy()
    kept[2] = 0.1 / 3 * float(-(lp[2] * w).sum())
    expect_close(got, expected.numpy(), call, atol=1e-12, mistakes=[
        (kept, "the ignored row kept its uniform part: a row whose target is ignore_index is exactly 0, smoothing "
               "or not")])
    masked = torch.cat([lp[:2], t64([[-INF, 0.0, -INF]])])
    call = "smoothed_losses(log_probs whose ignored row 2 is [-inf, 0, -inf], [0, 1, -100], ..., smoothing=0.1)"
    expect_close(mod.smoothed_losses(masked, targets([0, 1, -100]), w, -100, 0.1), expected.numpy(), call,
                 atol=1e-12, mistakes=[
                     (np.r_[expected.numpy()[:2], np.nan], "the ignored row holding -inf gave NaN: 0 times an "
                                                           "infinite loss is NaN; choose 0 for ignored rows instead "
                                                           "of multiplying them away")])


@pytest.mark.task("5.6")
@settings(max_examples=20)
@given(data=st.data())
def test_smoothed_losses_equal_torchs(mod, data):
    case = data.draw(index_cases(layouts=("rows",)))
    smoothing = data.draw(st.sampled_from([0.0, 1.0]) | st.floats(0.0, 1.0))
    logits = case["logits"].clone().requires_grad_()
    weight = case["weight"] if case["weight"] is not None else ones(case["c"])
    call = f"smoothed_losses({case_words(case)}, smoothing={smoothing:.4g})"
    got = mod.smoothed_losses(torch.log_softmax(logits, dim=1), case["targets"], weight, case["ignore"], smoothing)
    reference = case["logits"].clone().requires_grad_()
    expected = F.cross_entropy(reference, case["targets"], weight=weight, ignore_index=case["ignore"],
                               label_smoothing=smoothing, reduction="none")
    expect_close(got, expected.detach().numpy(), call, rtol=1e-7, atol=1e-10)
    expect_close(vjp(expect_graph(got, call), [logits])[0], vjp(expected, [reference])[0].numpy(),
                 f"d {call} / d logits (through log_softmax)", rtol=1e-7, atol=1e-10)


# --- 5.7 cross_entropy_manual ---------------------------------------------------------------------


@pytest.mark.task("5.7")
def test_the_course_example_in_every_reduction(mod):
    logits, y, w = t64(LOGITS[:2]), targets([0, 1]), t64(W)
    over_rows = -(w[y] * torch.log_softmax(logits, dim=0)[[0, 1], y])  # log_softmax over the batch axis
    for reduction, expected, wrong_dim in (("none", [L0, 3 * L1], over_rows.numpy()),
                                           ("sum", WEIGHTED_SUM, float(over_rows.sum())),
                                           ("mean", WEIGHTED_MEAN, float(over_rows.sum() / 4))):
        call = f"cross_entropy_manual([[2, 1, .1], [.5, 2.5, .3]], [0, 1], weight=[1, 3, 1], reduction={reduction!r})"
        got = expect_tensor(mod.cross_entropy_manual(logits, y, weight=w, reduction=reduction), call)
        expect_close(got, expected, call, mistakes=[
            (ONE_HOT_MEAN, "the weighted mean was divided by N = 2: with class-index targets every row counts with "
                           "its target's weight, 1 + 3 = 4 (dividing by N is the rule of probability targets)"),
            (WEIGHTED_SUM, "a sum was returned for a mean"),
            (WEIGHTED_SUM / 5, "you divided by the sum of ALL class weights (1 + 3 + 1); divide by the weights of the "
                               "rows' targets only, 1 + 3 = 4"),
            (wrong_dim, "log_softmax ran over dim 0, the rows: the classes are on dim 1")])
        torch_value = F.cross_entropy(logits, y, weight=w, reduction=reduction)
        expect_close(torch_value, expected, f"F.cross_entropy(..., reduction={reduction!r}) (the oracle)")
        expect_close(F.nll_loss(F.log_softmax(logits, dim=1), y, weight=w, reduction=reduction), torch_value,
                     "F.nll_loss(F.log_softmax(logits)) (torch's own split)", rtol=1e-12)


@pytest.mark.task("5.7")
def test_probability_targets_divide_the_mean_by_n(mod):
    logits, w = t64(LOGITS[:2]), t64(W)
    one_hot = F.one_hot(targets([0, 1]), 3).double()
    expect_close(F.cross_entropy(logits, one_hot, weight=w), ONE_HOT_MEAN, "F.cross_entropy(one-hot rows, weight) "
                 "(the oracle)")
    expect_close(F.cross_entropy(logits, targets([0, 1]), weight=w), WEIGHTED_MEAN, "F.cross_entropy(class indices, "
                 "weight) (the oracle)")
    for reduction, expected in (("none", [L0, 3 * L1]), ("sum", WEIGHTED_SUM), ("mean", ONE_HOT_MEAN)):
        call = (f"cross_entropy_manual([[2, 1, .1], [.5, 2.5, .3]], one-hot rows of [0, 1], weight=[1, 3, 1], "
                f"reduction={reduction!r})")
        expect_close(mod.cross_entropy_manual(logits, one_hot, weight=w, reduction=reduction), expected, call, mistakes=[
            (WEIGHTED_MEAN, "with probability targets the mean divides by the number of rows, N = 2, whatever the "
                            "weights: dividing by the targets' weights is the rule of class indices"),
            (WEIGHTED_SUM, "a sum was returned for a mean")])
    call = "cross_entropy_manual([[4, 2, 1], [0, 5, 1]], [[1, 0, 0], [0, .8, .2]], reduction='none')"
    expect_close(mod.cross_entropy_manual(t64(SOFT_LOGITS), t64(SOFT_TARGETS), reduction="none"), SOFT, call)


@pytest.mark.task("5.7")
def test_equal_logits_cost_log_of_the_class_count(mod):
    expect_close(mod.cross_entropy_manual(torch.zeros(5, 3), targets([0, 1, 2, 0, 1])), LOG3,
                 "cross_entropy_manual(all-zero logits, 3 classes)", rtol=1e-6,
                 mistakes=[(1 / 3, "that is the probability 1/3; the loss is its surprisal -log(1/3) = log 3"),
                           (5 * LOG3, "a sum was returned for a mean (5 rows of log 3)")])
    expect_close(mod.cross_entropy_manual(torch.zeros(2, 10), targets([4, 9])), math.log(10),
                 "cross_entropy_manual(all-zero logits, 10 classes)", rtol=1e-6)


@pytest.mark.task("5.7")
def test_extreme_logits_stay_finite(mod):
    logits = t64([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0]])
    call = "cross_entropy_manual([[1000, 0, -1000], [0, 1000, 0]], [2, 1], reduction='none')"
    expect_close(mod.cross_entropy_manual(logits, targets([2, 1]), reduction="none"), [2000.0, 0.0], call,
                 rtol=1e-9, atol=1e-9, mistakes=[
                     ([INF, 0.0], "softmax underflowed to 0 and log 0 = -inf: compute the log-probabilities stably "
                                  "(log_softmax), not as the log of a softmax")])


@pytest.mark.task("5.7")
def test_label_smoothing_zero_takes_the_plain_path(mod):
    logits = t64([[0.0, -INF, 1.0]])  # class 1 masked out
    call = "cross_entropy_manual([[0, -inf, 1]], [0], label_smoothing=0.0)"
    expected = F.cross_entropy(logits, targets([0]))
    expect_close(mod.cross_entropy_manual(logits, targets([0])), expected.item(), call, mistakes=[
        (math.nan, "a -inf logit gave NaN with label_smoothing = 0: the smoothed path computes 0 times an infinite "
                   "uniform part, which is NaN; with smoothing 0 take the plain loss, as torch does")])
    expect_close(expected, 1.313262, "F.cross_entropy([[0, -inf, 1]], [0]) (the oracle)")
    call = "cross_entropy_manual([[0, -inf, 1]], [0], label_smoothing=0.1)"
    expect_close(mod.cross_entropy_manual(logits, targets([0]), label_smoothing=0.1), INF, call)
    expect_close(F.cross_entropy(logits, targets([0]), label_smoothing=0.1), INF, "F.cross_entropy(..., "
                 "label_smoothing=0.1) (the oracle: the uniform part is infinite)")


@pytest.mark.task("5.7")
def test_label_smoothing_with_each_kind_of_target(mod):
    logits, w = t64(LOGITS), t64(W)
    y = targets([0, 1, -100])
    call = "cross_entropy_manual(3 rows, [0, 1, -100], weight=[1, 3, 1], label_smoothing=0.1)  (mean)"
    expected = F.cross_entropy(logits, y, weight=w, label_smoothing=0.1)
    per_row = F.cross_entropy(logits, y, weight=w, label_smoothing=0.1, reduction="sum")
    expect_close(mod.cross_entropy_manual(logits, y, weight=w, label_smoothing=0.1), expected.item(), call, mistakes=[
        (per_row.item() / 3, "the smoothed mean was divided by N = 3: with class-index targets it divides by the "
                             "weights of the targets that count, 1 + 3 = 4, smoothing or not"),
        (per_row.item() / 2, "the smoothed mean was divided by the number of rows that count; with class weights it "
                             "divides by their targets' weights, 1 + 3 = 4")])
    soft = t64([[0.7, 0.2, 0.1], [0.0, 1.0, 0.0], [0.3, 0.3, 0.4]])
    call = "cross_entropy_manual(3 rows, probability rows, weight=[1, 3, 1], label_smoothing=0.2)  (mean)"
    expected = F.cross_entropy(logits, soft, weight=w, label_smoothing=0.2)
    unsmoothed = F.cross_entropy(logits, soft, weight=w)
    expect_close(mod.cross_entropy_manual(logits, soft, weight=w, label_smoothing=0.2), expected.item(), call,
                 mistakes=[(unsmoothed.item(), "the probability targets were not smoothed: with label_smoothing = ε "
                                               "they become (1 - ε)·p + ε/C")])


@pytest.mark.task("5.7")
def test_unbatched_input_gives_a_single_loss(mod):
    z = t64(LOGITS[0])
    for target, words_ in ((torch.tensor(0), "class 0"), (t64([0.5, 0.25, 0.25]), "probabilities [.5, .25, .25]")):
        for reduction in ("none", "mean"):
            call = f"cross_entropy_manual(logits of shape (3,), {words_}, weight=[1, 3, 1], reduction={reduction!r})"
            expected = F.cross_entropy(z, target, weight=t64(W), reduction=reduction)
            got = expect_loss_shape(mod.cross_entropy_manual(z, target, weight=t64(W), reduction=reduction), expected,
                                    call)
            expect_close(got, expected.item(), call, rtol=1e-12)


@pytest.mark.task("5.7")
def test_float32_logits_give_a_float32_loss(mod):
    logits = torch.tensor(LOGITS, dtype=torch.float32)
    for y, kind in ((targets([0, 1, -100]), "class indices"), (torch.softmax(logits.flip(0), dim=1), "probabilities")):
        call = f"cross_entropy_manual(float32 logits, {kind}, weight=[1, 3, 1] in float64, label_smoothing=0.1)"
        got = expect_tensor(mod.cross_entropy_manual(logits, y, weight=t64(W), label_smoothing=0.1), call)
        expect_true(got.dtype == torch.float32, f"{call} returned dtype {got.dtype}: torch computes in the logits' "
                    "dtype, float32 here (make any new tensor like the losses, e.g. torch.ones_like)")
        expected = F.cross_entropy(logits, y, weight=torch.tensor(W), label_smoothing=0.1)
        expect_close(got, expected.item(), call, rtol=1e-6)


@pytest.mark.task("5.7")
def test_the_gradient_flows_back_to_the_logits(mod):
    logits = t64(LOGITS[:2]).requires_grad_()
    y, w = targets([0, 1]), t64(W)
    loss = expect_graph(mod.cross_entropy_manual(logits, y, weight=w), "cross_entropy_manual(logits, y, weight=w)")
    loss.backward()
    reference = t64(LOGITS[:2]).requires_grad_()
    F.cross_entropy(reference, y, weight=w).backward()
    expected = reference.grad.numpy()
    expect_close(logits.grad, expected, "d cross_entropy_manual / d logits", rtol=1e-7, atol=1e-12, mistakes=[
        (2 * expected, "the gradient is twice torch's: the weighted mean was divided by N = 2 instead of the sum "
                       "of the targets' weights, 1 + 3 = 4"),
        (4 * expected, "the gradient is 4x torch's: a sum was returned for a mean")])


@pytest.mark.task("5.7")
@settings(max_examples=30)
@given(data=st.data())
def test_cross_entropy_manual_equals_torch_in_every_mode(mod, data):
    case = data.draw(st.one_of(index_cases(), probability_cases()))
    smoothing = data.draw(st.sampled_from([0.0, 0.0, 1.0]) | st.floats(0.0, 1.0))
    logits = case["logits"].clone().requires_grad_()
    leaves = [logits] + ([case["targets"].clone().requires_grad_()] if case["soft"] else [])
    y = leaves[1] if case["soft"] else case["targets"]
    kwargs = {"weight": case["weight"], "ignore_index": case["ignore"], "reduction": case["reduction"],
              "label_smoothing": smoothing}
    theirs = [t.detach().clone().requires_grad_() for t in leaves]
    expected = F.cross_entropy(theirs[0], theirs[1] if case["soft"] else y, **kwargs)
    call = f"cross_entropy_manual({case_words(case)}, label_smoothing={smoothing:.4g})"
    got = expect_loss_shape(quiet(mod.cross_entropy_manual, logits, y, **kwargs), expected, call)
    mistakes = reduction_mistakes(case, torch.log_softmax(case["logits"], dim=1)) \
        if not case["soft"] and smoothing == 0 and case["logits"].dim() == 2 else []
    expect_close(got, expected.detach().numpy(), call, rtol=1e-7, atol=1e-10, mistakes=mistakes)
    for name, mine, want in zip(("logits", "targets"), vjp(expect_graph(got, call), leaves), vjp(expected, theirs)):
        if mine is None:
            fail(f"{call} has no gradient with respect to the {name}: keep them in the computation, in torch")
        expect_close(mine, want.numpy(), f"d {call} / d {name}", rtol=1e-7, atol=1e-10)


@pytest.mark.task("5.7")
def test_cross_entropy_manual_refuses_what_torch_refuses(mod):
    logits, y = t64(LOGITS[:2]), targets([0, 1])
    soft = F.one_hot(y, 3).double()
    expect_refusals(mod.cross_entropy_manual, works=Call(logits, y), refuses=[
        (Call(logits, targets([0, 5]), shown="cross_entropy_manual(3 classes, target 5)"), "5 is not a class index"),
        (Call(logits, targets([0, 1, 2]), shown="cross_entropy_manual(2 rows, 3 targets)"),
         "there must be one target per position"),
        (Call(torch.zeros(2, 3, 4), targets([[0, 1, 2], [0, 1, 2]]), shown="cross_entropy_manual(logits (2, 3, 4), "
              "targets (2, 3))"), "targets of input (N, C, d1) have shape (N, d1) = (2, 4)"),
        (Call(logits, soft.long(), shown="cross_entropy_manual(logits (2, 3), integer targets (2, 3))"),
         "targets of the logits' shape are probabilities, which must be floating point"),
        (Call(logits, soft, ignore_index=1, shown="cross_entropy_manual(probability targets, ignore_index=1)"),
         "ignore_index cannot be used with probability targets (torch refuses it too)"),
        (Call(logits, -soft, shown="cross_entropy_manual(probability targets -[[1, 0, 0], [0, 1, 0]])"),
         "a probability cannot be negative"),
        (Call(logits, y, label_smoothing=1.5, shown="cross_entropy_manual(label_smoothing=1.5)"),
         "label_smoothing is in [0, 1]"),
        (Call(logits, y, reduction="batchmean", shown="cross_entropy_manual(reduction='batchmean')"),
         "reduction is 'mean', 'sum' or 'none'"),
        (Call(logits, y, weight=t64([1.0, 2.0]), shown="cross_entropy_manual(3 classes, weight of 2)"),
         "weight needs one entry per class"),
        (Call(t64([[math.nan, 0.0, 0.0], [0.0, 0.0, 0.0]]), y, shown="cross_entropy_manual(logits holding NaN)"),
         "NaN is no score"),
        (Call(torch.zeros(0, 3), targets([]), shown="cross_entropy_manual(no rows)"), "there is no example"),
        (Call(t64(1.0), targets(0), shown="cross_entropy_manual(a 0-d logit)"), "there is no class axis"),
    ])


@pytest.mark.task("5.7")
def test_losses_warn_where_torch_computes_silently(mod):
    logits, y = t64(LOGITS[:2]), targets([0, 1])
    negative = t64([1.0, -1.0, 1.0])
    with pytest.warns(LossInputWarning):
        got = mod.cross_entropy_manual(logits, y, weight=negative)
    expect_close(got, F.cross_entropy(logits, y, weight=negative).item(), "cross_entropy_manual(weight=[1, -1, 1])",
                 rtol=1e-12)
    unnormalised = t64([[0.5, 0.5, 0.5], [0.0, 0.2, 0.0]])
    with pytest.warns(LossInputWarning):
        got = mod.cross_entropy_manual(logits, unnormalised)
    expect_close(got, F.cross_entropy(logits, unnormalised).item(), "cross_entropy_manual(rows summing to 1.5 and "
                 "0.2)", rtol=1e-12)
    with pytest.warns(LossInputWarning):
        got = mod.nll_loss_manual(logits, y)  # raw logits where log-probabilities belong
    expect_close(got, F.nll_loss(logits, y).item(), "nll_loss_manual(raw logits, y)", rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LossInputWarning)
        masked = torch.cat([log_probs(2), t64([[-INF, -INF, -INF]])])
        mod.nll_loss_manual(masked, targets([0, 1, -100]))  # an ignored row need not be a distribution


@pytest.mark.task("5.1")
def test_nll_loss_manual_refuses_bad_input(mod):
    lp, y = log_probs(2), targets([0, 1])
    expect_refusals(mod.nll_loss_manual, works=Call(lp, y, reduction="none"), refuses=[
        (Call(lp, t64([0.0, 1.0]), shown="nll_loss_manual(lp, float targets)"),
         "nll_loss takes class indices, an integer tensor"),
        (Call(lp, targets([0, 1, 2]), shown="nll_loss_manual(2 rows, 3 targets)"), "there must be one target per row"),
        (Call(lp, targets([0, 3]), shown="nll_loss_manual(3 classes, target 3)"), "3 is not a class index in [0, 3)"),
        (Call(lp, y, weight=t64([1.0, 2.0]), shown="nll_loss_manual(3 classes, weight of 2)"),
         "weight needs one entry per class"),
        (Call(torch.zeros(0, 3), targets([]), shown="nll_loss_manual(empty)"), "there is no example"),
        (Call(lp, y, reduction="average", shown="nll_loss_manual(reduction='average')"),
         "reduction is 'mean', 'sum' or 'none'"),
        (Call(lp.unsqueeze(2), y, shown="nll_loss_manual(log_probs (2, 3, 1), targets (2,))"),
         "targets of input (N, C, d1) have shape (N, d1)"),
    ])


# --- hypothesis cases: every layout, target kind, weight, ignore_index and reduction -------------


LAYOUTS = {"unbatched": 0, "rows": 0, "k1": 1, "k2": 2}


def logit_values(size):
    """Logits of ordinary size, large ones (a row-wise shift matters) and huge spreads."""
    scale = st.sampled_from([1.0, 10.0, 1e3, 1e6, 1e30])
    return scale.flatmap(lambda s: st.lists(st.floats(-1.0, 1.0).map(lambda v: v * s), min_size=size, max_size=size))


@st.composite
def layout_shape(draw, layouts):
    layout = draw(st.sampled_from(layouts))
    c = draw(st.integers(2, 5))
    if layout == "unbatched":
        return layout, (c,), c
    n = draw(st.integers(1, 4))
    rest = tuple(draw(st.integers(1, 3)) for _ in range(LAYOUTS[layout]))
    return layout, (n, c, *rest), c


def class_dim(x):
    return 0 if x.dim() == 1 else 1


def class_rows_of(x):
    """The oracle's own rows (M, C), to feed the row-wise tasks."""
    return x.unsqueeze(0) if x.dim() == 1 else x.movedim(1, -1).reshape(-1, x.shape[1])


@st.composite
def index_cases(draw, layouts=tuple(LAYOUTS), masked_rows=False):
    layout, shape, c = draw(layout_shape(layouts))
    logits = t64(draw(logit_values(math.prod(shape)))).reshape(shape)
    target_shape = shape[:0] if layout == "unbatched" else (shape[0], *shape[2:])
    m = math.prod(target_shape)
    ignore = draw(st.sampled_from([-100, -1, 0, c - 1]))
    y = draw(st.lists(st.integers(0, c - 1), min_size=m, max_size=m))
    ignored = draw(st.lists(st.booleans(), min_size=m, max_size=m))
    y = [ignore if skip else t for t, skip in zip(y, ignored)]
    if all(t == ignore for t in y):  # keep one position that counts: an all-ignored mean is 0/0 (tested on its own)
        y[0] = draw(st.sampled_from([k for k in range(c) if k != ignore]))
    masked = torch.tensor([t == ignore and draw(st.booleans()) for t in y]) if masked_rows else torch.zeros(m, dtype=bool)
    weight = draw(st.one_of(st.none(), st.lists(st.floats(0.1, 5), min_size=c, max_size=c).map(t64)))
    return {"layout": layout, "logits": logits, "targets": targets(y).reshape(target_shape), "weight": weight,
            "ignore": ignore, "reduction": draw(st.sampled_from(["mean", "sum", "none"])), "c": c, "soft": False,
            "masked": masked}


@st.composite
def probability_cases(draw):
    layout, shape, c = draw(layout_shape(tuple(LAYOUTS)))
    logits = t64(draw(logit_values(math.prod(shape)))).reshape(shape)
    raw = t64(draw(st.lists(st.sampled_from([0.0, 1.0]) | st.floats(0.0, 1.0), min_size=math.prod(shape),
                            max_size=math.prod(shape)))).reshape(shape)
    totals = raw.sum(dim=class_dim(raw), keepdim=True)
    raw = torch.where(totals > 0, raw, 1.0)  # a row of zeros becomes uniform; other zeros stay (p = 0 is an edge)
    probs = raw / raw.sum(dim=class_dim(raw), keepdim=True)
    weight = draw(st.one_of(st.none(), st.lists(st.floats(0.1, 5), min_size=c, max_size=c).map(t64)))
    return {"layout": layout, "logits": logits, "targets": probs, "weight": weight, "ignore": -100,
            "reduction": draw(st.sampled_from(["mean", "sum", "none"])), "c": c, "soft": True}


def words(x):
    if x is None:
        return "None"
    if x.numel() <= 6:
        return np.array2string(x.detach().numpy(), precision=3, separator=", ")
    return f"tensor of shape {tuple(x.shape)}"


def case_words(case):
    targets = case["targets"]
    kind = "probabilities" if case["soft"] else (f"targets={targets.tolist()}" if targets.numel() <= 8
                                                 else f"targets={show(targets)}")
    return (f"logits of shape {tuple(case['logits'].shape)}, {kind}, weight={words(case['weight'])}, "
            f"ignore_index={case['ignore']}, reduction={case['reduction']!r}")


def reduction_mistakes(case, lp):
    """What the listed mistakes give for this (N, C) case, with their diagnosis (scalars only)."""
    y, ignore_index, reduction = case["targets"], case["ignore"], case["reduction"]
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


# --- 5.8 and 5.9 the models -----------------------------------------------------------------------


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
        try:
            return model(POINTS)
        except RuntimeError as error:
            if "shapes cannot be multiplied" not in str(error):
                raise
            fail(f"{call} cannot take the points (N, 2): {str(error).splitlines()[0]}. The first layer's input "
                 "size is the number of features, 2: nn.Linear(in_features, out_features), in_features first")


def expect_seeded(factory, call):
    """Two calls, with torch's random state moved on in between, must give the same model."""
    first = model_outputs(factory(), call)
    torch.rand(5)
    again = model_outputs(factory(), call)
    expect_true(first.shape == again.shape and torch.equal(first, again),
                f"{call} gave different weights on two calls: seed torch's generator with the seed first, before "
                "creating the layers, so every run (and every figure) starts from the same weights")


@pytest.mark.task("5.8")
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
                     (out, "seed=7 gave the same model as seed=0: seed the generator with the seed passed in")])


@pytest.mark.task("5.9")
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


# --- 5.10 train -----------------------------------------------------------------------------------


def small_blobs(n_per_class=20):
    X, y = three_blobs(n_per_class, seed=1)
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.long)


def oracle_history(model, X, y, lr, epochs, **mistake):
    """kata.testing.oracles.full_batch on the mean cross-entropy; the switches make the named mistakes."""
    reduction = mistake.pop("reduction", "mean")
    return full_batch(model, lambda m: F.cross_entropy(m(X), y, reduction=reduction), epochs=epochs, lr=lr, **mistake)


def learner_history(mod, model, X, y, call, **kwargs):
    try:
        history = mod.train(model, X, y, **kwargs)
    except RuntimeError as error:
        if "leaf Variable" not in str(error) and "in-place" not in str(error):
            raise
        fail(f"{call} raised RuntimeError ({str(error).splitlines()[0]}): the update of a parameter must not be "
             "recorded by autograd: make it inside torch.no_grad()")
    if not isinstance(history, (list, tuple)):
        fail(f"{call} returned {type(history).__name__}, expected a list of floats, one loss per epoch")
    if history and isinstance(history[0], torch.Tensor):
        fail(f"{call} returned a list of tensors: append each loss as a Python float (loss.item()), not the loss "
             "tensor, which would keep every epoch's graph alive")
    return history


@pytest.mark.task("5.10")
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
         "gradients so far (momentum that never decays). Clear the gradients at the start of each epoch"),
        (oracle_history(oracle_linear(0), X, y, lr, epochs, record_after=True),
         "you recorded the loss after the update; record the loss the gradient was computed from (before the step)"),
        (oracle_history(oracle_linear(0), X, y, 0.1, epochs),
         "that is training with lr = 0.1: use the lr passed in"),
        (oracle_history(oracle_linear(0), X, y, lr, epochs, reduction="sum"),
         "that is the summed loss, 60 times the mean: train on the mean over the rows (loss_fn)"),
        ([expected[0]] * epochs, "the loss never changes: the parameters are not updated (the step must change each "
                                 "parameter in place, inside torch.no_grad(), not a copy of it)"),
    ])


@pytest.mark.task("5.10")
def test_train_zeroes_the_gradients_every_epoch(mod):
    X, y = small_blobs()
    model = oracle_linear(0)
    before = [p.detach().clone() for p in model.parameters()]
    learner_history(mod, model, X, y, "train(..., lr=0, epochs=3)", lr=0.0, epochs=3)
    for old, new in zip(before, model.parameters()):
        expect_true(torch.equal(old, new.detach()), "train(..., lr=0) changed the parameters: a step of size lr "
                    "does nothing when lr = 0")
    once = oracle_linear(0)
    F.cross_entropy(once(X), y).backward()
    for (name, p), q in zip(model.named_parameters(), once.parameters()):
        if p.grad is None or not p.grad.abs().sum() > 0:
            continue  # zeroed at the end of each epoch: fine
        for k in (3, 2):
            if torch.allclose(p.grad, k * q.grad, rtol=1e-4, atol=1e-7):
                fail(f"after train(..., lr=0, epochs=3) the {name}'s .grad is {k}x the gradient of one epoch: "
                     "the gradients are never zeroed, so backward() piles them up. Clear them at the start of each "
                     "epoch")
        expect_close(p.grad, q.grad.numpy(), f"the {name}'s .grad after train(..., lr=0, epochs=3)", rtol=1e-4,
                     atol=1e-7)


def blank_linear():
    """A linear model whose logits are all 0: it gives every class probability 1/3."""
    model = nn.Linear(2, 3)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    return model


@pytest.mark.task("5.10")
def test_a_model_that_knows_nothing_starts_at_log_3(mod):
    X, y = small_blobs()
    call = "train(all-zero linear model, 60 points, epochs=2)"
    history = expect_shape(learner_history(mod, blank_linear(), X, y, call, epochs=2), (2,), call)
    after_one_step = oracle_history(blank_linear(), X, y, 0.1, 1, record_after=True)[0]
    expect_close(history[0], LOG3, f"{call}[0], the untrained loss", rtol=1e-6, mistakes=[
        (after_one_step, "that is the loss after the first update: record the loss before the step, so that "
                         "losses[0] is the untrained loss, log 3 for a uniform guess")])
    expect_true(history[1] < history[0], f"the loss went from {history[0]:.4f} to {history[1]:.4f} after one step "
                "from the uniform guess: a gradient step must lower it (move each parameter AGAINST its gradient)")


@pytest.mark.task("5.10")
def test_train_refuses_bad_input(mod):
    X, y = small_blobs()
    expect_refusals(lambda *a, **k: mod.train(oracle_linear(0), *a, **k), works=Call(X, y, epochs=1), refuses=[
        (Call(X, y[:-1], shown="train(model, 60 points, 59 labels)"), "there must be one label per point"),
        (Call(X, y.float(), shown="train(model, X, float labels)"), "labels are class indices, an integer tensor"),
        (Call(X, y, epochs=0, shown="train(..., epochs=0)"), "there must be at least one epoch"),
        (Call(X, y, lr=-0.1, shown="train(..., lr=-0.1)"), "a negative learning rate climbs the loss"),
    ])


# The blobs (300 points a class, seed 0), seeded models, lr 0.1, 200 full-batch epochs, trained by
# kata.testing.oracles.full_batch (torch 2.13 CPU; torch.optim.SGD agrees within 6e-8): the losses at
# epochs 0, 1, 10, 199 and the final accuracy.
TRAINED = {
    "linear": ([2.169073, 1.697236, 0.568549, 0.143320], 0.970000),
    "MLP": ([1.251437, 0.976685, 0.463997, 0.080744], 0.978889),
}


@pytest.mark.task("5.10")
def test_both_models_learn_the_blobs(mod):
    fitted = mod.trained_models()
    expect_true(len(fitted) == 2, f"trained_models() returned {len(fitted)} models, expected 2 (linear and MLP)")
    for (_name, (_model, history)), (kind, (losses, _)) in zip(fitted.items(), TRAINED.items()):
        if isinstance(history, list) and history and isinstance(history[0], torch.Tensor):
            fail(f"train() returned a list of tensors for the {kind} model: append each loss as a Python float")
        history = expect_shape(history, (200,), f"the {kind} model's loss history")
        expect_close(history[[0, 1, 10, 199]], losses, f"the {kind} model's losses at epochs 0, 1, 10, 199",
                     rtol=1e-4)
    untrained_mlp = TRAINED["MLP"][0][0]
    expect_true(abs(untrained_mlp - LOG3) < 0.2, f"the untrained MLP's loss {untrained_mlp:.4f} should be near "
                f"log 3 = {LOG3:.4f}")
    # the lesson's numbers: the inputs reach 6.2; without zeroing, the loss swings (0.106 at epoch 55, 0.387 at the end)
    X, y = three_blobs(300, seed=0)
    expect_close(np.abs(X).max(), 6.170975, "the largest |coordinate| of the blobs (the lesson says 6.2)")
    X, y = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
    piled = np.array(oracle_history(oracle_linear(0), X, y, 0.1, 200, zero_grad=False))
    expect_close([piled.min(), piled.argmin(), piled[-1]], [0.106031, 55, 0.386860],
                 "the oracle's losses without zeroing (lowest, its epoch, last; the lesson quotes them)", rtol=1e-4)


@pytest.mark.task("5.10")
@pytest.mark.mpl_image_compare(filename="module05_loss_curves.png")
def test_figure_loss_curves(mod):
    return mod.plot_loss_curves()


# --- 5.11 predict ---------------------------------------------------------------------------------


@pytest.mark.task("5.11")
def test_predict_returns_the_class_of_the_largest_logit(mod):
    model = nn.Linear(2, 3)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]))
        model.bias.zero_()
    X = torch.tensor([[2.0, 1.0], [0.0, 3.0], [-4.0, 1.0], [1.0, 1.5]])
    call = "predict(model, 4 points)"
    grad_modes = []
    model.register_forward_hook(lambda *_: grad_modes.append(torch.is_grad_enabled()))
    got = mod.predict(model, X)
    if not isinstance(got, torch.Tensor) or got.is_floating_point():
        fail(f"{call} returned {type(got).__name__} {getattr(got, 'dtype', '')}: return class indices, "
             "an integer tensor (argmax gives one)")
    expect_true(not any(grad_modes), f"{call} ran the model with gradients on, building a graph nobody needs: "
                "predict inside torch.no_grad()")
    got = expect_shape(got, (4,), call, diagnoses={
        (4, 3): "those are the logits (or probabilities): return the index of the largest one in each row",
        (3,): "that is one index per class (the largest over the rows, dim 0); take it over the classes, dim 1"})
    expect_close(got, [0, 1, 2, 1], call)


@pytest.mark.task("5.11")
def test_the_trained_models_classify_the_blobs(mod):
    X, y = three_blobs(300, seed=0)
    X, y = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
    for (_name, (model, _)), (kind, (_, accuracy)) in zip(mod.trained_models().items(), TRAINED.items()):
        expect_close(mod.accuracy(model, X, y), accuracy, f"the accuracy of the trained {kind} model", atol=2e-6)


@pytest.mark.task("5.11")
@pytest.mark.mpl_image_compare(filename="module05_decision_regions.png")
def test_figure_decision_regions(mod):
    return mod.plot_decision_regions()
