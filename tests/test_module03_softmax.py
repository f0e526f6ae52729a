"""Module 3: softmax, log_softmax, cross-entropy from logits, its gradient, gradient checking.

Expected values are hand-computed constants (softmax([1, 2]) = 1 / (1 + e^-1), ...),
small numpy formulas written out here, or torch (F.cross_entropy and its autograd
gradient, float64), never the reference itself.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kata.testing.expect import expect_close, expect_number, expect_raises, expect_shape, expect_true, without_warnings
from kata.testing.strategies import distributions, logits

MODULE = "module03_softmax"

SOFTMAX_1_2 = [0.26894142, 0.73105858]  # [1, e] / (1 + e)
LOG_SOFTMAX_1_2 = [-1.31326169, -0.31326169]
EXAMPLE_LOGITS = np.array([[4.0, 2.0, 1.0], [0.0, 5.0, 1.0]])
EXAMPLE_SOFT = np.array([[1.0, 0.0, 0.0], [0.0, 0.8, 0.2]])
ROW_LOSSES = [0.169846, 0.824745]  # log(e^4 + e^2 + e) - 4;  .8 (lse - 5) + .2 (lse - 1) with lse = 5.024745
MEAN_LOSS = 0.49729545  # (0.16984602 + 0.82474489) / 2
INDEX_MEAN_LOSS = 0.09729545  # targets [0, 1]: (0.16984602 + (5.02474489 - 5)) / 2

OVERFLOW = ("exp of a logit near 1000 overflows float64 (exp overflows past ~709): subtract the max logit "
            "(along `axis`, keepdims=True) before np.exp; softmax does not change when a constant is subtracted")
LOG_OF_SOFTMAX = ("that is np.log(softmax(z)): exp(-1000) underflows to 0 and log 0 = -inf. "
                  "Use z - m - log Σ exp(z - m) with m the max")


def calm(call, function, *args, why=None, **kwargs):
    return without_warnings(call, function, *args, why=why or "an exp overflowed or a log of 0 was taken", **kwargs)


def exp_normalised(z, axis):
    """An independent oracle for moderate logits: exp(z) / sum(exp(z)) along axis (no shift needed)."""
    e = np.exp(np.asarray(z, dtype=float))
    return e / e.sum(axis=axis, keepdims=True)


SQUARE = np.array([[1.0, 2.0, 3.0], [3.0, 1.0, 0.0], [0.5, 0.5, 2.0]])


def softmax_mistakes(z, axis):
    e = np.exp(z)
    other = 0 if axis in (-1, 1) else 1
    return [
        (exp_normalised(z, other), f"you normalised along axis {other}; softmax normalises along `axis` "
                                   f"(here {axis}): pass axis (never a fixed number) to max and sum"),
        (e / e.sum(), "you divided by the sum over the whole array; sum along `axis` only, with keepdims=True"),
        (e / e.sum(axis=axis), "keepdims=True is missing from the sum: without it the sums broadcast along the "
                               "wrong axis"),
    ]


# --- 3.1 softmax -------------------------------------------------------------------


@pytest.mark.task("3.1")
def test_softmax_of_two_logits(mod):
    expect_close(calm("softmax([1, 2])", mod.softmax, [1.0, 2.0]), SOFTMAX_1_2, "softmax([1, 2])",
                 mistakes=[([1.0, 2.0], "you returned the logits: take exp and divide by the sum"),
                           ([math.e, math.e ** 2], "that is exp(z) without dividing by the sum")])


@pytest.mark.task("3.1")
def test_softmax_does_not_overflow_near_1000(mod):
    got = calm("softmax([1001, 1002])", mod.softmax, [1001.0, 1002.0], why=OVERFLOW)
    expect_close(got, SOFTMAX_1_2, "softmax([1001, 1002])", mistakes=[(np.array([np.nan, np.nan]), OVERFLOW)])
    expect_close(calm("softmax([1000, -1000])", mod.softmax, [1000.0, -1000.0], why=OVERFLOW), [1.0, 0.0],
                 "softmax([1000, -1000])", mistakes=[(np.array([np.nan, 0.0]), OVERFLOW)])


@pytest.mark.task("3.1")
def test_softmax_with_temperature(mod):
    expect_close(mod.softmax([1.0, 2.0], temperature=2.0), [0.37754067, 0.62245933], "softmax([1, 2], temperature=2)",
                 mistakes=[([0.11920292, 0.88079708], "you multiplied by the temperature; divide the logits by it"),
                           (SOFTMAX_1_2, "the temperature is ignored: divide the logits by it first")])
    expect_close(mod.softmax([2.0, 0.5, -1.0], temperature=0.5), [0.95033021, 0.04731416, 0.00235563],
                 "softmax([2, .5, -1], temperature=0.5)")


@pytest.mark.task("3.1")
def test_softmax_normalises_each_row_of_a_batch(mod):
    call = "softmax(3×3 logits) (axis=-1: one distribution per row)"
    got = expect_shape(calm(call, mod.softmax, SQUARE), (3, 3), call)
    expect_close(got, exp_normalised(SQUARE, 1), call, mistakes=softmax_mistakes(SQUARE, -1))


@pytest.mark.task("3.1")
def test_softmax_follows_the_axis_argument(mod):
    call = "softmax(3×3 logits, axis=0) (one distribution per column)"
    got = expect_shape(calm(call, mod.softmax, SQUARE, axis=0), (3, 3), call)
    expect_close(got, exp_normalised(SQUARE, 0), call,
                 mistakes=[(exp_normalised(SQUARE, 1), "the axis argument is ignored: normalise along `axis`")]
                 + softmax_mistakes(SQUARE, 0))


@pytest.mark.task("3.1")
def test_softmax_refuses_bad_input(mod):
    mod.softmax([1.0, 2.0])  # the function must work before its checks matter
    expect_raises(ValueError, mod.softmax, [1.0, 2.0], temperature=0.0, call="softmax([1, 2], temperature=0)",
                  why="a temperature must be positive")
    expect_raises(ValueError, mod.softmax, [], call="softmax([])", why="there are no logits")


@pytest.mark.task("3.1")
@given(z=logits(), shift=st.floats(-1000, 1000))
def test_softmax_is_unchanged_when_a_constant_is_added(mod, z, shift):
    base = calm("softmax(z)", mod.softmax, z, why=OVERFLOW)
    shifted = calm(f"softmax(z + {shift})", mod.softmax, z + shift, why=OVERFLOW)
    expect_close(shifted, base, f"softmax(z + {shift:g}) against softmax(z) for z of shape {z.shape}", rtol=1e-7, atol=1e-12,
                 mistakes=[(np.full(z.shape, np.nan), OVERFLOW)])


@pytest.mark.task("3.1")
@given(z=logits(scale=1e4), temperature=st.sampled_from([0.25, 1.0, 3.0]))
def test_softmax_rows_sum_to_one_even_at_extreme_logits(mod, z, temperature):
    got = expect_shape(calm("softmax(z)", mod.softmax, z, temperature=temperature, why=OVERFLOW), z.shape,
                       f"softmax(z, temperature={temperature}) for z of shape {z.shape}")
    expect_true(np.isfinite(got).all() and (got >= 0).all(),
                f"softmax(z, temperature={temperature}) gave {got} for logits up to {np.abs(z).max():.0f}: "
                "NaN or inf there is an overflowing exp. " + OVERFLOW)
    expect_close(got.sum(axis=-1), np.ones(z.shape[0]), f"the row sums of softmax(z, temperature={temperature})",
                 rtol=1e-9)


# --- 3.2 log_softmax ---------------------------------------------------------------


@pytest.mark.task("3.2")
def test_log_softmax_of_two_logits(mod):
    expect_close(calm("log_softmax([1, 2])", mod.log_softmax, [1.0, 2.0]), LOG_SOFTMAX_1_2, "log_softmax([1, 2])",
                 mistakes=[(SOFTMAX_1_2, "that is softmax: take its log (stably)"),
                           ([1.31326169, 0.31326169], "the sign is flipped: log-probabilities are <= 0")])


@pytest.mark.task("3.2")
def test_log_softmax_stays_finite_at_extreme_logits(mod):
    call = "log_softmax([1000, 0, -1000])"
    got = calm(call, mod.log_softmax, [1000.0, 0.0, -1000.0], why=LOG_OF_SOFTMAX)
    expect_close(got, [0.0, -1000.0, -2000.0], call,
                 mistakes=[(np.array([0.0, -np.inf, -np.inf]), LOG_OF_SOFTMAX),
                           (np.array([np.nan, -np.inf, -np.inf]), "exp(1000) overflows: subtract the max first")])


@pytest.mark.task("3.2")
def test_log_softmax_of_uniform_logits_is_minus_log_c(mod):
    expect_close(mod.log_softmax(np.zeros(5)), np.full(5, -math.log(5)), "log_softmax(5 equal logits)")


@pytest.mark.task("3.2")
def test_log_softmax_follows_the_axis(mod):
    for axis in (-1, 0):
        call = f"log_softmax(3×3 logits, axis={axis})"
        got = expect_shape(calm(call, mod.log_softmax, SQUARE, axis=axis), (3, 3), call)
        expect_close(got, np.log(exp_normalised(SQUARE, axis)), call,
                     mistakes=[(np.log(value), why) for value, why in softmax_mistakes(SQUARE, axis)])


@pytest.mark.task("3.2")
@given(z=logits())
def test_log_softmax_is_the_log_of_softmax(mod, z):
    expect_close(calm("log_softmax(z)", mod.log_softmax, z), np.log(exp_normalised(z, 1)),
                 f"log_softmax(z) for z of shape {z.shape}", rtol=1e-9, atol=1e-9)


# --- 3.3 cross_entropy_from_logits ---------------------------------------------------


def batch_mistakes(mean, per_row, n_classes):
    return [
        (mean * len(per_row), "that is the batch SUM of the row losses; the loss is their mean over the N rows"),
        (-mean, "a negative loss: the minus sign is missing, each row's loss is -Σ t log_softmax(z)"),
        (mean / n_classes, "you averaged over the classes as well; sum over the classes, average over the rows"),
        (np.asarray(per_row), "you returned one loss per row; return their mean"),
    ]


@pytest.mark.task("3.3")
def test_soft_targets_row_by_row(mod):
    for n in range(2):
        call = f"cross_entropy_from_logits({EXAMPLE_LOGITS[[n]].tolist()}, {EXAMPLE_SOFT[[n]].tolist()})"
        expect_close(calm(call, mod.cross_entropy_from_logits, EXAMPLE_LOGITS[[n]], EXAMPLE_SOFT[[n]]),
                     ROW_LOSSES[n], call, mistakes=[(-ROW_LOSSES[n], "a negative loss: the minus sign is missing")])


@pytest.mark.task("3.3")
def test_soft_targets_batch_mean(mod):
    call = "cross_entropy_from_logits([[4, 2, 1], [0, 5, 1]], [[1, 0, 0], [0, .8, .2]])"
    got = calm(call, mod.cross_entropy_from_logits, EXAMPLE_LOGITS, EXAMPLE_SOFT)
    expect_close(got, MEAN_LOSS, call, mistakes=batch_mistakes(MEAN_LOSS, ROW_LOSSES, 3),
                 shape_diagnoses={(2,): "you returned one loss per row; return their mean"})


@pytest.mark.task("3.3")
def test_class_index_targets(mod):
    call = "cross_entropy_from_logits([[4, 2, 1], [0, 5, 1]], [0, 1])"
    got = calm(call, mod.cross_entropy_from_logits, EXAMPLE_LOGITS, np.array([0, 1]))
    if np.asarray(got).shape == (2,):
        pytest.fail(f"{call} returned one loss per row; return their mean", pytrace=False)
    expect_close(got, INDEX_MEAN_LOSS, call, mistakes=batch_mistakes(INDEX_MEAN_LOSS, [0.169846, 0.024745], 3)
                 + [(1.84729545, "lp[:, targets] picks every target class in every row (an N×N block): row n's "
                               "loss is -lp[n, targets[n]], pick them with lp[np.arange(N), targets]")])


@pytest.mark.task("3.3")
def test_uniform_logits_give_log_c(mod):
    got = calm("cross_entropy_from_logits(zeros((3, 5)), [0, 2, 4])", mod.cross_entropy_from_logits,
               np.zeros((3, 5)), np.array([0, 2, 4]))
    expect_close(got, math.log(5), "cross_entropy_from_logits(3 rows of 5 equal logits, [0, 2, 4])",
                 mistakes=[(3 * math.log(5), "that is the batch SUM; the loss is the mean over the rows")])


@pytest.mark.task("3.3")
def test_cross_entropy_from_logits_is_stable(mod):
    call = "cross_entropy_from_logits([[1000, 0]], [1])"
    got = calm(call, mod.cross_entropy_from_logits, np.array([[1000.0, 0.0]]), np.array([1]), why=LOG_OF_SOFTMAX)
    expect_close(got, 1000.0, call, mistakes=[(np.inf, LOG_OF_SOFTMAX)])


@pytest.mark.task("3.3")
@pytest.mark.parametrize("soft", [False, True], ids=["class indices", "probability rows"])
def test_cross_entropy_from_logits_equals_torch(mod, soft):
    mod.cross_entropy_from_logits(EXAMPLE_LOGITS, EXAMPLE_SOFT)  # not done yet? say so before importing torch
    import torch
    import torch.nn.functional as F  # noqa: N812

    rng = np.random.default_rng(3)
    for n, c in ((1, 2), (7, 5), (16, 10)):
        z = rng.normal(0.0, 3.0, size=(n, c))
        targets = rng.dirichlet(np.ones(c), size=n) if soft else rng.integers(0, c, size=n)
        expected = F.cross_entropy(torch.tensor(z), torch.tensor(targets)).item()
        call = f"cross_entropy_from_logits(random ({n}, {c}) logits, {'probability rows' if soft else 'class indices'})"
        got = expect_number(calm(call, mod.cross_entropy_from_logits, z, targets), call)
        expect_close(got, expected, call + ", against torch.nn.functional.cross_entropy", rtol=1e-10, atol=1e-12,
                     mistakes=[(expected * n, "that is the batch SUM; torch (and this course) take the mean over rows")])


@pytest.mark.task("3.3")
def test_cross_entropy_from_logits_refuses_bad_targets(mod):
    mod.cross_entropy_from_logits(EXAMPLE_LOGITS, np.array([0, 1]))  # the function must work before its checks matter
    bad = [(np.array([0, 3]), "class 3 does not exist among 3 classes"),
           (np.array([0, 1, 2]), "there are 3 targets for 2 rows"),
           (np.array([[0.5, 0.6, 0.0], [0.0, 1.0, 0.0]]), "a target row sums to 1.1"),
           (np.array([0.0, 1.0]), "class indices must be integers")]
    for targets, why in bad:
        expect_raises(ValueError, mod.cross_entropy_from_logits, EXAMPLE_LOGITS, targets,
                      call=f"cross_entropy_from_logits(logits (2, 3), {targets.tolist()})", why=why)
    expect_raises(ValueError, mod.cross_entropy_from_logits, [4.0, 2.0, 1.0], np.array([0]),
                  call="cross_entropy_from_logits([4, 2, 1], [0])", why="logits must be (N, C), not one flat row")


@pytest.mark.task("3.3")
@given(p=distributions())
def test_logits_equal_to_log_p_give_the_entropy(mod, p):
    expected = -float(np.sum(p * np.log(p)))
    call = f"cross_entropy_from_logits([log p], [p]) for p = {p}"
    expect_close(calm(call, mod.cross_entropy_from_logits, np.log(p)[None, :], p[None, :]), expected,
                 call + " (should be H(p): softmax(log p) = p)", rtol=1e-9)


# --- 3.4 cross_entropy_grad ------------------------------------------------------------


def torch_gradient(z, targets):
    import torch
    import torch.nn.functional as F  # noqa: N812

    logits = torch.tensor(z, requires_grad=True)
    F.cross_entropy(logits, torch.tensor(targets)).backward()
    return logits.grad.numpy()


def grad_mistakes(expected, n):
    return [
        (expected * n, f"the gradient is {n} times too big: the 1/N from the batch mean is missing, divide by N = {n}"),
        (-expected, "the sign is flipped: the gradient is softmax - onehot, not onehot - softmax"),
        (-expected * n, "the sign is flipped AND the 1/N is missing: (softmax - onehot) / N"),
    ]


@pytest.mark.task("3.4")
def test_gradient_of_the_example(mod):
    call = "cross_entropy_grad([[4, 2, 1], [0, 5, 1]], [[1, 0, 0], [0, .8, .2]])"
    got = expect_shape(calm(call, mod.cross_entropy_grad, EXAMPLE_LOGITS, EXAMPLE_SOFT), (2, 3), call)
    p0 = np.exp([4.0, 2.0, 1.0]) / np.exp([4.0, 2.0, 1.0]).sum()
    p1 = np.exp([0.0, 5.0, 1.0]) / np.exp([0.0, 5.0, 1.0]).sum()
    expected = (np.array([p0, p1]) - EXAMPLE_SOFT) / 2
    expect_close(got, expected, call, rtol=1e-9, atol=1e-12, mistakes=grad_mistakes(expected, 2))


@pytest.mark.task("3.4")
@pytest.mark.parametrize("soft", [False, True], ids=["class indices", "probability rows"])
def test_gradient_equals_torch_autograd(mod, soft):
    mod.cross_entropy_grad(EXAMPLE_LOGITS, EXAMPLE_SOFT)  # not done yet? say so before importing torch
    rng = np.random.default_rng(4)
    for n, c in ((1, 3), (6, 4), (12, 10)):
        z = rng.normal(0.0, 3.0, size=(n, c))
        targets = rng.dirichlet(np.ones(c), size=n) if soft else rng.integers(0, c, size=n)
        expected = torch_gradient(z, targets)
        call = f"cross_entropy_grad(random ({n}, {c}) logits, {'probability rows' if soft else 'class indices'})"
        got = expect_shape(calm(call, mod.cross_entropy_grad, z, targets), (n, c), call)
        expect_close(got, expected, call + ", against torch autograd of F.cross_entropy", rtol=1e-9, atol=1e-12,
                     mistakes=grad_mistakes(expected, n) if n > 1 else grad_mistakes(expected, n)[1:2])


@pytest.mark.task("3.4")
@given(z=logits(scale=50.0))
def test_gradient_rows_sum_to_zero(mod, z):
    targets = np.arange(z.shape[0]) % z.shape[1]
    got = expect_shape(calm("cross_entropy_grad(z, targets)", mod.cross_entropy_grad, z, targets, why=OVERFLOW),
                       z.shape, f"cross_entropy_grad for logits of shape {z.shape}")
    expect_close(got.sum(axis=1), np.zeros(z.shape[0]), "the row sums of cross_entropy_grad (softmax and onehot "
                 "both sum to 1, so each row of their difference sums to 0)", atol=1e-12)


# --- 3.5 numerical_gradient ---------------------------------------------------------------


X3 = np.array([1.0, 2.0, -1.5])


def cube_sum(x):
    return float(np.sum(x ** 3))


def forward_difference_message(h):
    return (f"that is a one-sided difference (f(x + h) - f(x)) / h, whose error is of order h = {h:g}: use the "
            "central difference (f(x + h) - f(x - h)) / (2h), whose error is of order h²")


def norm_relative_error(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)))


@pytest.mark.task("3.5")
def test_central_difference_of_a_cubic(mod):
    # For f(x) = Σ x³ the central difference is exactly 3x² + h² (the h² term is f'''/6 · h²);
    # the forward difference is 3x² + 3xh + h², the backward one 3x² - 3xh + h².
    h = 1e-3
    call = f"numerical_gradient(Σ x³, x = [1, 2, -1.5], h={h:g})"
    got = expect_shape(mod.numerical_gradient(cube_sum, X3, h=h), (3,), call)
    expect_close(got, 3 * X3 ** 2 + h ** 2, call, rtol=1e-8,
                 mistakes=[(3 * X3 ** 2 + 3 * X3 * h + h ** 2, forward_difference_message(h)),
                           (3 * X3 ** 2 - 3 * X3 * h + h ** 2, forward_difference_message(h) + " (this one is backward)"),
                           (2 * (3 * X3 ** 2 + h ** 2), "twice too big: divide the difference by 2h, not h"),
                           ((3 * X3 ** 2 + h ** 2) / 2, "half too small: divide the difference by 2h, not 4h")])


@pytest.mark.task("3.5")
def test_numerical_gradient_is_accurate_with_the_default_step(mod):
    got = expect_shape(mod.numerical_gradient(cube_sum, X3), (3,), "numerical_gradient(Σ x³, [1, 2, -1.5])")
    error = norm_relative_error(got, 3 * X3 ** 2)
    forward = X3 * 3e-5  # 3xh with h = 1e-5: the forward difference's leading error
    if np.allclose(np.abs(got - 3 * X3 ** 2), np.abs(forward), rtol=0.05, atol=0):
        pytest.fail(f"numerical_gradient(Σ x³, [1, 2, -1.5]) has relative error {error:.1e} against the exact 3x²: "
                    + forward_difference_message(1e-5), pytrace=False)
    expect_true(error < 1e-8, f"numerical_gradient(Σ x³, [1, 2, -1.5]) = {got} has relative error {error:.1e} against "
                "the exact 3x² = [3, 12, 6.75]; central differences with h = 1e-5 get below 1e-8")


def not_restored(f, x, h):
    """What numerical_gradient gives if x[i] is left at x[i] - h after its turn."""
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        grad[i] = (plus - f(x)) / (2 * h)
    return grad


@pytest.mark.task("3.5")
def test_numerical_gradient_of_a_matrix_argument(mod):
    def product(x):
        return float(x[0, 0] * x[0, 1] * x[1, 0] + 2.0 * x[1, 1])

    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    before = x.copy()
    call = "numerical_gradient(x00·x01·x10 + 2·x11, [[1, 2], [3, 4]], h=0.01)"
    got = expect_shape(mod.numerical_gradient(product, x, h=0.01), (2, 2), call,
                       diagnoses={(4,): "return the gradient in x's own shape (np.zeros_like(x))"})
    expect_true(np.array_equal(x, before), f"{call} changed the caller's x to {x}: work on the copy")
    expect_close(got, [[6.0, 3.0], [2.0, 2.0]], call, rtol=1e-8,
                 mistakes=[(not_restored(product, before, 0.01), "after each element's turn, put x[i] back to its old "
                                                                  "value: the next elements were computed at a shifted x")])


# --- 3.6 relative_error -----------------------------------------------------------------------


@pytest.mark.task("3.6")
def test_relative_error_values(mod):
    expect_close(mod.relative_error([1.0], [1.1]), 0.1 / 2.1, "relative_error([1], [1.1])",
                 mistakes=[(0.1 / 1.1, "you divided by max(||a||, ||b||); divide by the SUM ||a|| + ||b||"),
                           (0.1, "you divided by ||a|| alone; divide by ||a|| + ||b||"),
                           (0.1 / 1.0 / 2, "divide by ||a|| + ||b||, not 2||a||")])
    expect_close(mod.relative_error([3.0, 4.0], [0.0, 0.0]), 1.0, "relative_error([3, 4], [0, 0])")
    expect_close(mod.relative_error(np.eye(2), np.eye(2)[::-1]), math.sqrt(0.5), "relative_error(I, flipped I)",
                 mistakes=[(0.5, "use Euclidean norms over all the elements (np.linalg.norm of a.ravel()), not the "
                                 "largest element")])
    expect_close(mod.relative_error([1.0, 100.0], [1.1, 100.0]), 0.1 / (math.hypot(1, 100) + math.hypot(1.1, 100)),
                 "relative_error([1, 100], [1.1, 100])",
                 mistakes=[(0.1 / 2.1, "that is the largest elementwise relative error; use the norms of the whole "
                                       "arrays: ||a - b|| / (||a|| + ||b||)")])


@pytest.mark.task("3.6")
def test_relative_error_of_zeros_is_zero(mod):
    got = calm("relative_error(zeros, zeros)", mod.relative_error, np.zeros(3), np.zeros(3),
               why="0 / 0: when both norms are 0 return 0.0")
    expect_close(got, 0.0, "relative_error(zeros, zeros)",
                 mistakes=[(np.nan, "0 / 0 is NaN: when ||a|| + ||b|| is 0, return 0.0")])
    mod.relative_error([1.0], [1.0])  # the function must work before its checks matter
    expect_raises(ValueError, mod.relative_error, [1.0, 2.0], [1.0, 2.0, 3.0],
                  call="relative_error(2 numbers, 3 numbers)", why="the shapes differ")


@pytest.mark.task("3.6")
def test_gradient_check_passes_for_the_right_gradient_and_fails_without_1_over_n(mod):
    rng = np.random.default_rng(5)
    z = rng.normal(0.0, 2.0, size=(4, 3))
    targets = np.array([0, 2, 1, 2])
    analytic = mod.cross_entropy_grad(z, targets)
    numeric = mod.numerical_gradient(lambda logits: mod.cross_entropy_from_logits(logits, targets), z)
    error = float(mod.relative_error(analytic, numeric))
    expect_true(error < 1e-7, f"gradient check: relative_error(cross_entropy_grad, numerical_gradient) = {error:.1e}, "
                "above 1e-7: one of them is wrong (or relative_error is)")
    wrong = float(mod.relative_error(4 * np.asarray(analytic), numeric))
    expect_close(wrong, 0.6, "relative_error(a gradient without the 1/N (4× too big), numerical_gradient)", rtol=1e-6)
    expect_true(wrong > 1e-2, "a gradient 4 times too big should fail the check (relative error > 1e-2)")


# --- the figure -----------------------------------------------------------------------------


@pytest.mark.task("3.1")
def test_figure_numbers(mod):
    xs, curves = mod.softmax_curves()
    expect_true(set(curves) == {0.5, 1.0, 2.0}, f"softmax_curves() gave temperatures {sorted(curves)}, expected 0.5, 1, 2")
    at_2 = int(np.argmin(abs(xs - 2.0)))
    at_tie = int(np.argmin(abs(xs - 0.5)))
    expected_at_2 = {0.5: [0.95033021, 0.04731416, 0.00235563], 1.0: [0.78559703, 0.17529039, 0.03911257],
                     2.0: [0.58979766, 0.27860069, 0.13160165]}
    for t, probs in curves.items():
        probs = expect_shape(probs, (len(xs), 3), f"the curves at T = {t}")
        expect_close(probs.sum(axis=1), np.ones(len(xs)), f"the class probabilities at T = {t}, summed over classes")
        expect_close(probs[at_2], expected_at_2[t], f"softmax([2, 0.5, -1], temperature={t:g}) in the figure")
        expect_close(probs[at_tie, 0], probs[at_tie, 1], f"P(class 0) against P(class 1) at x = 0.5, T = {t}")


@pytest.mark.task("3.1")
@pytest.mark.mpl_image_compare(filename="module03_softmax_curves.png")
def test_figure_softmax_curves(mod):
    return mod.plot_softmax_curves()
