"""Module 6: numerical stability (log-sum-exp, stable BCE) and label smoothing.

THE FAILURE
-----------
Softmax turns logits z into probabilities, and its log is the loss's input:
    log softmax(z)_i = log( e^(z_i) / Σ_j e^(z_j) )
Written exactly like that it breaks. The largest float32 is about 3.4e38, and
ln(3.4e38) = 88.72, so e^z is +inf in float32 as soon as z > 88.72 (in float64
the limit is 709.78). The example logits [10, 20, 100] are harmless on paper,
but e^100 is inf in float32. For z = [100, 0, -100] in float32:
    e^z = [inf, 1, 3.8e-44],   Σ = inf,   e^z / Σ = [inf/inf, 0, 0] = [nan, 0, 0]
    log  ->  [nan, -inf, -inf]          the right answer is [0, -100, -200]
Nothing about these logits is extreme: a confident network produces them.

HALF PRECISION: WHERE IT BITES FIRST
------------------------------------
float16 stops at 65504, and ln 65504 = 11.09: e^z overflows float16 for z
above 11.09, so float16 logits [12, 0, -12], an everyday output, already give
[nan, -inf, -inf] in the naive form. bfloat16 keeps float32's exponent range
(largest 3.39e38, ln = 88.72) but only 8 significant bits: 100.3 is stored as
100.5. Mixed-precision training runs the big matrix products in float16 or
bfloat16, and that is where stability matters most: torch's autocast runs exp,
log, softmax, log_softmax and the losses (cross_entropy,
binary_cross_entropy_with_logits, ...) in float32 (PyTorch's "Automatic Mixed
Precision" docs, "CUDA Ops that can autocast to float32"). The stable forms
below stay finite even in float16.

THE FIX: SHIFT BEFORE YOU EXPONENTIATE
--------------------------------------
For any constant m, e^(z_j) = e^m · e^(z_j − m). Pull the common factor e^m out
of the sum and take the log: what is left is m plus the log of a sum of terms
e^(z_j − m). Which m makes every exponent z_j − m <= 0, so that no term can
overflow and the biggest one is exactly e^0 = 1 (so the sum is at least 1 and
its log is never log 0)? That is logsumexp (task 6.2), and with it log
softmax needs no exp of a large number at all (task 6.3: take the log of the
quotient apart). In a batch every row needs a shift of its own: logits
[1000, 999] and [-1000, -1001] in one array share no good constant. A logit of
-inf is a masked class (e^-inf = 0, probability 0); a row of only -inf has
logsumexp -inf.

THE SAME FOR BINARY LABELS
--------------------------
Binary cross-entropy on a logit z with label y in [0, 1], positives weighted by
w (torch's pos_weight; w = 1 without it), is
    loss = -[ w·y·log σ(z) + (1 - y)·log(1 - σ(z)) ],      σ(z) = 1 / (1 + e^(-z))
Computing σ(z) first fails: σ(40) is exactly 1.0 in float64, so log(1 - σ) =
log 0, and a confident wrong answer costs inf instead of 40 nats. The way out
is never to form σ. Both logs can be written with softplus(x) = log(1 + e^x):
what are log σ(z) and log(1 - σ(z)) in terms of it? And softplus itself has a
form in which exp never sees a positive number (e^x overflows float64 past
x = 709.78). Deriving the stable loss is task 6.4. Check values:
BCE-with-logits(1.5, 1) = 0.201413 nats, (-1000, 1) = 1000 nats, not inf.
pos_weight multiplies the positive term only: pos_weight 3 triples the loss
of every positive example (y = 1), right or wrong, and leaves negatives
(y = 0) alone; (0.3, 1) gives 3 × 0.554355 = 1.663066. torch's docs suggest
pos_weight = negatives / positives (300 / 100 = 3) to balance the classes.
torch's `weight` rescales each element's loss (broadcast against z, e.g. one
per column), and reduction="mean" is the plain mean of the weighted losses over
all elements: unlike the class weights of F.cross_entropy (module 5) it does
not divide by the sum of the weights.

LABEL SMOOTHING
---------------
One-hot targets ask for p_true = 1, which needs an infinite logit gap: the loss
keeps pushing logits apart for ever. Label smoothing mixes the target with the
uniform distribution over the C classes (torch's label_smoothing, and the
original Inception-v3 recipe): each row keeps 1 - ε of its mass, and ε is
spread evenly over all C classes, the true one included, so every row still
sums to 1. For C = 3, ε = 0.1 the one-hot [1, 0, 0] becomes [0.9333, 0.0333, 0.0333].
A common variant gives the true class 1 - ε and spreads ε over the *other*
C - 1 classes: ε/(C - 1) each, i.e. [0.9, 0.05, 0.05] here (a common textbook example).
It is torch's rule with ε' = ε·C/(C - 1), so the same ε smooths more; the
course (and torch) use ε/C. The smoothed loss is module 1's cross-entropy with
the smoothed targets q as the truth and p = softmax(logits) as the prediction.
For logits [2, 1, 0.1], class 0, ε = 0.1: 0.513697
nats (plain CE: 0.417030). Like torch, the logits may be (C,), (N, C) or
(N, C, d1, ...) with the classes on dim 1 (an image's pixels, a sequence's
positions), the class-index targets then being (), (N,) or (N, d1, ...).
Cross-entropy is smallest when p = q, so the best gap between the true logit
and each other logit becomes finite. What is it, in terms of ε and C? Work it
out from p = q before you run the figure (3.332 for C = 3, ε = 0.1); without
smoothing (ε = 0) it is infinite.

WHAT YOU WRITE (numpy)
--------------
6.1 naive_log_softmax(logits)       log softmax exactly as written, in the logits' dtype: watch it fail
6.2 logsumexp(x, axis)              log Σ e^x over an axis, finite at any scale
6.3 stable_log_softmax(logits)      log softmax that never overflows, from your 6.2
6.4 bce_with_logits(z, y, pos_weight, weight, reduction)
                                    torch's binary_cross_entropy_with_logits, stable for any finite z
6.5 smooth_labels(targets, n_classes, smoothing)
                                    torch's smoothed targets
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
   [g, 0, 0] (class 0) as the gap g grows, for a few ε: each curve has its
   minimum at the best gap you worked out, except ε = 0, which only keeps falling.
   Right, that best gap against ε for C = 3, 10 and 1000 classes.
"""

