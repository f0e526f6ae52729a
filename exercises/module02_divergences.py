"""Module 2: cross-entropy vs KL divergence vs MSE, maximum likelihood, and why CE trains better.

THE IDEA
--------
Cross-entropy H(p, q) mixes two things: how uncertain the truth p is by itself,
H(p), and how much extra you pay because you predicted q instead of p. That
extra is the Kullback-Leibler divergence:

    KL(p || q) = Σ_x p(x) log( p(x) / q(x) )        (terms with p(x) = 0 add 0)

    H(p, q) = H(p) + KL(p || q)

KL(p || q) >= 0, and it is 0 exactly when q = p. H(p) does not depend on the
prediction, so minimising the cross-entropy *is* minimising the KL divergence:
as functions of q the two losses differ by a constant and have the same
gradients.

Both are dissimilarities. It is often said that cross-entropy "measures
similarity" and KL "measures difference", but both grow as q moves away from
p, and neither is symmetric; they differ only by H(p). The cross-entropy's
floor is H(p), the surprise the truth carries by itself; the KL's floor is 0.

KL is not a distance:
- it is asymmetric, KL(p || q) != KL(q || p) in general, and
- it is infinite where q(x) = 0 < p(x): predicting "impossible" for something
  that happens costs without bound. Where p(x) = 0, whatever q(x) is (0
  included), the term is 0: what never happens costs nothing.

WHERE THE IDENTITY HOLDS
------------------------
The identity is exact for the honest cross-entropy -Σ p log q. Module 1's
cross_entropy clips q at eps = 1e-12 first, which changes nothing as long as
q >= eps wherever p > 0. Where q = 0 < p it breaks: decomposition([.5, .5],
[1, 0]) gives H(p, q) = 13.815511 (clipped: .5 · -log 1e-12), H(p) = 0.693147
and KL = +inf. That is why KL must never be computed as "module 1's
cross_entropy minus entropy": it would say 13.122363 where the honest answer is
+inf. (Clipping, as many tutorials' KL code does, makes the same mistake.)

A COMMON MISTAKE: THE MISSING MINUS SIGN
---------------------------------------
A version often copied writes H(P, Q) = Σ P log Q. Without the minus sign
every "cross-entropy" is negative (log Q <= 0): it gets -1.081978 for q1 below
and -1.262864 for q2. Minimising that number would pick q2, the *worse*
prediction (q2 is further from p: its KL is 0.233 against q1's 0.052). The
same version's KL = H(P) - H(P, Q) still comes out right only because its H(P) lost
the same sign, and two sign errors cancel. The right signs are
H(p, q) = -Σ p log q >= H(p) = -Σ p log p >= 0.

THE NUMBERS (p = [.2, .3, .5], nats)
-----------
    H(p) = 1.029653
    q1 = [.1, .4, .5]:  H(p, q1) = 1.081978   KL(p||q1) = 0.052325   KL(q1||p) = 0.045758
    q2 = [.1, .1, .8]:  H(p, q2) = 1.262864   KL(p||q2) = 0.233211   KL(q2||p) = 0.196827
Check the identity: 1.029653 + 0.052325 = 1.081978.

MSE: BOUNDED, AND SLOW FROM A CONFIDENT MISTAKE
-----------------------------------------------
MSE on probabilities, the mean over the classes of (p - q)^2 (the Brier score
divided by C), is smallest at q = p too: that is not where it loses. It loses
twice. It is bounded: against a one-hot truth it never exceeds 2/C, however
confident and wrong the prediction, where the cross-entropy grows without
limit. And it trains slowly out of a confident mistake. Take a logit z, the
prediction σ(z) for the label y, and ask how hard each loss pushes z:

    BCE  -[y log σ(z) + (1 - y) log(1 - σ(z))]
    MSE  (σ(z) - y)^2

By the chain rule each derivative w.r.t. z is (its derivative w.r.t. σ) times
σ'(z), and σ'(z) = σ(1 - σ) vanishes whenever the model is confident, right or
wrong. When it is right, no harm done: there is nothing left to learn. When it
is confidently wrong, that factor throttles the very gradient that should fix
it. In the cross-entropy the log's derivative cancels the factor; in MSE
nothing does. You derive both gradients in 2.5 and 2.6; at z = -10, y = 1
(σ = 4.54e-5) BCE pulls with -0.99995 and MSE with -9.08e-5, about 11,000 times
more weakly. The cancellation happens at the output layer only: a sigmoid or
tanh in a hidden layer multiplies its own σ' into the gradient whatever the
loss.

THE TRAINING RACE
-----------------
Logistic regression on module 4's two blobs (100 points per class), started
saturated: w = [0, 0] and b = -5, so σ = σ(-5) = 0.0067 on every point and the
positives are confidently wrong. Full-batch gradient descent, lr = 0.1, 200
epochs, each run driven by one of your logit gradients (the loop is given:
train_from_saturation). BCE passes 90% training accuracy at epoch 24 and has
0.965 after 50 epochs; MSE is still at 0.5 after 100 epochs (every point on
the class-0 side) and first reaches 0.935 at epoch 198.

LIKELIHOOD: FITTING A DISTRIBUTION TO COUNTS
--------------------------------------------
Observe N outcomes of a categorical variable: n_c of class c, frequencies
f_c = n_c / N. A model q gives the data the probability Π_c q_c^(n_c), so the
mean negative log-likelihood is

    -(1/N) Σ_c n_c log q_c = -Σ_c f_c log q_c = H(f, q),

the cross-entropy of the frequencies against the model. By Gibbs' inequality
(module 1) it is smallest at q = f: the maximum-likelihood categorical is the
empirical frequencies, and its mean negative log-likelihood is H(f).

Parameterise q by logits, q = softmax(z) = exp(z) / Σ exp(z). Logits are
unnormalised log-probabilities: log q = z - log Σ exp(z), so adding one
constant to every logit changes nothing. Gradient descent on H(f, softmax(z))
from z = 0 walks q from uniform to f (task 2.7; the gradient is yours to
derive, and module 3 checks it numerically). The counts [2, 3, 5] have the
frequencies p of the table: the fit recovers [.2, .3, .5], with mean negative
log-likelihood H(p) = 1.029653. A class never observed (n_c = 0) has the
maximum-likelihood probability 0, which its logit reaches only at -inf:
gradient descent pushes it down forever (counts [3, 1, 0] give q_2 = 0.0033
after 200 steps, 0.0017 after 400). Module 7 fits a table of such counts and
smooths them instead.

ERROR RATE AGAINST CROSS-ENTROPY
--------------------------------
An argmax classifier predicts the class with the largest q (a tie goes to the
lowest class index, as np.argmax breaks it); its error rate is the fraction of
examples it gets wrong. The mean cross-entropy in bits bounds it from above:
when the prediction is wrong, some other class has at least q_y, and the two
sum to at most 1, so q_y <= 1/2 and -log2 q_y >= 1 bit; a right answer costs
>= 0. So mean CE (bits) >= error rate, with equality possible (a tie at 1/2
lost to a lower class). The reverse does not hold: the error rate cannot see
how confident a prediction was, so a classifier with a low error rate can
still have a huge cross-entropy.

WHAT YOU WRITE
--------------
2.1 kl_divergence(p, q)          KL(p || q) over the last axis: 0 where p = 0,
                                 +inf where q = 0 < p (no clipping, no warning)
2.2 mse(p, q)                    the mean over the last axis (the classes) of
                                 the squared differences
2.3 decomposition(p, q)          (H(p, q), H(p), KL(p || q)), each from its own
                                 function (module 1's and your 2.1)
2.4 divergences_torch(p, q)      the same three numbers in PyTorch, the KL from
                                 F.kl_div
2.5 bce_logit_gradient(z, y)     d BCE / dz, derived by you
2.6 mse_logit_gradient(z, y)     d (σ(z) - y)^2 / dz, derived by you
2.7 fit_categorical(counts, lr, steps)
                                 gradient descent on the mean cross-entropy over
                                 softmax logits, from z = 0: maximum likelihood
2.8 error_rate(targets, q)       the fraction of rows whose argmax is not the
                                 target

THE FIGURES (make run-module-2, and the tests compare them with plots_baseline/)
-----------
1. Left: a two-class truth p = [0.8, 0.2] and a prediction q = [q, 1 - q] as q
   sweeps (0, 1). Cross-entropy and KL have the same shape, H(p) = 0.500 nats
   apart; both bottom out at q = p, KL at 0. MSE bottoms out there too, but
   stays bounded (at most (0.8)^2 = 0.64 here) however wrong q gets, while CE
   and KL rise without limit. Right: the gradient w.r.t. the logit z for the
   true label y = 1 as z moves from right (z = 6) to badly wrong (z = -10):
   BCE's gradient grows to -1, MSE's shrinks back towards 0.
2. The training race: training accuracy and each run's own loss (as a
   fraction of its starting value) against the epoch, BCE against MSE, from
   the same saturated start.
"""

