"""Module 10: continuous distributions.

Expected values come from torch.distributions (Normal.log_prob, Normal.entropy,
kl_divergence), closed forms written here (in math, not torch), numpy's
histogram, torch's own nn.GaussianNLLLoss and the training loop in
kata.testing.oracles, never from the reference module. Known mistakes have their
own diagnosis, computed along the path each TODO prescribes.
"""

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.distributions import Normal, kl_divergence

from kata.given.module10 import Adam, MeanAndLogVariance, heteroscedastic_data, noise_sd
from kata.testing.expect import (
    Call,
    diagnose,
    expect_close,
    expect_number,
    expect_refusals,
    expect_shape,
    expect_true,
    fail,
    show,
)
from kata.testing.oracles import full_batch

MODULE = "module10_continuous"

LN2 = math.log(2)
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
H_STANDARD = 0.5 * math.log(2 * math.pi * math.e)  # h(N(0, 1)) = 1.418939
KL_LESSON = math.log(2) + 2 / 8 - 0.5  # KL(N(0, 1) ‖ N(1, 2²)) = 0.443147
KL_LESSON_REVERSED = -math.log(2) + (4 + 1) / 2 - 0.5  # KL(N(1, 2²) ‖ N(0, 1)) = 1.306853
H_LESSON = H_STANDARD + KL_LESSON  # 1.862086
F64 = torch.float64

# Hypothesis reaches the extremes: standard deviations from 1e-60 to 1e60 (their squares and
# ratios stay normal floats), means up to ±1e6, and the exact values 1 and 0 among them.
# 25 examples per property (the profile's 40 would cost this module a third of its time budget); they
# still reach σ = 1e-56 and 1e60 and means near ±1e6.
EXAMPLES = 25
SIGMAS = st.one_of(st.just(1.0), st.floats(-60.0, 60.0).map(lambda e: 10.0**e))
MEANS = st.one_of(st.just(0.0), st.floats(-1e6, 1e6))


def t(values):
    return torch.as_tensor(values, dtype=F64)


def normal(mu, sigma):
    return Normal(t(mu), t(sigma))


def oracle_h(sigma):
    """h(N(μ, σ²)) from torch.distributions."""
    return normal(0.0, sigma).entropy()


def oracle_kl(mu_p, sigma_p, mu_q, sigma_q):
    return kl_divergence(normal(mu_p, sigma_p), normal(mu_q, sigma_q))


def oracle_ce(mu_p, sigma_p, mu_q, sigma_q):
    """H(p, q) = h(p) + KL(p ‖ q), both from torch.distributions."""
    return normal(mu_p, sigma_p).entropy() + oracle_kl(mu_p, sigma_p, mu_q, sigma_q)


# --- 10.1 gaussian_log_pdf -----------------------------------------------------------

X_POINTS = [-2.5, -0.3, 0.0, 0.7, 3.1]
PDF_MU = 0.4
PDF_SIGMAS = [[0.5], [2.0], [3.0]]  # (3, 1): broadcast against the 5 points to (3, 5)


def log_pdf_mistakes(x, mu, sigma):
    x, mu, sigma = t(x), t(mu), t(sigma)
    z2 = ((x - mu) / sigma) ** 2
    right = -0.5 * z2 - torch.log(sigma) - HALF_LOG_2PI
    return [
        (right / LN2, "that is in bits: the module works in nats, natural logs throughout"),
        (-right, "that is −log p(x), the surprisal: return the log-density itself (usually negative, "
                 "positive where the density exceeds 1)"),
        (-z2 - torch.log(sigma) - HALF_LOG_2PI, "the exponent has lost its ½: it is −(x − μ)²/(2σ²)"),
        (-(x - mu) ** 2 / (2 * sigma) - torch.log(sigma) - HALF_LOG_2PI,
         "that is σ where σ² belongs: the exponent divides (x − μ)² by 2σ², the variance"),
        (-0.5 * z2 - torch.log(2 * math.pi * sigma**2), "the ½ in front of log(2πσ²) is missing: "
                                                        "the normaliser is the square root √(2πσ²)"),
        (-0.5 * z2 - 2 * torch.log(sigma) - HALF_LOG_2PI, "log σ² instead of log σ: the normaliser is √(2πσ²), "
                                                          "whose log is log σ + ½ log 2π"),
        (-0.5 * z2 - torch.log(sigma), "the constant −½ log(2π) is missing: the density's normaliser is √(2πσ²)"),
        (-0.5 * z2 - HALF_LOG_2PI, "the −log σ from the normaliser √(2πσ²) is missing"),
        (-(x - mu) ** 2 / (2 * sigma) - 0.5 * torch.log(2 * math.pi * sigma),
         "that is σ used as the variance everywhere: sigma is the standard deviation, and N(μ, σ²) has variance σ²"),
    ]


@pytest.mark.task("10.1")
def test_log_pdf_matches_torch_distributions(mod):
    call = f"gaussian_log_pdf(x = {X_POINTS}, mu = {PDF_MU}, sigma = {PDF_SIGMAS}, shape (3, 1))"
    expected = normal(PDF_MU, PDF_SIGMAS).log_prob(t(X_POINTS))
    got = mod.gaussian_log_pdf(t(X_POINTS), PDF_MU, t(PDF_SIGMAS))
    expect_true(isinstance(got, torch.Tensor), f"{call} returned {type(got).__name__}: return a float64 tensor "
                "(torch operations on the tensors you were given)")
    expect_close(got, expected, call, rtol=1e-9, atol=1e-12, mistakes=log_pdf_mistakes(X_POINTS, PDF_MU, PDF_SIGMAS),
                 shape_diagnoses={(5,): "x, mu and sigma broadcast together: sigma has shape (3, 1), so the answer is (3, 5)"})


@pytest.mark.task("10.1")
def test_log_pdf_check_values_and_a_density_above_one(mod):
    expect_close(mod.gaussian_log_pdf(0.0, 0.0, 1.0), -HALF_LOG_2PI, "gaussian_log_pdf(0, mu=0, sigma=1)", rtol=1e-9)
    peak = 0.5 * math.log(2 * math.pi * 0.01)  # N(0, 0.1²) at its mean: density 3.99, log +1.383647
    got = mod.gaussian_log_pdf(0.0, 0.0, 0.1)
    expect_close(got, -peak, "gaussian_log_pdf(0, mu=0, sigma=0.1)", rtol=1e-9,
                 mistakes=[(min(-peak, 0.0), "a density is not a probability: N(0, 0.1²) peaks at 3.99 > 1, "
                                              "so its log is positive (nothing clips it at 0)")])


@pytest.mark.task("10.1")
def test_log_pdf_far_in_the_tails_and_at_infinity(mod):
    far = mod.gaussian_log_pdf(t([40.0, -45.0]), 0.0, 1.0)
    expected = t([-800.0, -1012.5]) - HALF_LOG_2PI
    expect_close(far, expected, "gaussian_log_pdf([40, -45], mu=0, sigma=1)", rtol=1e-12,
                 mistakes=[(torch.full((2,), -math.inf, dtype=F64),
                            "the density underflowed to 0 and its log became −inf: write the log-density directly, "
                            "not log(exp(...))")])
    ends = mod.gaussian_log_pdf(t([-math.inf, math.inf]), 1.0, 2.0)
    expect_true(bool(torch.all(torch.as_tensor(ends) == -math.inf)),
                f"gaussian_log_pdf([-inf, inf], 1, 2) returned {ends.tolist() if hasattr(ends, 'tolist') else ends}: "
                "the density is 0 at ±inf, so its log is −inf (no NaN)")


