"""Module 4: logistic regression from scratch on the seed's two blobs.

Expected values are independent oracles, never the reference: hand-computed
constants (ln 0.9, ...), scipy.special.expit values written down, and runs of
the seed's experiment in torch (float64, autograd gradients,
F.binary_cross_entropy_with_logits, plain gradient steps from zeros) whose
numbers are written down below. The gradient check computes its own central
differences of its own loss (np.logaddexp), not the learner's. The values of
known training mistakes come from this file's own numpy loop (own_run).
No torch here: the module's tests stay at numpy's import cost.
"""

import functools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kata.given.data import two_blobs
from kata.testing.expect import Call, expect_close, expect_number, expect_refusals, expect_shape, expect_true, fail
from kata.testing.plugin import task_fixture

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
Y_SMALL = [1.0, 0.0, 1.0]
GRAD_SMALL = ([-0.3660403873330994, -0.46472969064569297], -0.2981006864880954)  # torch autograd

# BCE on y = [1, 0, 1, 0], p = [.9, .2, .6, .3]: -(ln .9 + ln .8 + ln .6 + ln .7) / 4
Y_BCE, P_BCE = [1.0, 0.0, 1.0, 0.0], [0.9, 0.2, 0.6, 0.3]
BCE = 0.299001  # torch F.binary_cross_entropy: 0.29900115866918975
BCE_NO_NEGATIVE_TERM = 0.154047  # -(ln .9 + ln .6) / 4
MINUS_LN_EPS = 27.631021  # -ln 1e-12
# y = [1, 0] at p = sigmoid([-1000, 1000]) = [0, 1], clipped to [1e-12, 1 - 1e-12]: (-ln 1e-12 - ln(1 - (1 - 1e-12))) / 2
SATURATED = 27.631032176910953

# torch autograd gradients of the mean BCE on two_blobs()
GRAD_AT_ZERO = ([-1.0609532448505608, -1.0023663311849202], 0.0)  # grad_b is -1.4e-17: 0 up to rounding
W_POINT, B_POINT = [0.3, -0.2], 0.1
GRAD_AT_POINT = ([-0.8752710261679406, -0.933892050670088], 0.02217999211518638)
GRAD_ONE_CLASS = ([-0.003171117456365658, -0.019377493407030367], -0.5)  # every label 1, at w = 0, b = 0

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
# lr = 0.5, 5 epochs, every label 1 (torch)
W_ONE_CLASS = [-0.009207289903269212, 0.016654838963280297]
B_ONE_CLASS = 0.9830680788278815
LOSSES_ONE_CLASS = [LN2, 0.5758454188076833, 0.4858284359615429, 0.41608681691459387, 0.3613426378246928]

B_AFTER_W = ("the bias gradient was taken after w was updated: compute both gradients at the same (w, b), "
             "then update both")
W_AFTER_B = ("the weight gradient was taken after b was updated: compute both gradients at the same (w, b), "
             "then update both")
# On this data grad_b = 0 at the start, so both wrong orders give the same weights (b lags one step behind).
EITHER_ORDER = ("one gradient was taken after the other parameter was updated (grad_b at the new w, or grad_w at "
                "the new b): compute both gradients at the same (w, b), then update both")
SIGN = ("the gradient has the wrong sign: it must point uphill, the way the loss grows (the error is prediction "
        "minus truth, not truth minus prediction); training subtracts it")
SUMMED = "the gradient is 200 times too large: divide by N, the loss is a mean over the samples, so its gradient is too"
ASCENT = ("that is gradient ascent, w + lr·grad: the gradient points uphill, so step against it, "
          "subtracting lr times the gradient")
FROZEN_B = "b never moved: the bias is a parameter too, step it with its own gradient every epoch"
FLOAT64 = "the contract is float64 (float32 keeps only ~7 digits, too few for the 1e-7 gradient check)"


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
def own_run(variant, lr=0.1, epochs=100, one_class=False):
    """A known training mistake, run here with its own numpy loop, from w = 0, b = 0.

    variant "w": grad_b is taken at the new w; "b": grad_w at the new b; "frozen b": b is never updated.
    Returns {epoch: (w (2,), b)} after each of the `epochs` updates.
    """
    X, y = blobs()
    y = np.ones(len(y)) if one_class else y
    w, b, after = np.zeros(2), 0.0, {}
    for epoch in range(1, epochs + 1):
        if variant == "w":
            w = w - lr * X.T @ (expit(X @ w + b) - y) / len(y)
            b = b - lr * float(np.mean(expit(X @ w + b) - y))
        elif variant == "b":
            b = b - lr * float(np.mean(expit(X @ w + b) - y))
            w = w - lr * X.T @ (expit(X @ w + b) - y) / len(y)
        else:
            w = w - lr * X.T @ (expit(X @ w + b) - y) / len(y)
        after[epoch] = (w.copy(), b)
    return after