from __future__ import annotations

import numpy as np

from kata import TODO  # noqa: F401  (the stubs raise it)
from kata.given.module06 import as_binary_inputs, as_masked_logits, as_target_rows, check_smoothing, classes_last
from kata.given.plots import module06 as draw


def naive_log_softmax(logits):
    """log softmax over the last axis, computed as written: log(e^z / Σ e^z). It breaks; that is the point.

    logits: (..., C) floats (-inf allowed: a masked class); float32 is computed in
    float32, float16 in float16. Returns (..., C), same dtype; nan / -inf once some e^z overflows.
    """
    z = as_masked_logits(logits)
    # TODO 6.1: log softmax over the last axis computed exactly as the formula
    #   reads, log(e^z / Σ_j e^(z_j)), each row divided by its own sum: no shift,
    #   no trick and no change of dtype (float32 in, float32 out; float16 stays
    #   float16), so that it overflows where its dtype does. An overflow must show
    #   up as inf / nan in the result, not as a numpy warning (np.errstate can
    #   silence those). Check values: [1, 2, 3] gives [-2.407606, -1.407606,
    #   -0.407606]; float32 [100, 0, -100] gives [nan, -inf, -inf].
    raise TODO("6.1")


def logsumexp(x, axis=-1):
    """log Σ e^x over ``axis``, without overflow.

    x: (..., C) floats; -inf is allowed (a masked entry), and a row of only -inf
    gives -inf. Returns x's shape without ``axis`` (a 0-d value for 1-D x), in x's
    dtype. Compare scipy.special.logsumexp.
    """
    x = as_masked_logits(x, "x", rows_may_be_all_masked=True)
    # TODO 6.2: log Σ e^x over `axis`, exact and finite for values of any size
    #   (e^1000 overflows even float64; e^-1000 underflows to 0), every row of a
    #   batch on its own scale. Return x's shape without that axis (a 0-d value for
    #   1-D x), in x's dtype (float32 stays float32). -inf entries count as e^-inf
    #   = 0, and a row of only -inf gives -inf (as scipy and torch do), not nan.
    #   Check values: [1000, 1000] gives 1000.693147 (1000 + ln 2);
    #   [[0, 0], [-inf, -inf]] gives [0.693147, -inf].
    raise TODO("6.2")