@pytest.mark.task("10.1")
@settings(max_examples=EXAMPLES)
@given(x_in_sds=st.floats(-50.0, 50.0), mu=MEANS, sigma=SIGMAS)
def test_log_pdf_matches_torch_at_the_extremes(mod, x_in_sds, mu, sigma):
    x = mu + sigma * x_in_sds
    expected = normal(mu, sigma).log_prob(t(x))
    expect_close(mod.gaussian_log_pdf(x, mu, sigma), expected, f"gaussian_log_pdf({x!r}, mu={mu!r}, sigma={sigma!r})",
                 rtol=1e-9, atol=1e-9)


@pytest.mark.task("10.1")
def test_log_pdf_refuses_bad_input(mod):
    expect_refusals(mod.gaussian_log_pdf, works=Call(0.0, 0.0, 1.0), refuses=[
        (Call(0.0, 0.0, 0.0), "a standard deviation must be > 0"),
        (Call(0.0, 0.0, -1.0), "a standard deviation must be > 0"),
        (Call(math.nan, 0.0, 1.0), "x is NaN"),
        (Call(0.0, math.inf, 1.0), "the mean must be finite"),
        (Call(t([1.0, 2.0]), 0.0, t([1.0, 2.0, 3.0]), shown="gaussian_log_pdf(2 points, 0, 3 sigmas)"),
         "shapes (2,) and (3,) do not broadcast"),
    ])


# --- 10.2 gaussian_entropy ------------------------------------------------------------

ENTROPY_SIGMAS = [0.1, 0.5, 2.0, 3.0]


@pytest.mark.task("10.2")
def test_entropy_matches_torch_distributions(mod):
    sigma = t(ENTROPY_SIGMAS)
    expected = oracle_h(sigma)
    call = f"gaussian_entropy({ENTROPY_SIGMAS})"
    got = mod.gaussian_entropy(sigma)
    log_2pi_e = math.log(2 * math.pi * math.e)
    expect_close(got, expected, call, rtol=1e-9, atol=1e-12, mistakes=[
        (expected / LN2, "that is in bits: the module works in nats, natural logs throughout"),
        (2 * expected, "the ½ is missing: the normaliser is √(2πσ²), so its log is ½ log(2πσ²)"),
        (0.5 * (log_2pi_e + torch.log(sigma)), "that is σ where σ² belongs: the variance σ² goes inside the log"),
        (0.5 * torch.log(2 * math.pi * sigma**2), "the e is missing: the expected exponent E[(X − μ)²/(2σ²)] = ½ "
                                                  "adds ½ = ½ log e"),
        (torch.log(sigma), "only log σ is there: add the constant from the normaliser and the expected exponent"),
        (-expected, "the sign is flipped: h is the expectation of −log p(X)"),
        (0.5 * math.log(2 * math.pi) + torch.log(sigma) + 1, "the expected exponent is ½, not 1: "
                                                            "E[(X − μ)²/(2σ²)] = σ²/(2σ²) = ½ (a 1 means the 2 of 2σ² "
                                                            "went missing)"),
        (0.5 * log_2pi_e + 2 * torch.log(sigma), "log σ² instead of log σ: the ½ of ½ log(2πeσ²) applies to σ² "
                                                 "too, and ½ log σ² = log σ"),
    ])


@pytest.mark.task("10.2")
def test_entropy_check_values_and_negative_entropies(mod):
    expect_close(mod.gaussian_entropy(1.0), H_STANDARD, "gaussian_entropy(1)", rtol=1e-9)
    expect_close(mod.gaussian_entropy(2.0), H_STANDARD + LN2, "gaussian_entropy(2)", rtol=1e-9)
    small = float(mod.gaussian_entropy(0.2))
    expect_true(small < 0, f"gaussian_entropy(0.2) returned {small:.6g}: a narrow Gaussian has density above 1 "
                "almost everywhere it lives, so its differential entropy is negative (h = 1.418939 + log 0.2 here)")


@pytest.mark.task("10.2")
@settings(max_examples=EXAMPLES)
@given(sigma=SIGMAS, exponent=st.floats(-30.0, 30.0), negative=st.booleans())
def test_entropy_shifts_by_log_a_under_scaling(mod, sigma, exponent, negative):
    a = (-1.0 if negative else 1.0) * 10.0**exponent
    # h(aX) = h(X) + log|a|: aX ~ N(aμ, (|a|σ)²)
    got = float(mod.gaussian_entropy(abs(a) * sigma)) - float(mod.gaussian_entropy(sigma))
    expect_close(got, math.log(abs(a)), f"gaussian_entropy(|a|·σ) − gaussian_entropy(σ) for σ = {sigma:.3g}, a = {a:.3g}",
                 rtol=1e-9, atol=1e-9 * (1 + abs(math.log(sigma))))
    expect_close(mod.gaussian_entropy(sigma), oracle_h(sigma), f"gaussian_entropy({sigma!r})", rtol=1e-9, atol=1e-12)


@pytest.mark.task("10.2")
def test_entropy_refuses_bad_input(mod):
    expect_refusals(mod.gaussian_entropy, works=Call(1.0), refuses=[
        (Call(0.0), "a standard deviation must be > 0"),
        (Call([1.0, -2.0]), "a standard deviation must be > 0"),
        (Call(math.inf), "an infinite standard deviation has no entropy"),
    ])


# --- 10.3 gaussian_cross_entropy and 10.4 gaussian_kl ------------------------------------

# Five pairs (p, q), chosen so that every mistake below gives its own number.
PAIRS = {"mu_p": [0.0, 0.5, -1.0, 2.0, 0.0], "sigma_p": [1.0, 1.5, 0.3, 2.5, 0.7],
         "mu_q": [1.0, -1.0, 0.2, 2.0, -0.4], "sigma_q": [2.0, 0.7, 1.1, 0.5, 3.0]}
PAIRS_SHOWN = ", ".join(f"{name}={PAIRS[name]}" for name in ("mu_p", "sigma_p", "mu_q", "sigma_q"))


def pair_tensors():
    return [t(PAIRS[k]) for k in ("mu_p", "sigma_p", "mu_q", "sigma_q")]


def ce_mistakes(mu_p, sigma_p, mu_q, sigma_q):
    right = oracle_ce(mu_p, sigma_p, mu_q, sigma_q)
    shift2 = (mu_p - mu_q) ** 2
    return [
        (right / LN2, "that is in bits: the module works in nats, natural logs throughout"),
        (oracle_ce(mu_q, sigma_q, mu_p, sigma_p), "p and q are swapped: the expectation is under p (the truth), "
                                                  "of −log q (the model)"),
        (HALF_LOG_2PI + torch.log(sigma_q) + sigma_p**2 / (2 * sigma_q**2),
         "the (μ_p − μ_q)² term is missing: E_p[(X − μ_q)²] = σ_p² + (μ_p − μ_q)²"),
        (HALF_LOG_2PI + torch.log(sigma_q) + (sigma_p + shift2) / (2 * sigma_q**2),
         "that is σ where σ² belongs: E_p[(X − μ_q)²] = σ_p² + (μ_p − μ_q)², with the variance σ_p²"),
        (HALF_LOG_2PI + torch.log(sigma_q) + (sigma_p**2 + shift2) / (2 * sigma_q),
         "that is σ where σ² belongs: the exponent of q divides by 2σ_q², its variance"),
        (torch.log(2 * math.pi * sigma_q**2) + (sigma_p**2 + shift2) / (2 * sigma_q**2),
         "the ½ in front of log(2πσ_q²) is missing: q's normaliser is the square root √(2πσ_q²)"),
        (HALF_LOG_2PI + torch.log(sigma_p) + (sigma_p**2 + shift2) / (2 * sigma_q**2),
         "the normaliser is q's: −log q(x) contains log σ_q, not log σ_p"),
        (oracle_kl(mu_p, sigma_p, mu_q, sigma_q), "that is KL(p ‖ q): the cross-entropy is h(p) + KL(p ‖ q)"),
        (HALF_LOG_2PI + torch.log(sigma_q) + (sigma_p**2 + shift2) / sigma_q**2,
         "the 2 of 2σ_q² is missing: −log q(x) has (x − μ_q)²/(2σ_q²)"),
        (HALF_LOG_2PI + torch.log(sigma_q) + shift2 / (2 * sigma_q**2),
         "the σ_p² term is missing: E_p[(X − μ_q)²] = σ_p² + (μ_p − μ_q)², the spread of p counts too"),
    ]


