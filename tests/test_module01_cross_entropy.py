"""Module 1: surprisal, entropy and cross-entropy.

Expected values are hand-computed constants (ln 0.9 = -0.105361, ...), never
the reference itself. Known mistakes have their own diagnosis.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given

from kata.testing.expect import expect_close, expect_raises, expect_shape, expect_true
from kata.testing.strategies import distribution_pairs, distributions

MODULE = "module01_cross_entropy"
LN2 = math.log(2)

P = [1.0, 0.0]
Q1 = [0.9, 0.1]
Q2 = [0.2, 0.8]
H_P_Q1 = 0.105361  # -ln 0.9
H_P_Q2 = 1.609438  # -ln 0.2
MINUS_LN_EPS = 27.631021  # -ln 1e-12


# --- 1.1 surprisal -----------------------------------------------------------


@pytest.mark.task("1.1")
def test_surprisal_in_nats_and_bits(mod):
    expect_close(mod.surprisal(1.0), 0.0, "surprisal(1.0)", atol=1e-12,
                 mistakes=[(1.0, "a certain event carries no information: -log 1 = 0")])
    expect_close(mod.surprisal(0.5), LN2, "surprisal(0.5)",
                 mistakes=[(-LN2, "a negative surprisal means the minus sign is missing: log q <= 0, so -log q >= 0"),
                           (1.0, "that is 1 bit: with base=None the answer is in nats (natural log)"),
                           (math.log10(2), "that is log base 10: use the natural log np.log")])
    expect_close(mod.surprisal(0.5, base=2), 1.0, "surprisal(0.5, base=2)",
                 mistakes=[(LN2, "that is the answer in nats: divide by log(base) for other units"),
                           (LN2 * LN2, "you multiplied by log(base): to change units, divide by it")])
    expect_close(mod.surprisal(0.25, base=2), 2.0, "surprisal(0.25, base=2)")
    expect_close(mod.surprisal(0.1, base=10), 1.0, "surprisal(0.1, base=10)",
                 mistakes=[(math.log(10) / LN2, "that is in bits: use the base you were given, log(q) / log(base)")])


@pytest.mark.task("1.1")
def test_surprisal_is_elementwise_and_infinite_at_zero(mod):
    qs = np.array([0.0, 0.1, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            got = mod.surprisal(qs)
        except RuntimeWarning as warning:
            pytest.fail(f"surprisal([0, 0.1, 1]) raised a numpy warning ({warning}): "
                        "wrap the log in np.errstate(divide='ignore'), -log 0 = inf is the right answer here",
                        pytrace=False)
    got = expect_shape(got, (3,), "surprisal([0, 0.1, 1])")
    expect_true(got[0] == np.inf, f"surprisal(0) should be +inf (an impossible event is infinitely surprising), got {got[0]}")
    expect_close(got[1:], [2.302585, 0.0], "surprisal([0.1, 1])[:]")


@pytest.mark.task("1.1")
def test_surprisal_refuses_non_probabilities(mod):
    mod.surprisal(0.5)  # the function must work before its checks matter
    expect_raises(ValueError, mod.surprisal, 1.5, call="surprisal(1.5)", why="1.5 is not a probability")
    expect_raises(ValueError, mod.surprisal, 0.5, base=1, call="surprisal(0.5, base=1)", why="log 1 = 0 cannot be a base")


# --- 1.2 entropy ---------------------------------------------------------------


@pytest.mark.task("1.2")
def test_entropy_of_the_seed_distribution_in_bits(mod):
    nats = 1.168282  # -Σ p ln p for [.1, .5, .1, .3]
    expect_close(mod.entropy([0.1, 0.5, 0.1, 0.3], base=2), 1.685475, "entropy([.1, .5, .1, .3], base=2)",
                 mistakes=[(-1.685475, "a negative entropy means the minus sign is missing"),
                           (nats, "that is the entropy in nats: pass base on to surprisal"),
                           (1.685475 / 4, "you averaged over the classes: entropy is a sum of p·(-log p)")])


@pytest.mark.task("1.2")
def test_entropy_counts_zero_probabilities_as_zero(mod):
    zero_log_zero = ("0·log 0 = 0·inf gives NaN: the p = 0 terms must be dropped, not multiplied "
                     "(np.where computes both branches, so take the surprisal of p with its zeros replaced by 1)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            got = mod.entropy([1.0, 0.0])
        except RuntimeWarning:
            pytest.fail(f"entropy([1, 0]) made numpy warn: {zero_log_zero}", pytrace=False)
    expect_close(got, 0.0, "entropy([1, 0])", atol=1e-12, mistakes=[(np.nan, zero_log_zero)])
    expect_close(mod.entropy([0.5, 0.5, 0.0]), LN2, "entropy([.5, .5, 0])")
    expect_close(mod.entropy([0.25] * 4), math.log(4), "entropy of 4 equally likely classes")
    expect_close(mod.entropy([0.25] * 4, base=4), 1.0, "entropy of 4 equally likely classes, base=4",
                 mistakes=[(2.0, "that is in bits: pass the base you were given on to surprisal")])


@pytest.mark.task("1.2")
def test_entropy_reduces_over_the_last_axis(mod):
    batch = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    got = expect_shape(mod.entropy(batch), (2,), "entropy(batch of 2 rows of 3 classes)",
                       diagnoses={(3,): "you reduced over axis 0 (the batch); reduce over axis=-1, the classes",
                                  (): "you summed over everything; sum over axis=-1 only, one entropy per row"})
    expect_close(got, [LN2, 0.0], "entropy(batch)", atol=1e-12)


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


@pytest.mark.task("1.3")
def test_seed_example_in_nats(mod):
    expect_close(mod.cross_entropy(P, Q1), H_P_Q1, "cross_entropy([1, 0], [0.9, 0.1])", mistakes=ce_mistakes(P, Q1, H_P_Q1))
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


@pytest.mark.task("1.3")
def test_clipping_keeps_log_zero_away(mod):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expect_close(mod.cross_entropy([1.0, 0.0], [0.0, 1.0]), MINUS_LN_EPS, "cross_entropy([1, 0], [0, 1])",
                     rtol=1e-5, mistakes=[(np.inf, "log 0 = -inf: clip q to [eps, 1] before taking the log "
                                                   "(if you did, check that the log is of q and not of p)")])
        expect_close(mod.cross_entropy([1.0, 0.0], [1.0, 0.0]), 0.0, "cross_entropy([1, 0], [1, 0])", atol=1e-9,
                     mistakes=[(np.nan, "NaN is 0·log 0: clip q to [eps, 1] so every log is finite")])
        expect_close(mod.cross_entropy([0.0, 1.0], [1.0, 0.0], eps=1e-3), 6.907755,
                     "cross_entropy([0, 1], [1, 0], eps=1e-3)",
                     mistakes=[(MINUS_LN_EPS, "eps is a parameter: clip with the eps you were given")])


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
def test_cross_entropy_refuses_bad_distributions(mod):
    mod.cross_entropy(P, Q1)  # the function must work before its checks matter
    expect_raises(ValueError, mod.cross_entropy, [0.5, 0.6], Q1, call="cross_entropy([0.5, 0.6], q)", why="p sums to 1.1")
    expect_raises(ValueError, mod.cross_entropy, P, [1.2, -0.2], call="cross_entropy(p, [1.2, -0.2])", why="q has a negative entry")
    expect_raises(ValueError, mod.cross_entropy, P, [0.2, 0.3, 0.5], call="cross_entropy(2 classes, 3 classes)", why="the class counts differ")
    expect_raises(ValueError, mod.cross_entropy, [], [], call="cross_entropy([], [])", why="there is nothing to compare")


@pytest.mark.task("1.3")
@given(pair=distribution_pairs())
def test_cross_entropy_is_never_below_entropy(mod, pair):
    p, q = pair
    ce, h = float(mod.cross_entropy(p, q)), float(mod.entropy(p))
    expect_true(ce >= h - 1e-9, f"cross_entropy(p, q) = {ce:.6f} < entropy(p) = {h:.6f} for p = {p}, q = {q}: "
                "Gibbs' inequality says H(p, q) >= H(p). Check the sign and which argument is inside the log")


@pytest.mark.task("1.3")
@given(p=distributions())
def test_cross_entropy_with_itself_is_entropy_and_bits_are_nats_over_ln2(mod, p):
    expect_close(mod.cross_entropy(p, p), float(mod.entropy(p)), f"cross_entropy(p, p) for p = {p}", rtol=1e-9)
    expect_close(mod.cross_entropy(p, p, base=2), float(mod.cross_entropy(p, p)) / LN2, "cross_entropy(p, p, base=2)", rtol=1e-9)


# --- the figure ---------------------------------------------------------------------


@pytest.mark.task("1.3")
def test_binary_curves_bottom_out_at_the_truth(mod):
    qs, curves = mod.binary_cross_entropy_curves()
    for p, curve in curves.items():
        curve = expect_shape(curve, qs.shape, f"the curve for p = {p}")
        lowest = qs[int(np.argmin(curve))]
        expect_true(abs(lowest - min(p, qs[-1])) < 0.01,
                    f"the cross-entropy curve for true p = {p} is lowest at q = {lowest:.3f}; it should be at q = p")


@pytest.mark.task("1.3")
@pytest.mark.mpl_image_compare(filename="module01_binary_cross_entropy.png")
def test_figure_binary_cross_entropy(mod):
    return mod.plot_binary_cross_entropy()
