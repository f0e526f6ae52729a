"""Module 1: surprisal, entropy and cross-entropy.

Expected values are hand-computed constants (ln 0.9 = -0.105361, ...) and, for
the properties, a plain-Python oracle (math.log with the lesson's conventions),
never the reference itself. Known mistakes have their own diagnosis.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kata.testing.expect import Call, expect_close, expect_refusals, expect_shape, expect_true, fail, without_warnings
from kata.testing.strategies import EXTREME_ENTRY, extreme_distributions, extreme_pairs

MODULE = "module01_cross_entropy"
LN2 = math.log(2)

P = [1.0, 0.0]
Q1 = [0.9, 0.1]
Q2 = [0.2, 0.8]
H_P_Q1 = 0.105361  # -ln 0.9
H_P_Q2 = 1.609438  # -ln 0.2
MINUS_LN_EPS = 27.631021  # -ln 1e-12



def oracle_entropy(p):
    return -sum(pi * math.log(pi) for pi in p if pi > 0)


def oracle_cross_entropy(p, q, eps=1e-12):
    return -sum(pi * math.log(max(qi, eps)) for pi, qi in zip(p, q) if pi > 0)


# --- 1.1 surprisal -----------------------------------------------------------


@pytest.mark.task("1.1")
def test_surprisal_in_nats_and_bits(mod):
    expect_close(mod.surprisal(1.0), 0.0, "surprisal(1.0)", atol=1e-12,
                 mistakes=[(1.0, "a certain event carries no information: -log 1 = 0")])
    expect_close(mod.surprisal(0.5), LN2, "surprisal(0.5)",
                 mistakes=[(-LN2, "a negative surprisal means the minus sign is missing: log q <= 0, so -log q >= 0"),
                           (1.0, "that is 1 bit: with base=None the answer is in nats (natural log)"),
                           (math.log10(2), "that is log base 10: with base=None use the natural log")])
    expect_close(mod.surprisal(0.5, base=2), 1.0, "surprisal(0.5, base=2)",
                 mistakes=[(LN2, "that is the answer in nats: divide by log(base) for other units"),
                           (LN2 * LN2, "you multiplied by log(base): to change units, divide by it")])
    expect_close(mod.surprisal(0.25, base=2), 2.0, "surprisal(0.25, base=2)")
    expect_close(mod.surprisal(0.1, base=10), 1.0, "surprisal(0.1, base=10)",
                 mistakes=[(math.log(10) / LN2, "that is in bits: use the base you were given, log(q) / log(base)")])


@pytest.mark.task("1.1")
def test_surprisal_is_elementwise_and_infinite_at_zero(mod):
    got = without_warnings("surprisal([0, 0.1, 1])", mod.surprisal, np.array([0.0, 0.1, 1.0]),
                           why="-log 0 = inf is the right answer here: compute the log inside np.errstate(divide='ignore')")
    got = expect_shape(got, (3,), "surprisal([0, 0.1, 1])")
    expect_true(got[0] == np.inf, f"surprisal(0) should be +inf (an impossible event is infinitely surprising), got {got[0]}")
    expect_close(got[1:], [2.302585, 0.0], "surprisal([0.1, 1])[1:]")


@pytest.mark.task("1.1")
def test_surprisal_refuses_non_probabilities(mod):
    expect_refusals(mod.surprisal, works=Call(0.5), refuses=[
        (Call(1.5), "1.5 is not a probability"),
        (Call(0.5, base=1), "log 1 = 0 cannot be a base"),
    ])


@pytest.mark.task("1.1")
@given(q=st.one_of(EXTREME_ENTRY, st.just(5e-324)), base=st.sampled_from([None, 2, 10]))
def test_surprisal_reaches_the_extremes(mod, q, base):
    got = float(without_warnings(f"surprisal({q!r})", mod.surprisal, q, base=base,
                                 why="compute the log inside np.errstate(divide='ignore')"))
    expected = math.inf if q == 0 else -math.log(q) / (1.0 if base is None else math.log(base))
    expect_close(got, expected, f"surprisal({q!r}, base={base})", rtol=1e-12, atol=1e-15)


# --- 1.2 entropy ---------------------------------------------------------------


@pytest.mark.task("1.2")
def test_entropy_of_the_seed_distribution_in_bits(mod):
    nats = 1.168282  # -Σ p ln p for [.1, .5, .1, .3]
    expect_close(mod.entropy([0.1, 0.5, 0.1, 0.3], base=2), 1.685475, "entropy([.1, .5, .1, .3], base=2)",
                 mistakes=[(-1.685475, "a negative entropy means the minus sign is missing"),
                           (nats, "that is the entropy in nats: pass base on to surprisal"),
                           (-nats, "a negative entropy in nats: the minus sign is missing, and pass base on to surprisal"),
                           (1.685475 / 4, "you averaged over the classes: entropy is a sum of p·(-log p)")])


ZERO_LOG_ZERO = ("0·log 0 = 0·inf gives NaN: the p = 0 terms must add exactly 0 "
                 "(np.where evaluates both of its branches, so masking the product alone still computes 0·inf)")


@pytest.mark.task("1.2")
def test_entropy_counts_zero_probabilities_as_zero(mod):
    got = without_warnings("entropy([1, 0])", mod.entropy, [1.0, 0.0], why=ZERO_LOG_ZERO)
    expect_close(got, 0.0, "entropy([1, 0])", atol=1e-12, mistakes=[(np.nan, ZERO_LOG_ZERO)])
    expect_close(without_warnings("entropy([.5, .5, 0])", mod.entropy, [0.5, 0.5, 0.0], why=ZERO_LOG_ZERO), LN2,
                 "entropy([.5, .5, 0])", mistakes=[(np.nan, ZERO_LOG_ZERO)])
    expect_close(mod.entropy([0.25] * 4), math.log(4), "entropy of 4 equally likely classes")
    expect_close(mod.entropy([0.25] * 4, base=4), 1.0, "entropy of 4 equally likely classes, base=4",
                 mistakes=[(2.0, "that is in bits: pass the base you were given on to surprisal")])


@pytest.mark.task("1.2")
def test_entropy_reduces_over_the_last_axis(mod):
    batch = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    got = expect_shape(without_warnings("entropy(batch)", mod.entropy, batch, why=ZERO_LOG_ZERO), (2,),
                       "entropy(batch of 2 rows of 3 classes)",
                       diagnoses={(3,): "you reduced over axis 0 (the batch); reduce over axis=-1, the classes",
                                  (): "you summed over everything; sum over axis=-1 only, one entropy per row"})
    expect_close(got, [LN2, 0.0], "entropy(batch)", atol=1e-12)


@pytest.mark.task("1.2")
def test_entropy_refuses_what_is_not_a_distribution(mod):
    expect_refusals(mod.entropy, works=Call([0.5, 0.5]), refuses=[
        (Call([0.5, 0.6]), "p sums to 1.1"),
        (Call([0.5, 0.5], base=-2), "a base must be positive"),
    ])


@pytest.mark.task("1.2")
@given(p=extreme_distributions(), base=st.sampled_from([None, 2]))
def test_entropy_reaches_the_extremes(mod, p, base):
    got = float(without_warnings("entropy(p)", mod.entropy, p, base=base, why=ZERO_LOG_ZERO))
    unit = 1.0 if base is None else LN2
    expect_close(got, oracle_entropy(p) / unit, f"entropy({p.tolist()}, base={base})", rtol=1e-9, atol=1e-12,
                 mistakes=[(np.nan, ZERO_LOG_ZERO)])
    expect_true(-1e-12 <= got <= math.log(len(p)) / unit + 1e-12,
                f"entropy({p.tolist()}) = {got:.6g} is outside [0, log C]: an entropy is never negative and never "
                "above the uniform distribution's")


# --- 1.3 cross_entropy -----------------------------------------------------------


def ce_mistakes(p, q, expected):
    """Values that known mistakes produce for cross_entropy(p, q), with their diagnosis."""
    n_classes = len(p)
    swapped = -sum(qi * math.log(max(pi, 1e-12)) for pi, qi in zip(p, q))
    swapped_unclipped = math.inf if 0.0 in p else swapped
    return [
        (swapped_unclipped, "the log is being taken of p, which has a 0 here: the arguments are swapped. "
                            "The truth p weights the log of the prediction q"),
        (-expected, "a negative cross-entropy means the minus sign is missing: log q <= 0, so H = -Σ p log q"),
        (expected / n_classes, "you took the mean over the classes; cross-entropy sums p·(-log q) over them"),
        (swapped, "that is H(q, p): the arguments are swapped. The truth p weights the log of the prediction q"),
        (expected / LN2, "that is the answer in bits: with base=None stay in nats"),
    ]


def valid_call(call, function, *args, **kwargs):
    """``function(*args)`` on valid inputs: a ValueError from inside it comes from a helper given a bad value."""
    try:
        return function(*args, **kwargs)
    except ValueError as error:
        fail(f"{call} raised ValueError ({error}) although its inputs are valid: something inside passed surprisal a "
             "number that is not a probability. q + eps can exceed 1: clip q into [eps, 1] instead of adding eps")


@pytest.mark.task("1.3")
def test_seed_example_in_nats(mod):
    expect_close(valid_call("cross_entropy([1, 0], [0.9, 0.1])", mod.cross_entropy, P, Q1), H_P_Q1,
                 "cross_entropy([1, 0], [0.9, 0.1])", mistakes=ce_mistakes(P, Q1, H_P_Q1))
    expect_close(mod.cross_entropy(P, Q2), H_P_Q2, "cross_entropy([1, 0], [0.2, 0.8])", mistakes=ce_mistakes(P, Q2, H_P_Q2))


@pytest.mark.task("1.3")
def test_seed_example_in_bits(mod):
    expect_close(mod.cross_entropy(P, Q1, base=2), 0.152003, "cross_entropy([1, 0], [0.9, 0.1], base=2)",
                 mistakes=[(H_P_Q1, "that is the answer in nats: pass base on to surprisal")])


@pytest.mark.task("1.3")
def test_the_better_prediction_has_the_lower_loss(mod):
    good, bad = mod.cross_entropy(P, Q1), mod.cross_entropy(P, Q2)
    expect_true(np.isfinite(good), f"cross_entropy([1, 0], [0.9, 0.1]) returned {float(good)}: with no zero in q the "
                "loss is finite, so the log is being taken of p (which has a 0): the arguments are swapped")
    expect_true(good < bad, f"cross_entropy gave {float(good):.6f} for the right guess q1 and {float(bad):.6f} for the wrong "
                "guess q2: a loss must be lower for the better prediction (is the minus sign missing?)")


NO_CLIP = "log 0 = -inf: clip q to [eps, 1] before taking the log (if you did, check that the log is of q and not of p)"
FIXED_EPS = "eps is a parameter: clip with the eps you were given, not a fixed 1e-12"


def expect_clipped(mod, p, q, expected, *, eps=None, **checks):
    """cross_entropy(p, q[, eps]) must be ``expected``; numpy's warnings are silenced, the values name the mistakes."""
    keywords = {} if eps is None else {"eps": eps}
    call = f"cross_entropy({p}, {q}" + ("" if eps is None else f", eps={eps}") + ")"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = valid_call(call, mod.cross_entropy, p, q, **keywords)
    expect_close(got, expected, call, **checks)


