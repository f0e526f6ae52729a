"""Module 2: cross-entropy vs KL divergence vs MSE, and why CE trains better.

THE IDEA
--------
Cross-entropy H(p, q) mixes two things: how uncertain the truth p is by itself,
H(p), and how much extra you pay because you predicted q instead of p. That
extra is the Kullback-Leibler divergence:

    KL(p || q) = Σ_x p(x) log( p(x) / q(x) )        (terms with p(x) = 0 add 0)

    H(p, q) = H(p) + KL(p || q)

KL(p || q) >= 0, and it is 0 exactly when q = p. H(p) does not depend on the
prediction, so minimising the cross-entropy *is* minimising the KL divergence;
the two losses differ by a constant and have the same gradients.

KL is not a distance:
- it is asymmetric, KL(p || q) != KL(q || p) in general, and
- it is infinite where q(x) = 0 < p(x): predicting "impossible" for something
  that happens costs without bound. (Clipping q at a tiny eps, as many tutorials'
  code does, turns that infinity into an arbitrary finite number; here we want
  to see it.)

MSE on probabilities, mean((p - q)^2) over the classes, is a fine *measure*
but a poor *loss* for a classifier. Take a logit z, the prediction σ(z) for
the true label y = 1, and ask how hard each loss pushes z:

    BCE  -[y log σ + (1 - y) log(1 - σ)]   d/dz = σ(z) - y
    MSE  (σ(z) - y)^2                      d/dz = 2 (σ(z) - y) · σ(z) (1 - σ(z))

(chain rule with σ'(z) = σ(1 - σ)). At z = -10 (confidently wrong, σ ≈ 4.5e-5)
BCE pulls with -0.99995 but MSE with only -9.08e-5: the factor σ(1 - σ)
vanishes exactly when the model is most wrong, so MSE learns slowest where it
should learn fastest. The log in the cross-entropy cancels that factor.

A COMMON MISTAKE: THE MISSING MINUS SIGN
---------------------------------------
A widely shared notebook writes H(P, Q) = Σ P log Q. Without the minus sign
every "cross-entropy" is negative (log Q <= 0): it gets -1.081978 for q1 below
and -1.262864 for q2. Minimising that number would pick q2, the *worse*
prediction (q2 is further from p: its KL is 0.233 against q1's 0.052). The
notebook's KL = H(P) - H(P, Q) still comes out right only because its H(P) lost
the same sign, and two sign errors cancel. The right signs are
H(p, q) = -Σ p log q >= H(p) = -Σ p log p >= 0.

THE NUMBERS (p = [.2, .3, .5], nats)
-----------
    H(p) = 1.029653
    q1 = [.1, .4, .5]:  H(p, q1) = 1.081978   KL(p||q1) = 0.052325   KL(q1||p) = 0.045758
    q2 = [.1, .1, .8]:  H(p, q2) = 1.262864   KL(p||q2) = 0.233211   KL(q2||p) = 0.196827
Check the identity: 1.029653 + 0.052325 = 1.081978.

WHAT YOU WRITE
--------------
2.1 kl_divergence(p, q)          Σ p log(p/q) over the last axis, 0 where p = 0,
                                 +inf where q = 0 < p (no warning, no clipping)
2.2 mse(p, q)                    the mean of (p - q)^2 over the last axis
2.3 decomposition(p, q)          (H(p, q), H(p), KL(p || q)) with your module-1
                                 cross_entropy and entropy and your kl_divergence
2.4 divergences_torch(p, q)      the same three numbers in PyTorch
2.5 bce_logit_gradient(z, y)     σ(z) - y
2.6 mse_logit_gradient(z, y)     2 (σ(z) - y) σ(z) (1 - σ(z))

THE FIGURE (make run-module-2, and the test compares it with plots_baseline/)
----------
Left: a two-class truth p = [0.8, 0.2] and a prediction q = [q, 1 - q] as q
sweeps (0, 1). Cross-entropy and KL have the same shape, H(p) = 0.500 nats
apart; both bottom out at q = p, KL at 0. MSE bottoms out there too but stays
small and flat even for terrible predictions. Right: the gradient w.r.t. the
logit z for the true label y = 1 as z moves from right (z = 6) to badly wrong
(z = -10): BCE's gradient grows to -1, MSE's shrinks back towards 0.
"""