@pytest.mark.task("10.3")
def test_cross_entropy_matches_torch_distributions(mod):
    params = pair_tensors()
    expected = oracle_ce(*params)
    call = f"gaussian_cross_entropy({PAIRS_SHOWN})"
    got = mod.gaussian_cross_entropy(*params)
    expect_close(got, expected, call, rtol=1e-9, atol=1e-12, mistakes=ce_mistakes(*params))


@pytest.mark.task("10.3")
def test_cross_entropy_check_value(mod):
    got = mod.gaussian_cross_entropy(0.0, 1.0, 1.0, 2.0)
    expect_close(got, H_LESSON, "gaussian_cross_entropy(0, 1, 1, 2)", rtol=1e-9)
    expect_close(got, 1.862086, "gaussian_cross_entropy(0, 1, 1, 2), the lesson's check value", rtol=1e-6)


@pytest.mark.task("10.3")
@settings(max_examples=EXAMPLES)
@given(mu_p=MEANS, sigma_p=SIGMAS, mu_q=MEANS, sigma_q=SIGMAS, same=st.booleans())
def test_cross_entropy_is_never_below_the_entropy(mod, mu_p, sigma_p, mu_q, sigma_q, same):
    if same:
        mu_q, sigma_q = mu_p, sigma_p
    call = f"gaussian_cross_entropy({mu_p!r}, {sigma_p!r}, {mu_q!r}, {sigma_q!r})"
    got = float(mod.gaussian_cross_entropy(mu_p, sigma_p, mu_q, sigma_q))
    h = H_STANDARD + math.log(sigma_p)  # h(p) in closed form, here
    expect_true(got >= h - 1e-12 * (1 + abs(h)), f"{call} = {got:.12g} is below h(p) = {h:.12g}: H(p, q) = h(p) + KL "
                "can never be below h(p)")
    expect_close(got, oracle_ce(mu_p, sigma_p, mu_q, sigma_q), call, rtol=1e-9, atol=1e-12 * (1 + abs(h)))


@pytest.mark.task("10.3")
def test_cross_entropy_refuses_bad_input(mod):
    expect_refusals(mod.gaussian_cross_entropy, works=Call(0.0, 1.0, 1.0, 2.0), refuses=[
        (Call(0.0, 1.0, 1.0, 0.0), "sigma_q must be > 0"),
        (Call(0.0, -1.0, 1.0, 2.0), "sigma_p must be > 0"),
        (Call(t([0.0, 1.0]), 1.0, t([0.0, 1.0, 2.0]), 1.0, shown="gaussian_cross_entropy(2 means, 1, 3 means, 1)"),
         "shapes (2,) and (3,) do not broadcast"),
    ])


def kl_mistakes(mu_p, sigma_p, mu_q, sigma_q):
    ratio, shift = sigma_p / sigma_q, (mu_p - mu_q) / sigma_q
    return [
        (oracle_kl(mu_q, sigma_q, mu_p, sigma_p), "KL is in the wrong direction: that is KL(q ‖ p), but the expectation is "
                                                  "under p, the truth: KL(p ‖ q) = E_p[log p(X) − log q(X)]"),
        (-torch.log(ratio) + 0.5 * (ratio**2 + shift**2), "the −½ is missing: KL(p ‖ p) must be 0 "
                                                          "(the −½ is h(p)'s expected exponent)"),
        (-torch.log(ratio) + 0.5 * (ratio + shift**2 - 1), "that is σ where σ² belongs: the ratio of the "
                                                           "variances, σ_p²/σ_q², not of the standard deviations"),
        (torch.log(ratio) + 0.5 * (ratio**2 + shift**2 - 1), "the log term has the wrong sign: it is log(σ_q/σ_p)"),
        (-2 * torch.log(ratio) + 0.5 * (ratio**2 + shift**2 - 1), "log(σ_q²/σ_p²) needs its ½: it is log(σ_q/σ_p)"),
        (oracle_ce(mu_p, sigma_p, mu_q, sigma_q), "that is the cross-entropy H(p, q): KL(p ‖ q) = H(p, q) − h(p)"),
        (oracle_kl(mu_p, sigma_p, mu_q, sigma_q) / LN2, "that is in bits: the module works in nats"),
    ]


@pytest.mark.task("10.4")
def test_kl_matches_torch_distributions(mod):
    params = pair_tensors()
    expected = oracle_kl(*params)
    got = mod.gaussian_kl(*params)
    expect_close(got, expected, f"gaussian_kl({PAIRS_SHOWN})", rtol=1e-9, atol=1e-12, mistakes=kl_mistakes(*params))


@pytest.mark.task("10.4")
def test_kl_check_values_and_asymmetry(mod):
    expect_close(mod.gaussian_kl(0.0, 1.0, 1.0, 2.0), KL_LESSON, "gaussian_kl(0, 1, 1, 2)", rtol=1e-9,
                 mistakes=[(KL_LESSON_REVERSED, "KL is in the wrong direction: that is KL(q ‖ p)")])
    expect_close(mod.gaussian_kl(1.0, 2.0, 0.0, 1.0), KL_LESSON_REVERSED, "gaussian_kl(1, 2, 0, 1)", rtol=1e-9,
                 mistakes=[(KL_LESSON, "KL is in the wrong direction: that is KL(q ‖ p)")])


@pytest.mark.task("10.4")
@settings(max_examples=EXAMPLES)
@given(mu_p=MEANS, sigma_p=SIGMAS, mu_q=MEANS, sigma_q=SIGMAS, nudge=st.floats(1e-3, 10.0))
def test_kl_is_never_negative_and_zero_only_for_equal_gaussians(mod, mu_p, sigma_p, mu_q, sigma_q, nudge):
    call = f"gaussian_kl({mu_p!r}, {sigma_p!r}, {mu_q!r}, {sigma_q!r})"
    got = float(mod.gaussian_kl(mu_p, sigma_p, mu_q, sigma_q))
    rounding = 1e-12 * (1 + abs(math.log(sigma_p)))  # H(p, q) − h(p), a correct way too, rounds at this scale
    expect_true(got >= -rounding, f"{call} = {got:.6g} < 0: a KL divergence is never negative")
    expect_close(got, oracle_kl(mu_p, sigma_p, mu_q, sigma_q), call, rtol=1e-9, atol=rounding)
    same = float(mod.gaussian_kl(mu_p, sigma_p, mu_p, sigma_p))
    expect_close(same, 0.0, f"gaussian_kl(p, p) for p = N({mu_p!r}, {sigma_p!r}²)", atol=rounding,
                 mistakes=[(-0.5, "KL(p ‖ p) must be 0: a term is missing")])
    wider = float(mod.gaussian_kl(mu_p, sigma_p, mu_p, sigma_p * (1 + nudge)))
    expect_true(wider > 0, f"gaussian_kl(p, q) = {wider:.6g} for q = N(μ_p, (σ_p·{1 + nudge:.4g})²), wider than p = "
                f"N({mu_p!r}, {sigma_p!r}²): it must be > 0, since it is 0 only when p = q")
    if mu_p + nudge * sigma_p != mu_p:  # a shift the floats can represent
        moved = float(mod.gaussian_kl(mu_p, sigma_p, mu_p + nudge * sigma_p, sigma_p))
        expect_true(moved > 0, f"gaussian_kl(p, q) = {moved:.6g} for q = p moved by {nudge:.3g} standard deviations: "
                    "it must be > 0, since it is 0 only when p = q")