def stable_log_softmax(logits):
    """log softmax over the last axis, exact for any logits (-inf entries give -inf).

    logits: (..., C) floats. Returns (..., C) log-probabilities (all <= 0) in the logits' dtype.
    """
    z = as_masked_logits(logits)
    # TODO 6.3: log softmax over the last axis that is exact and finite for any
    #   logits, built on YOUR logsumexp (task 6.2): same shape and dtype as z
    #   (float32 stays float32), each row normalised on its own, a -inf logit
    #   giving -inf. Check value: float32 [100, 0, -100] gives [0, -100, -200],
    #   where task 6.1 gave [nan, -inf, -inf].
    raise TODO("6.3")


def bce_with_logits(z, y, pos_weight=None, weight=None, reduction="mean"):
    """Binary cross-entropy from logits, in nats: torch's F.binary_cross_entropy_with_logits in numpy.

    z: logits (any shape, one number too), y: labels in [0, 1] of z's shape.
    pos_weight: None (= 1) or weights >= 0 of the positive term; weight: None or a
    rescaling of each element's loss; both broadcast against z (e.g. one per column).
    reduction: "mean" (over all elements) or "sum", a float; "none", an array of z's shape.
    Computed in float64. Stable for any finite z: bce_with_logits(-1000.0, 1.0) is 1000, not inf.
    """
    z, y, pos_weight, weight, reduction = as_binary_inputs(z, y, pos_weight, weight, reduction)
    # TODO 6.4: torch's F.binary_cross_entropy_with_logits in numpy (float64). The
    #   loss of each element is -[w·y·log σ(z) + (1 - y)·log(1 - σ(z))], with w =
    #   pos_weight (1 when it is None), multiplied by `weight` when that is given
    #   (both broadcast against z). reduction "mean" is the plain mean over all
    #   elements (not divided by the weights' sum) and "sum" their sum, each a
    #   float; "none" returns the array of z's shape. It must be exact and finite
    #   for every finite z, yet σ(40) is exactly 1.0 in float64: never compute σ.
    #   Derive a form from softplus(x) = log(1 + e^x) in which exp never sees a
    #   positive number. Check values: (1.5, 1) gives 0.201413; (-1000, 1) gives
    #   1000; (0.3, 1, pos_weight=3) gives 1.663066, three times (0.3, 1).
    raise TODO("6.4")


def smooth_labels(targets, n_classes, smoothing=0.1):
    """Label-smoothed targets, torch's convention (ε spread over all C classes).

    targets: integer class indices (any shape) or probability rows (..., C).
    Returns probability rows (..., C): for class 0 of 3 with ε = 0.1, [0.9333, 0.0333, 0.0333].
    """
    rows = as_target_rows(targets, n_classes)  # class indices become one-hot rows
    smoothing = check_smoothing(smoothing)
    # TODO 6.5: torch's smoothed targets: every row of `rows` (the targets as
    #   probability rows (..., C), made for you) keeps 1 - ε of its mass, and ε is
    #   spread evenly over all C classes, the true one included, so that each row
    #   still sums to 1. Return (..., C) floats. Check value: class 0 of 3 with
    #   ε = 0.1 gives [0.933333, 0.033333, 0.033333], not the [0.9, 0.05, 0.05]
    #   of the ε/(C - 1) variant.
    raise TODO("6.5")


