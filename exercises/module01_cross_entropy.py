"""Module 1: surprisal, entropy and cross-entropy, in nats and in bits.

THE IDEA
--------
If an event has probability q, seeing it happen tells you
    surprisal(q) = -log q
units of information. Certain events (q = 1) tell you nothing; rare ones a lot.
With the natural log the unit is the *nat*; with log base 2 it is the *bit*
(1 nat = 1 / ln 2 ≈ 1.4427 bits).

Entropy is the average surprisal when outcomes really follow p:
    H(p) = -Σ_x p(x) log p(x)          (a term with p(x) = 0 counts as 0)

Cross-entropy is the average surprisal when outcomes follow p but you *expected* q:
    H(p, q) = -Σ_x p(x) log q(x)
It is never below H(p), and equals it exactly when q = p. That is why it is
the loss of almost every classifier: p is the true label, q the prediction,
and the loss is smallest when the prediction puts its mass where the truth is.

Order matters: p (the truth) weights the log of q (the prediction).
The minus sign matters: log q ≤ 0, so without it you get a negative number,
and minimising that would reward the *worse* prediction.

WORKED EXAMPLE
--------------
True label p = [1, 0] (class 0). Two predictions:
    q1 = [0.9, 0.1]  ->  H(p, q1) = -log 0.9 = 0.105361 nats (0.152003 bits)
    q2 = [0.2, 0.8]  ->  H(p, q2) = -log 0.2 = 1.609438 nats
q1 is confident and right, so its loss is small.

WHAT YOU WRITE
--------------
1.1 surprisal(q, base)     -log q, in nats by default, in `base` otherwise
1.2 entropy(p, base)       over the last axis, with 0·log 0 = 0
1.3 cross_entropy(p, q, eps, base)
                           over the last axis (so a batch of rows works),
                           with q clipped to [eps, 1] so log 0 never happens

THE FIGURE (make run-module-1, and the test compares it with plots_baseline/)
----------
The cross-entropy of a two-class prediction as q (the probability given to
class 0) sweeps from 0 to 1, for a few true distributions p (p = the true
probability of class 0). Each curve bottoms out at q = p, and its lowest value
is H(p). The worked example's q1 and q2 are marked on the p = 1 curve.
"""

from __future__ import annotations

import numpy as np

from kata import TODO  # noqa: F401  (the stubs raise it)
from kata.given.checks import as_distribution, as_probabilities, broadcast_pair, check_base
from kata.given.plots import module01 as draw


def surprisal(q, base=None):
    """Surprisal -log(q) of events with probability q, elementwise.

    q: float or array of probabilities in [0, 1]. base: None for nats, 2 for bits.
    Returns the same shape as q; surprisal(0) is +inf (no warning).
    """
    q = as_probabilities(q, "q")
    check_base(base)
    # TODO 1.1: return -log(q), elementwise. With base=None use the natural log
    #   (nats); otherwise divide by log(base). log(0) = -inf is fine here: silence
    #   numpy's divide warning with np.errstate(divide="ignore").
    raise TODO("1.1")


def entropy(p, base=None):
    """Entropy H(p) = -Σ p log p over the last axis.

    p: (..., C) probabilities summing to 1 over the last axis.
    Returns shape (...): a float for one distribution. Terms with p = 0 add 0.
    """
    p = as_distribution(p, "p")
    check_base(base)
    # TODO 1.2: sum p·surprisal(p) over the last axis (axis=-1). Where p is 0 the
    #   term must be 0, not 0·inf = nan. np.where(c, a, b) computes a and b
    #   everywhere, so masking the product is not enough: take the surprisal of p
    #   with its zeros replaced by 1 (surprisal(1) = 0), then zero those terms.
    raise TODO("1.2")


def cross_entropy(p, q, eps=1e-12, base=None):
    """Cross-entropy H(p, q) = -Σ p log q over the last axis.

    p: (..., C) true distribution(s); q: (..., C) predicted distribution(s);
    p and q broadcast against each other. q is clipped to [eps, 1] before the
    log, so a zero prediction costs -log(eps) instead of infinity.
    Returns shape (...): a float for one pair of distributions.
    """
    p, q = broadcast_pair(as_distribution(p, "p"), as_distribution(q, "q"))
    check_base(base)
    # TODO 1.3: clip q to [eps, 1], then sum p·surprisal(q) over the last axis.
    #   Mind the order: the truth p weights the surprisal of the prediction q.
    raise TODO("1.3")


# ---------------------------------------------------------------------------
# Given code: the figure and the printout. They use your functions above.

SEED_P = np.array([1.0, 0.0])
SEED_Q1 = np.array([0.9, 0.1])
SEED_Q2 = np.array([0.2, 0.8])
TRUE_PS = (1.0, 0.8, 0.5, 0.2)


def binary_cross_entropy_curves(true_ps=TRUE_PS, n_points=199):
    """q in (0, 1) and, for each true p of class 0, H([p, 1-p], [q, 1-q]) in nats.

    Returns (qs: (n_points,), {p: curve (n_points,)}).
    """
    qs = np.linspace(0.005, 0.995, n_points)
    predictions = np.stack([qs, 1.0 - qs], axis=-1)  # (n_points, 2)
    curves = {p: cross_entropy(np.array([p, 1.0 - p]), predictions) for p in true_ps}
    return qs, curves


def plot_binary_cross_entropy():
    """Figure 1: H(p, q) of a two-class prediction as q sweeps (0, 1)."""
    qs, curves = binary_cross_entropy_curves()
    minima = {p: float(entropy(np.array([p, 1.0 - p]))) for p in curves}
    seed = [(SEED_Q1[0], float(cross_entropy(SEED_P, SEED_Q1)), "q1 = [0.9, 0.1]"),
            (SEED_Q2[0], float(cross_entropy(SEED_P, SEED_Q2)), "q2 = [0.2, 0.8]")]
    return draw.binary_cross_entropy(qs, curves, minima, seed)


def report():
    """Print the worked example's numbers (make run-module-1)."""
    for name, q in (("q1", SEED_Q1), ("q2", SEED_Q2)):
        nats = cross_entropy(SEED_P, q)
        bits = cross_entropy(SEED_P, q, base=2)
        print(f"H(p, {name}) with p = {SEED_P}, {name} = {q}: {nats:.6f} nats = {bits:.6f} bits")
    print(f"entropy([.1, .5, .1, .3]) = {entropy([0.1, 0.5, 0.1, 0.3], base=2):.6f} bits")
