"""Module 1: surprisal, entropy and cross-entropy, in nats and in bits.

THE IDEA
--------
If an event has probability q, seeing it happen tells you
    surprisal(q) = -log q
units of information. Certain events (q = 1) tell you nothing; rare ones a lot;
an impossible one (q = 0) would be infinitely surprising.
With the natural log the unit is the *nat*; with log base 2 it is the *bit*.
A fair coin's outcome (q = 1/2) is worth exactly 1 bit, and -ln(1/2) = 0.693147
nats. How do you turn nats into bits, or into the units of any base b? The
rule from school is enough: log_b x = ln x / ln b.

Entropy H(p) is the average surprisal when outcomes follow p: how surprised,
on average, is someone who knows p exactly? Task 1.2 asks you to write that
average as a sum over the classes. Check it against these:
    a fair coin [.5, .5]                has 1 bit;
    a sure thing [1, 0]                 has 0 (an outcome that never happens
                                        adds nothing);
    four equally likely classes         have 2 bits;
    [.1, .5, .1, .3]                    has 1.685475 bits.

Cross-entropy H(p, q) is the average surprisal of your predictions q when
outcomes follow p: the world draws outcomes from p, and you are surprised by
each one as much as your q says. Writing that average as a sum is task 1.3.
    p = [.5, .5], q = [.5, .5]          1 bit (q = p gives H(p));
    p = [1, 0],   q = [.9, .1]          0.105361 nats;
    p = [.5, .5], q = [.9, .1]          1.203973 nats, more than H(p) = 0.693147.
The exact H(p, q) is never below H(p), and equals it only when q = p (Gibbs'
inequality): nobody predicts the world better than the truth does.

Order matters: p says how often each outcome happens, q is only what you
predicted, and swapping them gives a different number. Signs matter: every
surprisal is >= 0 (log q <= 0), so both averages are >= 0; a negative one means
a minus sign went missing, and minimising it would reward the *worse*
prediction.

WHY CLASSIFIERS MINIMISE IT
---------------------------
Being smallest at q = p is not what sets cross-entropy apart: the squared
error between p and q (the Brier score) is smallest there too, as module 2's
figure shows. These are the reasons:

1. It is the negative log-likelihood. A classifier's truth is usually one
   observed label y, the one-hot p with p(y) = 1. Then H(p) = 0 and
   H(p, q) = -log q(y), the surprisal of what actually happened under the
   model (module 2's KL divergence equals it too, since H(p) = 0). Averaged
   over a data set of N labelled examples, the mean cross-entropy is the mean
   negative log-likelihood -(1/N) Σ_n log q_n(y_n): minimising it is maximum
   likelihood, choosing the model under which the observed labels are most
   probable. Module 2 fits a distribution to counts this way.
2. A confident mistake has no price ceiling: -log q(y) grows without bound as
   q(y) -> 0 (27.6 nats at q(y) = 1e-12), while the squared error against a
   one-hot truth, summed over the classes, can never exceed 2.
3. Through a softmax (module 3) its gradient with respect to the logits is
   just q - p, the prediction minus the truth: it pushes hardest where the
   prediction is most wrong. Module 2 shows what happens to a loss without
   that property.

ZEROS, AND WHY EPS IS CLIPPED, NOT ADDED
----------------------------------------
A prediction that gives 0 to something that happens has an honest
cross-entropy of +inf. Training code cannot work with that, so cross_entropy
clips q into [eps, 1] before the log: every entry below eps counts as eps,
every other entry stays exactly as it is. Two look-alikes give other numbers:
- adding eps, log(q + eps), moves *every* entry: a sure and right prediction
  q = [1, 0] for p = [1, 0] then costs -log(1 + eps) < 0, and with eps = 0.1
  q = [0.5, 0.5] for p = [0, 1] costs -log 0.6 = 0.510826 instead of
  log 2 = 0.693147;
- clipping into [eps, 1 - eps] (as module 4's binary loss does) charges a sure
  and right prediction -log(1 - eps) (0.105361 at eps = 0.1) instead of 0.
Once q is clipped, an outcome with p = 0 adds nothing: it never happens, and
its surprisal is now finite. (Unclipped, a q = 0 there would give 0 · inf, which
numpy computes as NaN.)
Clipping also means that what cross_entropy returns is not exactly H(p, q):
the clip hands out up to eps of extra probability per class, so when p puts a
tiny probability (around eps or less) on some class, cross_entropy(p, q) can
come out a hair below H(p), by at most C·eps for C classes. Gibbs' inequality
is about the exact H(p, q).

WORKED EXAMPLE
--------------
True label p = [1, 0] (class 0). Two predictions:
    q1 = [0.9, 0.1]  ->  H(p, q1) = -log 0.9 = 0.105361 nats (0.152003 bits)
    q2 = [0.2, 0.8]  ->  H(p, q2) = -log 0.2 = 1.609438 nats
q1 is confident and right, so its loss is small.

WHAT YOU WRITE
--------------
1.1 surprisal(q, base)     the information in events of probability q,
                           elementwise; nats unless `base` is given
1.2 entropy(p, base)       one entropy per distribution (the last axis); an
                           outcome with p = 0 adds nothing
1.3 cross_entropy(p, q, eps, base)
                           one cross-entropy per pair of rows (the last axis,
                           so a batch works), q clipped into [eps, 1]
Once all three pass, `make test-module-1` shows what you found: your sums as formulas.

THE FIGURE (make run-module-1, and the test compares it with plots_baseline/)
----------
The cross-entropy of a two-class prediction as q (the probability given to
class 0) sweeps from 0 to 1, for a few true distributions p (p = the true
probability of class 0). Each curve bottoms out at q = p, and its lowest value
is H(p). The worked example's q1 and q2 are marked on the p = 1 curve, the
one-hot truth, whose curve is the negative log-likelihood -log q: it rises
without bound as q -> 0.
"""

