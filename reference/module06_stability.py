"""Module 6: numerical stability (log-sum-exp, stable BCE) and label smoothing.

THE FAILURE
-----------
Softmax turns logits z into probabilities, and its log is the loss's input:
    log softmax(z)_i = log( e^(z_i) / Σ_j e^(z_j) )
Written exactly like that it breaks. The largest float32 is about 3.4e38, and
ln(3.4e38) = 88.72, so e^z is +inf in float32 as soon as z > 88.72 (in float64
the limit is 709.78). The example logits [10, 20, 100] are harmless on paper,
but e^100 is inf in float32. For z = [100, 0, -100] in float32:
    e^z = [inf, 1, 3.7e-44],   Σ = inf,   e^z / Σ = [inf/inf, 0, 0] = [nan, 0, 0]
    log  ->  [nan, -inf, -inf]          the right answer is [0, -100, -200]
Nothing about these logits is extreme: a confident network produces them.

THE FIX: THE MAX TRICK
----------------------
For any constant m, e^(z_j) = e^m · e^(z_j - m), so
    log Σ_j e^(z_j) = m + log Σ_j e^(z_j - m)
Pick m = max_j z_j. Then every z_j - m <= 0, so no exp overflows, and the
largest term is e^0 = 1, so the sum lies in [1, C] and its log is never log 0.
This is logsumexp, and with it
    log softmax(z) = z - logsumexp(z)
is exact and finite for any finite logits. (Subtracting m without adding it
back gives log Σ e^(z - m), which is off by exactly m.)

THE SAME FOR BINARY LABELS
--------------------------
Binary cross-entropy on a logit z with label y in [0, 1], positives weighted by
w (torch's pos_weight; w = 1 without it), is
    loss = -[ w·y·log σ(z) + (1 - y)·log(1 - σ(z)) ]
Computing σ(z) first fails: σ(40) is exactly 1.0 in float64, so log(1 - σ) =
log 0. Use log σ(z) = -softplus(-z), log(1 - σ(z)) = -softplus(z) = -z - softplus(-z)
and the stable softplus(x) = log(1 + e^x) = max(x, 0) + log(1 + e^(-|x|)):
    loss = (1 - y)·z + (1 + (w - 1)·y)·softplus(-z)
With w = 1 this is max(z, 0) - z·y + log(1 + e^(-|z|)). pos_weight weighs only
the positive term (the y·log σ(z) one): w = 3 makes each missed positive cost
three times as much. BCE-with-logits(1.5, 1) = softplus(-1.5) = 0.201413 nats;
with pos_weight 3, (0.3, 1) gives 3·softplus(-0.3) = 1.663066.

LABEL SMOOTHING
---------------
One-hot targets ask for p_true = 1, which needs an infinite logit gap: the loss
keeps pushing logits apart for ever. Label smoothing mixes the target with the
uniform distribution over the C classes (torch's label_smoothing, and the
original Inception-v3 recipe):
    q = (1 - ε)·target + ε/C          (every row still sums to 1)
For C = 3, ε = 0.1 the one-hot [1, 0, 0] becomes [0.9333, 0.0333, 0.0333].
A common variant gives the true class 1 - ε and spreads ε over the *other*
C - 1 classes: ε/(C - 1) each, i.e. [0.9, 0.05, 0.05] here (a common textbook example).
It is torch's rule with ε' = ε·C/(C - 1), so the same ε smooths more; the
course (and torch) use ε/C. The smoothed loss is the cross-entropy with q:
    loss = -Σ_k q_k log p_k = (1 - ε)·(-log p_true) + ε·mean_k(-log p_k)
For logits [2, 1, 0.1], class 0, ε = 0.1: 0.513697 nats (plain CE: 0.417030).
Cross-entropy is smallest when p = q, so the best gap between the true logit
and each other logit becomes finite:
    gap* = log( q_true / q_other ) = log( (1 - ε + ε/C) / (ε/C) )
(3.332 for C = 3, ε = 0.1). Without smoothing (ε = 0) it is infinite.

WHAT YOU WRITE (numpy; every function reduces over the last axis)
--------------
6.1 naive_log_softmax(logits)       log(e^z / Σ e^z) as written: watch it fail
6.2 logsumexp(x, axis)              the max trick
6.3 stable_log_softmax(logits)      z - logsumexp(z)
6.4 bce_with_logits(z, y, pos_weight)
                                    the stable form above, mean over all elements
6.5 smooth_labels(targets, n_classes, smoothing)
                                    (1 - ε)·target + ε/C
6.6 label_smoothed_cross_entropy(logits, targets, smoothing, reduction)
                                    equal to torch's F.cross_entropy(..., label_smoothing=ε)

THE FIGURES (make run-module-6; the tests compare them with plots_baseline/)
-----------
1. Loss against logit scale: logits s·[1, 0, -1] in float32, the loss of class 1
   (a wrong, ever more confident prediction: loss ≈ s) and of class 0 (a right
   one: loss ≈ 0), naive and stable. The naive loss stops at s ≈ 88.7, where
   e^s overflows float32 (inf for class 1, nan for class 0); the stable one
   goes on in a straight line.
2. Label smoothing and the logit gap: left, the smoothed loss of logits
   [g, 0, 0] (class 0) as the gap g grows, for a few ε: each curve has a
   minimum at log((1 - ε + ε/C)/(ε/C)), except ε = 0, which only keeps falling.
   Right, that best gap against ε for C = 3, 10 and 1000 classes.
"""

