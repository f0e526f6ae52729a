"""Module 2: KL divergence, MSE, the decomposition, logit gradients, maximum likelihood, error rate.

Expected values are hand-computed constants for p = [.2, .3, .5] (the COURSE table),
σ(-10) = 1 / (1 + e^10) = 4.5397869e-5, plain-Python oracles (math.log with the
lesson's conventions) for the properties, and torch autograd for the two training
loops (the categorical fit and the race), never the reference itself.
"""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from kata.given.data import two_blobs
from kata.testing.expect import (
    Call,
    expect_close,
    expect_number,
    expect_refusals,
    expect_shape,
    expect_true,
    without_warnings,
)
from kata.testing.strategies import extreme_distributions, extreme_pairs

MODULE = "module02_divergences"
LN2 = math.log(2)

P = [0.2, 0.3, 0.5]
Q1 = [0.1, 0.4, 0.5]
Q2 = [0.1, 0.1, 0.8]
H_P = 1.029653  # -Σ p ln p
CE_Q1, KL_Q1, KL_Q1_P = 1.081978, 0.052325, 0.045758  # H(p,q1), KL(p||q1), KL(q1||p)
CE_Q2, KL_Q2, KL_Q2_P = 1.262864, 0.233211, 0.196827
MSE_Q1, MSE_Q2 = 0.02 / 3, 0.14 / 3  # mean of [.01, .01, 0] and of [.01, .04, .09]
CLIPPED_CE = 13.815511  # .5 · -ln 1e-12: module 1's cross_entropy([.5, .5], [1, 0])
CLIPPED_KL = 13.122363  # .5 ln(.5 / 1e-12) + .5 ln(.5 / 1) = CLIPPED_CE - ln 2

SIGMA_M10 = 4.5397868702e-05  # σ(-10)
BCE_GRAD_M10 = SIGMA_M10 - 1.0  # -0.99995460 (COURSE: -0.99995)
MSE_GRAD_M10 = 2 * (SIGMA_M10 - 1.0) * SIGMA_M10 * (1 - SIGMA_M10)  # -9.0787494e-05 (COURSE: -9.08e-5)

LOGIT = st.one_of(st.sampled_from([-1000.0, -40.0, 0.0, 40.0, 1000.0]), st.floats(-1000, 1000), st.floats(-5, 5))


def oracle_kl(p, q):
    total = 0.0
    for pi, qi in zip(p, q):
        if pi > 0:
            total += math.inf if qi == 0 else pi * (math.log(pi) - math.log(qi))
    return total


def oracle_sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


# --- 2.1 kl_divergence ------------------------------------------------------------

SWAPPED = "that is KL(q || p): the arguments are swapped. KL(p || q) = Σ p log(p / q), weighted by the truth p"
UPSIDE_DOWN = "a negative KL means the ratio is upside down: it is log(p / q), not log(q / p)"
MASK_P = ("where p = 0 the term must add 0, but numpy computes 0·log(0/q) = 0·(-inf) = NaN: put 1 in place of p "
          "where p = 0 before the log, and zero those terms with np.where")
MASK_Q = ("where p = 0 and q = 0 together, the ratio still divides by that q = 0 (1/0 or 0/0): put 1 in place of q "
          "too where p = 0, not only of p")
HONEST_INF = ("where q = 0 < p, log(p / 0) = inf is the honest answer: compute inside np.errstate(divide='ignore') "
              "so that numpy does not warn")
CLIPPED = ("you clipped q at 1e-12 (or took module 1's clipped cross_entropy minus entropy), which turns KL's honest "
           "infinity into an arbitrary 13.1: where q = 0 < p, KL(p || q) is +inf. Do not clip")


def kl_mistakes(kl, swapped, n_classes=3):
    return [
        (swapped, SWAPPED),
        (-kl, UPSIDE_DOWN),
        (kl / n_classes, "you took the mean over the classes; KL sums p·log(p/q) over them"),
        (kl / LN2, "that is in bits: the KL is in nats here, natural logarithms"),
    ]


def kl(mod, p, q, why):
    call = f"kl_divergence({p}, {q})"
    return without_warnings(call, mod.kl_divergence, p, q, why=why), call


@pytest.mark.task("2.1")
def test_kl_of_the_table(mod):
    got, call = kl(mod, P, Q1, MASK_P)
    expect_close(got, KL_Q1, call, mistakes=kl_mistakes(KL_Q1, KL_Q1_P))
    got, call = kl(mod, P, Q2, MASK_P)
    expect_close(got, KL_Q2, call, mistakes=kl_mistakes(KL_Q2, KL_Q2_P))


@pytest.mark.task("2.1")
def test_kl_is_asymmetric(mod):
    got, call = kl(mod, Q1, P, MASK_P)
    expect_close(got, KL_Q1_P, call, mistakes=kl_mistakes(KL_Q1_P, KL_Q1))
    got, call = kl(mod, Q2, P, MASK_P)
    expect_close(got, KL_Q2_P, call, mistakes=kl_mistakes(KL_Q2_P, KL_Q2))


@pytest.mark.task("2.1")
def test_kl_counts_zero_probabilities_of_the_truth_as_zero(mod):
    got, call = kl(mod, [1.0, 0.0], [0.5, 0.5], MASK_P)
    expect_close(got, LN2, call, mistakes=[(np.nan, MASK_P)])


@pytest.mark.task("2.1")
def test_kl_with_zeros_in_the_same_places(mod):
    got, call = kl(mod, [1.0, 0.0], [1.0, 0.0], MASK_Q)
    expect_close(got, 0.0, call, atol=1e-12, mistakes=[(np.nan, MASK_Q)])
    got, call = kl(mod, [0.5, 0.5, 0.0], [0.25, 0.75, 0.0], MASK_Q)
    expect_close(got, 0.143841, call, mistakes=[(np.nan, MASK_Q)])  # .5 ln 2 + .5 ln(2/3)