@pytest.mark.task("10.4")
def test_kl_refuses_bad_input(mod):
    expect_refusals(mod.gaussian_kl, works=Call(0.0, 1.0, 1.0, 2.0), refuses=[
        (Call(0.0, 1.0, 1.0, 0.0), "sigma_q must be > 0"),
        (Call(math.nan, 1.0, 1.0, 2.0), "mu_p is NaN"),
    ])


# --- 10.5 monte_carlo_cross_entropy ------------------------------------------------------------


def oracle_draws(mu_p, sigma_p, mu_q, sigma_q, n, seed):
    """The TODO's draws, and the estimate and standard error the tests expect (and each mistake's)."""
    z = torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=F64)
    x = mu_p + sigma_p * z
    terms = -normal(mu_q, sigma_q).log_prob(x)
    wrong_samples = -normal(mu_q, sigma_q).log_prob(mu_q + sigma_q * z)
    own_density = -normal(mu_p, sigma_p).log_prob(x)
    z32 = torch.randn(n, generator=torch.Generator().manual_seed(seed)).double()  # float32 draws: other numbers
    single = -normal(mu_q, sigma_q).log_prob(mu_p + sigma_p * z32)
    sd = float(terms.std())
    return {"estimate": float(terms.mean()), "se": sd / math.sqrt(n),  # sd with Bessel's n − 1
            "estimate_mistakes": [
                (float(wrong_samples.mean()), "the samples came from q, not p: that estimates h(q), while H(p, q) is an "
                                              "expectation under the truth p, so draw x = μ_p + σ_p·z"),
                (float(own_density.mean()), "that averages −log p(x), which estimates h(p): average −log q(x), the model's "
                                            "surprisal, over the samples of p"),
                (-float(terms.mean()), "the sign is flipped: average −log q(x), the surprisal"),
                (float(single.mean()), "those samples were drawn in float32, torch's default dtype, which draws other "
                                       "numbers from the same seed: pass dtype=torch.float64 to the draw"),
                (float(-normal(mu_q, sigma_q).log_prob(mu_p + sigma_p**2 * z).mean()),
                 "that is σ where σ² belongs: the samples are μ_p + σ_p·z, with the standard deviation"),
            ],
            "se_mistakes": [
                (sd, "that is the standard deviation of one term: the standard error of a mean of n terms is "
                     "smaller, by a factor that grows with n (it has no √n yet)"),
                (sd / n, "that divides by n instead of √n: the variance of the mean is σ²/n, so its standard "
                         "deviation is σ/√n"),
                (sd**2 / math.sqrt(n), "that is the variance over √n: take the square root of the variance first"),
                (float(x.std()) / math.sqrt(n), "that is the standard error of the samples x: use the spread of the "
                                                "terms −log q(x) you averaged"),
                (float(terms.std(correction=0)) / math.sqrt(n), "that standard deviation divides by n: use Bessel's "
                                                                "n − 1 (torch's .std() default, np.std(..., ddof=1))"),
            ]}


# Two estimates from independent streams differ by about √2 standard errors; within 5 of them an estimate that
# matches no known mistake is sound, only drawn from another random stream.
OTHER_STREAM_SES = 5.0


def expect_documented_estimate(got, oracle, call):
    """The estimate must come from the documented draws; a sound one from other draws is told so."""
    value, expected = expect_number(got, call), oracle["estimate"]
    if not np.isclose(value, expected, rtol=1e-9, atol=1e-8) and math.isfinite(value):
        known = diagnose(value, oracle["estimate_mistakes"], expected=np.asarray(expected), tolerance=(1e-9, 1e-8))
        away = abs(value - expected) / oracle["se"]
        if known is None and away < OTHER_STREAM_SES:
            fail(f"{call} returned {value:.6g}, expected {expected:.6g}: {away:.1f} standard errors from the documented "
                 "draws' estimate, so a sound estimate, but from another random stream: draw all n samples in one "
                 "call to torch.randn (or torch.normal) with a torch.Generator seeded with `seed`, in float64 "
                 "(numpy's generators, or draws one at a time, give other numbers)")
    return expect_close(value, expected, call, rtol=1e-9, mistakes=oracle["estimate_mistakes"])


MC_CASES = [((0.0, 1.0, 1.0, 2.0), 10_000, 0), ((0.5, 1.5, -1.0, 0.7), 4000, 3), ((0.0, 1.0, 1.0, 2.0), 10, 4)]


@pytest.mark.task("10.5")
def test_monte_carlo_uses_the_documented_draws(mod):
    for params, n, seed in MC_CASES:
        call = f"monte_carlo_cross_entropy({', '.join(map(str, params))}, n={n}, seed={seed})"
        got = mod.monte_carlo_cross_entropy(*params, n, seed=seed)
        expect_true(isinstance(got, tuple) and len(got) == 2, f"{call} returned {type(got).__name__}: return the "
                    "pair (estimate, standard_error)")
        oracle = oracle_draws(*params, n, seed)
        expect_documented_estimate(got[0], oracle, f"the estimate of {call}")
        expect_close(got[1], oracle["se"], f"the standard error of {call}", rtol=1e-9, mistakes=oracle["se_mistakes"])


@pytest.mark.task("10.5")
def test_standard_error_halves_when_n_quadruples(mod):
    n = 5000
    _, small = mod.monte_carlo_cross_entropy(0.0, 1.0, 1.0, 2.0, n, seed=1)
    _, large = mod.monte_carlo_cross_entropy(0.0, 1.0, 1.0, 2.0, 4 * n, seed=2)
    ratio = large / small
    if abs(ratio - 1) < 0.1:
        fail(f"the standard error barely changed from n = {n} to {4 * n} (ratio {ratio:.3f}): divide the spread of "
             "the terms by √n, so that four times the samples halve it")
    if abs(ratio - 0.25) < 0.05:
        fail(f"the standard error fell by {1 / ratio:.2f}x from n = {n} to {4 * n}: that is 1/n; the error bar of a "
             "mean shrinks like 1/√n, by 2x here")
    expect_true(0.45 < ratio < 0.55, f"the standard error went from {small:.5f} at n = {n} to {large:.5f} at n = "
                f"{4 * n}, a ratio {ratio:.3f}; four times the samples should halve it (ratio ≈ 0.5)")


@pytest.mark.task("10.5")
def test_monte_carlo_estimates_lie_within_a_few_standard_errors(mod):
    for seed in range(5):
        estimate, error = mod.monte_carlo_cross_entropy(0.5, 1.5, -1.0, 0.7, 2000, seed=seed)
        exact = float(oracle_ce(0.5, 1.5, -1.0, 0.7))
        expect_true(abs(estimate - exact) < 4 * error, f"seed {seed}: the estimate {estimate:.4f} ± {error:.4f} is "
                    f"{abs(estimate - exact) / error:.1f} standard errors from the closed form H(p, q) = {exact:.4f}: "
                    "an honest error bar holds the truth within a few of its widths")