def run_mistakes(epoch, lr=0.1, epochs=100, one_class=False):
    """(weights mistakes, bias mistakes) of the wrong update orders and the frozen bias after `epoch` updates."""
    grad_b_late = own_run("w", lr, epochs, one_class)[epoch]  # (w, b) when grad_b was taken at the new w
    grad_w_late = own_run("b", lr, epochs, one_class)[epoch]  # (w, b) when grad_w was taken at the new b
    frozen = own_run("frozen b", lr, epochs, one_class)[epoch]
    return ([(grad_b_late[0], EITHER_ORDER), (grad_w_late[0], EITHER_ORDER), (frozen[0], FROZEN_B)],
            [(grad_b_late[1], B_AFTER_W), (grad_w_late[1], W_AFTER_B), (0.0, FROZEN_B)])


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
    """A norm ratio, not module 3's componentwise error: at w = 0, grad_b is exactly 0 and its central difference is
    rounding noise (~1e-12), a componentwise relative error near 1. The values themselves are checked elementwise
    by test_gradients_at_zero_and_at_a_point."""
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


def expect_float64(got, call):
    dtype = getattr(got, "dtype", None)
    if dtype is not None and str(dtype) != "float64":
        fail(f"{call} returned {dtype} values: {FLOAT64}")


def gradients(mod, X, y, w, b, call):
    """The learner's (grad_w, grad_b), checked for type, shape and dtype, as one array [gw..., gb]."""
    got = mod.logistic_gradients(X, y, w, b)
    if not isinstance(got, tuple) or len(got) != 2:
        fail(f"{call} returned {type(got).__name__}, expected a tuple (grad_w, grad_b)")
    expect_float64(got[0], f"grad_w, the first value of {call},")
    grad_w = expect_shape(got[0], (len(w),), f"grad_w, the first value of {call},",
                          diagnoses={(len(X),): "that has one entry per sample: ∂L/∂w has one entry per weight, "
                                                "a sum (mean) over the samples",
                                     (): "grad_w needs one entry per weight, shape (D,)"})
    grad_b = expect_number(got[1], f"grad_b, the second value of {call},")
    return np.append(grad_w, grad_b)


def train(mod, *args, call="train_logistic_regression(X, y)", **kwargs):
    """The learner's (w, b, losses, snapshots), checked for shape and dtype."""
    got = mod.train_logistic_regression(*args, **kwargs)
    if not isinstance(got, tuple) or len(got) != 4:
        fail(f"{call} returned {type(got).__name__}, expected TrainingResult(w, b, losses, snapshots)")
    w, b, losses, snapshots = got
    expect_float64(w, f"{call}.w")
    w = expect_shape(w, (2,), f"{call}.w")
    b = expect_number(b, f"{call}.b")
    if not isinstance(snapshots, dict):
        fail(f"{call}.snapshots is a {type(snapshots).__name__}, expected a dict {{epoch: (w copy, b)}}")
    return w, b, np.asarray(losses, dtype=float), snapshots


NAIVE = ("the value may come out right (1 / (1 + inf) = 0), but exp overflowed on the way: an exp of a large "
         "positive number is inf, 1 / (1 + exp(-z)) at z = -1000 and exp(z) / (1 + exp(z)) at z = 1000 alike, and "
         "np.where(c, a, b) computes both a and b everywhere, so a masked-out branch still runs. Only ever "
         "exponentiate a number <= 0, such as -|z|")
DIVIDED_BY_ZERO = ("a division by 0 happened on the way: an exp of a very negative number underflows to 0, so "
                   "1 / exp(...) is a division by 0 (np.where computes the masked-out branch too). Only ever divide "
                   "by something that cannot be 0, such as 1 + exp(-|z|)")
MADE_NAN = ("a NaN was made on the way (inf / inf, or 0 / 0), even if the answer was then masked out by np.where, "
            "which computes both branches. Only ever exponentiate a number <= 0, such as -|z|")