def label_smoothed_cross_entropy(logits, targets, smoothing=0.1, reduction="mean"):
    """Cross-entropy against smoothed targets, in nats; equals F.cross_entropy(..., label_smoothing=ε).

    logits: (C,), (N, C) or (N, C, d1, ...), the classes on dim 1 as in torch.
    targets: class indices of shape (), (N,) or (N, d1, ...), or probability
    targets of the logits' shape. reduction: "mean" (a float, the mean over every
    row: N·d1·... of them) or "none" (one loss per row, shape (), (N,) or (N, d1, ...)).
    """
    z, targets = classes_last(logits, targets)  # the classes move to the last axis: z is (..., C)
    n_classes = z.shape[-1]
    rows = as_target_rows(targets, n_classes)
    if rows.shape != z.shape:
        raise ValueError(f"targets give rows of shape {rows.shape} for logits of shape {z.shape}: "
                         "one target per row of logits")
    if reduction not in ("mean", "none"):
        raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
    # TODO 6.6: the cross-entropy, in nats, of every row of z (the classes are on
    #   its last axis here: the given code above moved torch's dim 1 there) against
    #   that row's smoothed target from YOUR smooth_labels (task 6.5), with the
    #   log-probabilities from YOUR stable_log_softmax (task 6.3). reduction "none"
    #   returns one loss per row, shape z.shape[:-1] (torch's (N, d1, ...)); "mean"
    #   returns the mean over all of them, a float. Check value: logits [2, 1, 0.1],
    #   class 0, ε = 0.1 gives 0.513697 (the plain cross-entropy is 0.417030).
    raise TODO("6.6")


# ---------------------------------------------------------------------------
# Given code: the figures and the printout. They use your functions above.

FLOAT32_EXP_LIMIT = float(np.log(np.finfo(np.float32).max))  # 88.72: e^z overflows float32 above it
FLOAT16_EXP_LIMIT = float(np.log(float(np.finfo(np.float16).max)))  # ln 65504 = 11.09: e^z overflows float16 above it
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
    half = np.array([12.0, 0.0, -12.0], dtype=np.float16)
    print(f"float16: e^z overflows for z > ln 65504 = {FLOAT16_EXP_LIMIT:.4f}: naive_log_softmax({half.tolist()}) = "
          f"{naive_log_softmax(half)}, stable: {stable_log_softmax(half)}")
    print(f"bce_with_logits(1.5, 1) = {bce_with_logits(1.5, 1.0):.6f} nats")
    print(f"bce_with_logits(0.3, 1, pos_weight=3) = {bce_with_logits(0.3, 1.0, pos_weight=3.0):.6f} nats "
          f"(3 × {bce_with_logits(0.3, 1.0):.6f})")
    print(f"bce_with_logits(-1000, 1) = {bce_with_logits(-1000.0, 1.0):.6f} nats")
    z2, y2 = np.array([[1.5, -0.3], [2.0, 0.5]]), np.array([[1.0, 0.0], [0.0, 1.0]])
    print(f"bce_with_logits(z, y, weight=[2, 0.5], reduction='none') = {bce_with_logits(z2, y2, weight=[2.0, 0.5], reduction='none').round(6).tolist()}")
    logits = np.array([2.0, 1.0, 0.1])
    print(f"smooth_labels(0, 3, 0.1) = {smooth_labels(0, 3, 0.1)}")
    print(f"label_smoothed_cross_entropy({logits.tolist()}, 0, 0.1) = "
          f"{label_smoothed_cross_entropy(logits, 0, 0.1):.6f} nats (plain: {label_smoothed_cross_entropy(logits, 0, 0.0):.6f})")
    for c in CLASS_COUNTS:
        print(f"best logit gap, C = {c}, ε = 0.1: {best_gap(0.1, c):.4f}")