@pytest.mark.task("2.1")
def test_kl_is_infinite_where_q_is_zero_but_p_is_not(mod):
    got, call = kl(mod, [0.5, 0.5], [1.0, 0.0], HONEST_INF)
    got = expect_number(got, call)
    expect_true(got != -np.inf, f"{call} returned -inf, expected inf: the ratio is upside down, KL = Σ p log(p/q), "
                "not log(q/p) (here .5·log(0/.5) = -inf where the honest answer is +inf)")
    expect_close(got, np.inf, call,
                 mistakes=[(LN2, SWAPPED + " (KL([1, 0] || [.5, .5]) = log 2 is finite; this one is not)"),
                           (CLIPPED_KL, CLIPPED)])


@pytest.mark.task("2.1")
def test_kl_with_zeros_in_different_places(mod):
    got, call = kl(mod, [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], HONEST_INF)
    expect_close(got, np.inf, call, mistakes=[(CLIPPED_KL, CLIPPED), (np.nan, MASK_Q)])
    got, call = kl(mod, [1.0, 0.0, 0.0], [0.5, 0.5, 0.0], MASK_Q)
    expect_close(got, LN2, call, mistakes=[(np.nan, MASK_Q)])


@pytest.mark.task("2.1")
def test_kl_gives_one_value_per_row(mod):
    got, call = kl(mod, P, np.array([Q1, Q2]), MASK_P)
    call = "kl_divergence(p, [q1, q2])"
    got = expect_shape(got, (2,), call,
                       diagnoses={(3,): "you reduced over axis 0 (the batch); reduce over axis=-1, the classes",
                                  (): "you summed over everything; sum over axis=-1 only, one KL per row"})
    expect_close(got, [KL_Q1, KL_Q2], call, mistakes=[([KL_Q1_P, KL_Q2_P], SWAPPED), ([-KL_Q1, -KL_Q2], UPSIDE_DOWN)])


@pytest.mark.task("2.1")
def test_kl_refuses_bad_distributions(mod):
    expect_refusals(mod.kl_divergence, works=Call(P, Q1), refuses=[
        (Call([0.5, 0.6], [0.5, 0.5]), "p sums to 1.1"),
        (Call(P, [0.5, 0.5]), "the class counts differ"),
    ])


@pytest.mark.task("2.1")
@given(pair=extreme_pairs())
def test_kl_reaches_the_extremes(mod, pair):
    p, q = pair
    got = float(without_warnings("kl_divergence(p, q)", mod.kl_divergence, p, q, why=MASK_Q))
    expect_close(got, oracle_kl(p, q), f"kl_divergence({p.tolist()}, {q.tolist()})", rtol=1e-9, atol=1e-10)
    expect_true(got >= -1e-12, f"kl_divergence(p, q) = {got:.6g} < 0 for p = {p.tolist()}, q = {q.tolist()}: KL is "
                "never negative (Gibbs' inequality). Is the ratio upside down, log(q/p) instead of log(p/q)?")


@pytest.mark.task("2.1")
@given(p=extreme_distributions())
def test_kl_of_a_distribution_with_itself_is_zero(mod, p):
    got = without_warnings("kl_divergence(p, p)", mod.kl_divergence, p, p, why=MASK_Q)
    expect_close(got, 0.0, f"kl_divergence(p, p) for p = {p.tolist()}", atol=1e-12, mistakes=[(np.nan, MASK_Q)])


@pytest.mark.task("2.1")
def test_figure_kl_curve_is_cross_entropy_minus_entropy(mod):
    qs, curves = mod.divergence_curves()
    kl_curve = expect_shape(curves["KL divergence"], qs.shape, "the KL divergence curve of the figure")
    expect_close(kl_curve, 0.8 * np.log(0.8 / qs) + 0.2 * np.log(0.2 / (1 - qs)),
                 "kl_divergence([.8, .2], [q, 1 - q]) along the figure's curve")
    lowest = qs[int(np.argmin(kl_curve))]
    expect_true(abs(lowest - 0.8) < 0.01, f"the KL curve is lowest at q = {lowest:.3f}; it should be at q = p = 0.8")


# --- 2.2 mse ----------------------------------------------------------------------------


SIGMOID_WHY = ("use the given sigmoid, which never overflows, and simplify the chain rule on paper before coding it: "
               "at large |z| σ(z) rounds to 0 or 1, so dividing by σ or by 1 − σ makes 0/0")


def mse_mistakes(expected, n_classes=3):
    expected = np.asarray(expected, dtype=float)
    return [
        (n_classes * expected, "that is the sum of the squared differences: take the mean over the classes"),
        (np.sqrt(expected), "that is the root of the MSE (RMSE): do not take the square root"),
        (expected * n_classes / (n_classes - 1), f"you divided by C - 1 = {n_classes - 1}; the mean divides by "
                                                 f"C = {n_classes}, the number of classes"),
        (expected / 2, "that is half the MSE: the ½ that some texts put in front of a squared loss is not part of "
                       "this mean"),
    ]


@pytest.mark.task("2.2")
def test_mse_of_the_table(mod):
    for q, expected, name in ((Q1, MSE_Q1, "[.1, .4, .5]"), (Q2, MSE_Q2, "[.1, .1, .8]")):
        mae = float(np.mean(np.abs(np.asarray(P) - np.asarray(q))))
        expect_close(mod.mse(P, q), expected, f"mse([.2, .3, .5], {name})", mistakes=mse_mistakes(expected) + [
            (mae, "that is the mean ABSOLUTE difference: the MSE squares each difference")])


@pytest.mark.task("2.2")
def test_mse_gives_one_value_per_row(mod):
    call = "mse(p, [q1, q2])"
    got = expect_shape(mod.mse(P, np.array([Q1, Q2])), (2,), call,
                       diagnoses={(3,): "you averaged over axis 0 (the batch); average over axis=-1, the classes",
                                  (): "you averaged over everything; average over axis=-1 only, one MSE per row"})
    expect_close(got, [MSE_Q1, MSE_Q2], call, mistakes=mse_mistakes([MSE_Q1, MSE_Q2]))