@pytest.mark.task("10.5")
def test_monte_carlo_curve_data(mod):
    data = mod.monte_carlo_curve(sizes=(10, 1000, 100_000))
    oracles = [oracle_draws(0.0, 1.0, 1.0, 2.0, n, 0) for n in (10, 1000, 100_000)]
    for n, got, oracle in zip((10, 1000, 100_000), data["estimate"], oracles):
        expect_documented_estimate(got, oracle, f"the figure's estimate at n = {n}")
    expect_close(data["standard_error"], [o["se"] for o in oracles],
                 "the figure's standard errors at n = 10, 1000, 100000", rtol=1e-9)


@pytest.mark.task("10.5")
@pytest.mark.mpl_image_compare(filename="module10_monte_carlo.png")
def test_figure_monte_carlo(mod):
    return mod.plot_monte_carlo()


@pytest.mark.task("10.5")
def test_monte_carlo_refuses_bad_input(mod):
    expect_refusals(mod.monte_carlo_cross_entropy, works=Call(0.0, 1.0, 1.0, 2.0, 10), refuses=[
        (Call(0.0, 1.0, 1.0, 2.0, 1), "one sample has no standard error"),
        (Call(0.0, 0.0, 1.0, 2.0, 10), "sigma_p must be > 0"),
        (Call(0.0, 1.0, 1.0, 2.0, 10.5), "n must be a whole number"),
        (Call([0.0, 1.0], 1.0, 1.0, 2.0, 10), "the parameters are single numbers here"),
    ])


# --- 10.6 binned_entropy --------------------------------------------------------------------


# The TODO promises that the samples of one call span at most this many bins, so that a correct dense
# histogram (every bin from the lowest sample's to the highest's) fits in memory: every test keeps to it.
MAX_SPAN_BINS = 100_000


def histogram_entropy(samples, width):
    """The oracle: numpy's histogram on edges at the multiples of width (the last edge past the largest sample)."""
    samples = np.asarray(samples, dtype=float)
    first, last = math.floor(samples.min() / width), math.floor(samples.max() / width)
    assert last - first < MAX_SPAN_BINS, f"a test spans {last - first + 1} bins, more than the TODO promises"
    counts, _ = np.histogram(samples, bins=np.arange(first, last + 2) * width)
    return plug_in(counts, width)


def plug_in(counts, width):
    counts = np.asarray(counts, dtype=float)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum() + math.log(width))


UNALIGNED = ("the bins do not start at the multiples of the width: bin k is [k·width, (k + 1)·width), while "
             "np.histogram(samples, bins=count), like edges counted from the smallest sample, starts the bins at the "
             "smallest sample")


def unaligned_bins(samples, width):
    """np.histogram(samples, bins=count): count bins from the smallest sample to the largest, for the counts a
    learner computes from the span, corrected by log(width) or by the log of the width the bins really have."""
    span = float(np.ptp(samples))
    if span == 0:  # a single bin whatever its edges: nothing to tell apart
        return []
    values = []
    for count in sorted({math.floor(span / width), math.ceil(span / width), round(span / width),
                         math.floor(span / width) + 1}):
        if 1 <= count <= MAX_SPAN_BINS:
            counts, edges = np.histogram(samples, bins=count)
            values += [(plug_in(counts, width), UNALIGNED), (plug_in(counts, edges[1] - edges[0]), UNALIGNED)]
    return values


def binning_mistakes(samples, width):
    samples = np.asarray(samples, dtype=float)
    right = histogram_entropy(samples, width)
    discrete = right - math.log(width)
    _, truncated = np.unique(np.trunc(samples / width), return_counts=True)
    min_edges = np.arange(samples.min(), samples.max() + width, width)
    anchored, _ = np.histogram(samples, bins=min_edges)
    return unaligned_bins(samples, width) + [
        (discrete, "that is the entropy of the bins alone, which grows without bound as the bins shrink: add the "
                   "correction the lesson derives, the part that depends on the width alone"),
        (discrete - math.log(width), "the correction has the wrong sign: the bins' entropy grows like log(1/width), "
                                     "so the correction must cancel that"),
        (discrete / LN2 + math.log(width), "the bins' entropy is in bits and the correction in nats: use nats for both"),
        (right / LN2, "that is in bits: the module works in nats"),
        (plug_in(truncated, width), "samples below 0 went into bin 0: int() and np.trunc round toward zero, merging "
                                    "[−width, 0) with [0, width); use np.floor"),
        (plug_in(anchored, width), UNALIGNED),
    ]


@pytest.mark.task("10.6")
def test_binned_entropy_matches_a_histogram(mod):
    samples = np.random.default_rng(6).normal(0.4, 1.3, 5000)
    width = 0.25
    got = mod.binned_entropy(samples, width)
    expect_close(got, histogram_entropy(samples, width), "binned_entropy(5000 samples of N(0.4, 1.3²), width=0.25)",
                 rtol=1e-9, mistakes=binning_mistakes(samples, width))


@pytest.mark.task("10.6")
def test_samples_on_an_edge_and_below_zero(mod):
    on_edges = np.array([0.0, 0.25, 0.5, 0.5, 0.75, 1.0])
    expected = plug_in([1, 1, 2, 1, 1], 0.25)  # 1.0 is the left edge of its own bin [1, 1.25)
    expect_close(mod.binned_entropy(on_edges, 0.25), expected, "binned_entropy([0, .25, .5, .5, .75, 1], width=0.25)",
                 rtol=1e-9, mistakes=[(plug_in([1, 1, 2, 2], 0.25),
                                       "1.0 sits exactly on an edge and belongs to the bin [1, 1.25) on its right: "
                                       "np.histogram's last bin also takes its right edge, so put its edges past the "
                                       "largest sample (or use np.floor)")])
    straddling = np.array([-0.2, -0.1, 0.1, 0.2])
    expect_close(mod.binned_entropy(straddling, 0.5), LN2 + math.log(0.5),
                 "binned_entropy([-0.2, -0.1, 0.1, 0.2], width=0.5)", atol=1e-12,
                 mistakes=[(math.log(0.5), "−0.2 and −0.1 belong to the bin [−0.5, 0), not to [0, 0.5): int() and "
                                           "np.trunc round toward zero; use np.floor")])


@pytest.mark.task("10.6")
def test_uniform_on_half_an_interval_has_negative_entropy(mod):
    samples = np.random.default_rng(7).uniform(0.0, 0.5, 2**16)
    got = mod.binned_entropy(samples, 1 / 16)
    expect_close(got, histogram_entropy(samples, 1 / 16), "binned_entropy(2**16 samples of Uniform(0, ½), width=1/16)",
                 rtol=1e-9, mistakes=binning_mistakes(samples, 1 / 16))
    # 8 bins of about 8192 samples: the plug-in bias is about −7/(2·65536) = −5e-5, its spread smaller still
    expect_true(abs(got + LN2) < 1e-3, f"binned_entropy of Uniform(0, ½) samples = {got:.5f}: it should be close to "
                "h = −log 2 = −0.693147, a negative differential entropy")


@pytest.mark.task("10.6")
def test_binned_entropy_tends_to_h_as_the_bins_shrink(mod):
    samples = np.random.default_rng(8).standard_normal(200_000)
    coarse, fine = mod.binned_entropy(samples, 1.0), mod.binned_entropy(samples, 0.05)
    # At width 0.05 the estimate's spread is √(Var[log p(X)] / n) = √(0.5 / 200000) = 0.0016, its plug-in bias about
    # −(180 bins)/(2n) = −4.5e-4 and the discretisation error about width²/24 = 1e-4: 0.01 is six spreads.
    expect_true(abs(fine - H_STANDARD) < 0.01, f"binned_entropy(200000 samples of N(0, 1), width=0.05) = {fine:.4f}; "
                f"it should be within 0.01 of h(N(0, 1)) = {H_STANDARD:.6f}")
    expect_true(abs(fine - H_STANDARD) < abs(coarse - H_STANDARD),
                f"the binned entropy is {coarse:.4f} at width 1 and {fine:.4f} at width 0.05: narrower bins should "
                f"land closer to h = {H_STANDARD:.4f}")