from __future__ import annotations

import numpy as np

from kata import TODO  # noqa: F401  (the stubs raise it)
from kata.given.checks import (
    as_class_targets,
    as_distribution,
    as_logits,
    as_probabilities,
    broadcast_pair,
    check_positive,
    check_whole,
)
from kata.given.data import two_blobs
from kata.given.module02 import as_counts
from kata.given.plots import module02 as draw

from .module01_cross_entropy import cross_entropy, entropy


def kl_divergence(p, q):
    """KL(p || q) = Σ p log(p / q) over the last axis, in nats.

    p: (..., C) true distribution(s); q: (..., C) predicted distribution(s);
    they broadcast against each other. Returns shape (...): a float for one
    pair. Terms with p = 0 add 0; a class with q = 0 < p makes it +inf.
    """
    p, q = broadcast_pair(as_distribution(p, "p"), as_distribution(q, "q"))
    # TODO 2.1: KL(p || q) of each pair of rows, summed over the last axis (one
    #   value per row), in nats. Where p = 0 a term adds exactly 0, whatever q is
    #   there (q = 0 included). Where q = 0 < p the answer is +inf, honestly: no
    #   clipping, no eps. None of these cases may give NaN or make numpy warn (the
    #   tests treat a warning as an error). Check value: KL([.2, .3, .5] ||
    #   [.1, .4, .5]) = 0.052325 nats.
    raise TODO("2.1")