def no_warnings(call, function, *args):
    """Run function(*args) with numpy's RuntimeWarnings turned into a failure that says why they matter."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            return function(*args)
        except RuntimeWarning as warning:
            problem = str(warning)
    why = DIVIDED_BY_ZERO if "divide by zero" in problem else MADE_NAN if "invalid value" in problem else NAIVE
    fail(f"{call} made numpy warn '{problem}': {why}")


# --- 4.1 sigmoid ----------------------------------------------------------------


@pytest.mark.task("4.1")
def test_sigmoid_values(mod):
    expect_close(mod.sigmoid(0.0), 0.5, "sigmoid(0)")
    expect_close(mod.sigmoid(2.0), SIGMOID_Z[3], "sigmoid(2)",
                 mistakes=[(1 - SIGMOID_Z[3], "that is sigmoid(-2): a sign is flipped, sigmoid(z) = 1 / (1 + exp(-z)) "
                                              "is above 1/2 for z > 0"),
                           (math.exp(2.0), "that is exp(2): sigmoid is 1 / (1 + exp(-z))"),
                           (2.0, "that is z itself: apply the sigmoid")])
    expect_close(mod.sigmoid(-20.0), SIGMOID_Z[1], "sigmoid(-20)", atol=1e-15,
                 mistakes=[(0.0, "exp(-20) is tiny but not 0: for z < 0 compute exp(z) / (1 + exp(z))"),
                           (1 - SIGMOID_Z[1], "that is sigmoid(20): a sign is flipped")])


@pytest.mark.task("4.1")
def test_sigmoid_does_not_overflow_at_plus_minus_1000(mod):
    got = no_warnings("sigmoid([-1000, -20, 0, 2, 1000])", mod.sigmoid, np.array(Z))
    expect_close(got, SIGMOID_Z, "sigmoid([-1000, -20, 0, 2, 1000])", atol=1e-15,
                 mistakes=[([np.nan, SIGMOID_Z[1], 0.5, SIGMOID_Z[3], 1.0],
                            "NaN at z = -1000 is inf / inf: a rewriting that still exponentiates a huge number"),
                           ([0.0, SIGMOID_Z[1], 0.5, SIGMOID_Z[3], np.nan],
                            "NaN at z = 1000 is inf / inf: exp(z) / (1 + exp(z)) overflows for large z; use it only "
                            "where z < 0")])


@pytest.mark.task("4.1")
def test_sigmoid_keeps_the_shape_and_float64(mod):
    z = np.array([[0.0, 1.0, -1.0], [3.0, -3.0, 0.5]])
    got = mod.sigmoid(z)
    expect_float64(got, "sigmoid(z) with z of shape (2, 3)")
    got = expect_shape(got, (2, 3), "sigmoid(z) with z of shape (2, 3)")
    expect_close(got[0], [0.5, 0.7310585786300049, 0.2689414213699951], "sigmoid([0, 1, -1])")


@pytest.mark.task("4.1")
@given(z=st.floats(-1e6, 1e6) | st.sampled_from([-1000.0, -745.2, -709.8, 709.8, 745.2, 1000.0, -1e300, 1e300]))
def test_sigmoid_is_symmetric_and_bounded_without_warnings(mod, z):
    pair = no_warnings(f"sigmoid([{z!r}, {-z!r}])", mod.sigmoid, np.array([z, -z]))
    pair = expect_shape(pair, (2,), f"sigmoid([{z!r}, {-z!r}])")
    expect_true(bool(np.all((pair >= 0) & (pair <= 1))), f"sigmoid([{z!r}, {-z!r}]) = {pair}: a probability is in [0, 1]")
    expect_close(pair[0] + pair[1], 1.0, f"sigmoid({z!r}) + sigmoid({-z!r})", atol=1e-12)


# --- 4.2 predict_proba -------------------------------------------------------------


@pytest.mark.task("4.2")
def test_predict_proba_returns_probabilities(mod):
    call = "predict_proba(X, w = [0.5, -1], b = 0.25) with X = [[1, 2], [-1, 0.5], [0, 0]]"
    got = mod.predict_proba(X_SMALL, W_SMALL, B_SMALL)
    expect_float64(got, call)
    got = expect_shape(got, (3,), call,
                       diagnoses={(3, 1): "return one probability per row, shape (N,): X @ w with w of shape (D,)"})
    expect_close(got, P_SMALL, call,
                 mistakes=[(LOGITS_SMALL, "those are the logits z = X @ w + b: predict_proba must return sigmoid(z), probabilities"),
                           (expit(np.asarray(X_SMALL) @ np.asarray(W_SMALL)) + B_SMALL,
                            "the bias was added after the sigmoid (a probability above 1 came back): it belongs in the "
                            "logit w · x + b"),
                           ([0.182426, 0.268941, 0.5], "the bias is missing: the logit is w · x + b"),
                           (expit(np.array([-1.75, -1.25, -0.25])), "the bias is subtracted: the logit is w · x + b"),
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
    expect_refusals(mod.predict_proba, works=Call(X_SMALL, W_SMALL, B_SMALL), refuses=[
        (Call(X_SMALL, [1.0, 2.0, 3.0], 0.0, shown="predict_proba(X with 2 features, w with 3 weights, 0)"),
         "w needs one weight per feature"),
        (Call([1.0, 2.0], W_SMALL, 0.0, shown="predict_proba([1, 2], w, 0)"), "X must be 2-D, one row per sample"),
        (Call(np.zeros((0, 2)), W_SMALL, 0.0, shown="predict_proba(empty X, w, 0)"), "there are no samples")])


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
    swapped = float(np.mean([-(y * math.log(1 - q) + (1 - y) * math.log(q)) for y, q in zip(Y_BCE, P_BCE)]))
    expect_close(mod.binary_cross_entropy(Y_BCE, P_BCE), BCE, "binary_cross_entropy([1, 0, 1, 0], [.9, .2, .6, .3])",
                 mistakes=bce_mistakes(BCE, BCE_NO_NEGATIVE_TERM, 4) + [
                     (swapped, "the two terms are swapped: a label y = 1 is scored by log p, a label 0 by log(1 - p)")])


@pytest.mark.task("4.3")
def test_bce_at_a_coin_flip_is_log_2(mod):
    _, y = blobs()
    expect_close(mod.binary_cross_entropy(y, np.full(N, 0.5)), LN2,
                 "binary_cross_entropy(y of the blobs, p = 1/2 everywhere)",
                 mistakes=bce_mistakes(LN2, LN2 / 2, N))


@pytest.mark.task("4.3")
def test_bce_when_every_label_is_one_class(mod):
    expect_close(mod.binary_cross_entropy([1.0, 1.0, 1.0], [0.9, 0.8, 0.7]), 0.22839300363692283,
                 "binary_cross_entropy([1, 1, 1], [.9, .8, .7]) (every label 1)",
                 mistakes=bce_mistakes(0.22839300363692283, 0.22839300363692283, 3))
    expect_close(mod.binary_cross_entropy([0.0, 0.0], [0.1, 0.2]), 0.164252033486018,
                 "binary_cross_entropy([0, 0], [.1, .2]) (every label 0)",
                 mistakes=bce_mistakes(0.164252033486018, 0.0, 2))


ADDED_EPS = ("you added eps inside the log, log(p + eps): clip p to [eps, 1 - eps] instead (np.clip), which leaves "
             "every p in between untouched; p + eps can pass 1, and log(1 - p) of it is the log of a negative number")


@pytest.mark.task("4.3")
def test_bce_clips_away_log_zero_at_saturated_logits(mod):
    # What fails at z = ±1000 is the log: sigmoid(-1000) = 0 and sigmoid(1000) = 1 exactly in float64.
    p = expit(np.array([-1000.0, 1000.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = mod.binary_cross_entropy([1.0, 0.0], p)
        expect_close(got, SATURATED, "binary_cross_entropy([1, 0], sigmoid([-1000, 1000]) = [0, 1])", rtol=1e-6,
                     mistakes=[(np.inf, "log 0 = -inf: sigmoid(-1000) is exactly 0 in float64, so clip y_pred to "
                                        "[eps, 1 - eps] before the logs"),
                               (np.nan, ADDED_EPS),
                               (SATURATED / 2, "only the class-1 point was counted: the class-0 term "
                                               "(1 - y) log(1 - p) is missing"),
                               (2 * SATURATED, "that is the sum over the 2 samples: the loss is the mean")])
        expect_close(mod.binary_cross_entropy([1.0, 0.0], [1.0, 0.0]), 0.0,
                     "binary_cross_entropy([1, 0], [1, 0])", atol=1e-9,
                     mistakes=[(np.nan, "NaN is 0·log 0: clip y_pred to [eps, 1 - eps] so every log is finite")])


@pytest.mark.task("4.3")
def test_bce_clips_with_the_eps_it_is_given(mod):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expect_close(mod.binary_cross_entropy([1.0], [0.0], eps=1e-3), 6.907755,
                     "binary_cross_entropy([1], [0], eps=1e-3)",
                     mistakes=[(MINUS_LN_EPS, "eps is a parameter: clip with the eps you were given")])
        # clipping and adding differ where eps is not tiny: -ln 0.9 against -ln 1.05 and -ln 1.08
        expect_close(mod.binary_cross_entropy([1.0, 0.0], [0.95, 0.02], eps=0.1), 0.10536051565782628,
                     "binary_cross_entropy([1, 0], [.95, .02], eps=0.1)",
                     mistakes=[((math.log(1 / 1.05) + math.log(1 / 1.08)) / 2, ADDED_EPS),
                               ((-math.log(1.05) - math.log(1 - 0.02 + 0.1)) / 2, ADDED_EPS),
                               ((-math.log(0.95) - math.log(0.98)) / 2, "eps is a parameter: clip with the eps you "
                                                                         "were given")])


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
    expect_refusals(mod.binary_cross_entropy, works=Call(Y_BCE, P_BCE), refuses=[
        (Call([1.0, 0.0], [0.5, 0.5, 0.5], shown="binary_cross_entropy(2 labels, 3 predictions)"), "the lengths differ"),
        (Call([1.0, 0.0], [2.5, -1.0]), "those are logits, not probabilities"),
        (Call([], []), "there are no samples")])


# --- 4.4 logistic_gradients --------------------------------------------------------------


def gradient_mistakes(X, y, w, b, expected):
    z = X @ np.asarray(w, dtype=float) + b
    n = len(y)
    summed = f"the gradient is {n} times too large: divide by N, the loss is a mean over the N = {n} samples, so its gradient is too"
    return [(-expected, SIGN), (expected * n, summed), (np.append(expected[:-1] * n, expected[-1]), summed),
            (np.append(expected[:-1], expected[-1] * len(y)), "grad_b is summed over the samples: the loss is a "
                                                               "mean, so ∂L/∂b is a mean too"),
            (np.append(expected[:-1], 0.0), "grad_b is 0 but the loss does depend on b: ∂L/∂b is the mean over the "
                                            "samples of each one's ∂L_i/∂z_i (∂z_i/∂b = 1)"),
            (np.append(X.T @ (z - y) / len(y), np.mean(z - y)),
             "that uses the logits z - y as the error: p must be a probability, predict_proba returns sigmoid(X @ w + b)"),
            (np.append(X.T @ ((expit(z) - y) * expit(z) * (1 - expit(z))) / n,
                       np.mean((expit(z) - y) * expit(z) * (1 - expit(z)))),
             "an extra factor σ(z)(1 − σ(z)) is in it (the MSE's chain rule): for the BCE the derivative of the log "
             "cancels σ'(z), so ∂L_i/∂z_i has no such factor")]


@pytest.mark.task("4.4")
def test_gradients_at_zero_and_at_a_point(mod):
    X, y = blobs()
    cases = ((np.array(X_SMALL), np.array(Y_SMALL), W_SMALL, B_SMALL, GRAD_SMALL, "the lesson's 3 points"),
             (X, y, [0.0, 0.0], 0.0, GRAD_AT_ZERO, "the blobs"), (X, y, W_POINT, B_POINT, GRAD_AT_POINT, "the blobs"))
    for X_case, y_case, w, b, (expected_w, expected_b), where in cases:
        call = f"logistic_gradients(X, y, w = {w}, b = {b}) on {where}"
        got = gradients(mod, X_case, y_case, w, b, call)
        expected = np.append(expected_w, expected_b)
        expect_close(got, expected, call, atol=1e-12, mistakes=gradient_mistakes(X_case, y_case, w, b, expected))


@pytest.mark.task("4.4")
def test_gradients_when_every_label_is_one_class(mod):
    X, _ = blobs()
    call = "logistic_gradients(X, y = all 1, w = [0, 0], b = 0) on the blobs"
    expected = np.append(*GRAD_ONE_CLASS)
    expect_close(gradients(mod, X, np.ones(N), [0.0, 0.0], 0.0, call), expected, call, atol=1e-12,
                 mistakes=gradient_mistakes(X, np.ones(N), [0.0, 0.0], 0.0, expected))


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
            why = "check your derivation: one sample first, then the chain rule through z = Xw + b, then the mean"
        fail(f"gradient check at w = {w}, b = {b}: relative error {error:.2e} between {call} = {analytic} and "
             f"central differences {numeric}; below 1e-7 is right: {why}")


@pytest.mark.task("4.4")
def test_gradients_stay_finite_at_saturated_logits(mod):
    # At w = [200, 200] the logits reach ±1674 (the closest point is at 53): p is exactly 0 or 1 for every point.
    X, y = blobs()
    call = "logistic_gradients(X, y, w = [200, 200], b = 0) (logits up to ±1674)"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = gradients(mod, X, y, [200.0, 200.0], 0.0, call)
    warned = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    if warned or not np.isfinite(got).all():
        fail(f"{call} returned {got}" + (f" and numpy warned '{warned[0]}'" if warned else "") + ": where p is exactly "
             "0 or 1, a chain rule left as (∂L/∂p)·(∂p/∂z) is inf·0 = NaN; simplify ∂L_i/∂z_i on paper first, so "
             "that no division by p or 1 - p is left")
    expect_close(got, central_differences(X, y, [200.0, 200.0], 0.0), call + ", against central differences",
                 rtol=1e-6, atol=1e-12, mistakes=[(np.zeros(3), "0: that is the gradient of the clipped loss (autograd "
                                                               "through np.clip / torch.clamp); differentiate the loss "
                                                               "without its clipping")])


@pytest.mark.task("4.4")
@given(w1=st.floats(-3.0, 3.0), w2=st.floats(-3.0, 3.0), b=st.floats(-3.0, 3.0))
def test_gradient_check_anywhere(mod, w1, w2, b):
    X, y = blobs()
    analytic = gradients(mod, X, y, [w1, w2], b, f"logistic_gradients(X, y, [{w1!r}, {w2!r}], {b!r})")
    error = relative_error(analytic, central_differences(X, y, [w1, w2], b))
    expect_true(error < 1e-7, f"gradient check at w = [{w1!r}, {w2!r}], b = {b!r}: relative error {error:.2e}, "
                "above 1e-7: your analytic gradient must match the central differences of the loss")


@pytest.mark.task("4.4")
def test_gradients_refuse_mismatched_shapes(mod):
    X, y = blobs()
    expect_refusals(mod.logistic_gradients, works=Call(X, y, [0.0, 0.0], 0.0), refuses=[
        (Call(X, y[:-1], [0.0, 0.0], 0.0, shown="logistic_gradients(X of 200 rows, 199 labels, w, b)"),
         "every sample needs a label"),
        (Call(X, y, [0.0, 0.0], [0.0, 0.0], shown="logistic_gradients(X, y, w, b = [0, 0])"), "the bias is one number")])


# --- 4.5 train_logistic_regression ------------------------------------------------------


@task_fixture("4.5")
def seed_run(mod):
    """The seed's run, lr = 0.1, 100 epochs, snapshots at 0, 1, 10, 100: the learner's 4.5, computed once."""
    X, y = blobs()
    return train(mod, X, y, snapshot_epochs=(0, 1, 10, 100))


@pytest.mark.task("4.5")
def test_training_starts_at_log_2_and_the_loss_falls(mod, seed_run):
    _, _, losses, _ = seed_run
    losses = expect_shape(losses, (100,), "train_logistic_regression(X, y).losses",
                          diagnoses={(101,): "record the loss once per epoch, before that epoch's update: 100 epochs, 100 losses",
                                     (99,): "record the loss once per epoch, before that epoch's update: 100 epochs, 100 losses"})
    expect_close(losses[0], LN2, "losses[0], the loss at w = 0, b = 0",
                 mistakes=[(LOSSES[1], "that is the loss after the first update: record the loss before updating"),
                           (LN2 / 2, "log 2 / 2: the loss you record drops the class-0 term (1 - y) log(1 - p); record "
                                     "binary_cross_entropy(y, predict_proba(X, w, b))"),
                           (N * LN2, "200 log 2: the loss you record is a sum over the samples; record "
                                     "binary_cross_entropy(y, predict_proba(X, w, b)), a mean")])
    expect_true(losses[1] < losses[0],
                f"the loss rose from {losses[0]:.6f} to {losses[1]:.6f} after the first update: {ASCENT}")
    rises = np.flatnonzero(np.diff(losses) >= 0)
    expect_true(rises.size == 0, f"the loss went up at epoch {rises[0] + 1 if rises.size else 0}: full-batch gradient "
                "descent at lr = 0.1 lowers it at every step on this data")


@pytest.mark.task("4.5")
def test_training_follows_the_seed_run(mod, seed_run):
    w, b, losses, _ = seed_run
    w_order, b_order = run_mistakes(100)
    expect_close(w, W_FINAL, "train_logistic_regression(X, y).w after 100 epochs at lr = 0.1",
                 mistakes=[(W_ASCENT, "the weights ran away from the data: " + ASCENT),
                           (W_SUMMED, "the steps were 200 times too big: the gradients were summed, not averaged over "
                                      "the samples (divide by N)")] + w_order)
    expect_close(b, B_FINAL, "train_logistic_regression(X, y).b", atol=1e-9, mistakes=b_order)
    expect_close(losses[[1, 2, 10, 99]], [LOSSES[k] for k in (1, 2, 10, 99)], "losses[[1, 2, 10, 99]]",
                 mistakes=[(LOSSES_AFTER_UPDATE, "each loss is one epoch late: record the loss before that epoch's "
                                                 "update"),
                           (LOSSES_NO_NEGATIVE_TERM, "about half the right loss: the loss you record drops the class-0 "
                                                     "term (1 - y) log(1 - p); record binary_cross_entropy"),
                           (N * np.array([LOSSES[k] for k in (1, 2, 10, 99)]),
                            "200 times too large: the loss you record is a sum over the samples; take the mean")])


@pytest.mark.task("4.5")
def test_training_keeps_copies_of_the_snapshots(mod, seed_run):
    _, _, _, snapshots = seed_run
    missing = sorted({0, 1, 10, 100} - set(snapshots))
    expect_true(not missing, f"snapshots has keys {sorted(snapshots)}; snapshot_epochs=(0, 1, 10, 100) asked for "
                f"{missing} too: snapshots[k] holds (w, b) after k updates, so the update of loop index epoch "
                "(counting from 0) is number epoch + 1")
    w0, b0 = snapshots[0]
    expect_close(w0, [0.0, 0.0], "snapshots[0] weights (the start)",
                 mistakes=[(W_FINAL, "snapshots[0] holds the final weights: store a copy of w (w.copy()), not w, "
                                     "which the in-place updates change")])
    expect_close(b0, 0.0, "snapshots[0] bias (the start)")
    for epoch, (expected_w, expected_b) in SNAPSHOTS.items():
        got_w, got_b = snapshots[epoch]
        w_order, b_order = run_mistakes(epoch)
        expect_close(got_w, expected_w, f"snapshots[{epoch}] weights (after {epoch} epoch{'' if epoch == 1 else 's'})",
                     mistakes=([(W_FINAL, "every snapshot holds the final weights: store w.copy(), not w itself"),
                                (-np.asarray(expected_w), "the weights moved away from the data: " + ASCENT),
                                (N * np.asarray(expected_w), SUMMED)]
                               if epoch == 1 else []) + w_order)
        expect_close(got_b, expected_b, f"snapshots[{epoch}] bias", atol=1e-9, mistakes=b_order)


@pytest.mark.task("4.5")
def test_training_uses_lr_and_epochs(mod):
    X, y = blobs()
    call = "train_logistic_regression(X, y, lr=0.5, epochs=5, snapshot_epochs=(5,))"
    w, b, losses, snapshots = train(mod, X, y, lr=0.5, epochs=5, snapshot_epochs=(5,), call=call)
    expect_shape(losses, (5,), f"{call}.losses")
    w_order, b_order = run_mistakes(5, lr=0.5, epochs=5)
    expect_close(w, W_LR_HALF_5, f"{call}.w",
                 mistakes=[(W_FINAL, "lr and epochs are parameters: use the ones given"),
                           ([-4.667335, -4.398547], ASCENT),
                           ([103.61279, 102.187858], SUMMED),
                           ([0.350483, 0.330987], "that is lr = 0.1: lr is a parameter, step with the one given")]
                 + w_order)
    expect_close(b, B_LR_HALF_5, f"{call}.b", atol=1e-9, mistakes=b_order)
    expect_true(set(snapshots) == {5}, f"{call}.snapshots has keys {sorted(snapshots)}, expected only 5")


@pytest.mark.task("4.5")
def test_training_when_every_label_is_one_class(mod):
    X, _ = blobs()
    call = "train_logistic_regression(X, y = all 1, lr=0.5, epochs=5)"
    w, b, losses, _ = train(mod, X, np.ones(N), lr=0.5, epochs=5, snapshot_epochs=(), call=call)
    w_order, b_order = run_mistakes(5, lr=0.5, epochs=5, one_class=True)
    expect_close(b, B_ONE_CLASS, f"{call}.b", atol=1e-9,
                 mistakes=[(-B_ONE_CLASS, "b went the wrong way: " + ASCENT)] + b_order)
    expect_close(w, W_ONE_CLASS, f"{call}.w", mistakes=w_order)
    expect_close(losses, LOSSES_ONE_CLASS, f"{call}.losses")


@pytest.mark.task("4.5")
def test_a_learning_rate_of_0_takes_no_step(mod):
    X, y = blobs()
    call = "train_logistic_regression(X, y, lr=0, epochs=3, snapshot_epochs=(0, 3))"
    w, b, losses, snapshots = train(mod, X, y, lr=0.0, epochs=3, snapshot_epochs=(0, 3), call=call)
    expect_close(w, [0.0, 0.0], f"{call}.w (lr = 0 leaves w at its start)", atol=0.0)
    expect_close(b, 0.0, f"{call}.b", atol=0.0)
    expect_close(losses, [LN2] * 3, f"{call}.losses (every epoch at w = 0: log 2)")
    expect_true(set(snapshots) == {0, 3}, f"{call}.snapshots has keys {sorted(snapshots)}, expected 0 and 3")


@pytest.mark.task("4.5")
def test_training_refuses_bad_settings(mod):
    X, y = blobs()
    expect_refusals(mod.train_logistic_regression, works=Call(X, y, epochs=1, shown="train(X, y, epochs=1)"), refuses=[
        (Call(X, y, lr=-0.1, shown="train_logistic_regression(X, y, lr=-0.1)"), "a negative learning rate climbs the loss"),
        (Call(X, y, lr=float("nan"), shown="train_logistic_regression(X, y, lr=nan)"), "a learning rate is a number"),
        (Call(X, y, epochs=0, shown="train_logistic_regression(X, y, epochs=0)"), "training needs at least one epoch"),
        (Call(X, y, epochs=2.5, shown="train_logistic_regression(X, y, epochs=2.5)"), "epochs is a whole number"),
        (Call(X, y * 2.0, shown="train_logistic_regression(X, labels 0 and 2)"), "labels must be 0 or 1"),
        (Call(X, y, snapshot_epochs=(-1,), shown="train_logistic_regression(X, y, snapshot_epochs=(-1,))"),
         "a snapshot epoch is a count of updates, >= 0")])


@pytest.mark.task("4.5")
@pytest.mark.mpl_image_compare(filename="module04_loss_curve.png")
def test_figure_loss_curve(mod):
    return mod.plot_loss_curve()


@pytest.mark.task("4.5")
@pytest.mark.mpl_image_compare(filename="module04_boundary_snapshots.png")
def test_figure_boundary_snapshots(mod):
    return mod.plot_boundary_snapshots()


@pytest.mark.task("4.5")
@pytest.mark.mpl_image_compare(filename="module04_decision_boundary.png")
def test_figure_decision_boundary(mod):
    return mod.plot_decision_boundary()


# --- 4.6 accuracy -----------------------------------------------------------------------------

TIE = ("p = 0.5 exactly is class 1 (p >= 0.5): `p > 0.5` makes it class 0, and so does np.round(p), which rounds "
       "half to even (np.round(0.5) = 0.0)")


@pytest.mark.task("4.6")
def test_accuracy_is_a_fraction(mod):
    call = "accuracy([1, 0, 1, 0], [.9, .2, .4, .7])"
    expect_close(mod.accuracy([1, 0, 1, 0], [0.9, 0.2, 0.4, 0.7]), 0.5, call,
                 mistakes=[(2.0, "that is the count of correct predictions: divide by the number of samples"),
                           (50.0, "that is a percentage: return the fraction, 0.5"),
                           (0.0, "compare the predicted class (p >= 0.5), not the probability, with the label")])
    call = "accuracy([1, 0, 1, 1], [.9, .2, .4, .7])"
    expect_close(mod.accuracy([1, 0, 1, 1], [0.9, 0.2, 0.4, 0.7]), 0.75, call,
                 mistakes=[(0.25, "that is the error rate, the fraction WRONG: accuracy is the fraction right"),
                           (3.0, "that is the count of correct predictions: divide by the number of samples")])


@pytest.mark.task("4.6")
def test_accuracy_counts_a_probability_of_exactly_one_half_as_class_1(mod):
    expect_close(mod.accuracy([1], [0.5]), 1.0, "accuracy([1], [0.5])", mistakes=[(0.0, TIE)])
    expect_close(mod.accuracy([1, 1, 0, 0], [0.5, 0.5, 0.2, 0.5]), 0.75, "accuracy([1, 1, 0, 0], [.5, .5, .2, .5])",
                 mistakes=[(0.5, TIE)])


@pytest.mark.task("4.6")
def test_accuracy_when_every_label_is_one_class(mod):
    expect_close(mod.accuracy([1, 1, 1], [0.9, 0.5, 0.2]), 2 / 3, "accuracy([1, 1, 1], [.9, .5, .2])",
                 mistakes=[(1 / 3, TIE), (2.0, "that is the count of correct predictions: divide by the number of "
                                                "samples")])


@pytest.mark.task("4.6")
def test_trained_model_is_at_least_99_percent_accurate(mod):
    X, y = blobs()
    w, b = np.array(W_FINAL), B_FINAL  # the seed's run, from torch
    acc = expect_number(mod.accuracy(y, expit(X @ w + b)), "accuracy(y, P(class 1) of the trained model)")
    expect_true(acc >= 0.99, f"accuracy after training is {acc:.3f}, below 0.99: the blobs are almost separable")
    expect_close(acc, 0.995, "accuracy of the model after 100 epochs (199 of 200 right)",
                 mistakes=[(199.0, "that is the count of correct predictions: divide by the number of samples"),
                           (99.5, "that is a percentage: return the fraction, 0.995")])


@pytest.mark.task("4.6")
def test_accuracy_refuses_logits(mod):
    expect_refusals(mod.accuracy, works=Call([1, 0], [0.9, 0.1]), refuses=[
        (Call([1, 0], [2.0, -3.0]), "[2, -3] are logits: pass them through sigmoid first"),
        (Call([1, 0, 1], [0.9, 0.1], shown="accuracy(3 labels, 2 probabilities)"), "the lengths differ")])