@pytest.mark.task("1.3")
def test_clipping_keeps_log_zero_away(mod):
    expect_clipped(mod, [1.0, 0.0], [0.0, 1.0], MINUS_LN_EPS, rtol=1e-5, mistakes=[(np.inf, NO_CLIP)])
    expect_clipped(mod, [1.0, 0.0], [1.0, 0.0], 0.0, atol=1e-9,
                   mistakes=[(np.nan, "NaN is 0·log 0: clip q to [eps, 1] so every log is finite")])
    expect_clipped(mod, [0.0, 1.0], [1.0, 0.0], 6.907755, eps=1e-3,
                   mistakes=[(MINUS_LN_EPS, FIXED_EPS), (np.inf, NO_CLIP)])


ADDED_EPS = ("you added eps to q, which moves every entry: clip q into [eps, 1] instead, so that only entries "
             "below eps change")
CLIPPED_TOP = "you clipped q into [eps, 1 - eps]: the top of the clip is 1, so a sure and right prediction costs 0"


@pytest.mark.task("1.3")
def test_a_large_eps_tells_clipping_from_adding(mod):
    expect_clipped(mod, [1.0, 0.0], [1.0, 0.0], 0.0, eps=0.1, atol=1e-12,
                   mistakes=[(-0.0953102, ADDED_EPS + " (here -log 1.1 < 0)"), (0.1053605, CLIPPED_TOP),
                             (np.nan, "NaN is 0·log 0: clip q to [eps, 1] so every log is finite")])
    # q = [.95, .05]: clipping gives [.95, .1]; adding gives [1.05, .15]; [eps, 1 - eps] gives [.9, .1].
    expect_clipped(mod, [0.5, 0.5], [0.95, 0.05], 1.176939, eps=0.1,
                   mistakes=[(0.924165, ADDED_EPS), (1.203973, CLIPPED_TOP), (1.523513, FIXED_EPS)])
    expect_clipped(mod, [0.0, 1.0], [0.5, 0.5], LN2, eps=0.1,
                   mistakes=[(0.510826, ADDED_EPS + " (here -log 0.6 instead of log 2)")])
    expect_clipped(mod, [0.0, 1.0], [1.0, 0.0], 2.302585, eps=0.1,
                   mistakes=[(MINUS_LN_EPS, FIXED_EPS), (np.inf, NO_CLIP)])


