"""Module 2: KL divergence, MSE, the decomposition H(p, q) = H(p) + KL(p||q), logit gradients.

Expected values are hand-computed constants for p = [.2, .3, .5] (the COURSE table)
and σ(-10) = 1 / (1 + e^10) = 4.5397869e-5, never the reference itself.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kata.testing.expect import expect_close, expect_number, expect_raises, expect_shape, expect_true, without_warnings
from kata.testing.strategies import distribution_pairs, distributions

MODULE = "module02_divergences"

P = [0.2, 0.3, 0.5]
Q1 = [0.1, 0.4, 0.5]
Q2 = [0.1, 0.1, 0.8]
H_P = 1.029653  # -Σ p ln p
CE_Q1, KL_Q1, KL_Q1_P = 1.081978, 0.052325, 0.045758  # H(p,q1), KL(p||q1), KL(q1||p)
CE_Q2, KL_Q2, KL_Q2_P = 1.262864, 0.233211, 0.196827
MSE_Q1, MSE_Q2 = 0.02 / 3, 0.14 / 3  # mean of [.01, .01, 0] and of [.01, .04, .09]
CLIPPED_KL = 13.122363  # .5 ln(.5 / 1e-12) + .5 ln(.5 / 1): KL([.5,.5] || [1,0]) with q clipped at 1e-12

SIGMA_M10 = 4.5397868702e-05  # σ(-10)
BCE_GRAD_M10 = SIGMA_M10 - 1.0  # -0.99995460 (COURSE: -0.99995)
MSE_GRAD_M10 = 2 * (SIGMA_M10 - 1.0) * SIGMA_M10 * (1 - SIGMA_M10)  # -9.0787494e-05 (COURSE: -9.08e-5)


LOG_ZERO = ("a log of 0 or a 0·inf is being computed. Mask the p = 0 terms with np.where and compute "
            "inside np.errstate(divide='ignore')")


def quietly(call, function, *args, **kwargs):
    return without_warnings(call, function, *args, why=LOG_ZERO, **kwargs)


SWAPPED = "that is KL(q || p): the arguments are swapped. KL(p || q) = Σ p log(p / q), weighted by the truth p"
UPSIDE_DOWN = "a negative KL means the ratio is upside down: it is log(p / q), not log(q / p)"


def kl_mistakes(kl, swapped, n_classes=3):
    return [
        (swapped, SWAPPED),
        (-kl, UPSIDE_DOWN),
        (kl / n_classes, "you took the mean over the classes; KL sums p·log(p/q) over them"),
    ]


# --- 2.1 kl_divergence ------------------------------------------------------------


@pytest.mark.task("2.1")
def test_kl_of_the_table(mod):
    expect_close(quietly("kl_divergence(p, q1)", mod.kl_divergence, P, Q1), KL_Q1,
                 "kl_divergence([.2, .3, .5], [.1, .4, .5])", mistakes=kl_mistakes(KL_Q1, KL_Q1_P))
    expect_close(quietly("kl_divergence(p, q2)", mod.kl_divergence, P, Q2), KL_Q2,
                 "kl_divergence([.2, .3, .5], [.1, .1, .8])", mistakes=kl_mistakes(KL_Q2, KL_Q2_P))


@pytest.mark.task("2.1")
def test_kl_is_asymmetric(mod):
    expect_close(quietly("kl_divergence(q1, p)", mod.kl_divergence, Q1, P), KL_Q1_P,
                 "kl_divergence([.1, .4, .5], [.2, .3, .5])", mistakes=kl_mistakes(KL_Q1_P, KL_Q1))
    expect_close(quietly("kl_divergence(q2, p)", mod.kl_divergence, Q2, P), KL_Q2_P,
                 "kl_divergence([.1, .1, .8], [.2, .3, .5])", mistakes=kl_mistakes(KL_Q2_P, KL_Q2))


@pytest.mark.task("2.1")
def test_kl_is_infinite_where_q_is_zero_but_p_is_not(mod):
    call = "kl_divergence([.5, .5], [1, 0])"
    got = expect_number(quietly(call, mod.kl_divergence, [0.5, 0.5], [1.0, 0.0]), call)
    # Named here rather than in `mistakes`: diagnose() measures |got - mistake|, and -inf - (-inf) is a NaN warning.
    expect_true(got != -np.inf, f"{call} returned -inf, expected inf: the ratio is upside down, KL = Σ p log(p/q), "
                "not log(q/p) (here .5·log(0/.5) = -inf where the honest answer is +inf)")
    expect_close(got, np.inf, call,
                 mistakes=[(math.log(2), SWAPPED + " (KL([1, 0] || [.5, .5]) = log 2 is finite; this one is not)"),
                           (CLIPPED_KL, "you clipped q at 1e-12, which turns KL's honest infinity into an arbitrary "
                                        "13.1: where q = 0 < p, KL(p || q) is +inf. Do not clip")])


@pytest.mark.task("2.1")
def test_kl_counts_zero_probabilities_of_the_truth_as_zero(mod):
    got = quietly("kl_divergence([1, 0], [.5, .5])", mod.kl_divergence, [1.0, 0.0], [0.5, 0.5])
    expect_close(got, math.log(2), "kl_divergence([1, 0], [.5, .5])",
                 mistakes=[(np.nan, "NaN is 0·log 0: a term with p = 0 adds 0, mask it with np.where(p > 0, ...)")])
    expect_close(quietly("kl_divergence([1, 0], [1, 0])", mod.kl_divergence, [1.0, 0.0], [1.0, 0.0]), 0.0,
                 "kl_divergence([1, 0], [1, 0])", atol=1e-12)


@pytest.mark.task("2.1")
def test_kl_gives_one_value_per_row(mod):
    call = "kl_divergence(p, [q1, q2])"
    got = expect_shape(quietly(call, mod.kl_divergence, P, np.array([Q1, Q2])), (2,), call,
                       diagnoses={(3,): "you reduced over axis 0 (the batch); reduce over axis=-1, the classes",
                                  (): "you summed over everything; sum over axis=-1 only, one KL per row"})
    expect_close(got, [KL_Q1, KL_Q2], call,
                 mistakes=[([KL_Q1_P, KL_Q2_P], SWAPPED),
                           ([-KL_Q1, -KL_Q2], UPSIDE_DOWN)])


@pytest.mark.task("2.1")
def test_kl_refuses_bad_distributions(mod):
    mod.kl_divergence(P, Q1)  # the function must work before its checks matter
    expect_raises(ValueError, mod.kl_divergence, [0.5, 0.6], [0.5, 0.5], call="kl_divergence([.5, .6], q)",
                  why="p sums to 1.1")
    expect_raises(ValueError, mod.kl_divergence, P, [0.5, 0.5], call="kl_divergence(3 classes, 2 classes)",
                  why="the class counts differ")


@pytest.mark.task("2.1")
@given(pair=distribution_pairs())
def test_kl_is_never_negative(mod, pair):
    p, q = pair
    kl = float(quietly("kl_divergence(p, q)", mod.kl_divergence, p, q))
    expect_true(kl >= -1e-12, f"kl_divergence(p, q) = {kl:.6g} < 0 for p = {p}, q = {q}: KL is never negative "
                "(Gibbs' inequality). Is the ratio upside down, log(q/p) instead of log(p/q)?")


@pytest.mark.task("2.1")
@given(p=distributions())
def test_kl_of_a_distribution_with_itself_is_zero(mod, p):
    expect_close(quietly("kl_divergence(p, p)", mod.kl_divergence, p, p), 0.0, f"kl_divergence(p, p) for p = {p}",
                 atol=1e-12)


# --- 2.2 mse ----------------------------------------------------------------------------


def mse_mistakes(expected, n_classes=3):
    expected = np.asarray(expected, dtype=float)
    return [
        (n_classes * expected, "that is the sum of the squared differences: take the mean over the classes"),
        (np.sqrt(expected), "that is the root of the MSE (RMSE): do not take the square root"),
        (expected * n_classes / (n_classes - 1), f"you divided by C - 1 = {n_classes - 1}; the mean divides by "
                                                 f"C = {n_classes}, the number of classes"),
    ]


@pytest.mark.task("2.2")
def test_mse_of_the_table(mod):
    for q, expected, name in ((Q1, MSE_Q1, "[.1, .4, .5]"), (Q2, MSE_Q2, "[.1, .1, .8]")):
        expect_close(mod.mse(P, q), expected, f"mse([.2, .3, .5], {name})", mistakes=mse_mistakes(expected))


@pytest.mark.task("2.2")
def test_mse_gives_one_value_per_row(mod):
    call = "mse(p, [q1, q2])"
    got = expect_shape(mod.mse(P, np.array([Q1, Q2])), (2,), call,
                       diagnoses={(3,): "you averaged over axis 0 (the batch); average over axis=-1, the classes",
                                  (): "you averaged over everything; average over axis=-1 only, one MSE per row"})
    expect_close(got, [MSE_Q1, MSE_Q2], call, mistakes=mse_mistakes([MSE_Q1, MSE_Q2]))


@pytest.mark.task("2.2")
def test_mse_refuses_bad_distributions(mod):
    mod.mse(P, Q1)  # the function must work before its checks matter
    expect_raises(ValueError, mod.mse, P, [1.2, -0.1, -0.1], call="mse(p, [1.2, -.1, -.1])", why="q has negative entries")


# --- 2.3 decomposition -------------------------------------------------------------------


@pytest.mark.task("2.3")
def test_decomposition_of_the_table(mod):
    for q, ce, kl, name in ((Q1, CE_Q1, KL_Q1, "q1"), (Q2, CE_Q2, KL_Q2, "q2")):
        got = quietly(f"decomposition(p, {name})", mod.decomposition, P, q)
        expect_true(isinstance(got, tuple) and len(got) == 3,
                    f"decomposition(p, {name}) returned {type(got).__name__} {got!r}: expected a tuple of three, "
                    "(cross-entropy, entropy, KL)")
        got_ce, got_h, got_kl = got
        expect_close(got_ce, ce, f"decomposition(p, {name})[0], the cross-entropy H(p, {name})",
                     mistakes=[(-ce, "that is the notebook's Σ p log q, the minus sign is missing: H(p, q) = -Σ p log q"),
                               (H_P, "that is H(p): the tuple's order is (cross-entropy, entropy, KL)")])
        expect_close(got_h, H_P, f"decomposition(p, {name})[1], the entropy H(p)",
                     mistakes=[(-H_P, "a negative entropy: the minus sign is missing, H(p) = -Σ p log p"),
                               (ce, "that is the cross-entropy: the tuple's order is (cross-entropy, entropy, KL)")])
        expect_close(got_kl, kl, f"decomposition(p, {name})[2], KL(p || {name})",
                     mistakes=[(KL_Q1_P if name == "q1" else KL_Q2_P, SWAPPED),
                               (-kl, "a negative KL: either your kl_divergence (2.1) has the ratio upside down, "
                                     "log(q/p) instead of log(p/q), or you returned H(p) - H(p, q) instead of "
                                     "H(p, q) - H(p) >= 0. Return your kl_divergence(p, q), with log(p/q)")])


@pytest.mark.task("2.3")
@given(pair=distribution_pairs())
def test_cross_entropy_is_entropy_plus_kl(mod, pair):
    p, q = pair
    ce, h, kl = (float(v) for v in quietly("decomposition(p, q)", mod.decomposition, p, q))
    expect_close(ce, h + kl, f"H(p, q) against H(p) + KL(p || q) for p = {p}, q = {q}", rtol=1e-9, atol=1e-12)
    expect_true(ce >= h - 1e-12, f"H(p, q) = {ce:.6f} < H(p) = {h:.6f} for p = {p}, q = {q}: cross-entropy is never "
                "below the entropy")


# --- 2.4 divergences_torch -----------------------------------------------------------------


@pytest.mark.task("2.4")
def test_the_same_numbers_in_torch(mod):
    for q, ce, kl, kl_swapped, name in ((Q1, CE_Q1, KL_Q1, KL_Q1_P, "q1"), (Q2, CE_Q2, KL_Q2, KL_Q2_P, "q2")):
        got = mod.divergences_torch(P, q)
        expect_true(isinstance(got, tuple) and len(got) == 3,
                    f"divergences_torch(p, {name}) returned {type(got).__name__}: expected a tuple of three floats")
        for value in got:
            expect_true(isinstance(value, float), f"divergences_torch(p, {name}) returned a {type(value).__name__} "
                        "in its tuple: turn each tensor into a Python float with .item()")
        got_ce, got_h, got_kl = got
        expect_close(got_ce, ce, f"divergences_torch(p, {name})[0], H(p, {name})",
                     mistakes=[(-ce, "that is the seed notebook's torch.sum(p * torch.log(q)): the minus sign is missing")])
        expect_close(got_h, H_P, f"divergences_torch(p, {name})[1], H(p)",
                     mistakes=[(-H_P, "that is the notebook's torch.sum(p * torch.log(p)): entr(x) = -x log x has the "
                                      "minus sign built in, torch.log does not")])
        no_log = sum(pi * math.log(pi) - pi * qi for pi, qi in zip(P, q))
        expect_close(got_kl, kl, f"divergences_torch(p, {name})[2], KL(p || {name})",
                     mistakes=[(kl_swapped, "that is KL(q || p): F.kl_div(input, target) takes the LOG of the "
                                            "prediction q as input and the truth p as target, F.kl_div(torch.log(q), p)"),
                               (kl / 3, "that is KL divided by the 3 classes: kl_div's default reduction='mean' (and "
                                        "'batchmean' on a 1-D tensor) divides by the number of elements; use reduction='sum'"),
                               (no_log, "F.kl_div's first argument must be the log of the prediction, torch.log(q), "
                                        "not q itself")])


@pytest.mark.task("2.4")
def test_torch_refuses_a_batch(mod):
    mod.divergences_torch(P, Q1)  # the function must work before its checks matter
    expect_raises(ValueError, mod.divergences_torch, [P, P], [Q1, Q2], call="divergences_torch(2 rows, 2 rows)",
                  why="it takes one distribution each, shape (C,)")


# --- 2.5 and 2.6: the gradients w.r.t. the logit -----------------------------------------


@pytest.mark.task("2.5")
def test_bce_gradient_at_a_confidently_wrong_logit(mod):
    expect_close(mod.bce_logit_gradient(-10.0, 1.0), BCE_GRAD_M10, "bce_logit_gradient(z=-10, y=1)",
                 mistakes=[(-BCE_GRAD_M10, "the sign is flipped: the gradient is σ(z) - y (negative when the "
                                           "prediction is too low, so gradient descent raises z)")])
    expect_close(mod.bce_logit_gradient(0.0, 1.0), -0.5, "bce_logit_gradient(z=0, y=1)")
    expect_close(mod.bce_logit_gradient(2.0, 0.0), 0.880797, "bce_logit_gradient(z=2, y=0)")  # σ(2)
    expect_close(mod.bce_logit_gradient(0.0, 0.3), 0.2, "bce_logit_gradient(z=0, y=0.3)")


@pytest.mark.task("2.5")
def test_bce_gradient_is_elementwise(mod):
    call = "bce_logit_gradient([-10, 0, 2], [1, 1, 0])"
    got = expect_shape(mod.bce_logit_gradient(np.array([-10.0, 0.0, 2.0]), np.array([1.0, 1.0, 0.0])), (3,), call)
    expect_close(got, [BCE_GRAD_M10, -0.5, 0.880797], call)
    mod.bce_logit_gradient(0.0, 1.0)  # the function must work before its checks matter
    expect_raises(ValueError, mod.bce_logit_gradient, 0.0, 2.0, call="bce_logit_gradient(0, y=2)",
                  why="a label is a probability in [0, 1]")


def mse_gradient_mistakes(expected, sigma, y):
    return [
        (2 * (sigma - y), "the chain-rule factor σ'(z) = σ(1 - σ) is missing: that is d/dσ, not d/dz"),
        (expected / 2, "the factor 2 from the square is missing: d/dz (σ - y)^2 = 2(σ - y)·σ(1 - σ)"),
        (-expected, "the sign is flipped: the gradient is 2(σ - y)·σ(1 - σ), negative when σ < y"),
        (sigma - y, "that is the BCE gradient σ - y; squared error has the extra factor 2σ(1 - σ)"),
    ]


@pytest.mark.task("2.6")
def test_mse_gradient_at_a_confidently_wrong_logit(mod):
    expect_close(mod.mse_logit_gradient(-10.0, 1.0), MSE_GRAD_M10, "mse_logit_gradient(z=-10, y=1)",
                 mistakes=mse_gradient_mistakes(MSE_GRAD_M10, SIGMA_M10, 1.0))
    expect_close(mod.mse_logit_gradient(0.0, 1.0), -0.25, "mse_logit_gradient(z=0, y=1)",
                 mistakes=mse_gradient_mistakes(-0.25, 0.5, 1.0))


@pytest.mark.task("2.6")
def test_ce_pulls_harder_than_mse_when_confidently_wrong(mod):
    bce, squared = float(mod.bce_logit_gradient(-10.0, 1.0)), float(mod.mse_logit_gradient(-10.0, 1.0))
    expect_close(bce, -0.99995, "bce_logit_gradient(z=-10, y=1) (to 5 digits)", rtol=1e-5)
    expect_close(squared, -9.08e-5, "mse_logit_gradient(z=-10, y=1) (to 3 digits)", rtol=1e-3)
    ratio = bce / squared
    expect_close(ratio, BCE_GRAD_M10 / MSE_GRAD_M10, "bce / mse gradient at z = -10, y = 1", rtol=1e-4)
    expect_true(ratio > 1e4, f"at z = -10 the BCE gradient is {bce:.6g} and the MSE one {squared:.6g}: BCE should "
                "pull over 10,000 times harder")


@pytest.mark.task("2.6")
@given(z=st.floats(-30, 30), y=st.sampled_from([0.0, 1.0]))
def test_mse_gradient_is_at_most_half_the_bce_gradient(mod, z, y):
    bce, squared = float(mod.bce_logit_gradient(z, y)), float(mod.mse_logit_gradient(z, y))
    expect_true(abs(squared) <= abs(bce) / 2 + 1e-15,
                f"at z = {z}, y = {y}: |MSE gradient| = {abs(squared):.6g} > |BCE gradient| / 2 = {abs(bce) / 2:.6g}; "
                "since σ(1 - σ) <= 1/4, 2(σ - y)σ(1 - σ) is at most half of σ - y")


# --- the figure -----------------------------------------------------------------------------


@pytest.mark.task("2.6")
def test_figure_numbers(mod):
    qs, curves = mod.divergence_curves()
    ce, kl, squared = (expect_shape(curves[name], qs.shape, f"the {name} curve")
                       for name in ("cross-entropy", "KL divergence", "MSE"))
    h = 0.500402  # entropy of [0.8, 0.2]
    expect_close(ce - kl, np.full_like(qs, h), "cross-entropy minus KL along the curve (should be H(p) everywhere)")
    expect_close(squared, (0.8 - qs) ** 2, "mse([.8, .2], [q, 1 - q]) along the curve")
    for name, curve in (("cross-entropy", ce), ("KL", kl), ("MSE", squared)):
        lowest = qs[int(np.argmin(curve))]
        expect_true(abs(lowest - 0.8) < 0.01, f"the {name} curve is lowest at q = {lowest:.3f}; it should be at q = p = 0.8")
    zs, gradients = mod.logit_gradient_curves()
    expect_close(gradients["BCE"][-1], BCE_GRAD_M10, "the BCE gradient at the end of the figure (z = -10)")
    expect_close(gradients["MSE on sigmoid"][-1], MSE_GRAD_M10, "the MSE gradient at the end of the figure (z = -10)")


@pytest.mark.task("2.6")
@pytest.mark.mpl_image_compare(filename="module02_ce_kl_mse.png")
def test_figure_ce_kl_mse(mod):
    return mod.plot_ce_kl_mse()