@pytest.mark.task("2.2")
def test_mse_is_bounded_where_kl_is_infinite(mod):
    expect_close(mod.mse([1.0, 0.0], [0.0, 1.0]), 1.0, "mse([1, 0], [0, 1])",
                 mistakes=mse_mistakes(1.0, n_classes=2))
    expect_close(mod.mse([1.0, 0.0, 0.0], [0.0, 0.0, 1.0]), 2 / 3, "mse([1, 0, 0], [0, 0, 1])",
                 mistakes=mse_mistakes(2 / 3))


@pytest.mark.task("2.2")
@given(pair=extreme_pairs())
def test_mse_reaches_the_extremes_and_never_exceeds_2_over_c(mod, pair):
    p, q = pair
    got = expect_number(mod.mse(p, q), "mse(p, q)")
    expect_close(got, sum((pi - qi) ** 2 for pi, qi in zip(p, q)) / len(p), f"mse({p.tolist()}, {q.tolist()})",
                 rtol=1e-9, atol=1e-15)
    expect_true(got <= 2 / len(p) + 1e-12, f"mse(p, q) = {got:.6g} > 2/C for p = {p.tolist()}, q = {q.tolist()}: "
                "the mean over C classes of (p - q)^2 never exceeds 2/C for two distributions")


@pytest.mark.task("2.2")
def test_mse_refuses_bad_distributions(mod):
    expect_refusals(mod.mse, works=Call(P, Q1), refuses=[
        (Call(P, [1.2, -0.1, -0.1]), "q has negative entries"),
    ])


@pytest.mark.task("2.2")
def test_figure_mse_curve_is_bounded(mod):
    qs, curves = mod.divergence_curves()
    squared = expect_shape(curves["MSE"], qs.shape, "the MSE curve of the figure")
    expect_close(squared, (0.8 - qs) ** 2, "mse([.8, .2], [q, 1 - q]) along the figure's curve")
    lowest = qs[int(np.argmin(squared))]
    expect_true(abs(lowest - 0.8) < 0.01, f"the MSE curve is lowest at q = {lowest:.3f}; it should be at q = p = 0.8")
    expect_true(squared.max() <= 0.64, f"the MSE curve reaches {squared.max():.3f}; it is bounded by 0.8^2 = 0.64")


# --- 2.3 decomposition -------------------------------------------------------------------

KL_AS_DIFFERENCE = ("you computed KL as H(p, q) - H(p) with module 1's clipped cross-entropy: where q = 0 < p that "
                    "gives 13.1, but KL is +inf. Return your kl_divergence(p, q)")


def decompose(mod, p, q, name):
    got = without_warnings(f"decomposition({name})", mod.decomposition, p, q, why=MASK_P)
    expect_true(isinstance(got, tuple) and len(got) == 3,
                f"decomposition({name}) returned {type(got).__name__} {got!r}: expected a tuple of three, "
                "(cross-entropy, entropy, KL)")
    return got


@pytest.mark.task("2.3")
def test_decomposition_of_the_table(mod):
    for q, ce, kl_value, name in ((Q1, CE_Q1, KL_Q1, "q1"), (Q2, CE_Q2, KL_Q2, "q2")):
        got_ce, got_h, got_kl = decompose(mod, P, q, f"p, {name}")
        expect_close(got_ce, ce, f"decomposition(p, {name})[0], the cross-entropy H(p, {name})",
                     mistakes=[(-ce, "that is Σ p log q, the often-copied version without its minus sign: H(p, q) = -Σ p log q"),
                               (H_P, "that is H(p): the tuple's order is (cross-entropy, entropy, KL)"),
                               (kl_value, "that is the KL: the tuple's order is (cross-entropy, entropy, KL)")])
        expect_close(got_h, H_P, f"decomposition(p, {name})[1], the entropy H(p)",
                     mistakes=[(-H_P, "a negative entropy: the minus sign is missing, H(p) = -Σ p log p"),
                               (ce, "that is the cross-entropy: the tuple's order is (cross-entropy, entropy, KL)")])
        expect_close(got_kl, kl_value, f"decomposition(p, {name})[2], KL(p || {name})",
                     mistakes=[(KL_Q1_P if name == "q1" else KL_Q2_P, SWAPPED),
                               (-kl_value, "a negative KL: you returned H(p) - H(p, q) instead of H(p, q) - H(p) >= 0. "
                                           "Return your kl_divergence(p, q)")])


@pytest.mark.task("2.3")
def test_the_identity_fails_where_module_1_clips(mod):
    got_ce, got_h, got_kl = decompose(mod, [0.5, 0.5], [1.0, 0.0], "[.5, .5], [1, 0]")
    expect_close(got_ce, CLIPPED_CE, "decomposition([.5, .5], [1, 0])[0], module 1's clipped cross-entropy",
                 rtol=1e-6)
    expect_close(got_h, LN2, "decomposition([.5, .5], [1, 0])[1], the entropy H(p)")
    expect_close(got_kl, np.inf, "decomposition([.5, .5], [1, 0])[2], KL(p || q) with q = 0 < p",
                 mistakes=[(CLIPPED_KL, KL_AS_DIFFERENCE)])


@pytest.mark.task("2.3")
@given(pair=extreme_pairs())
def test_cross_entropy_is_entropy_plus_kl_where_nothing_is_clipped(mod, pair):
    p, q = pair
    ce, h, kl_value = (float(v) for v in decompose(mod, p, q, "p, q"))
    where = f"for p = {p.tolist()}, q = {q.tolist()}"
    if all(qi >= 1e-12 for pi, qi in zip(p, q) if pi > 0):
        expect_close(ce, h + kl_value, f"H(p, q) against H(p) + KL(p || q) {where}", rtol=1e-9, atol=1e-11)
    else:  # clipping raised some q where p > 0, which can only lower the cross-entropy
        expect_true(ce <= (h + kl_value) * (1 + 1e-12) + 1e-15, f"the clipped H(p, q) = {ce:.6g} exceeds H(p) + KL = {h + kl_value:.6g} {where}")
    expect_true(ce >= h - 1e-9, f"H(p, q) = {ce:.6f} < H(p) = {h:.6f} {where}: cross-entropy is never below the entropy")