@pytest.mark.task("1.3")
def test_a_batch_gives_one_loss_per_row(mod):
    p = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])
    q = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    call = "cross_entropy(p, q) with p and q of shape (2, 3)"
    got = expect_shape(mod.cross_entropy(p, q), (2,), call,
                       diagnoses={(3,): "you reduced over axis 0 (the batch); reduce over axis=-1, the classes",
                                  (): "you summed over everything; sum over axis=-1 only, one loss per row"})
    expect_close(got, [0.356675, 0.857399], call)


@pytest.mark.task("1.3")
def test_one_truth_broadcasts_against_many_predictions(mod):
    q = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
    expect_close(mod.cross_entropy(P, q), [H_P_Q1, H_P_Q2, LN2], "cross_entropy([1, 0], three predictions)")


@pytest.mark.task("1.3")
def test_with_one_hot_truths_the_mean_is_the_negative_log_likelihood(mod):
    labels = [0, 2, 1]
    q = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.25, 0.25, 0.5]])
    one_hot = np.eye(3)[labels]
    call = "cross_entropy(one-hot labels [0, 2, 1], q)"
    # -log q(y) per row: -ln .7, -ln .6, -ln .25; their mean is -ln(.7 · .6 · .25) / 3.
    got = expect_close(mod.cross_entropy(one_hot, q), [0.356675, 0.510826, 1.386294], call,
                       mistakes=[([0.3 * MINUS_LN_EPS, 0.4 * MINUS_LN_EPS, 0.75 * MINUS_LN_EPS],
                                  "that is H(q, p): the arguments are swapped. The truth p weights the log of the "
                                  "prediction q")])
    expect_close(got.mean(), 0.751265, f"the mean of {call}, the mean negative log-likelihood")