def mse(p, q):
    """Mean squared error mean((p - q)^2) over the last axis (the classes).

    p, q: (..., C) distributions that broadcast. Returns shape (...).
    """
    p, q = broadcast_pair(as_distribution(p, "p"), as_distribution(q, "q"))
    # TODO 2.2: the mean squared error of each pair of rows: the MEAN over the
    #   last axis (the C classes) of the squared differences, one value per row.
    #   Not the sum, and no square root. Check value: mse([.2, .3, .5],
    #   [.1, .4, .5]) = 0.006667.
    raise TODO("2.2")


def decomposition(p, q):
    """The identity H(p, q) = H(p) + KL(p || q), as numbers.

    p, q: (..., C) distributions. Returns the tuple
    (cross_entropy(p, q), entropy(p), kl_divergence(p, q)), each of shape (...).
    """
    p, q = broadcast_pair(as_distribution(p, "p"), as_distribution(q, "q"))
    # TODO 2.3: return the tuple (H(p, q), H(p), KL(p || q)), in that order, each
    #   computed by its own function: module 1's cross_entropy and entropy
    #   (imported above, with cross_entropy's default eps) and your kl_divergence.
    #   Do not derive one of the three from the other two: the point is to see
    #   whether the identity holds, and where it does not.
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
    # TODO 2.4: the three numbers (H(p, q), H(p), KL(p || q)) in nats, computed
    #   with torch operations on the float64 tensors p and q (no clipping), and
    #   returned as three Python floats. The entropy must treat 0·log 0 as 0
    #   (torch.special has a function for -x log x). The KL must come from
    #   torch.nn.functional.kl_div: read its documentation first, for which
    #   argument is a log and which the truth, and for what its default
    #   reduction divides by. Zeros, as in 2.1: where p = 0 a term adds 0 (q = 0
    #   included: a class the truth never gives is not there); where q = 0 < p
    #   the cross-entropy and the KL are +inf.
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
    # TODO 2.5: the derivative of the binary cross-entropy
    #   -[y log σ(z) + (1 - y) log(1 - σ(z))] with respect to the logit z,
    #   elementwise, for z and y that broadcast (y in [0, 1], z any finite
    #   number: ±1000 included, so use the given sigmoid). Work it out on paper
    #   first: the derivative with respect to σ, times σ'(z) written in terms of
    #   σ(z); then let the algebra cancel what it can. Check value: at z = -10,
    #   y = 1 it is -0.99995.
    raise TODO("2.5")