# --- 2.4 divergences_torch -----------------------------------------------------------------


def divergences(mod, p, q, name):
    got = mod.divergences_torch(p, q)
    expect_true(isinstance(got, tuple) and len(got) == 3,
                f"divergences_torch({name}) returned {type(got).__name__}: expected a tuple of three floats")
    for value in got:
        expect_true(isinstance(value, float), f"divergences_torch({name}) returned a {type(value).__name__} "
                    "in its tuple: turn each tensor into a Python float with .item()")
    return got


@pytest.mark.task("2.4")
def test_the_same_numbers_in_torch(mod):
    for q, ce, kl_value, kl_swapped, name in ((Q1, CE_Q1, KL_Q1, KL_Q1_P, "q1"), (Q2, CE_Q2, KL_Q2, KL_Q2_P, "q2")):
        got_ce, got_h, got_kl = divergences(mod, P, q, f"p, {name}")
        expect_close(got_ce, ce, f"divergences_torch(p, {name})[0], H(p, {name})",
                     mistakes=[(-ce, "that is torch.sum(p * torch.log(q)) without its minus sign")])
        expect_close(got_h, H_P, f"divergences_torch(p, {name})[1], H(p)",
                     mistakes=[(-H_P, "that is torch.sum(p * torch.log(p)) without its minus sign: entr(x) = -x log x has the "
                                      "minus sign built in, torch.log does not")])
        no_log = sum(pi * math.log(pi) - pi * qi for pi, qi in zip(P, q))
        expect_close(got_kl, kl_value, f"divergences_torch(p, {name})[2], KL(p || {name})",
                     mistakes=[(kl_swapped, "that is KL(q || p): F.kl_div(input, target) takes the LOG of the "
                                            "prediction q as input and the truth p as target"),
                               (kl_value / 3, "that is KL divided by the 3 classes: kl_div's default reduction='mean' "
                                              "(and 'batchmean' on a 1-D tensor) divides by the number of elements; "
                                              "sum instead"),
                               (no_log, "F.kl_div's first argument must be the log of the prediction, not q itself")])


@pytest.mark.task("2.4")
def test_torch_with_zeros(mod):
    got_ce, got_h, got_kl = divergences(mod, [1.0, 0.0], [0.5, 0.5], "[1, 0], [.5, .5]")
    expect_close(got_ce, LN2, "divergences_torch([1, 0], [.5, .5])[0], H(p, q)")
    expect_close(got_h, 0.0, "divergences_torch([1, 0], [.5, .5])[1], H(p)", atol=1e-12,
                 mistakes=[(np.nan, "NaN is 0·log 0 = 0·(-inf) in torch: where p = 0 the entropy's term must be 0 "
                                    "(torch.special has -x log x with that convention)")])
    expect_close(got_kl, LN2, "divergences_torch([1, 0], [.5, .5])[2], KL(p || q)",
                 mistakes=[(np.inf, "that is KL(q || p): F.kl_div takes the log of the prediction q first and the "
                                    "truth p second")])
    got_ce, got_h, got_kl = divergences(mod, [0.5, 0.5], [1.0, 0.0], "[.5, .5], [1, 0]")
    clamped = "you clamped q: torch.log(0) = -inf is the honest answer here, and the loss is +inf where q = 0 < p"
    expect_close(got_ce, np.inf, "divergences_torch([.5, .5], [1, 0])[0], H(p, q) with q = 0 < p",
                 mistakes=[(CLIPPED_CE, clamped)])
    expect_close(got_h, LN2, "divergences_torch([.5, .5], [1, 0])[1], H(p)")
    expect_close(got_kl, np.inf, "divergences_torch([.5, .5], [1, 0])[2], KL(p || q) with q = 0 < p",
                 mistakes=[(CLIPPED_KL, clamped)])
    got_ce, got_h, got_kl = divergences(mod, [0.5, 0.5, 0.0], [0.5, 0.5, 0.0], "[.5, .5, 0], [.5, .5, 0]")
    absent = ("NaN where p = q = 0: p·log q there is 0·(-inf), and F.kl_div makes the same NaN. A class with p = 0 "
              "adds nothing (as in 2.1): keep its log q out of both sums")
    expect_close(got_ce, LN2, "divergences_torch([.5, .5, 0], [.5, .5, 0])[0], H(p, q)", mistakes=[(np.nan, absent)])
    expect_close(got_kl, 0.0, "divergences_torch([.5, .5, 0], [.5, .5, 0])[2], KL(p || p)", atol=1e-12,
                 mistakes=[(np.nan, absent)])


@pytest.mark.task("2.4")
def test_torch_refuses_a_batch(mod):
    expect_refusals(mod.divergences_torch, works=Call(P, Q1), refuses=[
        (Call([P, P], [Q1, Q2], shown="divergences_torch(2 rows, 2 rows)"), "it takes one distribution each, shape (C,)"),
    ])


# --- 2.5 and 2.6: the gradients w.r.t. the logit -----------------------------------------