from __future__ import annotations

import numpy as np

from kata import TODO  # noqa: F401  (the stubs raise it)
from kata.given.checks import as_distribution, as_logits, as_probabilities, broadcast_pair
from kata.given.plots import module02 as draw

from .module01_cross_entropy import cross_entropy, entropy


def kl_divergence(p, q):
    """KL(p || q) = Σ p log(p / q) over the last axis, in nats.

    p: (..., C) true distribution(s); q: (..., C) predicted distribution(s);
    they broadcast against each other. Returns shape (...): a float for one
    pair. Terms with p = 0 add 0; a class with q = 0 < p makes it +inf.
    """
    p, q = broadcast_pair(as_distribution(p, "p"), as_distribution(q, "q"))
    # TODO 2.1: sum p·log(p/q) over the last axis (axis=-1). Terms where p = 0
    #   must add 0, not 0·log(0/q) = nan: with the mask p > 0, put 1 in place of
    #   p AND of q where p = 0 before the log, then zero those terms with
    #   np.where. Do NOT clip q: where q = 0 < p the answer is +inf. Compute inside
    #   np.errstate(divide="ignore") so that log(p/0) gives inf without a warning.
    raise TODO("2.1")


def mse(p, q):
    """Mean squared error mean((p - q)^2) over the last axis (the classes).

    p, q: (..., C) distributions that broadcast. Returns shape (...).
    """
    p, q = broadcast_pair(as_distribution(p, "p"), as_distribution(q, "q"))
    # TODO 2.2: the MEAN over the last axis (axis=-1) of the squared differences
    #   (p - q)**2. No square root, and not the sum.
    raise TODO("2.2")


def decomposition(p, q):
    """The identity H(p, q) = H(p) + KL(p || q), as numbers.

    p, q: (..., C) distributions. Returns the tuple
    (cross_entropy(p, q), entropy(p), kl_divergence(p, q)), each of shape (...).
    """
    p, q = broadcast_pair(as_distribution(p, "p"), as_distribution(q, "q"))
    # TODO 2.3: return the tuple (cross-entropy H(p, q), entropy H(p),
    #   KL(p || q)), in that order: use cross_entropy and entropy from your
    #   module 1 (already imported) and kl_divergence from task 2.1. Do not
    #   compute KL as a difference: the point is to see the identity hold.
    raise TODO("2.3")


def divergences_torch(p, q):
    """(H(p, q), H(p), KL(p || q)) in nats, computed with PyTorch.

    p, q: one distribution each, shape (C,). Returns three Python floats.
    """
    p, q = broadcast_pair(as_distribution(p, "p"), as_distribution(q, "q"))
    if p.ndim != 1:
        raise ValueError(f"divergences_torch takes one distribution each, shape (C,), got shape {p.shape}")
    import torch  # imported here: only this function needs it
    import torch.nn.functional as F  # noqa: N812

    p, q = torch.tensor(p, dtype=torch.float64), torch.tensor(q, dtype=torch.float64)
    # TODO 2.4: with torch operations on the float64 tensors p and q:
    #   cross-entropy = -(p * torch.log(q)).sum(); entropy = torch.special.entr(p).sum()
    #   (entr(x) = -x log x, and 0 at x = 0); KL = F.kl_div(torch.log(q), p,
    #   reduction="sum"). Mind kl_div's order: the LOG of the prediction first,
    #   the truth second; and reduction="sum" (the default "mean" divides by the
    #   number of classes). Return the three as Python floats (.item()).
    raise TODO("2.4")


def _logit_and_label(z, y):
    z = as_logits(np.asarray(z, dtype=float), "z", scalar=True)
    y = as_probabilities(y, "y")
    try:
        return np.broadcast_arrays(z, y)
    except ValueError:
        raise ValueError(f"z and y have shapes {z.shape} and {y.shape}, which do not broadcast") from None


def sigmoid(z):
    """σ(z) = 1 / (1 + e^-z), written as 0.5 (1 + tanh(z/2)) so it never overflows.

    Given code here; module 4 has you write your own.
    """
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))