@pytest.mark.task("1.3")
def test_cross_entropy_refuses_bad_distributions(mod):
    expect_refusals(mod.cross_entropy, works=Call(P, Q1), refuses=[
        (Call([0.5, 0.6], Q1), "p sums to 1.1"),
        (Call(P, [1.2, -0.2]), "q has a negative entry"),
        (Call(P, [0.2, 0.3, 0.5]), "the class counts differ"),
        (Call([], []), "there is nothing to compare"),
        (Call(P, Q1, eps=0.0), "eps = 0 would let log 0 back in"),
    ])


@pytest.mark.task("1.3")
@given(pair=extreme_pairs(), eps=st.sampled_from([1e-12, 1e-3, 0.1]))
def test_cross_entropy_reaches_the_extremes(mod, pair, eps):
    p, q = pair
    got = float(without_warnings("cross_entropy(p, q)", mod.cross_entropy, p, q, eps=eps, why=NO_CLIP))
    expect_close(got, oracle_cross_entropy(p, q, eps), f"cross_entropy({p.tolist()}, {q.tolist()}, eps={eps})",
                 rtol=1e-9, atol=1e-12)


@pytest.mark.task("1.3")
@given(pair=extreme_pairs())
def test_cross_entropy_is_never_below_entropy(mod, pair):
    p, q = pair
    ce = float(without_warnings("cross_entropy(p, q)", mod.cross_entropy, p, q, why=NO_CLIP))
    h = oracle_entropy(p)
    # Clipping at eps can only lower H(p, q), by at most C·eps: Gibbs' inequality holds to 1e-9.
    expect_true(ce >= h - 1e-9, f"cross_entropy(p, q) = {ce:.6f} < entropy(p) = {h:.6f} for p = {p.tolist()}, "
                f"q = {q.tolist()}: Gibbs' inequality says H(p, q) >= H(p). Check the sign and which argument is "
                "inside the log")