# A sample is a bin number within SPAN_BINS of the first one plus a fraction of the width in steps of 2**-20,
# often 0 (exactly on an edge) or the last step below the next edge. Everything is a multiple of width·2**-20 with
# widths and factors powers of 2, so every step below is exact; the first bin reaches ±2**20 (samples up to ±2**32
# at the widest bins), while one example never spans more than 2**16 bins, which a dense histogram affords.
SPAN_BINS, STEPS = 2**16, 2**20
PLACE_IN_THE_BIN = st.one_of(st.just(0), st.just(STEPS - 1), st.integers(0, STEPS - 1))


@pytest.mark.task("10.6")
@settings(max_examples=EXAMPLES)
@given(first_bin=st.integers(-2**20, 2**20),
       places=st.lists(st.tuples(st.integers(0, SPAN_BINS - 1), PLACE_IN_THE_BIN), min_size=1, max_size=30),
       width_exponent=st.one_of(st.sampled_from((-12, 12)), st.integers(-12, 12)),
       scale_exponent=st.one_of(st.sampled_from((-40, 40)), st.integers(-40, 40)), shift=st.integers(-1000, 1000))
def test_binned_entropy_shifts_by_log_a_under_scaling(mod, first_bin, places, width_exponent, scale_exponent, shift):
    width, a = 2.0**width_exponent, 2.0**scale_exponent
    samples = np.array([(first_bin + k) * STEPS + part for k, part in places], dtype=float) * (width / STEPS)
    base = mod.binned_entropy(samples, width)
    expect_close(base, histogram_entropy(samples, width), f"binned_entropy({len(places)} samples from "
                 f"{show(samples.min())} to {show(samples.max())}, width=2**{width_exponent})", rtol=1e-9, atol=1e-9,
                 mistakes=binning_mistakes(samples, width))
    scaled = mod.binned_entropy(a * samples, a * width)
    expect_close(scaled - base, math.log(a), f"binned_entropy(a·x, a·width) − binned_entropy(x, width) for a = "
                 f"2**{scale_exponent}", atol=1e-9 * (1 + abs(base)))
    moved = mod.binned_entropy(samples + shift * width, width)  # a whole number of bins to the side
    expect_close(moved, base, f"binned_entropy(x + {shift}·width, width)", atol=1e-9 * (1 + abs(base)))


FIGURE_WIDTHS = [2.0**-k for k in range(-1, 14)]  # 2, 1, ½, ..., 2**-13


@pytest.mark.task("10.6")
def test_binned_curves_data(mod):
    data = mod.binned_curves()
    expect_close(data["widths"], FIGURE_WIDTHS, "the figure's bin widths", rtol=0, atol=0)
    curves = {}
    for name, samples in mod.entropy_samples().items():
        curves[name] = np.array([histogram_entropy(samples, w) for w in FIGURE_WIDTHS])
        expect_close(data["curves"][name], curves[name], f"the figure's binned entropies of {name} at the widths "
                     "2, 1, ½, ..., 2**-13", rtol=1e-9, atol=1e-12)
    # What the lesson says of figure 2, checked on the oracle's curves (they are the figure's, just checked).
    small, large = (curves[f"N(0, 1), n = {n}"] - H_STANDARD for n in ("1000", "100,000"))
    uniform = curves["Uniform(0, ½), n = 100,000"] + LN2
    at = {w: k for k, w in enumerate(FIGURE_WIDTHS)}
    claims = [
        (all(gap[0] > 0 > gap[-1] for gap in (small, large, uniform)), "every curve starts above its h and ends below it"),
        (np.allclose(curves["Uniform(0, ½), n = 100,000"][:2], [LN2, 0.0], atol=1e-12), "at Δ = 2 and 1 the Uniform's value is log Δ alone"),
        (bool(np.all(np.abs(large[at[0.25]:at[1 / 64] + 1]) < 0.005)), "N(0, 1), n = 100,000 stays within 0.005 of h "
                                                                       "from Δ = ¼ to 1/64"),
        (bool(np.all(np.abs(uniform[at[0.5]:at[1 / 512] + 1]) < 0.002)), "the Uniform stays within 0.002 of −log 2 "
                                                                         "from Δ = ½ to 1/512"),
        (small[at[1.0]] > 0 > small[at[0.5]] and bool(np.all(np.diff(small[at[0.5]:]) < 0)),
         "N(0, 1), n = 1000 crosses h between Δ = 1 and ½, then keeps falling"),
    ]
    for holds, claim in claims:
        expect_true(holds, f"the lesson's description of figure 2 is no longer true of its data: {claim}")


@pytest.mark.task("10.6")
@pytest.mark.mpl_image_compare(filename="module10_binned_entropy.png")
def test_figure_binned_entropy(mod):
    return mod.plot_binned_entropy()


@pytest.mark.task("10.6")
def test_binned_entropy_refuses_bad_input(mod):
    expect_refusals(mod.binned_entropy, works=Call([0.1, 0.2], 0.5), refuses=[
        (Call([0.1, 0.2], 0.0), "a bin width must be > 0"),
        (Call([0.1, 0.2], -1.0), "a bin width must be > 0"),
        (Call([], 0.5), "there are no samples"),
        (Call([[0.1, 0.2]], 0.5), "samples must be 1-D"),
        (Call([0.1, math.nan], 0.5), "NaN has no bin"),
    ])


# --- 10.7 nll_from_mse ------------------------------------------------------------------------


def nll_mistakes(mse, sigma):
    right = mse / (2 * sigma**2) + 0.5 * torch.log(2 * math.pi * sigma**2)
    return [
        (right / LN2, "that is in bits: the module works in nats"),
        (mse / sigma**2 + 0.5 * torch.log(2 * math.pi * sigma**2), "a ½ is missing: each error counts "
                                                                   "(y − ŷ)²/(2σ²)"),
        (mse / (2 * sigma) + 0.5 * torch.log(2 * math.pi * sigma**2), "that is σ where σ² belongs: divide the MSE by "
                                                                      "2σ², twice the variance"),
        (mse / (2 * sigma**2), "the constant ½ log(2πσ²) is missing: the NLL keeps the normaliser's log, whose "
                               "log σ grows with σ; without it the NLL only falls as σ grows, and the best σ "
                               "would be infinite"),
        (mse / (2 * sigma**2) + torch.log(2 * math.pi * sigma**2), "the ½ in front of log(2πσ²) is missing"),
        (mse / (2 * sigma**2) + HALF_LOG_2PI, "the constant is ½ log(2πσ²): log σ is missing from it"),
        (mse / 2 + 0.5 * torch.log(2 * math.pi * sigma**2), "the MSE must be divided by 2σ², not 2"),
        (mse / (2 * sigma**2) + torch.log(sigma), "the constant ½ log(2π) is missing: the NLL is the whole "
                                                   "−log of the density, normaliser included"),
    ]


