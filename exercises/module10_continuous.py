"""Module 10: continuous distributions — differential entropy, Gaussians, and MSE as a cross-entropy.

THE IDEA
--------
So far every outcome came from a finite list. A real-valued quantity (a height,
a temperature, the error of a regression) has a *density* p(x) instead: the
probability of landing in a small interval [x, x + dx] is about p(x)·dx, and
probabilities are areas, P(a <= X <= b) = ∫_a^b p(x) dx. The sums of modules 1
and 2 become integrals (nats throughout: natural logs):

    differential entropy   h(p)     = −∫ p(x) log p(x) dx   = E_p[−log p(X)]
    cross-entropy          H(p, q)  = −∫ p(x) log q(x) dx   = E_p[−log q(X)]
    KL divergence          KL(p‖q)  =  ∫ p(x) log(p(x) / q(x)) dx

and module 2's identity still holds: H(p, q) = h(p) + KL(p‖q). As before, p is
the truth (the distribution the data come from) and q the model.

A DENSITY IS NOT A PROBABILITY
------------------------------
A density can exceed 1: Uniform(0, ½) has density 2 on its interval (area
2 · ½ = 1). Then −log p(x) = −log 2 everywhere on it, and

    h(Uniform(0, ½)) = −log 2 = −0.693147 nats:   a differential entropy can be negative.

The surprisal of a *probability* is never negative; the "surprisal" −log p(x) of
a density depends on the unit you measure x in (p(x) is probability per unit of
x: measure in millimetres and every density is 1000 times smaller than in
metres). Stretch X by a factor a and h grows by log|a|: h(aX) = h(X) + log|a|.
So h alone has no absolute zero. KL keeps every good property. In p(x)/q(x) the
unit cancels, so KL(p‖q) is unit-free: the same number in millimetres or in
metres. And Gibbs' inequality of modules 1 and 2 holds for densities too, by
Jensen's inequality for the concave log: −KL(p‖q) = E_p[log(q(X)/p(X))] <=
log E_p[q(X)/p(X)] <= log ∫ q(x) dx = log 1 = 0. So KL(p‖q) >= 0, with 0 only
when p = q, and H(p, q) >= h(p) still.

THE GAUSSIAN
------------
N(μ, σ²) has mean μ and standard deviation σ (this module always passes σ, never
the variance σ²):

    p(x) = exp(−(x − μ)² / (2σ²)) / √(2πσ²)

Its entropy, cross-entropy and KL have closed forms, and you derive them: take
the log of the density (10.1), then its expectation. Two facts are all it takes,
for X ~ N(μ, σ²) and any constant c:

    E[(X − μ)²] = σ²          E[(X − c)²] = σ² + (μ − c)²

Check values (nats): h(N(0, 1)) = 1.418939; with p = N(0, 1), q = N(1, 2²):
KL(p‖q) = 0.443147 and H(p, q) = 1.862086, and indeed 1.418939 + 0.443147 =
1.862086. The tests compare your formulas with torch.distributions
(Normal(mu, sigma).log_prob(x), .entropy(), kl_divergence(p, q)) over means and
standard deviations from tiny (1e-60) to huge (1e60).

MONTE CARLO, AND ITS ERROR BAR
------------------------------
Most pairs of densities have no closed form for H(p, q), but it is an
expectation under p, and an expectation is estimated by an average: draw
x_1, ..., x_n from p and average −log q(x_i). The estimate is random (another
seed, another number), so it comes with a standard error: the standard
deviation of the estimate itself. Work out how it depends on n: the terms are
independent, and the variance of a sum of independent terms is the sum of
their variances. The spread of one term is unknown, but the sample standard
deviation of the n terms estimates it. Once you have it, say how many times
the samples it takes to halve the error bar, and how many to buy one more
correct digit. (Draw from q instead of p and you estimate h(q), not H(p, q):
the samples must come from the truth.)

FROM BINS TO DENSITIES
----------------------
Module 1's entropy is for a discrete distribution. Cut the line into bins of
width Δ, [kΔ, (k + 1)Δ) for every integer k, and let P_k be the fraction of the
samples in bin k: a discrete distribution, with an entropy H(P). As Δ shrinks,
H(P) grows without bound (halving their width adds about log 2: one more bit to
say which half). To see by how much, write P_k ≈ p(x_k)·Δ for a small bin around
x_k inside −Σ_k P_k log P_k and split the logarithm in two: one sum is a Riemann
sum that tends to h(p), the other depends on Δ alone. Remove that second part and
you have an estimate of h from samples (10.6), which is how module 1's H and
this module's h meet. With finitely many samples Δ cannot shrink for ever: once
the bins are so narrow that each sample sits alone, H(P) = log n whatever Δ, and
the corrected value falls away below h (the figure shows where).

MSE IS A CROSS-ENTROPY
----------------------
Module 2 found MSE on *probabilities* a poor loss for a classifier. For a
real-valued target it is the natural loss, and this is why. A model that
predicts ŷ_i for the target y_i and says "y_i ~ N(ŷ_i, σ²), with one fixed σ"
has the mean negative log-likelihood (the cross-entropy of the data under the
model: nats per sample, averaged over the N samples)

    NLL = (1/N) Σ_i −log N(y_i; ŷ_i, σ²).

Write it out with 10.1: it is MSE = (1/N) Σ_i (y_i − ŷ_i)² times a positive
factor, plus a constant, both depending only on σ (10.7). So whatever ŷ
minimises the MSE minimises the NLL: least squares *is* cross-entropy
minimisation, under a Gaussian model with a fixed σ. (Module 2's verdict and
this one agree: choose the loss by the distribution you believe the target has,
categorical or Gaussian.) Minimise the NLL over σ too and you find the best
noise level for a given MSE: check that it is σ = √MSE.

HETEROSCEDASTIC REGRESSION: LET THE MODEL SAY HOW SURE IT IS
------------------------------------------------------------
One fixed σ claims every prediction is equally uncertain. When the noise grows
with x, a model can predict a mean μ(x) *and* a variance σ²(x), and train on the
Gaussian NLL itself: where the data are noisy it learns a large σ² (errors there
cost little), where they are tight a small one. PyTorch's nn.GaussianNLLLoss
computes it, with conventions to mind (its documentation has them all):
- an instance is called as loss(input, target, var): input is the predicted
  mean, target the observed y, and var the variance σ² itself;
- full=False, the default, drops the constant ½ log(2π) of every term; with
  full=True the value is the true NLL in nats;
- var is clamped from below at eps (default 1e-6) before the log and the
  division, for stability;
- reduction="mean" averages over the samples.
The model of task 10.9 predicts log σ², not σ²: what must go in as var?
The given model MeanAndLogVariance (kata/given/module10.py) predicts log σ²,
so that σ² = exp(log σ²) is positive whatever its weights.

THE EXPERIMENT (given code, built on your functions): 200 points, x uniform on
[0, 4], y = 0.5 + 1.5x + noise whose σ grows from 0.1 at x = 0 to 0.9 at x = 4.
Least squares fits the line and one σ (√MSE, about 0.49); the Gaussian-NLL fit
learns a line of its own and a σ(x) that follows the noise. On 1000 held-out
points its NLL is 0.26 nats against 0.63 for least squares, at about the same MSE.

WHAT YOU WRITE
--------------
10.1 gaussian_log_pdf(x, mu, sigma)            log p(x) of N(μ, σ²), elementwise, in nats
10.2 gaussian_entropy(sigma)                   h(N(μ, σ²)) in closed form
10.3 gaussian_cross_entropy(mu_p, sigma_p, mu_q, sigma_q)    H(p, q) in closed form
10.4 gaussian_kl(mu_p, sigma_p, mu_q, sigma_q)               KL(p‖q) in closed form
10.5 monte_carlo_cross_entropy(mu_p, sigma_p, mu_q, sigma_q, n, seed)
                                               the sample estimate of H(p, q) and its standard error
10.6 binned_entropy(samples, width)            the entropy of the histogram, corrected to estimate h
10.7 nll_from_mse(mse, sigma)                  the fixed-σ Gaussian NLL from the MSE alone
10.8 gaussian_nll_loss(mean, log_var, y)       the NLL with nn.GaussianNLLLoss, conventions fixed
10.9 fit_heteroscedastic(x, y, epochs, lr)     train MeanAndLogVariance on it with Adam

THE FIGURES (make run-module-10; the tests compare them with plots_baseline/)
-----------
1. monte_carlo: the estimate of H(N(0, 1), N(1, 2²)) against n (log scale) with
   its ±1 standard-error band, closing in on the closed form 1.862086; beside
   it the standard error itself on log-log axes, a line of slope −½.
2. binned_entropy: the corrected binned entropy against the bin width Δ = 2, 1,
   ½, ..., 2⁻¹³ (log scale, shrinking to the right) for N(0, 1) samples (n = 1000
   and 100,000) and Uniform(0, ½) samples (n = 100,000), with each h (1.419 and
   −0.693, negative). Two errors pull in opposite directions. Wide bins blur the
   density, and every curve starts above its h; at Δ = 2 and 1 a single bin holds
   every Uniform sample, so H(P) = 0 and the value is the correction term alone.
   Bins too many for the samples leave each one a handful of them or none, H(P)
   comes out low, and every curve ends below its h. The large samples have a
   stretch in between where both errors are small: N(0, 1) with n = 100,000 stays
   within 0.005 of h from Δ = ¼ to 1/64, and the Uniform within 0.002 of −log 2
   from Δ = ½ (where the bins tile [0, ½) exactly) to 1/512. With n = 1000 there
   is no such stretch: that curve crosses h between Δ = 1 and ½ and keeps
   falling, because bins narrow enough to stop blurring are already too many for
   a thousand samples.
3. heteroscedastic: the data with the least-squares line and its constant ±σ band,
   and the Gaussian-NLL fit with its ±σ(x) band that widens with the noise; beside
   it the predicted σ against x, with the true σ(x).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from kata import TODO  # noqa: F401  (the stubs raise it)
from kata.given.cache import course_cache
from kata.given.module10 import (
    Adam,
    MeanAndLogVariance,
    check_monte_carlo,
    check_mse,
    check_pair,
    check_points,
    check_regression_data,
    check_regression_outputs,
    check_samples,
    check_scalar_pair,
    check_sigma,
    check_width,
    heteroscedastic_data,
    noise_sd,
)
from kata.given.plots import module10 as draw
from kata.given.torchtools import one_thread

from .module01_cross_entropy import entropy


def gaussian_log_pdf(x, mu, sigma):
    """log p(x) of the Gaussian N(mu, sigma²) (sigma: the standard deviation), in nats, elementwise.

    x, mu, sigma: numbers, arrays or tensors that broadcast; sigma > 0. x = ±inf gives -inf.
    Returns a float64 tensor of the broadcast shape.
    """
    x, mu, sigma = check_points(x, mu, sigma)
    # TODO 10.1: return log p(x) of N(mu, sigma²) at every x, in nats: take the log of the lesson's
    #   density on paper and write the result, not log(exp(...)) (40σ from the mean the density
    #   underflows to 0, while its log is a perfectly good −800.9). x, mu and sigma arrive as float64
    #   tensors of one broadcast shape; sigma is the standard deviation. At x = ±inf return −inf.
    #   Check values: at x = 0, N(0, 1) gives −0.918939 and N(0, 0.1²) gives +1.383647 (a density above 1).
    raise TODO("10.1")


def gaussian_entropy(sigma):
    """Differential entropy h(N(mu, sigma²)) in nats, for every sigma (the mean does not matter).

    sigma: a number, an array or a tensor of standard deviations > 0. Returns a float64 tensor of its shape.
    """
    sigma = check_sigma(sigma)
    # TODO 10.2: return h(N(mu, sigma²)) = E[−log p(X)] in nats for every sigma (a float64 tensor of
    #   standard deviations > 0). Derive it from 10.1 with the lesson's fact E[(X − μ)²] = σ². The
    #   mean drops out (sliding a density along the line does not change its entropy), so only sigma is
    #   passed. Check values: 1.418939 at sigma = 1, 2.112086 at sigma = 2, and below 0 for sigma < 0.242.
    raise TODO("10.2")


def gaussian_cross_entropy(mu_p, sigma_p, mu_q, sigma_q):
    """Cross-entropy H(p, q) = E_p[-log q(X)] of p = N(mu_p, sigma_p²) and q = N(mu_q, sigma_q²), in nats.

    The four parameters broadcast (sigmas > 0: standard deviations). Returns a float64 tensor.
    """
    mu_p, sigma_p, mu_q, sigma_q = check_pair(mu_p, sigma_p, mu_q, sigma_q)
    # TODO 10.3: return H(p, q) = E_p[−log q(X)] in nats, elementwise, for p = N(mu_p, sigma_p²) (the
    #   truth: X is drawn from it) and q = N(mu_q, sigma_q²) (the model); all four arrive as broadcast
    #   float64 tensors, sigmas being standard deviations. Write −log q(x) from 10.1 and take its
    #   expectation under p with the lesson's second fact. Check value: H(N(0, 1), N(1, 2²)) = 1.862086.
    raise TODO("10.3")


def gaussian_kl(mu_p, sigma_p, mu_q, sigma_q):
    """KL(p ‖ q) of p = N(mu_p, sigma_p²) (the truth) and q = N(mu_q, sigma_q²) (the model), in nats.

    The four parameters broadcast (sigmas > 0: standard deviations). Returns a float64 tensor, >= 0.
    """
    mu_p, sigma_p, mu_q, sigma_q = check_pair(mu_p, sigma_p, mu_q, sigma_q)
    # TODO 10.4: return KL(p ‖ q) = E_p[log p(X) − log q(X)] in nats, elementwise, for p = N(mu_p,
    #   sigma_p²) the truth and q = N(mu_q, sigma_q²) the model (broadcast float64 tensors, sigmas are
    #   standard deviations). It must be 0 when p = q (to rounding) and never negative. Check values:
    #   KL(N(0, 1) ‖ N(1, 2²)) = 0.443147, and the other way round KL(N(1, 2²) ‖ N(0, 1)) = 1.306853.
    raise TODO("10.4")


def monte_carlo_cross_entropy(mu_p, sigma_p, mu_q, sigma_q, n, seed=0):
    """Monte-Carlo estimate of H(N(mu_p, sigma_p²), N(mu_q, sigma_q²)) from n samples of p.

    The parameters are single numbers (sigmas > 0); n >= 2; seed seeds a torch.Generator.
    Returns (estimate, standard_error): two floats, in nats.
    """
    mu_p, sigma_p, mu_q, sigma_q = check_scalar_pair(mu_p, sigma_p, mu_q, sigma_q)
    n, seed = check_monte_carlo(n, seed)
    # TODO 10.5: estimate H(p, q) = E_p[−log q(X)] by an average over n samples and return
    #   (estimate, standard_error) as two floats in nats. Draw the n samples of p in one call from a
    #   torch.Generator seeded with `seed`, as float64: torch.randn(n, ...) scaled and shifted and
    #   torch.normal(mu_p, sigma_p, (n,), ...) give the same numbers. The estimate is the mean of −log q
    #   over them (your gaussian_log_pdf); the standard error is worked out from n and the sample standard
    #   deviation of those n terms, with Bessel's n − 1 (torch's .std() default; numpy's np.std needs ddof=1).
    #   Check value: the lesson's pair with n = 10_000 and seed 0 gives 1.8689 ± 0.0031.
    raise TODO("10.5")


def binned_entropy(samples, width):
    """Estimate the differential entropy h (nats) of the distribution the samples come from, by binning.

    samples: a 1-D array (or tensor) of finite numbers; width: the bin width > 0. Bin k is
    [k·width, (k + 1)·width). Returns a float.
    """
    samples = check_samples(samples)
    width = check_width(width)
    # TODO 10.6: put the samples (a 1-D float64 numpy array) in the bins [k·width, (k + 1)·width) for
    #   every integer k (edges at the multiples of width: a sample exactly on an edge belongs to the bin
    #   on its right, and negative samples have negative k), let P_k be the fraction of the n samples in
    #   bin k, take the discrete entropy H(P) of those fractions in nats (your module-1 entropy; empty
    #   bins add nothing), and return H(P) corrected as the lesson derives, so that it tends to h as
    #   width → 0 (a float). Size: in this module's tests and figures the samples of one call never span
    #   more than 100,000 bins (from the lowest sample's bin to the highest's), so a histogram over that
    #   whole range fits in memory. Check value: 2**16 samples of Uniform(0, ½) in bins of width 1/16
    #   give −0.6931 (within 0.001).
    raise TODO("10.6")


def nll_from_mse(mse, sigma):
    """The mean Gaussian negative log-likelihood (nats per sample) of predictions with mean squared error mse.

    The model says y_i ~ N(prediction_i, sigma²) with one fixed sigma > 0; mse >= 0.
    mse and sigma broadcast; returns a float64 tensor.
    """
    mse, sigma = check_mse(mse, sigma)
    # TODO 10.7: return the mean over the N samples of −log N(y_i; ŷ_i, sigma²) in nats, knowing only
    #   mse = (1/N) Σ (y_i − ŷ_i)² and the fixed standard deviation sigma: average 10.1's −log p over the
    #   samples on paper and collect what depends on the errors. mse and sigma arrive as broadcast float64
    #   tensors; return one of their shape. Check values: 0.918939 at (mse = 0, sigma = 1) and
    #   2.112086 at (mse = 4, sigma = 2).
    raise TODO("10.7")


def gaussian_nll_loss(mean, log_var, y):
    """Mean Gaussian NLL (nats) of targets y under N(mean, exp(log_var)), as nn.GaussianNLLLoss computes it.

    mean, log_var, y: (N,) tensors; log_var is the predicted log-variance log σ². full=True
    (the constant ½ log 2π kept), eps = 1e-6 (smaller variances are clamped to it), mean over
    the N examples. Returns a 0-d tensor, differentiable with respect to mean and log_var.
    """
    mean, log_var, y = check_regression_outputs(mean, log_var, y)
    # TODO 10.8: return the mean over the N examples of −log N(y_i; mean_i, σ_i²) in nats, where the
    #   model predicts log_var_i = log σ_i², as a 0-d tensor that autograd can differentiate with respect
    #   to mean and log_var. The number is the one nn.GaussianNLLLoss gives with full=True (the constant
    #   kept, so it is the true NLL), its default eps = 1e-6 (a variance below eps is raised to eps) and
    #   reduction="mean": calling it or writing the NLL yourself are both fine, the clamp included.
    #   Check value: mean 0, log_var 0 and y = 1 give 1.418939.
    raise TODO("10.8")


def fit_heteroscedastic(x, y, epochs=200, lr=0.2):
    """Fit MeanAndLogVariance() to (x, y) on the Gaussian NLL, full batch, with Adam.

    x, y: (N,) float64 tensors. Returns (model, history): the trained model and the loss of
    each epoch, computed before that epoch's update (a list of `epochs` floats, nats).
    """
    x, y = check_regression_data(x, y, epochs, lr)
    # TODO 10.9: fit a fresh MeanAndLogVariance() (given: it starts at mean 0, variance 1, and maps x to
    #   (mean, log_var)) to all of (x, y) with Adam at learning rate lr (torch.optim.Adam, or the given Adam
    #   from kata.given.module10: the same numbers, without the seconds torch.optim's first use costs), one
    #   full-batch step per epoch for `epochs` epochs, on your gaussian_nll_loss; each update uses the
    #   gradient of that epoch's loss alone. Return (model, history), history[k] being the loss (a Python
    #   float) computed in epoch k on all of (x, y), before that epoch's update.
    #   Check value: with the defaults on the experiment's 200 points history[0] is 9.3255 and the last
    #   loss is 0.3200.
    raise TODO("10.9")


# ---------------------------------------------------------------------------
# Given code: the experiments, the figures and the printout. They use your functions.

P = (0.0, 1.0)  # the lesson's truth p = N(0, 1): (mean, standard deviation)
Q = (1.0, 2.0)  # and its model q = N(1, 2²)
MC_SIZES = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000)
BIN_WIDTHS = tuple(2.0**-k for k in range(-1, 14))  # 2, 1, ½, ..., 2**-13: powers of 2, so ½ is one of the edges
HALF = 0.5  # Uniform(0, ½)


def monte_carlo_curve(sizes=MC_SIZES, seed=0) -> dict:
    """The Monte-Carlo estimate of H(p, q) and its standard error at each n, and the closed form."""
    results = [monte_carlo_cross_entropy(*P, *Q, n, seed=seed) for n in sizes]
    # Var(-log q(X)) for X ~ p in closed form: -log q is a quadratic in X (the dashed reference line).
    shift, (sigma_p, sigma_q) = P[0] - Q[0], (P[1], Q[1])
    spread = math.sqrt(4 * shift**2 * sigma_p**2 + 2 * sigma_p**4) / (2 * sigma_q**2)
    return {"n": np.array(sizes), "estimate": np.array([r[0] for r in results]),
            "standard_error": np.array([r[1] for r in results]),
            "exact": float(gaussian_cross_entropy(*P, *Q)), "term_sd": spread}


def entropy_samples(seed=0) -> dict:
    """The samples behind figure 2: 100,000 of N(0, 1) (the first 1000 are the small sample) and of Uniform(0, ½)."""
    rng = np.random.default_rng(seed)
    normal = rng.standard_normal(100_000)
    return {"N(0, 1), n = 1000": normal[:1000], "N(0, 1), n = 100,000": normal,
            "Uniform(0, ½), n = 100,000": rng.uniform(0.0, HALF, 100_000)}


def binned_curves(widths=BIN_WIDTHS) -> dict:
    """binned_entropy of each sample of entropy_samples() at each width, and the true h of each."""
    curves = {name: np.array([binned_entropy(samples, w) for w in widths])
              for name, samples in entropy_samples().items()}
    return {"widths": np.array(widths), "curves": curves,
            "h": {"N(0, 1)": float(gaussian_entropy(1.0)), "Uniform(0, ½)": math.log(HALF)}}


def least_squares(x, y):
    """The least-squares line through (x, y) and its best single noise level.

    Returns (intercept, slope, sigma) as floats, sigma = √MSE of the residuals: the σ that
    minimises the fixed-σ Gaussian NLL for that MSE (task 10.7).
    """
    design = torch.stack([torch.ones_like(x), x], dim=1)
    solution = torch.linalg.lstsq(design, y[:, None]).solution.squeeze(-1)
    residuals = y - design @ solution
    return float(solution[0]), float(solution[1]), float(residuals.pow(2).mean().sqrt())


@course_cache
@one_thread()
def regression_experiment(n_train=200, n_test=1000) -> dict:
    """Least squares against the Gaussian-NLL fit on the heteroscedastic data, scored on held-out points."""
    x, y = heteroscedastic_data(n_train, seed=0)
    x_test, y_test = heteroscedastic_data(n_test, seed=1)
    intercept, slope, sigma = least_squares(x, y)
    with torch.enable_grad():  # even if the caller is inside torch.no_grad()
        model, history = fit_heteroscedastic(x, y)
    with torch.no_grad():
        mean, log_var = model(x_test)
        nll_fit = float(gaussian_nll_loss(mean, log_var, y_test))
    line = intercept + slope * x_test
    mse_line = float((y_test - line).pow(2).mean())
    return {"x": x.numpy(), "y": y.numpy(), "model": model.eval(), "history": history,
            "least_squares": {"intercept": intercept, "slope": slope, "sigma": sigma},
            "held_out": {"least squares": {"nll": float(nll_from_mse(mse_line, sigma)), "mse": mse_line},
                         "Gaussian NLL fit": {"nll": nll_fit, "mse": float((y_test - mean).pow(2).mean())}}}


def plot_monte_carlo():
    """Figure 1: the Monte-Carlo estimate of H(p, q) and its standard error as n grows."""
    return draw.monte_carlo(monte_carlo_curve())


def plot_binned_entropy():
    """Figure 2: the corrected binned entropy approaching h as the bins shrink."""
    return draw.binned_entropy(binned_curves())


def heteroscedastic_curves(n_grid=101) -> dict:
    """Figure 3's numbers: both fits' mean and σ on a grid of x, the data and the true σ(x)."""
    result = regression_experiment()
    grid = torch.linspace(0.0, 4.0, n_grid, dtype=torch.float64)
    with torch.no_grad():
        mean, log_var = result["model"](grid)
    fit = result["least_squares"]
    return {"x": result["x"], "y": result["y"], "grid": grid.numpy(),
            "nll_mean": mean.numpy(), "nll_sigma": (0.5 * log_var).exp().numpy(),
            "ls_mean": (fit["intercept"] + fit["slope"] * grid).numpy(), "ls_sigma": fit["sigma"],
            "true_sigma": noise_sd(grid.numpy()), "held_out": result["held_out"]}


def plot_heteroscedastic():
    """Figure 3: least squares with one σ against the Gaussian-NLL fit with σ(x)."""
    return draw.heteroscedastic(heteroscedastic_curves())


def report():
    """Print the module's numbers (make run-module-10)."""
    print(f"log p(0) of N(0, 0.1²) = {float(gaussian_log_pdf(0.0, 0.0, 0.1)):.6f} nats (a density above 1); "
          f"h(N(0, 1)) = {float(gaussian_entropy(1.0)):.6f}; h(N(0, 0.1²)) = {float(gaussian_entropy(0.1)):.6f} (negative)")
    h, kl, ce = float(gaussian_entropy(P[1])), float(gaussian_kl(*P, *Q)), float(gaussian_cross_entropy(*P, *Q))
    print(f"p = N(0, 1), q = N(1, 2²): KL(p‖q) = {kl:.6f}, KL(q‖p) = {float(gaussian_kl(*Q, *P)):.6f}, "
          f"H(p, q) = {ce:.6f} = h(p) + KL(p‖q) = {h + kl:.6f}")
    for n in (100, 10_000, 1_000_000):
        estimate, error = monte_carlo_cross_entropy(*P, *Q, n, seed=0)
        print(f"  Monte Carlo, n = {n:>9,}: H(p, q) ≈ {estimate:.4f} ± {error:.4f}  ({(estimate - ce) / error:+.2f} s.e. "
              "from the closed form)")
    samples = entropy_samples()
    uniform = samples["Uniform(0, ½), n = 100,000"]
    print(f"Uniform(0, ½): binned entropy at width 1/64 = {binned_entropy(uniform, 1 / 64):.4f}, h = -log 2 = "
          f"{math.log(HALF):.4f}")
    normal = samples["N(0, 1), n = 100,000"]
    for width in (1.0, 0.1, 0.01, 0.001):
        print(f"  N(0, 1), 100,000 samples, width {width:<6g}: binned entropy {binned_entropy(normal, width):.4f}  "
              f"(h = {h:.4f})")
    print(f"NLL from MSE: (mse 0, σ 1) -> {float(nll_from_mse(0.0, 1.0)):.6f}, (mse 4, σ 2) -> "
          f"{float(nll_from_mse(4.0, 2.0)):.6f} nats")
    result = regression_experiment()
    fit = result["least_squares"]
    print(f"Least squares: y = {fit['intercept']:.3f} + {fit['slope']:.3f}·x, one σ = {fit['sigma']:.3f}")
    print(f"Gaussian NLL fit: loss {result['history'][0]:.4f} -> {result['history'][-1]:.4f} nats over "
          f"{len(result['history'])} epochs")
    for name, score in result["held_out"].items():
        print(f"  held out (1000 points), {name:<16}: NLL {score['nll']:.4f} nats   MSE {score['mse']:.4f}")