@pytest.mark.task("2.5")
def test_bce_gradient_at_a_confidently_wrong_logit(mod):
    expect_close(mod.bce_logit_gradient(-10.0, 1.0), BCE_GRAD_M10, "bce_logit_gradient(z=-10, y=1)",
                 mistakes=[(-BCE_GRAD_M10, "the sign is flipped: the gradient is negative when the prediction is too "
                                           "low, so that gradient descent raises z"),
                           (SIGMA_M10, "that is σ(z) alone: the label y is missing from the gradient"),
                           (BCE_GRAD_M10 / (SIGMA_M10 * (1 - SIGMA_M10)),
                            "that is dL/dσ, the derivative with respect to the prediction: multiply by σ'(z) = σ(1 - σ) "
                            "to get dL/dz")])
    expect_close(mod.bce_logit_gradient(0.0, 1.0), -0.5, "bce_logit_gradient(z=0, y=1)")
    expect_close(mod.bce_logit_gradient(2.0, 0.0), 0.880797, "bce_logit_gradient(z=2, y=0)")  # σ(2)
    expect_close(mod.bce_logit_gradient(0.0, 0.3), 0.2, "bce_logit_gradient(z=0, y=0.3)")


@pytest.mark.task("2.5")
def test_bce_gradient_is_elementwise(mod):
    call = "bce_logit_gradient([-10, 0, 2], [1, 1, 0])"
    got = expect_shape(mod.bce_logit_gradient(np.array([-10.0, 0.0, 2.0]), np.array([1.0, 1.0, 0.0])), (3,), call)
    expect_close(got, [BCE_GRAD_M10, -0.5, 0.880797], call)
    expect_refusals(mod.bce_logit_gradient, works=Call(0.0, 1.0), refuses=[
        (Call(0.0, 2.0), "a label is a probability in [0, 1]"),
    ])


@pytest.mark.task("2.5")
@given(z=LOGIT, y=st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0, 1)))
def test_bce_gradient_reaches_the_extremes(mod, z, y):
    got = float(without_warnings(f"bce_logit_gradient({z!r}, {y!r})", mod.bce_logit_gradient, z, y,
                                 why=SIGMOID_WHY))
    expect_close(got, oracle_sigmoid(z) - y, f"bce_logit_gradient(z={z!r}, y={y!r})", rtol=1e-9, atol=1e-12)


def mse_gradient_mistakes(expected, sigma, y):
    return [
        (2 * (sigma - y), "the chain-rule factor σ'(z) = σ(1 - σ) is missing: that is d/dσ, not d/dz"),
        (expected / 2, "the factor 2 from the square is missing"),
        (-expected, "the sign is flipped: the gradient is negative when σ < y"),
        (sigma - y, "that is the BCE gradient; squared error keeps the chain-rule factor σ'(z) that BCE's log cancels"),
        (2 * (sigma - y) * sigma, "the factor (1 - σ) of σ'(z) = σ(1 - σ) is missing"),
        (2 * (sigma - y) * (1 - sigma), "the factor σ of σ'(z) = σ(1 - σ) is missing"),
    ]


@pytest.mark.task("2.6")
def test_mse_gradient_values_that_tell_the_mistakes_apart(mod):
    sigma = 0.8175744762  # σ(1.5): every mistake below gives its own number here
    expect_close(mod.mse_logit_gradient(1.5, 0.0), 0.243877, "mse_logit_gradient(z=1.5, y=0)",
                 mistakes=mse_gradient_mistakes(0.2438766649, sigma, 0.0))
    expect_close(mod.mse_logit_gradient(-10.0, 1.0), MSE_GRAD_M10, "mse_logit_gradient(z=-10, y=1)",
                 mistakes=mse_gradient_mistakes(MSE_GRAD_M10, SIGMA_M10, 1.0))
    # At z = 0, σ = 1/2: a missing (1 - σ) and the BCE gradient both give -0.5, so neither is named here.
    expect_close(mod.mse_logit_gradient(0.0, 1.0), -0.25, "mse_logit_gradient(z=0, y=1)",
                 mistakes=mse_gradient_mistakes(-0.25, 0.5, 1.0))


@pytest.mark.task("2.6")
def test_ce_pulls_harder_than_mse_when_confidently_wrong(mod):
    bce, squared = float(mod.bce_logit_gradient(-10.0, 1.0)), float(mod.mse_logit_gradient(-10.0, 1.0))
    expect_close(bce, -0.99995, "bce_logit_gradient(z=-10, y=1) (to 5 digits)", rtol=1e-5)
    expect_close(squared, -9.08e-5, "mse_logit_gradient(z=-10, y=1) (to 3 digits)", rtol=1e-3)
    ratio = bce / squared
    expect_close(ratio, BCE_GRAD_M10 / MSE_GRAD_M10, "bce / mse gradient at z = -10, y = 1 (about 11,000)", rtol=1e-4)
    # Confident and right (z = 10, y = 1): σ(1 - σ) is just as small, and now that is harmless.
    expect_close(mod.mse_logit_gradient(10.0, 1.0), -4.121746e-09, "mse_logit_gradient(z=10, y=1)", rtol=1e-5)
    expect_close(mod.bce_logit_gradient(10.0, 1.0), -SIGMA_M10, "bce_logit_gradient(z=10, y=1)", rtol=1e-5)


@pytest.mark.task("2.6")
@given(z=LOGIT, y=st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0, 1)))
def test_mse_gradient_reaches_the_extremes_and_is_at_most_half_the_bce_gradient(mod, z, y):
    squared = float(without_warnings(f"mse_logit_gradient({z!r}, {y!r})", mod.mse_logit_gradient, z, y,
                                     why=SIGMOID_WHY))
    s = oracle_sigmoid(z)
    expect_close(squared, 2 * (s - y) * s * (1 - s), f"mse_logit_gradient(z={z!r}, y={y!r})", rtol=1e-9, atol=1e-15)
    expect_true(abs(squared) <= abs(s - y) / 2 + 1e-15,
                f"at z = {z}, y = {y}: |MSE gradient| = {abs(squared):.6g} > |BCE gradient| / 2 = {abs(s - y) / 2:.6g}; "
                "since σ(1 - σ) <= 1/4, the MSE gradient is at most half of BCE's")


# --- the training race (given loop, driven by 2.5 and 2.6) ----------------------------------------