@pytest.mark.task("10.7")
def test_nll_from_mse_matches_the_gaussian_nll(mod):
    g = torch.Generator().manual_seed(10)
    y = torch.randn(3, 50, generator=g, dtype=F64) * 2
    prediction = y + torch.randn(3, 50, generator=g, dtype=F64) * t([[0.3], [1.0], [2.5]])
    sigma = t([0.5, 2.0, 3.0])
    mse = (y - prediction).pow(2).mean(dim=1)
    expected = -Normal(prediction, sigma[:, None]).log_prob(y).mean(dim=1)  # per sample, mean over the 50
    got = mod.nll_from_mse(mse, sigma)
    expect_close(got, expected, f"nll_from_mse(mse = [{', '.join(f'{float(v):.6g}' for v in mse)}], sigma = [0.5, 2, 3])", rtol=1e-9,
                 mistakes=nll_mistakes(mse, sigma))


@pytest.mark.task("10.7")
def test_nll_from_mse_check_values(mod):
    expect_close(mod.nll_from_mse(0.0, 1.0), HALF_LOG_2PI, "nll_from_mse(0, sigma=1)", rtol=1e-9)
    # when the MSE equals the noise variance, the NLL is the differential entropy of N(0, σ²)
    expect_close(mod.nll_from_mse(4.0, 2.0), H_STANDARD + LN2, "nll_from_mse(4, sigma=2)", rtol=1e-9)


@pytest.mark.task("10.7")
def test_the_best_sigma_for_an_mse_is_its_square_root(mod):
    mse = 0.3
    sigmas = t(np.geomspace(0.05, 5.0, 2001))
    curve = mod.nll_from_mse(torch.full_like(sigmas, mse), sigmas)
    at = int(torch.as_tensor(curve).argmin())
    best = float(sigmas[at])
    if at in (0, len(sigmas) - 1):
        fail(f"nll_from_mse({mse}, sigma) is smallest at sigma = {best:.4f}, the {'largest' if at else 'smallest'} σ "
             f"tried (0.05 to 5): it {'keeps falling as σ grows' if at else 'keeps falling as σ shrinks'}, while the "
             f"NLL has its minimum at √MSE = {math.sqrt(mse):.4f}: "
             + ("the log σ of ½ log(2πσ²), which grows with σ, is what stops it" if at else
                "look at the MSE term, MSE/(2σ²), which must grow without bound as σ shrinks"))
    expect_true(abs(best / math.sqrt(mse) - 1) < 0.005, f"nll_from_mse({mse}, sigma) is smallest at sigma = {best:.4f}; "
                f"it should be at √MSE = {math.sqrt(mse):.4f} (set the derivative with respect to σ to 0)")


@pytest.mark.task("10.7")
@settings(max_examples=EXAMPLES)
@given(sigma=SIGMAS, error_in_sds=st.floats(0.0, 30.0))
def test_nll_from_mse_at_the_extremes(mod, sigma, error_in_sds):
    # one sample whose error is error_in_sds standard deviations: MSE = (σ·e)²
    expected = -normal(0.0, sigma).log_prob(t(sigma * error_in_sds))
    mse = (sigma * error_in_sds) ** 2
    expect_close(mod.nll_from_mse(mse, sigma), expected, f"nll_from_mse({mse!r}, sigma={sigma!r})", rtol=1e-9,
                 atol=1e-9 * (1 + abs(math.log(sigma))))


@pytest.mark.task("10.7")
def test_nll_from_mse_refuses_bad_input(mod):
    expect_refusals(mod.nll_from_mse, works=Call(1.0, 1.0), refuses=[
        (Call(-1.0, 1.0), "a mean of squares cannot be negative"),
        (Call(1.0, 0.0), "sigma must be > 0"),
    ])


# --- 10.8 gaussian_nll_loss -----------------------------------------------------------------------


def regression_outputs(n=8, seed=11, low=0.1, high=1.5):
    g = torch.Generator().manual_seed(seed)
    mean = torch.randn(n, generator=g, dtype=F64)
    log_var = low + (high - low) * torch.rand(n, generator=g, dtype=F64)
    y = mean + torch.randn(n, generator=g, dtype=F64) * (0.5 * log_var).exp()
    return mean, log_var, y


def gaussian_nll(mean, var, y):
    """The oracle: −log N(y; mean, var), mean over the examples, from torch.distributions."""
    return -Normal(mean, var.sqrt()).log_prob(y).mean()


@pytest.mark.task("10.8")
def test_gaussian_nll_loss_matches_torch_distributions(mod):
    mean, log_var, y = regression_outputs()  # log_var in (0.1, 1.5): every mistake below gives its own number
    call = "gaussian_nll_loss(8 means, 8 log-variances, 8 targets)"
    got = mod.gaussian_nll_loss(mean, log_var, y)
    expect_true(isinstance(got, torch.Tensor), f"{call} returned {type(got).__name__}: return the 0-d tensor the loss "
                "gives, so that .backward() works")
    expected = gaussian_nll(mean, log_var.exp(), y)
    expect_close(got, expected, call, rtol=1e-9, mistakes=[
        (gaussian_nll(mean, (0.5 * log_var).exp(), y),
         "that is σ where σ² belongs: nn.GaussianNLLLoss takes the variance, var = exp(log_var), not σ = exp(log_var / 2)"),
        (gaussian_nll(mean, log_var, y), "log_var went in as the variance: the variance is exp(log_var)"),
        (gaussian_nll(mean, (2 * log_var).exp(), y), "that variance is exp(2·log_var) = σ⁴: the variance is "
                                                     "exp(log_var)"),
        (expected - HALF_LOG_2PI, "the constant ½ log(2π) is missing: nn.GaussianNLLLoss drops it unless full=True"),
        (expected * 8, "that is the sum over the examples: use reduction='mean'"),
        (expected - HALF_LOG_2PI * 8, "that is the sum over the examples, without the constant: full=True and "
                                      "reduction='mean'"),
    ])


@pytest.mark.task("10.8")
def test_gaussian_nll_loss_check_value_and_gradient(mod):
    expect_close(mod.gaussian_nll_loss(t([0.0]), t([0.0]), t([1.0])), H_STANDARD,
                 "gaussian_nll_loss(mean=[0], log_var=[0], y=[1])", rtol=1e-9,
                 mistakes=[(0.5, "the constant ½ log(2π) is missing: nn.GaussianNLLLoss drops it unless full=True")])
    mean, log_var, y = regression_outputs(seed=12, low=-2.0, high=2.0)
    mean, log_var = mean.clone().requires_grad_(True), log_var.clone().requires_grad_(True)
    loss = mod.gaussian_nll_loss(mean, log_var, y)
    expect_true(isinstance(loss, torch.Tensor) and loss.requires_grad,
                "gaussian_nll_loss gave a value with no gradient: compute it with torch operations on the tensors "
                "(no .item(), .numpy() or float()), so that a model can train on it")
    loss.backward()
    mean_ref, log_var_ref = mean.detach().clone().requires_grad_(True), log_var.detach().clone().requires_grad_(True)
    gaussian_nll(mean_ref, log_var_ref.exp(), y).backward()
    expect_close(mean.grad, mean_ref.grad, "the gradient of gaussian_nll_loss with respect to mean", rtol=1e-9,
                 atol=1e-12)
    expect_close(log_var.grad, log_var_ref.grad, "the gradient of gaussian_nll_loss with respect to log_var",
                 rtol=1e-9, atol=1e-12)