def mse_logit_gradient(z, y):
    """d/dz of the squared error (σ(z) - y)^2 on the sigmoid's output.

    z: logits; y: labels in [0, 1]; they broadcast. Returns the elementwise gradient.
    """
    z, y = _logit_and_label(z, y)
    # TODO 2.6: the derivative of the squared error (σ(z) - y)^2 with respect to
    #   the logit z, elementwise, for z and y that broadcast (y in [0, 1], z any
    #   finite number; use the given sigmoid). The chain rule again; this time
    #   nothing cancels. Check values: at z = -10, y = 1 it is -9.0787e-05; at
    #   z = 0, y = 1 it is -0.25.
    raise TODO("2.6")


def softmax(z, axis=-1):
    """exp(z) / Σ exp(z) along ``axis``, computed stably (the largest logit is shifted to 0).

    Given code here; module 3 has you write your own.
    """
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


FIT_LR = 1.0
FIT_STEPS = 200


def fit_categorical(counts, lr=FIT_LR, steps=FIT_STEPS):
    """Maximum likelihood by gradient descent: a categorical q = softmax(z) fitted to observed counts.

    counts: (C,) or (K, C) how often each class was observed; each row is a data
    set of its own (at least one observation each). lr: the learning rate; steps:
    how many updates, from z = 0. Returns the fitted q = softmax(z), float64, the
    shape of counts.
    """
    counts = as_counts(counts)
    lr = check_positive(lr, "lr (the learning rate)")
    steps = check_whole(steps, "steps", minimum=0)
    # TODO 2.7: fit q = softmax(z) to the counts by gradient descent on the mean
    #   cross-entropy of the observations, their mean negative log-likelihood.
    #   Each row of counts is its own data set: its own mean over its own
    #   observations, its own logits; rows share nothing. Start from logits z = 0
    #   (float64, the shape of counts, so q starts uniform), take exactly `steps`
    #   plain gradient-descent steps z <- z - lr·(the gradient of the row's mean
    #   CE with respect to its logits), and return softmax(z) after the last step
    #   (softmax is given above, over the last axis). Derive that gradient
    #   yourself. Check values: counts [2, 3, 5], lr = 1: after 2 steps q =
    #   [0.260999, 0.309228, 0.429773]; after the default 200, [0.2, 0.3, 0.5]
    #   to 6 digits.
    raise TODO("2.7")


def error_rate(targets, q):
    """The fraction of examples an argmax classifier gets wrong, a float in [0, 1].

    targets: (N,) class indices; q: (N, C) predicted distributions. The classifier
    predicts the class with the largest q in each row; a tie goes to the lowest
    class index, as np.argmax breaks it.
    """
    q = as_distribution(q, "q")
    if q.ndim != 2:
        raise ValueError(f"q must have shape (N, C), one predicted distribution per example, got shape {q.shape}")
    targets = as_class_targets(targets, q.shape[0], q.shape[1])
    # TODO 2.8: the error rate of the argmax classifier: the fraction of the N
    #   rows whose predicted class (the largest q in the row, a tie going to the
    #   lowest class index) is not the row's target. A float in [0, 1], not a
    #   count and not the accuracy. Check value: targets [0, 1], q [[.5, .5],
    #   [.5, .5]] give 0.5 (the second row's tie goes to class 0).
    raise TODO("2.8")


# ---------------------------------------------------------------------------
# Given code: the race, the figures and the printout. They use your functions above.

P = np.array([0.2, 0.3, 0.5])
Q1 = np.array([0.1, 0.4, 0.5])
Q2 = np.array([0.1, 0.1, 0.8])
COUNTS = np.array([2, 3, 5])  # ten observations whose frequencies are P
FIGURE_TRUTH = 0.8  # the figure's two-class truth p = [0.8, 0.2]
RACE_LR, RACE_EPOCHS, RACE_BIAS = 0.1, 200, -5.0


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