from __future__ import annotations

import numpy as np

from kata import TODO  # noqa: F401  (the stubs raise it)
from kata.given.module06 import as_binary_pair, as_logits, as_target_rows, check_smoothing
from kata.given.plots import module06 as draw


def naive_log_softmax(logits):
    """log softmax over the last axis, computed as written: log(e^z / Σ e^z). It breaks; that is the point.

    logits: (..., C) floats; a float32 array is computed in float32.
    Returns (..., C), same dtype. nan / -inf once some e^z overflows.
    """
    z = as_logits(logits)
    # TODO 6.1: compute log(e^z / Σ e^z) exactly as written, in z's own dtype (no
    #   astype, no subtracting anything): exps = np.exp(z), divide by their sum over
    #   the last axis (keepdims=True), take np.log. Do it inside
    #   `with np.errstate(over="ignore", invalid="ignore", divide="ignore"):` so an
    #   overflow shows up as inf / nan in the result instead of a warning.
    # BEGIN SOLUTION
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        exps = np.exp(z)
        return np.log(exps / exps.sum(axis=-1, keepdims=True))
    # END SOLUTION


def logsumexp(x, axis=-1):
    """log Σ e^x over ``axis``, without overflow (the max trick).

    x: (..., C) floats. Returns x's shape without ``axis`` (a number for 1-D x),
    in x's dtype. Compare scipy.special.logsumexp.
    """
    x = as_logits(x, "x")
    # TODO 6.2: m = x.max(axis=axis, keepdims=True); return
    #   m + log Σ exp(x - m) over `axis`, with the axis removed from the result
    #   (np.squeeze(m, axis=axis) + np.log(np.exp(x - m).sum(axis=axis))).
    #   Subtracting m keeps every exp <= 1; adding it back makes the answer exact.
    # BEGIN SOLUTION
    m = x.max(axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.exp(x - m).sum(axis=axis))
    # END SOLUTION


def stable_log_softmax(logits):
    """log softmax over the last axis, exact for any finite logits: z - logsumexp(z).

    logits: (..., C) floats. Returns (..., C) log-probabilities (all <= 0) in the logits' dtype.
    """
    z = as_logits(logits)
    # TODO 6.3: return z - logsumexp(z) with YOUR logsumexp over the last axis;
    #   it drops that axis, so put it back (np.expand_dims(..., -1)) to broadcast
    #   one value per row against the row's C logits.
    # BEGIN SOLUTION
    return z - np.expand_dims(logsumexp(z, axis=-1), -1)
    # END SOLUTION