@pytest.mark.task("1.3")
@given(p=extreme_distributions())
def test_cross_entropy_with_itself_is_entropy_and_bits_are_nats_over_ln2(mod, p):
    nats = float(without_warnings("cross_entropy(p, p)", mod.cross_entropy, p, p, why=NO_CLIP))
    expect_close(nats, oracle_entropy(p), f"cross_entropy(p, p) for p = {p.tolist()}", rtol=1e-9, atol=1e-11)
    expect_close(mod.cross_entropy(p, p, base=2), nats / LN2, f"cross_entropy(p, p, base=2) for p = {p.tolist()}",
                 rtol=1e-9, atol=1e-11)


@pytest.mark.task("1.3")
@given(q=extreme_distributions(), data=st.data())
def test_a_one_hot_truth_costs_the_surprisal_of_its_class(mod, q, data):
    y = data.draw(st.integers(0, len(q) - 1))
    got = float(without_warnings("cross_entropy(one_hot, q)", mod.cross_entropy, np.eye(len(q))[y], q, why=NO_CLIP))
    expect_close(got, -math.log(max(q[y], 1e-12)), f"cross_entropy(one-hot class {y}, {q.tolist()})",
                 rtol=1e-9, atol=1e-12)


# --- the figure ---------------------------------------------------------------------


@pytest.mark.task("1.3")
def test_binary_curves_bottom_out_at_the_truth(mod):
    qs, curves = mod.binary_cross_entropy_curves()
    for p, curve in curves.items():
        curve = expect_shape(curve, qs.shape, f"the curve for p = {p}")
        lowest = qs[int(np.argmin(curve))]
        expect_true(abs(lowest - min(p, qs[-1])) < 0.01,
                    f"the cross-entropy curve for true p = {p} is lowest at q = {lowest:.3f}; it should be at q = p")
    expect_close(curves[1.0], -np.log(qs), "the curve for the one-hot truth p = 1, which is -log q")


@pytest.mark.task("1.3")
@pytest.mark.mpl_image_compare(filename="module01_binary_cross_entropy.png")
def test_figure_binary_cross_entropy(mod):
    return mod.plot_binary_cross_entropy()