from __future__ import annotations

import numpy as np

from kata import TODO  # noqa: F401  (the stubs raise it)
from kata.given.checks import as_distribution, as_probabilities, broadcast_pair, check_base
from kata.given.module01 import check_eps
from kata.given.plots import module01 as draw


def surprisal(q, base=None):
    """Surprisal -log(q) of events with probability q, elementwise.

    q: float or array of probabilities in [0, 1]. base: None for nats, 2 for bits.
    Returns the same shape as q; surprisal(0) is +inf (no warning).
    """
    q = as_probabilities(q, "q")
    check_base(base)
    # TODO 1.1: the surprisal of every element of q, in the same shape as q: in
    #   nats when base is None, otherwise in units of log base `base` (base=2
    #   gives bits, base=10 digits). An impossible event (q = 0) has surprisal
    #   +inf, returned without a numpy warning (the tests treat a warning as an
    #   error). Check values: surprisal(0.5) = 0.693147 nats;
    #   surprisal(0.5, base=2) = 1 bit; surprisal(0.1, base=10) = 1.
    raise TODO("1.1")


def entropy(p, base=None):
    """Entropy H(p) of each distribution in p, over the last axis (the classes).

    p: (..., C) probabilities summing to 1 over the last axis.
    Returns shape (...): a float for one distribution. Classes with p = 0 add 0.
    """
    p = as_distribution(p, "p")
    check_base(base)
    # TODO 1.2: the entropy of each distribution in p: the average surprisal
    #   (your 1.1) when outcomes follow p, written as a sum over the classes,
    #   the last axis. A float for one distribution of shape (C,), shape (...)
    #   for a batch (..., C); in the units `base` asks for, as in 1.1. A class
    #   with p = 0 never happens, so it adds exactly 0: never NaN, and no numpy
    #   warning. Check values: entropy([.5, .5], base=2) = 1 bit;
    #   entropy([1, 0]) = 0; entropy([.1, .5, .1, .3], base=2) = 1.685475 bits.
    raise TODO("1.2")


def cross_entropy(p, q, eps=1e-12, base=None):
    """Cross-entropy H(p, q) of truth p and prediction q, over the last axis.

    p: (..., C) true distribution(s); q: (..., C) predicted distribution(s);
    p and q broadcast against each other. q is clipped to [eps, 1] before the
    log, so a zero prediction costs -log(eps) instead of infinity.
    Returns shape (...): a float for one pair of distributions.
    """
    p, q = broadcast_pair(as_distribution(p, "p"), as_distribution(q, "q"))
    eps = check_eps(eps)
    check_base(base)
    # TODO 1.3: the cross-entropy of each pair of rows: the average surprisal of
    #   the prediction q when outcomes follow p, written as a sum over the last
    #   axis (p and q already have one shape; one value per row). Before any
    #   log, clip q into [eps, 1]: entries below eps become eps, the others stay
    #   exactly as they are (not q + eps, and not [eps, 1 - eps]); use the eps
    #   you are given, and `base` as in 1.1. Check values:
    #   cross_entropy([1, 0], [0.9, 0.1]) = 0.105361 nats;
    #   cross_entropy([.5, .5], [.9, .1]) = 1.203973 nats;
    #   cross_entropy([1, 0], [0, 1]) = -ln(1e-12) = 27.631021 nats.
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


# Three labelled examples (one-hot truths) and a model's predictions for them.
LABELS = np.array([0, 2, 1])
PREDICTIONS = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.25, 0.25, 0.5]])


def report():
    """Print the worked example's numbers and a small likelihood (make run-module-1)."""
    for name, q in (("q1", SEED_Q1), ("q2", SEED_Q2)):
        nats = cross_entropy(SEED_P, q)
        bits = cross_entropy(SEED_P, q, base=2)
        print(f"H(p, {name}) with p = {SEED_P}, {name} = {q}: {nats:.6f} nats = {bits:.6f} bits")
    print(f"entropy([.1, .5, .1, .3]) = {entropy([0.1, 0.5, 0.1, 0.3], base=2):.6f} bits")
    one_hot = np.eye(PREDICTIONS.shape[1])[LABELS]
    losses = cross_entropy(one_hot, PREDICTIONS)
    likelihood = float(np.prod(PREDICTIONS[np.arange(len(LABELS)), LABELS]))
    print(f"labels {LABELS.tolist()}: cross-entropies {np.round(losses, 6).tolist()}, mean {losses.mean():.6f} nats "
          f"= -log(likelihood {likelihood:.6g}) / {len(LABELS)}")