def bce_with_logits(z, y, pos_weight=None):
    """Binary cross-entropy from logits, in nats, averaged over all elements (torch's default).

    z: logits (any shape), y: labels in [0, 1] of the same shape,
    pos_weight: None (= 1) or a positive weight on the positive term,
    broadcasting against z (e.g. one per column). Returns a float.
    Stable for any finite z: bce_with_logits(200.0, 0.0) is 200, not inf.
    """
    z, y, pos_weight = as_binary_pair(z, y, pos_weight)
    w = 1.0 if pos_weight is None else pos_weight
    # TODO 6.4: softplus_minus_z = np.maximum(-z, 0) + np.log1p(np.exp(-np.abs(z)))
    #   (= log(1 + e^(-z)), never overflowing), then the loss per element
    #   (1 - y)·z + (1 + (w - 1)·y)·softplus_minus_z, and return its mean over all
    #   elements as a float. w weighs only the positive term; never compute σ(z).
    # BEGIN SOLUTION
    softplus_minus_z = np.maximum(-z, 0.0) + np.log1p(np.exp(-np.abs(z)))
    losses = (1.0 - y) * z + (1.0 + (w - 1.0) * y) * softplus_minus_z
    return float(np.mean(losses))
    # END SOLUTION


def smooth_labels(targets, n_classes, smoothing=0.1):
    """Label-smoothed targets (1 - ε)·target + ε/C, torch's convention.

    targets: integer class indices (any shape) or probability rows (..., C).
    Returns probability rows (..., C): for class 0 of 3 with ε = 0.1, [0.9333, 0.0333, 0.0333].
    """
    rows = as_target_rows(targets, n_classes)  # class indices become one-hot rows
    smoothing = check_smoothing(smoothing)
    # TODO 6.5: return rows·(1 - smoothing) + smoothing / n_classes: the uniform
    #   share ε/C goes to EVERY class, the true one included (not ε/(C - 1) to
    #   the others only), so each row still sums to 1.
    # BEGIN SOLUTION
    return rows * (1.0 - smoothing) + smoothing / n_classes
    # END SOLUTION


def label_smoothed_cross_entropy(logits, targets, smoothing=0.1, reduction="mean"):
    """Cross-entropy against smoothed targets, in nats; equals F.cross_entropy(..., label_smoothing=ε).

    logits: (N, C) or (C,); targets: class indices (N,) (or one index for (C,)
    logits) or probability rows of the logits' shape.
    reduction: "mean" (a float, the mean over rows) or "none" (one loss per row).
    """
    z = as_logits(logits)
    n_classes = z.shape[-1]
    rows = as_target_rows(targets, n_classes)
    if rows.shape != z.shape:
        raise ValueError(f"targets give rows of shape {rows.shape} for logits of shape {z.shape}: "
                         "one target per row of logits")
    if reduction not in ("mean", "none"):
        raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
    # TODO 6.6: q = smooth_labels(targets, n_classes, smoothing); per row, the loss is
    #   -Σ_k q_k · stable_log_softmax(z)_k over the last axis (your functions 6.5 and 6.3).
    #   Return those per-row losses for reduction="none", their mean (a float) for "mean".
    # BEGIN SOLUTION
    q = smooth_labels(targets, n_classes, smoothing)
    losses = -(q * stable_log_softmax(z)).sum(axis=-1)
    return losses if reduction == "none" else float(np.mean(losses))
    # END SOLUTION


# ---------------------------------------------------------------------------
# Given code: the figures and the printout. They use your functions above.

FLOAT32_EXP_LIMIT = float(np.log(np.finfo(np.float32).max))  # 88.72: e^z overflows float32 above it
SCALES = np.arange(0.0, 120.25, 0.25)  # logit scales s for figure 1
DIRECTION = np.array([1.0, 0.0, -1.0])  # the logits are s·[1, 0, -1]
GAPS = np.linspace(0.0, 10.0, 401)  # logit gaps g for figure 2: logits [g, 0, 0]
SMOOTHINGS = (0.0, 0.02, 0.1, 0.3)
EPSILON_GRID = np.geomspace(1e-3, 0.5, 60)
CLASS_COUNTS = (3, 10, 1000)


def loss_vs_scale(target, scales=SCALES):
    """The loss -log softmax(s·[1, 0, -1])[target] in float32 for each scale s: (naive, stable), each (S,)."""
    logits = (scales[:, None] * DIRECTION).astype(np.float32)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # inf / nan are the point here
        naive = -naive_log_softmax(logits)[:, target]
        stable = -stable_log_softmax(logits)[:, target]
    return naive, stable