def train_from_saturation(logit_gradient, lr=RACE_LR, epochs=RACE_EPOCHS, bias=RACE_BIAS):
    """Logistic regression on module 4's two blobs, by full-batch gradient descent driven by d loss / d z.

    Starts at w = [0, 0], b = ``bias`` (b = -5: σ(-5) = 0.0067 on every point, so the
    positives are confidently wrong). Each epoch: z = X w + b, g = logit_gradient(z, y),
    then w <- w - lr X^T g / N and b <- b - lr mean(g) (the chain rule through z of the
    mean loss). Returns {"accuracy", "BCE", "MSE"}, each of shape (epochs + 1,): the
    training accuracy (σ >= 1/2 predicts class 1), the mean BCE (nats) and the mean
    squared error (σ - y)^2 after 0, 1, ..., epochs updates.
    """
    X, y = two_blobs()
    y = y.astype(float)
    w, b = np.zeros(X.shape[1]), float(bias)
    history = {"accuracy": [], "BCE": [], "MSE": []}
    for epoch in range(epochs + 1):
        z = X @ w + b
        s = sigmoid(z)
        history["accuracy"].append(float(np.mean((s >= 0.5) == (y == 1))))
        # the stable form of the mean BCE from the logit: log(1 + e^z) - y z
        history["BCE"].append(float(np.mean(np.logaddexp(0.0, z) - y * z)))
        history["MSE"].append(float(np.mean((s - y) ** 2)))
        if epoch == epochs:
            break
        g = logit_gradient(z, y)
        w = w - lr * (X.T @ g) / len(y)
        b = b - lr * float(np.mean(g))
    return {name: np.array(values) for name, values in history.items()}


def training_race(lr=RACE_LR, epochs=RACE_EPOCHS, bias=RACE_BIAS):
    """The same saturated start trained twice: {"BCE": history, "MSE on sigmoid": history} (see train_from_saturation)."""
    return {"BCE": train_from_saturation(bce_logit_gradient, lr, epochs, bias),
            "MSE on sigmoid": train_from_saturation(mse_logit_gradient, lr, epochs, bias)}


def plot_ce_kl_mse():
    """Figure 2: CE, KL and MSE of a prediction; the logit gradients of BCE and MSE."""
    qs, curves = divergence_curves()
    h = float(entropy(np.array([FIGURE_TRUTH, 1.0 - FIGURE_TRUTH])))
    zs, gradients = logit_gradient_curves()
    return draw.ce_kl_mse(qs, curves, FIGURE_TRUTH, h, zs, gradients)


def plot_training_race():
    """Figure 3: training accuracy and each run's own loss against epochs, BCE vs MSE, from a saturated start."""
    return draw.training_race(training_race(), RACE_LR, RACE_BIAS)


def report():
    """Print the table for p = [.2, .3, .5], the gradients, the fit and the race (make run-module-2)."""
    print(f"p = {P}: H(p) = {float(entropy(P)):.6f} nats")
    for name, q in (("q1", Q1), ("q2", Q2)):
        ce, h, kl = decomposition(P, q)
        print(f"{name} = {q}: H(p,{name}) = {float(ce):.6f} = H(p) + KL(p||{name}) = {float(h):.6f} + {float(kl):.6f};"
              f"  KL({name}||p) = {float(kl_divergence(q, P)):.6f};  MSE = {float(mse(P, q)):.6f}")
        print(f"   in torch: H(p,{name}), H(p), KL = " + ", ".join(f"{v:.6f}" for v in divergences_torch(P, q)))
    ce, h, kl = decomposition([0.5, 0.5], [1.0, 0.0])
    print(f"q = 0 < p: decomposition([.5, .5], [1, 0]) = ({float(ce):.6f} clipped, {float(h):.6f}, {float(kl)}): "
          "the identity needs q >= eps wherever p > 0")
    print(f"gradient w.r.t. z at z = -10, y = 1: BCE {float(bce_logit_gradient(-10.0, 1.0)):.6g}, "
          f"MSE on sigmoid {float(mse_logit_gradient(-10.0, 1.0)):.6g}")
    fitted = fit_categorical(COUNTS)
    print(f"counts {COUNTS.tolist()}: fitted q = {np.round(fitted, 6).tolist()}, mean NLL "
          f"{float(cross_entropy(COUNTS / COUNTS.sum(), fitted)):.6f} nats = H(frequencies)")
    race = training_race()
    for name, history in race.items():
        print(f"race, {name}: accuracy {history['accuracy'][0]:.3f} at the start, "
              f"{history['accuracy'][50]:.3f} after 50 epochs, {history['accuracy'][-1]:.3f} after {RACE_EPOCHS}")
