"""Module 4: logistic regression from scratch on the seed's two blobs.

Expected values are independent oracles, never the reference: hand-computed
constants (ln 0.9, ...), scipy.special.expit values written down, and a run of
the seed's experiment in torch (float64, autograd gradients,
F.binary_cross_entropy_with_logits, 100 plain gradient steps at lr = 0.1 from
zeros) whose numbers are written down below. The gradient check computes its
own central differences of its own loss (np.logaddexp), not the learner's.
Each known mistake has its own diagnosis; the two wrong update orders are
computed by this file's own numpy loop (wrong_order_run).
"""

import functools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kata.given.data import two_blobs
from kata.testing.expect import expect_close, expect_number, expect_raises, expect_shape, expect_true, fail

MODULE = "module04_logistic_regression"
LN2 = math.log(2)
N = 200  # samples in two_blobs()

# scipy.special.expit at z = -1000, -20, 0, 2, 1000
Z = [-1000.0, -20.0, 0.0, 2.0, 1000.0]
SIGMOID_Z = [0.0, 2.0611536181902037e-09, 0.5, 0.8807970779778823, 1.0]

# A small hand-made case: z = X @ w + b = [-1.25, -0.75, 0.25]
X_SMALL = [[1.0, 2.0], [-1.0, 0.5], [0.0, 0.0]]
W_SMALL, B_SMALL = [0.5, -1.0], 0.25
LOGITS_SMALL = [-1.25, -0.75, 0.25]
P_SMALL = [0.22270013882530884, 0.320821300824607, 0.5621765008857981]  # expit(LOGITS_SMALL)

# BCE on y = [1, 0, 1, 0], p = [.9, .2, .6, .3]: -(ln .9 + ln .8 + ln .6 + ln .7) / 4
Y_BCE, P_BCE = [1.0, 0.0, 1.0, 0.0], [0.9, 0.2, 0.6, 0.3]
BCE = 0.299001  # torch F.binary_cross_entropy: 0.29900115866918975
BCE_NO_NEGATIVE_TERM = 0.154047  # -(ln .9 + ln .6) / 4
MINUS_LN_EPS = 27.631021  # -ln 1e-12

# torch autograd gradients of the mean BCE on two_blobs()
GRAD_AT_ZERO = ([-1.0609532448505608, -1.0023663311849202], 0.0)  # grad_b is -1.4e-17: 0 up to rounding
W_POINT, B_POINT = [0.3, -0.2], 0.1
GRAD_AT_POINT = ([-0.8752710261679406, -0.933892050670088], 0.02217999211518638)

# torch run of the seed: lr = 0.1, 100 epochs, from w = 0, b = 0
W_FINAL = [1.1278620215904345, 1.0953878737253797]
B_FINAL = -0.010956592354565057
LOSSES = {0: LN2, 1: 0.5048881636602144, 2: 0.3919902659238751, 10: 0.14663734510478246, 99: 0.030134112756466918}
SNAPSHOTS = {1: ([0.10609532448505608, 0.10023663311849203], 0.0),
             10: ([0.5058425903247639, 0.4781850472651095], -0.0018844695742840317),
             100: (W_FINAL, B_FINAL)}
LOSSES_NO_NEGATIVE_TERM = [0.251552, 0.194734, 0.072094, 0.015597]  # losses[[1, 2, 10, 99]] if BCE drops (1 - y) log(1 - p)
LOSSES_AFTER_UPDATE = [0.3919902659238752, 0.31997122315815646, 0.1370032617293372, 0.029947069627240433]
W_ASCENT = [-20.95384287444626, -19.705201021642278]  # w += lr * grad
W_SUMMED = [17.663313387073206, 22.84207930625024]  # gradients summed, not averaged (200x larger)
# the same run with lr = 0.5 for 5 epochs
W_LR_HALF_5 = [0.8148249492701316, 0.7745492831769631]
B_LR_HALF_5 = -0.004230888726839828

B_AFTER_W = ("the bias gradient was taken after w was updated: compute both gradients at the same (w, b), "
             "then update both")
W_AFTER_B = ("the weight gradient was taken after b was updated: compute both gradients at the same (w, b), "
             "then update both")