def first_failure(scales, values):
    """The first scale at which ``values`` is not finite (inf or nan); +inf if it never fails."""
    bad = ~np.isfinite(np.asarray(values, dtype=float))
    return float(scales[np.argmax(bad)]) if bad.any() else float("inf")


def plot_naive_vs_stable():
    """Figure 1: the naive and the stable loss as the logits s·[1, 0, -1] grow, in float32."""
    curves = {}
    for target in (1, 0):
        naive, stable = loss_vs_scale(target)
        curves[target] = (naive, stable, first_failure(SCALES, naive))
    return draw.naive_vs_stable(SCALES, curves, FLOAT32_EXP_LIMIT)


def smoothed_loss_vs_gap(smoothing, gaps=GAPS, n_classes=3):
    """The label-smoothed loss of logits [g, 0, ..., 0] with class 0 true, for each gap g: (G,)."""
    logits = np.zeros((len(gaps), n_classes))
    logits[:, 0] = gaps
    return label_smoothed_cross_entropy(logits, np.zeros(len(gaps), dtype=int), smoothing, reduction="none")


def best_gap(smoothing, n_classes):
    """log(q_true / q_other) of your smoothed one-hot target: where the smoothed loss is lowest."""
    q = smooth_labels(0, n_classes, smoothing)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.log(q[0] / q[1]))


def plot_smoothing_gap():
    """Figure 2: label smoothing makes the best logit gap finite."""
    losses = {eps: smoothed_loss_vs_gap(eps) for eps in SMOOTHINGS}
    minima = {eps: best_gap(eps, 3) for eps in SMOOTHINGS if eps > 0}
    best = {c: np.array([best_gap(eps, c) for eps in EPSILON_GRID]) for c in CLASS_COUNTS}
    return draw.smoothing_gap(GAPS, losses, minima, EPSILON_GRID, best)


def report():
    """Print the module's numbers (make run-module-6)."""
    z = np.array([100.0, 0.0, -100.0], dtype=np.float32)
    print(f"float32: e^z overflows for z > ln(max float32) = {FLOAT32_EXP_LIMIT:.4f}")
    print(f"naive_log_softmax({z.tolist()}) = {naive_log_softmax(z)}")
    print(f"stable_log_softmax({z.tolist()}) = {stable_log_softmax(z)}")
    seed = np.array([10.0, 20.0, 100.0])
    try:
        from scipy.special import logsumexp as scipy_logsumexp
        print(f"seed logits {seed.tolist()}: logsumexp = {logsumexp(seed):.6f} (scipy: {scipy_logsumexp(seed):.6f})")
    except ImportError:
        print(f"seed logits {seed.tolist()}: logsumexp = {logsumexp(seed):.6f}")
    lsm = stable_log_softmax(seed)
    print(f"  stable log-softmax = {lsm}, exp sums to {np.exp(lsm).sum():.6f}")
    print(f"  in float32 the naive one gives {naive_log_softmax(seed.astype(np.float32))}")
    print(f"bce_with_logits(1.5, 1) = {bce_with_logits(1.5, 1.0):.6f} nats")
    print(f"bce_with_logits(0.3, 1, pos_weight=3) = {bce_with_logits(0.3, 1.0, pos_weight=3.0):.6f} nats")
    print(f"bce_with_logits(200, 0) = {bce_with_logits(200.0, 0.0):.6f} nats")
    logits = np.array([2.0, 1.0, 0.1])
    print(f"smooth_labels(0, 3, 0.1) = {smooth_labels(0, 3, 0.1)}")
    print(f"label_smoothed_cross_entropy({logits.tolist()}, 0, 0.1) = "
          f"{label_smoothed_cross_entropy(logits, 0, 0.1):.6f} nats (plain: {label_smoothed_cross_entropy(logits, 0, 0.0):.6f})")
    for c in CLASS_COUNTS:
        print(f"best logit gap, C = {c}, ε = 0.1: {best_gap(0.1, c):.4f}")