RACE_LR, RACE_EPOCHS, RACE_BIAS = 0.1, 200, -5.0


def torch_race(loss_name):
    """Independent oracle: the same saturated start trained by torch autograd on the loss itself."""
    X, y = two_blobs()
    X, y = torch.tensor(X, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(RACE_BIAS, dtype=torch.float64, requires_grad=True)
    history = {"accuracy": [], "BCE": [], "MSE": []}
    for epoch in range(RACE_EPOCHS + 1):
        z = X @ w + b
        bce = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
        squared = ((torch.sigmoid(z) - y) ** 2).mean()
        history["accuracy"].append(((z >= 0).double() == y).double().mean().item())
        history["BCE"].append(bce.item())
        history["MSE"].append(squared.item())
        if epoch == RACE_EPOCHS:
            break
        grad_w, grad_b = torch.autograd.grad(bce if loss_name == "BCE" else squared, (w, b))
        with torch.no_grad():
            w -= RACE_LR * grad_w
            b -= RACE_LR * grad_b
    return {name: np.array(values) for name, values in history.items()}


@pytest.fixture(scope="module")
def oracle_race():
    return {"BCE": torch_race("BCE"), "MSE on sigmoid": torch_race("MSE")}


def expect_run(got, expected, name):
    expect_true(isinstance(got, dict) and set(expected) <= set(got),
                f"training_race()[{name!r}] should be a dict with keys {sorted(expected)}")
    for key in ("BCE", "MSE", "accuracy"):
        expect_close(got[key], expected[key], f"training_race()[{name!r}][{key!r}], epochs 0..{RACE_EPOCHS}",
                     rtol=1e-7, atol=1e-10)


@pytest.mark.task("2.5")
def test_race_with_bce(mod, oracle_race):
    race = mod.training_race()
    expect_run(race["BCE"], oracle_race["BCE"], "BCE")


@pytest.mark.task("2.6")
def test_race_with_mse(mod, oracle_race):
    race = mod.training_race()
    expect_run(race["MSE on sigmoid"], oracle_race["MSE on sigmoid"], "MSE on sigmoid")


@pytest.mark.task("2.6")
def test_bce_wins_the_race(mod, oracle_race):
    race = mod.training_race()
    bce, squared = race["BCE"]["accuracy"][50], race["MSE on sigmoid"]["accuracy"][50]
    expect_close([bce, squared], [oracle_race["BCE"]["accuracy"][50], oracle_race["MSE on sigmoid"]["accuracy"][50]],
                 "training accuracy after 50 epochs, [BCE, MSE]")
    expect_close([bce, squared], [0.965, 0.5], "training accuracy after 50 epochs, [BCE, MSE] (the lesson's numbers)")
    first = [int(np.argmax(race[name]["accuracy"] >= 0.9)) for name in ("BCE", "MSE on sigmoid")]
    expect_close(first, [24, 189], "the first epoch at 90% training accuracy, [BCE, MSE] (the lesson's numbers)")
    expect_close(race["MSE on sigmoid"]["accuracy"][[100, 200]], [0.5, 0.935],
                 "MSE's training accuracy after 100 and 200 epochs (the lesson's numbers)")
    expect_close(int(np.argmax(race["MSE on sigmoid"]["accuracy"] >= 0.935)), 198,
                 "the first epoch at which MSE reaches 0.935 (the lesson's number)")
    expect_true(bce > squared + 0.4, f"after 50 epochs BCE's accuracy is {bce:.3f} and MSE's {squared:.3f}: from a "
                "saturated start BCE should be far ahead")
    own = [race["BCE"]["BCE"][50] / race["BCE"]["BCE"][0],
           race["MSE on sigmoid"]["MSE"][50] / race["MSE on sigmoid"]["MSE"][0]]
    expect_true(own[0] < 0.05 < 0.99 < own[1], f"after 50 epochs BCE keeps {own[0]:.3f} of its starting loss and MSE "
                f"{own[1]:.3f}: BCE should have shed over 95%, MSE under 1%")


# --- the figures of 2.5 and 2.6 ---------------------------------------------------------------


@pytest.mark.task("2.5")
def test_figure_bce_gradient_curve(mod):
    zs, gradients = mod.logit_gradient_curves()
    curve = expect_shape(gradients["BCE"], zs.shape, "the BCE gradient curve of the figure")
    expect_close(curve[-1], BCE_GRAD_M10, "the BCE gradient at the end of the figure (z = -10)")
    expect_close(curve, 1 / (1 + np.exp(-zs)) - 1, "bce_logit_gradient(z, 1) along the figure's curve")


@pytest.mark.task("2.6")
def test_figure_mse_gradient_curve(mod):
    zs, gradients = mod.logit_gradient_curves()
    curve = expect_shape(gradients["MSE on sigmoid"], zs.shape, "the MSE gradient curve of the figure")
    expect_close(curve[-1], MSE_GRAD_M10, "the MSE gradient at the end of the figure (z = -10)")
    s = 1 / (1 + np.exp(-zs))
    expect_close(curve, 2 * (s - 1) * s * (1 - s), "mse_logit_gradient(z, 1) along the figure's curve")


@pytest.mark.task("2.6")
@pytest.mark.mpl_image_compare(filename="module02_ce_kl_mse.png")
def test_figure_ce_kl_mse(mod):
    return mod.plot_ce_kl_mse()


@pytest.mark.task("2.6")
@pytest.mark.mpl_image_compare(filename="module02_training_race.png")
def test_figure_training_race(mod):
    return mod.plot_training_race()


# --- 2.7 fit_categorical: maximum likelihood by gradient descent ---------------------------------

COUNTS = [2, 3, 5]  # frequencies [.2, .3, .5], the table's p
FREQUENCIES = [0.2, 0.3, 0.5]
TWO_ROWS = [[2, 3, 5], [6, 1, 1]]


def torch_fit(counts, lr=1.0, steps=200):
    """Independent oracle: gradient descent with autograd on each row's mean negative log-likelihood."""
    counts = torch.tensor(counts, dtype=torch.float64)
    z = torch.zeros_like(counts, requires_grad=True)
    for _ in range(steps):
        nll = -(counts * torch.log_softmax(z, dim=-1)).sum(-1) / counts.sum(-1)
        (grad,) = torch.autograd.grad(nll.sum(), z)  # a sum over rows: each row gets its own gradient
        with torch.no_grad():
            z -= lr * grad
    return torch.softmax(z, dim=-1).detach().numpy()


def np_softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def fit_mistake(counts, lr, steps, *, ascent=False, no_softmax=False, summed=False, freq_axis=-1, softmax_axis=-1,
                return_logits=False):
    """The value a mistaken fit returns, along the path the TODO prescribes with one thing wrong."""
    counts = np.asarray(counts, dtype=float)
    frequencies = counts / counts.sum(axis=freq_axis, keepdims=True)
    z = np.zeros_like(counts)
    for _ in range(steps):
        grad = (z if no_softmax else np_softmax(z, softmax_axis)) - frequencies
        if summed:
            grad = grad * counts.sum(axis=-1, keepdims=True)
        z = z + lr * grad if ascent else z - lr * grad
    return z if return_logits else np_softmax(z)


def fit_mistakes(counts, lr, steps):
    wrong_axis = "you normalised over axis 0: each row is its own data set, so its frequencies and its softmax run over the last axis"
    return [
        (fit_mistake(counts, lr, steps, ascent=True), "the step went uphill (gradient ascent): the sign of the update "
                                                      "or of the gradient is flipped, z <- z - lr·gradient"),
        (fit_mistake(counts, lr, steps, no_softmax=True), "the logits were compared with the frequencies as if they "
                                                          "were probabilities: the gradient compares softmax(z), the "
                                                          "model's probabilities, with the frequencies"),
        (fit_mistake(counts, lr, steps, summed=True), "that is the gradient of the SUMMED cross-entropy, N times the "
                                                      "mean's: the contract asks for the mean over the observations"),
        (fit_mistake(counts, lr, steps, return_logits=True), "those are the logits z: return softmax(z), the fitted "
                                                             "probabilities"),
        (fit_mistake(counts, lr, steps, freq_axis=0), wrong_axis),
        (fit_mistake(counts, lr, steps, softmax_axis=0), wrong_axis),
        (fit_mistake(counts, lr, steps + 1), f"that is {steps + 1} steps: take exactly steps = {steps}"),
        (fit_mistake(counts, lr, steps - 1), f"that is {steps - 1} steps: take exactly steps = {steps}"),
        (np.asarray(counts) / np.sum(counts, axis=-1, keepdims=True),
         "those are the frequencies themselves, where gradient descent ends, not where these few steps get"),
    ]


@pytest.mark.task("2.7")
def test_fit_takes_the_prescribed_steps(mod):
    for steps in (2, 3):  # lr = 0.5: with lr = 1 a fit that forgets the softmax lands on the 1-step answer
        call = f"fit_categorical([2, 3, 5], lr=0.5, steps={steps})"
        got = without_warnings(call, mod.fit_categorical, COUNTS, lr=0.5, steps=steps, why="keep the softmax stable")
        expect_close(got, torch_fit(COUNTS, 0.5, steps), call, rtol=1e-9, atol=1e-12,
                     mistakes=fit_mistakes(COUNTS, 0.5, steps))
    expect_close(mod.fit_categorical(COUNTS, lr=1.0, steps=2), [0.260999, 0.309228, 0.429773],
                 "fit_categorical([2, 3, 5], lr=1.0, steps=2) (the TODO's check value)")


@pytest.mark.task("2.7")
def test_fit_treats_each_row_as_its_own_data_set(mod):
    call = "fit_categorical([[2, 3, 5], [6, 1, 1]], lr=0.5, steps=3)"
    got = expect_shape(mod.fit_categorical(TWO_ROWS, lr=0.5, steps=3), (2, 3), call)
    expect_close(got, torch_fit(TWO_ROWS, 0.5, 3), call, rtol=1e-9, atol=1e-12, mistakes=fit_mistakes(TWO_ROWS, 0.5, 3))


@pytest.mark.task("2.7")
def test_fit_recovers_the_empirical_frequencies(mod):
    fitted = mod.fit_categorical(COUNTS)
    expect_close(fitted, FREQUENCIES, "fit_categorical([2, 3, 5]) with the default lr = 1, 200 steps", rtol=1e-6,
                 atol=1e-9)
    nll = -sum(f * math.log(q) for f, q in zip(FREQUENCIES, fitted))
    expect_close(nll, H_P, "the mean negative log-likelihood of the ten observations at the fit, H(f) = H(p)")
    expect_close(mod.fit_categorical(TWO_ROWS, steps=400), [FREQUENCIES, [0.75, 0.125, 0.125]],
                 "fit_categorical([[2, 3, 5], [6, 1, 1]], steps=400)", rtol=1e-6, atol=1e-9)


@pytest.mark.task("2.7")
def test_an_unseen_class_only_approaches_zero(mod):
    short, long = mod.fit_categorical([3, 1, 0]), mod.fit_categorical([3, 1, 0], steps=400)
    expect_close(short, torch_fit([3, 1, 0], 1.0, 200), "fit_categorical([3, 1, 0])", rtol=1e-9, atol=1e-12)
    expect_close(short, [0.74835304, 0.24833039, 0.00331657], "fit_categorical([3, 1, 0])", rtol=1e-6)
    expect_true(0 < long[2] < short[2] / 1.9, f"the never-seen class has q = {short[2]:.4g} after 200 steps and "
                f"{long[2]:.4g} after 400: its logit heads for -inf, so q halves as the steps double, never reaching 0")


@pytest.mark.task("2.7")
@settings(max_examples=25)
@given(counts=st.lists(st.integers(0, 30), min_size=2, max_size=5).filter(lambda c: sum(c) > 0),
       lr=st.sampled_from([0.1, 1.0, 3.0]), steps=st.integers(0, 6))
def test_fit_matches_autograd_on_any_counts(mod, counts, lr, steps):
    call = f"fit_categorical({counts}, lr={lr}, steps={steps})"
    got = without_warnings(call, mod.fit_categorical, counts, lr=lr, steps=steps, why="keep the softmax stable")
    expect_close(got, torch_fit(counts, lr, steps), call, rtol=1e-9, atol=1e-12)


@pytest.mark.task("2.7")
def test_fit_refuses_what_is_not_counts(mod):
    expect_refusals(mod.fit_categorical, works=Call(COUNTS, steps=1), refuses=[
        (Call([2, -1, 5]), "a count cannot be negative"),
        (Call([[2, 3, 5], [0, 0, 0]]), "the second row holds no observation"),
        (Call([2, np.nan, 5]), "NaN is not a count"),
        (Call(3), "a single number is not a table of counts"),
        (Call(COUNTS, lr=0.0), "a learning rate of 0 learns nothing"),
        (Call(COUNTS, steps=-1), "steps cannot be negative"),
        (Call(COUNTS, steps=2.5), "steps is a whole number"),
    ])


# --- 2.8 error_rate, and the bound mean CE (bits) >= error rate --------------------------------

# Rows' argmax: 0 (right), 3 (wrong), 2 (right, with q_y = .4 < 1/2), 3 (right): error rate 1/4.
ER_TARGETS = [0, 1, 2, 3]
ER_Q = [[0.7, 0.1, 0.1, 0.1], [0.1, 0.2, 0.1, 0.6], [0.3, 0.1, 0.4, 0.2], [0.1, 0.1, 0.1, 0.7]]
THRESHOLD = ("you counted a row wrong when q_y < 1/2 (or <= 1/2): the prediction is the argmax, and a class with "
             "q = 0.4 can still be the largest")
TIES = "a tie goes to the lowest class index (np.argmax's rule)"


@pytest.mark.task("2.8")
def test_error_rate_of_an_argmax_classifier(mod):
    call = "error_rate([0, 1, 2, 3], four rows)"
    expect_close(mod.error_rate(ER_TARGETS, ER_Q), 0.25, call, mistakes=[
        (0.75, "that is the accuracy, the fraction right: the error rate is the fraction wrong"),
        (1.0, "that is the count of wrong rows: divide by N for the fraction"),
        (25.0, "that is a percentage: return the fraction in [0, 1]"),
        (0.0, "you took the argmax over axis 0 (down the examples): the prediction is the argmax of each row, over "
              "the classes"),
        (0.5, THRESHOLD),
    ])
    call = "error_rate([0, 1, 0], three rows of [.5, .5])"
    expect_close(mod.error_rate([0, 1, 0], [[0.5, 0.5]] * 3), 1 / 3, call, mistakes=[
        (0.0, TIES + ": [.5, .5] predicts class 0, so the row with target 1 is wrong"),
        (2 / 3, TIES + ", not the highest"),
        (1.0, THRESHOLD),
    ])


@pytest.mark.task("2.8")
def test_a_tie_at_one_half_makes_the_bound_tight(mod):
    got = expect_number(mod.error_rate([1], [[0.5, 0.5]]), "error_rate([1], [[.5, .5]])")
    expect_close(got, 1.0, "error_rate([1], [[.5, .5]])", mistakes=[(0.0, TIES)])
    # -log2(1/2) = 1 bit: mean CE in bits equals the error rate here.
    expect_close(mod.error_rate([0, 1], [[0.5, 0.5], [0.5, 0.5]]), 0.5, "error_rate([0, 1], two rows of [.5, .5])")


@st.composite
def predictions_with_ties(draw):
    """Targets and rows of q from small whole-number weights: ties, exact halves and zeros are common."""
    n, c = draw(st.integers(1, 6)), draw(st.integers(2, 5))
    weights = np.array(draw(st.lists(st.lists(st.integers(0, 3), min_size=c, max_size=c), min_size=n, max_size=n)),
                       dtype=float)
    weights[weights.sum(axis=1) == 0, draw(st.integers(0, c - 1))] = 1.0
    targets = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    return targets, weights / weights.sum(axis=1, keepdims=True)


@pytest.mark.task("2.8")
@given(case=predictions_with_ties())
def test_mean_cross_entropy_in_bits_bounds_the_error_rate(mod, case):
    targets, q = case
    got = expect_number(mod.error_rate(targets, q), "error_rate(targets, q)")
    wrong = [int(np.argmax(row)) != t for row, t in zip(q, targets)]  # np.argmax: the first of the largest
    expect_close(got, sum(wrong) / len(wrong), f"error_rate({targets.tolist()}, {q.round(4).tolist()})")
    bits = [math.inf if row[t] == 0 else -math.log2(row[t]) for row, t in zip(q, targets)]
    mean_bits = sum(bits) / len(bits)
    expect_true(got <= mean_bits + 1e-12, f"error rate {got:.4f} > mean cross-entropy {mean_bits:.4f} bits for "
                f"targets {targets.tolist()}: a wrong argmax has q_y <= 1/2, so each error costs at least 1 bit")


@pytest.mark.task("2.8")
def test_error_rate_refuses_bad_input(mod):
    expect_refusals(mod.error_rate, works=Call(ER_TARGETS, ER_Q), refuses=[
        (Call([0.0, 1.0, 2.0, 3.0], ER_Q), "targets are class indices (integers)"),
        (Call([0, 1], ER_Q), "there are 4 rows but 2 targets"),
        (Call([0, 1, 2, 4], ER_Q), "class 4 does not exist"),
        (Call([0], [0.5, 0.5]), "q must be (N, C)"),
        (Call([0], [[0.5, 0.6]]), "a row of q sums to 1.1"),
    ])