@pytest.mark.task("10.8")
def test_tiny_variances_are_clamped_at_eps(mod):
    mean, y = t([0.0, 1.0, 2.0]), t([1e-4, 1.3, 2.0])
    log_var = t([-20.0, 0.5, -30.0])  # variances 2e-9, 1.65 and 9e-14: two below eps = 1e-6
    expected = gaussian_nll(mean, log_var.exp().clamp(min=1e-6), y)
    expect_close(mod.gaussian_nll_loss(mean, log_var, y), expected, "gaussian_nll_loss with variances 2e-9, 1.65, 9e-14",
                 rtol=1e-9, mistakes=[(gaussian_nll(mean, log_var.exp(), y),
                                       "variances below eps = 1e-6 must be clamped up to it, as nn.GaussianNLLLoss "
                                       "does (its default eps)"),
                                      (gaussian_nll(mean, log_var.exp().clamp(min=1e-3), y),
                                       "that clamps at 1e-3: keep nn.GaussianNLLLoss's default eps = 1e-6")])


@pytest.mark.task("10.8")
def test_gaussian_nll_loss_refuses_bad_input(mod):
    mean, log_var, y = regression_outputs()
    expect_refusals(mod.gaussian_nll_loss, works=Call(mean, log_var, y, shown="gaussian_nll_loss(8, 8, 8)"), refuses=[
        (Call(mean, log_var[:5], y, shown="gaussian_nll_loss(8 means, 5 log-variances, 8 targets)"),
         "there must be one log-variance per example"),
        (Call(mean[:, None], log_var[:, None], y[:, None], shown="gaussian_nll_loss(shapes (8, 1))"),
         "the outputs must have shape (N,)"),
        (Call(mean[:0], log_var[:0], y[:0], shown="gaussian_nll_loss(no examples)"), "there is no example"),
        (Call(mean, log_var, torch.full_like(y, math.nan), shown="gaussian_nll_loss(..., y = NaN)"), "y is NaN"),
    ])


# --- 10.9 fit_heteroscedastic -----------------------------------------------------------------------


def nll_of(model, x, y):
    mean, log_var = model(x)
    return nn.GaussianNLLLoss(full=True)(mean, y, log_var.exp())


def oracle_fit(x, y, epochs, lr, **switches):
    model = MeanAndLogVariance()
    loss_of = switches.pop("loss_of", lambda m: nll_of(m, x, y))
    # Adam: kata.given's, which matches torch.optim.Adam bit for bit without importing torch's compiler
    history = full_batch(model, loss_of, epochs=epochs, lr=lr, optimizer=switches.pop("optimizer", Adam), **switches)
    return model, history


@pytest.mark.task("10.9")
def test_fit_runs_the_documented_loop(mod):
    x, y = heteroscedastic_data(30, seed=5)
    got = mod.fit_heteroscedastic(x, y, epochs=15, lr=0.2)
    call = "fit_heteroscedastic(30 points, epochs=15, lr=0.2)"
    expect_true(isinstance(got, tuple) and len(got) == 2, f"{call} returned {type(got).__name__}: return the pair "
                "(model, history)")
    model, history = got
    expect_true(isinstance(model, MeanAndLogVariance), f"{call} returned a {type(model).__name__} as the model: train "
                "and return a fresh MeanAndLogVariance()")
    expect_shape(history, (15,), f"the history of {call}", diagnoses={(14,): "one loss per epoch: 15 epochs, 15 losses",
                                                                     (16,): "one loss per epoch: 15 epochs, 15 losses"})
    expected_model, expected = oracle_fit(x, y, 15, 0.2)
    mse = lambda m: F.mse_loss(m(x)[0], y)  # noqa: E731
    expect_close(history, expected, f"the history of {call}", rtol=1e-9, mistakes=[
        (oracle_fit(x, y, 15, 0.2, record_after=True)[1],
         "each entry is the loss after the update: record loss.item() of the loss computed before optimizer.step()"),
        (oracle_fit(x, y, 15, 0.2, zero_grad=False)[1],
         "the gradients piled up: clear them (optimizer.zero_grad()) at the start of every epoch"),
        (oracle_fit(x, y, 15, 0.2, optimizer=None)[1], "that is plain gradient descent (SGD): use Adam"),
        (oracle_fit(x, y, 15, 0.2, loss_of=mse)[1], "that trains on the MSE of the mean, so the variance head never "
                                                    "learns: train on gaussian_nll_loss"),
    ])
    with torch.no_grad():
        expect_close(torch.cat(model(x)), torch.cat(expected_model(x)), "the trained model's means and log-variances",
                     rtol=1e-9, atol=1e-12)


@pytest.mark.task("10.9")
def test_the_fit_learns_noise_that_grows_with_x(mod):
    result = mod.regression_experiment()
    model, history = result["model"], result["history"]
    x, y = heteroscedastic_data(200, seed=0)
    with torch.no_grad():
        expected_first = float(nll_of(MeanAndLogVariance(), x, y))
    expect_close(history[0], expected_first, "the first loss of the experiment's fit (mean 0, variance 1)", rtol=1e-9)
    # The fit reaches the maximum-likelihood line: the gradient of the NLL there is (nearly) 0.
    probe = copy.deepcopy(model)
    probe.zero_grad()
    nll_of(probe, x, y).backward()
    gradient = torch.cat([p.grad.flatten() for p in probe.parameters()]).norm()
    expect_true(float(gradient) < 1e-2, f"after training, the gradient of the NLL is still {float(gradient):.3g}: "
                "200 Adam steps at lr = 0.2 should reach the minimum")
    grid = torch.linspace(0.5, 3.5, 7, dtype=F64)
    with torch.no_grad():
        sigma = (0.5 * model(grid)[1]).exp().numpy()
    truth = noise_sd(grid.numpy())
    expect_true(bool(np.all(np.abs(sigma / truth - 1) < 0.25)), f"the fitted σ(x) on x = 0.5..3.5 is "
                f"{np.round(sigma, 3).tolist()}, the true one {np.round(truth, 3).tolist()}: the fit should follow "
                "the noise within 25%")
    x_test, y_test = heteroscedastic_data(1000, seed=1)
    with torch.no_grad():
        mean, log_var = model(x_test)
        held_out = float(-Normal(mean, (0.5 * log_var).exp()).log_prob(y_test).mean())
    design = torch.stack([torch.ones_like(x), x], 1)
    line = torch.linalg.lstsq(design, y[:, None]).solution.squeeze(-1)
    residual_sd = float((y - design @ line).pow(2).mean().sqrt())
    constant = float(-Normal(line[0] + line[1] * x_test, residual_sd).log_prob(y_test).mean())
    expect_true(held_out < constant - 0.2, f"held-out NLL: the Gaussian-NLL fit {held_out:.4f} nats, least squares "
                f"with one σ {constant:.4f}: a model that knows where it is unsure should score clearly better")
    expect_close(result["held_out"]["Gaussian NLL fit"]["nll"], held_out, "the experiment's held-out NLL of the fit",
                 rtol=1e-9)
    expect_close(result["held_out"]["least squares"]["nll"], constant, "the experiment's held-out NLL of least squares",
                 rtol=1e-9)


@pytest.mark.task("10.9")
@pytest.mark.mpl_image_compare(filename="module10_heteroscedastic.png")
def test_figure_heteroscedastic(mod):
    return mod.plot_heteroscedastic()


@pytest.mark.task("10.9")
def test_fit_refuses_bad_settings(mod):
    x, y = heteroscedastic_data(10, seed=5)
    expect_refusals(mod.fit_heteroscedastic, works=Call(x, y, epochs=1, lr=0.1, shown="fit_heteroscedastic(10 points)"),
                    refuses=[
                        (Call(x, y, epochs=0, shown="fit_heteroscedastic(..., epochs=0)"), "there is nothing to train"),
                        (Call(x, y, lr=-1.0, shown="fit_heteroscedastic(..., lr=-1)"), "a negative rate climbs the loss"),
                        (Call(x, y[:5], shown="fit_heteroscedastic(10 x, 5 y)"), "there must be one y per x"),
                    ])