# On this data grad_b = 0 at the start, so both wrong orders give the same weights (b lags one step behind).
EITHER_ORDER = ("one gradient was taken after the other parameter was updated (grad_b at the new w, or grad_w at "
                "the new b): compute both gradients at the same (w, b), then update both")
SIGN = "the gradient has the wrong sign: it is prediction minus truth, p - y (with y - p, w - lr·grad climbs the loss)"
SUMMED = "the gradient is 200 times too large: divide by N, the loss is a mean over the samples, so its gradient is too"


def blobs():
    return two_blobs()


def oracle_loss(X, y, w, b):
    """Mean BCE from the logits, written stably: mean(log(1 + e^z) - y z)."""
    z = X @ np.asarray(w, dtype=float) + b
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def expit(z):
    """σ(z) = 1 / (1 + e^-z), written as exp(-log(1 + e^-z)) so that it never overflows."""
    return np.exp(-np.logaddexp(0.0, -z))


@functools.cache
def wrong_order_run(first, lr=0.1, epochs=100):
    """A known mistake, run here with its own numpy loop: the parameter named `first` steps first and the
    other one's gradient is then taken at the updated value ("w": grad_b at the new w; "b": grad_w at the new b).

    Returns {epoch: (w (2,), b)} after each of the `epochs` updates, from w = 0, b = 0.
    """
    X, y = blobs()
    w, b, after = np.zeros(2), 0.0, {}
    for epoch in range(1, epochs + 1):
        if first == "w":
            w = w - lr * X.T @ (expit(X @ w + b) - y) / len(y)
            b = b - lr * float(np.mean(expit(X @ w + b) - y))
        else:
            b = b - lr * float(np.mean(expit(X @ w + b) - y))
            w = w - lr * X.T @ (expit(X @ w + b) - y) / len(y)
        after[epoch] = (w.copy(), b)
    return after


def order_mistakes(epoch, lr=0.1, epochs=100):
    """(weights mistakes, bias mistakes) of the two wrong update orders after `epoch` updates."""
    grad_b_late = wrong_order_run("w", lr, epochs)[epoch]  # (w, b) when grad_b was taken at the new w
    grad_w_late = wrong_order_run("b", lr, epochs)[epoch]  # (w, b) when grad_w was taken at the new b
    return ([(grad_b_late[0], EITHER_ORDER), (grad_w_late[0], EITHER_ORDER)],
            [(grad_b_late[1], B_AFTER_W), (grad_w_late[1], W_AFTER_B)])


def central_differences(X, y, w, b, h=1e-5):
    theta = np.append(np.asarray(w, dtype=float), b)
    grad = np.zeros_like(theta)
    for k in range(theta.size):
        step = np.zeros_like(theta)
        step[k] = h
        up, down = theta + step, theta - step
        grad[k] = (oracle_loss(X, y, up[:-1], up[-1]) - oracle_loss(X, y, down[:-1], down[-1])) / (2 * h)
    return grad