def bce_logit_gradient(z, y):
    """d/dz of the binary cross-entropy -[y log σ(z) + (1-y) log(1-σ(z))].

    z: logits; y: labels (or target probabilities) in [0, 1]; they broadcast.
    Returns the elementwise gradient, same shape.
    """
    z, y = _logit_and_label(z, y)
    # TODO 2.5: return sigmoid(z) - y (use the given sigmoid above). Derive it:
    #   dL/dσ = -y/σ + (1-y)/(1-σ), times σ'(z) = σ(1-σ).
    raise TODO("2.5")


def mse_logit_gradient(z, y):
    """d/dz of the squared error (σ(z) - y)^2 on the sigmoid's output.

    z: logits; y: labels in [0, 1]; they broadcast. Returns the elementwise gradient.
    """
    z, y = _logit_and_label(z, y)
    # TODO 2.6: return 2·(σ - y)·σ·(1 - σ) with σ = sigmoid(z): the derivative
    #   of the square, 2(σ - y), times the chain-rule factor σ'(z) = σ(1 - σ).
    raise TODO("2.6")


# ---------------------------------------------------------------------------
# Given code: the figure and the printout. They use your functions above.

P = np.array([0.2, 0.3, 0.5])
Q1 = np.array([0.1, 0.4, 0.5])
Q2 = np.array([0.1, 0.1, 0.8])
FIGURE_TRUTH = 0.8  # the figure's two-class truth p = [0.8, 0.2]


def divergence_curves(truth=FIGURE_TRUTH, n_points=199):
    """q in (0, 1) and the losses of the prediction [q, 1-q] against the truth [truth, 1-truth].

    Returns (qs: (n_points,), {"cross-entropy": ..., "KL divergence": ..., "MSE": ...}),
    each curve of shape (n_points,), in nats (MSE has no unit).
    """
    qs = np.linspace(0.005, 0.995, n_points)
    p = np.array([truth, 1.0 - truth])
    predictions = np.stack([qs, 1.0 - qs], axis=-1)
    return qs, {"cross-entropy": cross_entropy(p, predictions),
                "KL divergence": kl_divergence(p, predictions),
                "MSE": mse(p, predictions)}


def logit_gradient_curves(y=1.0, z_from=6.0, z_to=-10.0, n_points=161):
    """Logits z from z_from to z_to and the gradients w.r.t. z for the label y.

    Returns (zs: (n_points,), {"BCE": ..., "MSE on sigmoid": ...}).
    """
    zs = np.linspace(z_from, z_to, n_points)
    return zs, {"BCE": bce_logit_gradient(zs, y), "MSE on sigmoid": mse_logit_gradient(zs, y)}


def plot_ce_kl_mse():
    """Figure 2: CE, KL and MSE of a prediction; the logit gradients of BCE and MSE."""
    qs, curves = divergence_curves()
    h = float(entropy(np.array([FIGURE_TRUTH, 1.0 - FIGURE_TRUTH])))
    zs, gradients = logit_gradient_curves()
    return draw.ce_kl_mse(qs, curves, FIGURE_TRUTH, h, zs, gradients)


def report():
    """Print the table for p = [.2, .3, .5] and the gradients at z = -10 (make run-module-2)."""
    print(f"p = {P}: H(p) = {float(entropy(P)):.6f} nats")
    for name, q in (("q1", Q1), ("q2", Q2)):
        ce, h, kl = decomposition(P, q)
        print(f"{name} = {q}: H(p,{name}) = {float(ce):.6f} = H(p) + KL(p||{name}) = {float(h):.6f} + {float(kl):.6f};"
              f"  KL({name}||p) = {float(kl_divergence(q, P)):.6f};  MSE = {float(mse(P, q)):.6f}")
        print(f"   in torch: H(p,{name}), H(p), KL = " + ", ".join(f"{v:.6f}" for v in divergences_torch(P, q)))
    print(f"KL([.5, .5] || [1, 0]) = {float(kl_divergence([0.5, 0.5], [1.0, 0.0]))}  (q = 0 < p)")
    print(f"gradient w.r.t. z at z = -10, y = 1: BCE {float(bce_logit_gradient(-10.0, 1.0)):.6g}, "
          f"MSE on sigmoid {float(mse_logit_gradient(-10.0, 1.0)):.6g}")