def relative_error(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


def gradients(mod, X, y, w, b, call):
    """The learner's (grad_w, grad_b), checked for type and shape, as one array [gw..., gb]."""
    got = mod.logistic_gradients(X, y, w, b)
    if not isinstance(got, tuple) or len(got) != 2:
        fail(f"{call} returned {type(got).__name__}, expected a tuple (grad_w, grad_b)")
    grad_w = expect_shape(got[0], (len(w),), f"{call}[0] (grad_w)",
                          diagnoses={(len(X),): "that has one entry per sample: X.T @ (p - y) sums over the samples",
                                     (): "grad_w needs one entry per weight: X.T @ (p - y) / N"})
    grad_b = expect_number(got[1], f"{call}[1] (grad_b)")
    return np.append(grad_w, grad_b)


def train(mod, *args, call="train_logistic_regression(X, y)", **kwargs):
    """The learner's (w, b, losses, snapshots), checked for shape."""
    got = mod.train_logistic_regression(*args, **kwargs)
    if not isinstance(got, tuple) or len(got) != 4:
        fail(f"{call} returned {type(got).__name__}, expected TrainingResult(w, b, losses, snapshots)")
    w, b, losses, snapshots = got
    w = expect_shape(w, (2,), f"{call}.w")
    b = expect_number(b, f"{call}.b")
    if not isinstance(snapshots, dict):
        fail(f"{call}.snapshots is a {type(snapshots).__name__}, expected a dict {{epoch: (w copy, b)}}")
    return w, b, np.asarray(losses, dtype=float), snapshots


def no_warnings(call, function, *args):
    """Run function(*args) with numpy's RuntimeWarnings turned into a failure that names the overflow."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            return function(*args)
        except RuntimeWarning as warning:
            fail(f"{call} made numpy warn '{warning}': a naive sigmoid overflows, exp of a large number is inf "
                 "(and np.where(c, a, b) computes both a and b everywhere). Only ever exponentiate -|z| <= 0")


# --- 4.1 sigmoid ----------------------------------------------------------------


@pytest.mark.task("4.1")
def test_sigmoid_values(mod):
    expect_close(mod.sigmoid(0.0), 0.5, "sigmoid(0)")
    expect_close(mod.sigmoid(2.0), SIGMOID_Z[3], "sigmoid(2)",
                 mistakes=[(1 - SIGMOID_Z[3], "that is sigmoid(-2): the minus sign is missing, sigmoid(z) = 1 / (1 + exp(-z))"),
                           (math.exp(2.0), "that is exp(2): sigmoid is 1 / (1 + exp(-z))"),
                           (2.0, "that is z itself: apply the sigmoid")])
    expect_close(mod.sigmoid(-20.0), SIGMOID_Z[1], "sigmoid(-20)", atol=1e-15,
                 mistakes=[(0.0, "exp(-20) is tiny but not 0: for z < 0 compute exp(z) / (1 + exp(z))")])


@pytest.mark.task("4.1")
def test_sigmoid_does_not_overflow_at_plus_minus_1000(mod):
    got = no_warnings("sigmoid([-1000, -20, 0, 2, 1000])", mod.sigmoid, np.array(Z))
    expect_close(got, SIGMOID_Z, "sigmoid([-1000, -20, 0, 2, 1000])", atol=1e-15,
                 mistakes=[([np.nan, SIGMOID_Z[1], 0.5, SIGMOID_Z[3], 1.0],
                            "NaN at z = -1000 is inf / inf: 1 / (1 + exp(-z)) rewritten still exponentiates a huge number"),
                           ([0.0, SIGMOID_Z[1], 0.5, SIGMOID_Z[3], np.nan],
                            "NaN at z = 1000 is inf / inf: exp(z) / (1 + exp(z)) overflows for large z; use it only where z < 0")])


@pytest.mark.task("4.1")
def test_sigmoid_keeps_the_shape(mod):
    z = np.array([[0.0, 1.0, -1.0], [3.0, -3.0, 0.5]])
    got = expect_shape(mod.sigmoid(z), (2, 3), "sigmoid(z) with z of shape (2, 3)")
    expect_close(got[0], [0.5, 0.7310585786300049, 0.2689414213699951], "sigmoid([0, 1, -1])")


@pytest.mark.task("4.1")
@given(z=st.floats(-1000.0, 1000.0))
def test_sigmoid_is_symmetric_and_bounded_without_warnings(mod, z):
    pair = no_warnings(f"sigmoid([{z!r}, {-z!r}])", mod.sigmoid, np.array([z, -z]))
    pair = expect_shape(pair, (2,), f"sigmoid([{z!r}, {-z!r}])")
    expect_true(bool(np.all((pair >= 0) & (pair <= 1))), f"sigmoid([{z!r}, {-z!r}]) = {pair}: a probability is in [0, 1]")
    expect_close(pair[0] + pair[1], 1.0, f"sigmoid({z!r}) + sigmoid({-z!r})", atol=1e-12)


# --- 4.2 predict_proba -------------------------------------------------------------


@pytest.mark.task("4.2")
def test_predict_proba_returns_probabilities(mod):
    call = "predict_proba(X, w = [0.5, -1], b = 0.25) with X = [[1, 2], [-1, 0.5], [0, 0]]"
    got = expect_shape(mod.predict_proba(X_SMALL, W_SMALL, B_SMALL), (3,), call,
                       diagnoses={(3, 1): "return one probability per row, shape (N,): X @ w with w of shape (D,)"})
    expect_close(got, P_SMALL, call,
                 mistakes=[(LOGITS_SMALL, "those are the logits z = X @ w + b: predict_proba must return sigmoid(z), probabilities"),
                           ([0.182426, 0.268941, 0.5], "the bias is missing: z = X @ w + b"),
                           ([1 - p for p in P_SMALL], "that is P(class 0) = 1 - sigmoid(z): return P(class 1) = sigmoid(z)")])


@pytest.mark.task("4.2")
def test_predict_proba_stays_in_0_1_far_from_the_boundary(mod):
    X = np.array([[100.0, 100.0], [-100.0, -100.0]])
    got = no_warnings("predict_proba([[100, 100], [-100, -100]], w = [5, 5], b = 0)", mod.predict_proba, X, [5.0, 5.0], 0.0)
    got = expect_shape(got, (2,), "predict_proba(2 points, w = [5, 5], b = 0)")
    expect_true(bool(np.all((got >= 0) & (got <= 1))),
                f"predict_proba returned {got} for logits ±1000: probabilities are in [0, 1]; are these logits?")
    expect_close(got, [1.0, 0.0], "predict_proba at logits ±1000", atol=1e-12)


@pytest.mark.task("4.2")
def test_probability_grid_of_the_figures(mod):
    x1, x2, p = mod.probability_grid(W_SMALL, B_SMALL, n=5, limits=(-2.0, 2.0))
    p = expect_shape(p, (5, 5), "probability_grid(w, b, n=5)[2]")
    corner = 1 / (1 + math.exp(-(0.5 * 2.0 - 1.0 * -2.0 + 0.25)))  # x = (2, -2)
    expect_close(p[0, -1], corner, "the grid's P(class 1) at x = (2, -2)",
                 mistakes=[(3.25, "that is the logit: predict_proba must return sigmoid(z)")])


@pytest.mark.task("4.2")
def test_predict_proba_refuses_mismatched_shapes(mod):
    mod.predict_proba(X_SMALL, W_SMALL, B_SMALL)  # the function must work before its checks matter
    expect_raises(ValueError, mod.predict_proba, X_SMALL, [1.0, 2.0, 3.0], 0.0,
                  call="predict_proba(X with 2 features, w with 3 weights, 0)", why="w needs one weight per feature")
    expect_raises(ValueError, mod.predict_proba, [1.0, 2.0], W_SMALL, 0.0,
                  call="predict_proba([1, 2], w, 0)", why="X must be 2-D, one row per sample")
    expect_raises(ValueError, mod.predict_proba, np.zeros((0, 2)), W_SMALL, 0.0,
                  call="predict_proba(empty X, w, 0)", why="there are no samples")


# --- 4.3 binary_cross_entropy --------------------------------------------------------


def bce_mistakes(expected, no_negative_term, n):
    return [
        (no_negative_term, "the class-0 term is missing: the loss is -(y log p + (1 - y) log(1 - p)), "
                           "and without (1 - y) log(1 - p) a class-0 point costs nothing"),
        (-expected, "a negative loss means the minus sign is missing: log p <= 0"),
        (expected * n, "that is the sum over the samples: the loss is the mean, divide by N"),
        (expected / LN2, "that is the answer in bits: use the natural log"),
    ]


@pytest.mark.task("4.3")
def test_bce_by_hand(mod):
    expect_close(mod.binary_cross_entropy(Y_BCE, P_BCE), BCE, "binary_cross_entropy([1, 0, 1, 0], [.9, .2, .6, .3])",
                 mistakes=bce_mistakes(BCE, BCE_NO_NEGATIVE_TERM, 4))


@pytest.mark.task("4.3")
def test_bce_at_a_coin_flip_is_log_2(mod):
    _, y = blobs()
    expect_close(mod.binary_cross_entropy(y, np.full(N, 0.5)), LN2,
                 "binary_cross_entropy(y of the blobs, p = 1/2 everywhere)",
                 mistakes=bce_mistakes(LN2, LN2 / 2, N))


@pytest.mark.task("4.3")
def test_bce_clips_away_log_zero(mod):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expect_close(mod.binary_cross_entropy([1.0, 0.0], [0.0, 1.0]), MINUS_LN_EPS,
                     "binary_cross_entropy([1, 0], [0, 1])", rtol=1e-4,
                     mistakes=[(np.inf, "log 0 = -inf: clip y_pred to [eps, 1 - eps] before the logs"),
                               (MINUS_LN_EPS / 2, "only the class-1 point was counted: the class-0 term "
                                                  "(1 - y) log(1 - p) is missing"),
                               (2 * MINUS_LN_EPS, "that is the sum over the 2 samples: the loss is the mean")])
        expect_close(mod.binary_cross_entropy([1.0, 0.0], [1.0, 0.0]), 0.0,
                     "binary_cross_entropy([1, 0], [1, 0])", atol=1e-9,
                     mistakes=[(np.nan, "NaN is 0·log 0: clip y_pred to [eps, 1 - eps] so every log is finite")])
        expect_close(mod.binary_cross_entropy([1.0], [0.0], eps=1e-3), 6.907755,
                     "binary_cross_entropy([1], [0], eps=1e-3)",
                     mistakes=[(MINUS_LN_EPS, "eps is a parameter: clip with the eps you were given")])


@pytest.mark.task("4.3")
@given(data=st.lists(st.tuples(st.floats(0.0, 1.0), st.floats(0.001, 0.999)), min_size=1, max_size=8))
def test_bce_treats_both_classes_alike_and_is_lowest_at_the_truth(mod, data):
    y, p = np.array(data).T
    loss = expect_number(mod.binary_cross_entropy(y, p), "binary_cross_entropy(y, p)")
    mirrored = expect_number(mod.binary_cross_entropy(1 - y, 1 - p), "binary_cross_entropy(1 - y, 1 - p)")
    expect_true(abs(loss - mirrored) < 1e-9,
                f"binary_cross_entropy(y, p) = {loss:.6f} but binary_cross_entropy(1 - y, 1 - p) = {mirrored:.6f} "
                f"for y = {y}, p = {p}: swapping the class names must not change the loss. Is the class-0 term "
                "(1 - y) log(1 - p) missing?")
    best = expect_number(mod.binary_cross_entropy(y, np.clip(y, 0.001, 0.999)), "binary_cross_entropy(y, y)")
    expect_true(loss >= best - 1e-9, f"binary_cross_entropy(y, p) = {loss:.6f} is below binary_cross_entropy(y, y) = "
                f"{best:.6f} for y = {y}, p = {p}: the loss must be lowest when the prediction is the truth")


@pytest.mark.task("4.3")
def test_bce_refuses_bad_input(mod):
    mod.binary_cross_entropy(Y_BCE, P_BCE)  # the function must work before its checks matter
    expect_raises(ValueError, mod.binary_cross_entropy, [1.0, 0.0], [0.5, 0.5, 0.5],
                  call="binary_cross_entropy(2 labels, 3 predictions)", why="the lengths differ")
    expect_raises(ValueError, mod.binary_cross_entropy, [1.0, 0.0], [2.5, -1.0],
                  call="binary_cross_entropy(y, [2.5, -1])", why="those are logits, not probabilities")
    expect_raises(ValueError, mod.binary_cross_entropy, [], [], call="binary_cross_entropy([], [])",
                  why="there are no samples")


# --- 4.4 logistic_gradients --------------------------------------------------------------


@pytest.mark.task("4.4")
def test_gradients_at_zero_and_at_a_point(mod):
    X, y = blobs()
    for w, b, (expected_w, expected_b) in (([0.0, 0.0], 0.0, GRAD_AT_ZERO), (W_POINT, B_POINT, GRAD_AT_POINT)):
        call = f"logistic_gradients(X, y, w = {w}, b = {b}) on the blobs"
        got = gradients(mod, X, y, w, b, call)
        expected = np.append(expected_w, expected_b)
        z = X @ np.asarray(w) + b
        with_logits = np.append(X.T @ (z - y) / N, np.mean(z - y))
        expect_close(got, expected, call, atol=1e-12,
                     mistakes=[(-expected, SIGN), (expected * N, SUMMED),
                               (with_logits, "that uses the logits z - y as the error: p must be a probability, "
                                             "predict_proba returns sigmoid(X @ w + b)")])


@pytest.mark.task("4.4")
def test_gradient_check_against_central_differences(mod):
    X, y = blobs()
    for w, b in (([0.0, 0.0], 0.0), (W_POINT, B_POINT), ([1.1, 1.1], -0.5), ([-2.0, 0.5], 1.5)):
        call = f"logistic_gradients(X, y, w = {w}, b = {b})"
        analytic = gradients(mod, X, y, w, b, call)
        numeric = central_differences(X, y, w, b)
        error = relative_error(analytic, numeric)
        if error < 1e-7:
            continue
        if abs(error - 1) < 1e-3:
            why = SIGN
        elif abs(error - (N - 1) / (N + 1)) < 1e-3:
            why = SUMMED
        else:
            why = "compare your formula with X.T @ (p - y) / N and mean(p - y)"
        fail(f"gradient check at w = {w}, b = {b}: relative error {error:.2e} between {call} = {analytic} and "
             f"central differences {numeric}; below 1e-7 is right: {why}")


@pytest.mark.task("4.4")
@given(w1=st.floats(-3.0, 3.0), w2=st.floats(-3.0, 3.0), b=st.floats(-3.0, 3.0))
def test_gradient_check_anywhere(mod, w1, w2, b):
    X, y = blobs()
    analytic = gradients(mod, X, y, [w1, w2], b, f"logistic_gradients(X, y, [{w1!r}, {w2!r}], {b!r})")
    error = relative_error(analytic, central_differences(X, y, [w1, w2], b))
    expect_true(error < 1e-7, f"gradient check at w = [{w1!r}, {w2!r}], b = {b!r}: relative error {error:.2e}, "
                "above 1e-7: the analytic gradient X.T @ (p - y) / N, mean(p - y) must match the numerical one")


@pytest.mark.task("4.4")
def test_gradients_refuse_mismatched_shapes(mod):
    X, y = blobs()
    mod.logistic_gradients(X, y, [0.0, 0.0], 0.0)  # the function must work before its checks matter
    expect_raises(ValueError, mod.logistic_gradients, X, y[:-1], [0.0, 0.0], 0.0,
                  call="logistic_gradients(X of 200 rows, 199 labels, w, b)", why="every sample needs a label")
    expect_raises(ValueError, mod.logistic_gradients, X, y, [0.0, 0.0], [0.0, 0.0],
                  call="logistic_gradients(X, y, w, b = [0, 0])", why="the bias is one number")


# --- 4.5 train_logistic_regression ------------------------------------------------------


@pytest.mark.task("4.5")
def test_training_starts_at_log_2_and_the_loss_falls(mod):
    X, y = blobs()
    _, _, losses, _ = train(mod, X, y)
    losses = expect_shape(losses, (100,), "train_logistic_regression(X, y).losses",
                          diagnoses={(101,): "record the loss once per epoch, before that epoch's update: 100 epochs, 100 losses",
                                     (99,): "record the loss once per epoch, before that epoch's update: 100 epochs, 100 losses"})
    expect_close(losses[0], LN2, "losses[0], the loss at w = 0, b = 0",
                 mistakes=[(LOSSES[1], "that is the loss after the first update: record the loss before updating"),
                           (LN2 / 2, "log 2 / 2: your binary_cross_entropy drops the class-0 term (1 - y) log(1 - p)"),
                           (N * LN2, "200 log 2: your binary_cross_entropy sums over the samples; take the mean")])
    expect_true(losses[1] < losses[0],
                f"the loss rose from {losses[0]:.6f} to {losses[1]:.6f} after the first update: that is gradient ascent. "
                "Step downhill, against the gradient: w = w - lr * grad_w, b = b - lr * grad_b")
    rises = np.flatnonzero(np.diff(losses) >= 0)
    expect_true(rises.size == 0, f"the loss went up at epoch {rises[0] + 1 if rises.size else 0}: full-batch gradient "
                "descent at lr = 0.1 lowers it at every step on this data")


@pytest.mark.task("4.5")
def test_training_follows_the_seed_run(mod):
    X, y = blobs()
    w, b, losses, _ = train(mod, X, y)
    w_order, b_order = order_mistakes(100)
    expect_close(w, W_FINAL, "train_logistic_regression(X, y).w after 100 epochs at lr = 0.1",
                 mistakes=[(W_ASCENT, "the weights ran away from the data: that is gradient ascent, w + lr·grad. "
                                      "Subtract: w = w - lr * grad_w"),
                           (W_SUMMED, "the steps were 200 times too big: the gradients were summed, not averaged over "
                                      "the samples (divide by N)")] + w_order)
    expect_close(b, B_FINAL, "train_logistic_regression(X, y).b", atol=1e-9, mistakes=b_order)
    expect_close(losses[[1, 2, 10, 99]], [LOSSES[k] for k in (1, 2, 10, 99)], "losses[[1, 2, 10, 99]]",
                 mistakes=[(LOSSES_NO_NEGATIVE_TERM, "about half the right loss: your binary_cross_entropy drops "
                                                     "the class-0 term (1 - y) log(1 - p)"),
                           (LOSSES_AFTER_UPDATE, "each loss is one epoch late: record the loss before that epoch's update"),
                           (N * np.array([LOSSES[k] for k in (1, 2, 10, 99)]),
                            "200 times too large: your binary_cross_entropy sums over the samples; take the mean")])


@pytest.mark.task("4.5")
def test_training_keeps_copies_of_the_snapshots(mod):
    X, y = blobs()
    w, b, _, snapshots = train(mod, X, y, snapshot_epochs=(0, 1, 10, 100))
    missing = sorted({0, 1, 10, 100} - set(snapshots))
    expect_true(not missing, f"snapshots has keys {sorted(snapshots)}; snapshot_epochs=(0, 1, 10, 100) asked for {missing} too")
    w0, b0 = snapshots[0]
    expect_close(w0, [0.0, 0.0], "snapshots[0] weights (the start)",
                 mistakes=[(W_FINAL, "snapshots[0] holds the final weights: store w.copy(), not w, which the updates change")])
    expect_close(b0, 0.0, "snapshots[0] bias (the start)")
    for epoch, (expected_w, expected_b) in SNAPSHOTS.items():
        got_w, got_b = snapshots[epoch]
        w_order, b_order = order_mistakes(epoch)
        expect_close(got_w, expected_w, f"snapshots[{epoch}] weights (after {epoch} epoch{'' if epoch == 1 else 's'})",
                     mistakes=([(W_FINAL, "every snapshot holds the final weights: store w.copy(), not w itself"),
                                (-np.asarray(expected_w), "the weights moved away from the data: that is gradient "
                                                          "ascent, w + lr·grad. Subtract: w = w - lr * grad_w"),
                                (N * np.asarray(expected_w), SUMMED)]
                               if epoch == 1 else []) + w_order)
        expect_close(got_b, expected_b, f"snapshots[{epoch}] bias", atol=1e-9, mistakes=b_order)


@pytest.mark.task("4.5")
def test_training_uses_lr_and_epochs(mod):
    X, y = blobs()
    call = "train_logistic_regression(X, y, lr=0.5, epochs=5, snapshot_epochs=(5,))"
    w, b, losses, snapshots = train(mod, X, y, lr=0.5, epochs=5, snapshot_epochs=(5,), call=call)
    expect_shape(losses, (5,), f"{call}.losses")
    w_order, b_order = order_mistakes(5, lr=0.5, epochs=5)
    expect_close(w, W_LR_HALF_5, f"{call}.w",
                 mistakes=[(W_FINAL, "lr and epochs are parameters: use the ones given"),
                           ([-4.667335, -4.398547], "that is gradient ascent, w + lr·grad: subtract, w = w - lr * grad_w"),
                           ([103.61279, 102.187858], SUMMED),
                           ([0.350483, 0.330987], "that is lr = 0.1: lr is a parameter, step with the one given")]
                 + w_order)
    expect_close(b, B_LR_HALF_5, f"{call}.b", atol=1e-9, mistakes=b_order)
    expect_true(set(snapshots) == {5}, f"{call}.snapshots has keys {sorted(snapshots)}, expected only 5")


@pytest.mark.task("4.5")
def test_training_refuses_bad_settings(mod):
    X, y = blobs()
    mod.train_logistic_regression(X, y, epochs=1)  # the function must work before its checks matter
    expect_raises(ValueError, mod.train_logistic_regression, X, y, lr=-0.1,
                  call="train_logistic_regression(X, y, lr=-0.1)", why="a negative learning rate climbs the loss")
    expect_raises(ValueError, mod.train_logistic_regression, X, y, epochs=0,
                  call="train_logistic_regression(X, y, epochs=0)", why="training needs at least one epoch")
    expect_raises(ValueError, mod.train_logistic_regression, X, y * 2.0,
                  call="train_logistic_regression(X, labels 0 and 2)", why="labels must be 0 or 1")


@pytest.mark.task("4.5")
@pytest.mark.mpl_image_compare(filename="module04_loss_curve.png")
def test_figure_loss_curve(mod):
    return mod.plot_loss_curve()


@pytest.mark.task("4.5")
@pytest.mark.mpl_image_compare(filename="module04_boundary_snapshots.png")
def test_figure_boundary_snapshots(mod):
    return mod.plot_boundary_snapshots()


# --- 4.6 accuracy -----------------------------------------------------------------------------


@pytest.mark.task("4.6")
def test_accuracy_is_a_fraction(mod):
    call = "accuracy([1, 0, 1, 0], [.9, .2, .4, .7])"
    expect_close(mod.accuracy([1, 0, 1, 0], [0.9, 0.2, 0.4, 0.7]), 0.5, call,
                 mistakes=[(2.0, "that is the count of correct predictions: divide by the number of samples"),
                           (50.0, "that is a percentage: return the fraction, 0.5"),
                           (0.0, "compare the predicted class (p >= 0.5), not the probability, with the label")])


@pytest.mark.task("4.6")
def test_accuracy_counts_a_tie_as_class_1(mod):
    expect_close(mod.accuracy([1], [0.5]), 1.0, "accuracy([1], [0.5])",
                 mistakes=[(0.0, "p = 0.5 exactly is class 1: predict 1 where y_prob >= 0.5, not > 0.5")])


@pytest.mark.task("4.6")
def test_trained_model_is_at_least_99_percent_accurate(mod):
    X, y = blobs()
    w, b, _, _ = train(mod, X, y)
    acc = expect_number(mod.accuracy(y, mod.predict_proba(X, w, b)), "accuracy(y, predict_proba(X, w, b)) after training")
    expect_true(acc >= 0.99, f"accuracy after training is {acc:.3f}, below 0.99: the blobs are almost separable")
    expect_close(acc, 0.995, "accuracy after 100 epochs (199 of 200 right)",
                 mistakes=[(1.0, "the seed's run misclassifies one point, so the training differs from it: "
                                 "make task 4.5's tests pass first (are the gradients averaged?)"),
                           (199.0, "that is the count of correct predictions: divide by the number of samples")])


@pytest.mark.task("4.6")
def test_accuracy_refuses_logits(mod):
    mod.accuracy([1, 0], [0.9, 0.1])  # the function must work before its checks matter
    expect_raises(ValueError, mod.accuracy, [1, 0], [2.0, -3.0], call="accuracy([1, 0], [2, -3])",
                  why="[2, -3] are logits: pass them through sigmoid first")
    expect_raises(ValueError, mod.accuracy, [1, 0, 1], [0.9, 0.1], call="accuracy(3 labels, 2 probabilities)",
                  why="the lengths differ")


@pytest.mark.task("4.6")
@pytest.mark.mpl_image_compare(filename="module04_decision_boundary.png")
def test_figure_decision_boundary(mod):
    return mod.plot_decision_boundary()
