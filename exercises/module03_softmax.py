"""Module 3: softmax, cross-entropy from logits, and its gradient checked by hand.

THE IDEA
--------
A classifier's last layer gives one unnormalised score per class, a *logit* z.
Softmax turns a row of logits into a probability distribution:

    softmax(z)_i = exp(z_i / T) / Σ_j exp(z_j / T)

T is the temperature (T = 1 unless said otherwise): T < 1 sharpens the
distribution towards the largest logit, T > 1 flattens it towards uniform.

Adding the same constant c to every logit changes nothing (the factor e^c
cancels). That is what makes softmax computable: exp(1000) overflows float64
(exp overflows past ~709), but softmax([1000, 1001]) = softmax([0, 1]).
So subtract the row's maximum before exp; then the largest term is exp(0) = 1.

Its log has a stable form too (never take the log of a softmax that may have
underflowed to 0):

    log_softmax(z)_i = z_i - m - log Σ_j exp(z_j - m),   m = max_j z_j

CROSS-ENTROPY FROM LOGITS
-------------------------
For a batch of N rows of logits (N, C) and targets that are either class
indices y_n (shape (N,)) or probability rows t_n (shape (N, C)):

    loss = (1/N) Σ_n  -Σ_i t_ni log_softmax(z_n)_i      (= -log_softmax(z_n)_{y_n} for an index)

The MEAN over the batch, as torch.nn.functional.cross_entropy does by default.
Its gradient w.r.t. the logits is beautifully simple (derive it once yourself:
d log_softmax(z)_i / d z_k = [i = k] - softmax(z)_k, and each t_n sums to 1):

    d loss / d z_nk = (softmax(z_n)_k - t_nk) / N

Don't forget the 1/N: it comes from the mean.

Mind the argument order, which flips here: functions on probabilities take the
truth first, cross_entropy(p, q) and kl_divergence(p, q) (as sklearn's
log_loss(y_true, y_pred) does), but functions on logits take the prediction
first, cross_entropy_from_logits(logits, targets) here and bce_logit_gradient(z, y)
in module 2 (as torch's F.cross_entropy(input, target) does).

CHECKING A GRADIENT
-------------------
A derivation can be wrong; numbers can tell. The central difference

    df/dx_i ≈ (f(x + h e_i) - f(x - h e_i)) / (2h)

has an error of order h² (the forward difference (f(x + h e_i) - f(x)) / h only
of order h: with h = 1e-5 that is ~1e-5, far too coarse to check anything).
Compare the two gradients with the relative error

    relative_error(a, b) = ||a - b|| / (||a|| + ||b||)      (0 when both are 0)

(|| || is the Euclidean norm over all elements). Below 1e-7 your gradient is
right; above 1e-2 it is wrong.

THE NUMBERS
-----------
    softmax([1, 2]) = softmax([1001, 1002]) = [0.26894142, 0.73105858]
    uniform logits over C classes give a cross-entropy of log C
    logits [[4, 2, 1], [0, 5, 1]] with targets [[1, 0, 0], [0, .8, .2]]:
        per row 0.169846 and 0.824745, batch mean 0.497295

WHAT YOU WRITE
--------------
3.1 softmax(logits, axis=-1, temperature=1.0)     stable: divide by T, subtract the max
3.2 log_softmax(logits, axis=-1)                  stable, without taking log(softmax)
3.3 cross_entropy_from_logits(logits, targets)    class indices or probability rows; batch mean
3.4 cross_entropy_grad(logits, targets)           (softmax - onehot) / N
3.5 numerical_gradient(f, x, h=1e-5)              central differences, one element at a time
3.6 relative_error(a, b)                          ||a - b|| / (||a|| + ||b||)

THE FIGURE (make run-module-3, and the test compares it with plots_baseline/)
----------
The example's three logits [x, 0.5, -1] with x swept from -4 to 4: each class's
probability as x varies, at temperatures 0.5, 1 and 2 (one panel each). Raising
one logit takes probability from all the others; classes 0 and 1 are equally
likely exactly where x = 0.5; the low temperature makes the switch sharp, the
high one makes it gentle.
"""

from __future__ import annotations

import numpy as np

from kata import TODO  # noqa: F401  (the stubs raise it)
from kata.given.checks import as_class_targets, as_distribution, as_logits, check_positive
from kata.given.plots import module03 as draw

# ---------------------------------------------------------------------------
# Given code: input checks.


def _as_logits(logits, axis=None, ndim=None):
    array = as_logits(np.asarray(logits, dtype=float), rows=ndim == 2, finite=False)
    if axis is not None and not -array.ndim <= axis < max(array.ndim, 1):
        raise ValueError(f"axis {axis} does not exist for logits of shape {array.shape}")
    return array


def _check_temperature(temperature):
    check_positive(temperature, "temperature")


def _logits_and_targets(logits, targets):
    """(logits (N, C), targets, True if targets are class indices (N,) else False for rows (N, C))."""
    logits = _as_logits(logits, ndim=2)
    n, c = logits.shape
    targets = np.asarray(targets)
    if targets.ndim == 1:
        return logits, as_class_targets(targets, n, c), True
    if targets.shape != (n, c):
        raise ValueError(f"targets must be class indices of shape ({n},) or probability rows of shape ({n}, {c}), "
                         f"got shape {targets.shape}")
    return logits, as_distribution(targets, "targets"), False


# ---------------------------------------------------------------------------
# The exercises.


def softmax(logits, axis=-1, temperature=1.0):
    """softmax(logits / temperature) along ``axis`` (the classes, last by default).

    logits: array of any shape. Returns probabilities of the same shape that sum
    to 1 along ``axis``; no overflow, even for logits near ±1e4.
    """
    logits = _as_logits(logits, axis=axis)
    _check_temperature(temperature)
    # TODO 3.1: divide the logits by temperature, subtract the maximum along
    #   `axis` (np.max with keepdims=True), take np.exp, and divide by the sum
    #   along the same `axis` (keepdims=True). Use `axis` everywhere, never a
    #   fixed axis number.
    raise TODO("3.1")


def log_softmax(logits, axis=-1):
    """log(softmax(logits)) along ``axis``, computed stably.

    logits: array of any shape. Returns log-probabilities (<= 0) of the same
    shape; finite wherever the logits are, e.g. [0, -1000, -2000] for [1000, 0, -1000].
    """
    logits = _as_logits(logits, axis=axis)
    # TODO 3.2: with m = the max along `axis` (keepdims=True), return
    #   logits - m - log(sum(exp(logits - m))) (the sum along `axis`, keepdims=True).
    #   Do not take np.log(softmax(...)): a probability that underflows to 0 gives -inf.
    raise TODO("3.2")


def cross_entropy_from_logits(logits, targets):
    """Mean cross-entropy over a batch, from logits, in nats.

    logits: (N, C). targets: class indices (N,) of an integer dtype, or
    probability rows (N, C). Returns one float: the mean over the N rows of
    -Σ_i t_i log_softmax(z)_i.
    """
    logits, targets, are_indices = _logits_and_targets(logits, targets)
    # TODO 3.3: lp = log_softmax(logits, axis=-1). For class indices
    #   (are_indices True) each row's loss is -lp[n, targets[n]] (pick them all at
    #   once with lp[np.arange(N), targets]); for probability rows it is
    #   -(targets * lp).sum(axis=-1). Return the MEAN of the N row losses.
    raise TODO("3.3")


def cross_entropy_grad(logits, targets):
    """Gradient of cross_entropy_from_logits w.r.t. the logits, shape (N, C).

    Same arguments as cross_entropy_from_logits. Returns (softmax(logits) - T) / N,
    with T the one-hot rows of the class indices, or the probability rows.
    """
    logits, targets, are_indices = _logits_and_targets(logits, targets)
    # TODO 3.4: p = softmax(logits, axis=-1); T = the one-hot rows of the
    #   indices (np.eye(C)[targets]) or the probability rows as given; return
    #   (p - T) / N with N the number of rows (the 1/N comes from the batch mean).
    raise TODO("3.4")


def numerical_gradient(f, x, h=1e-5):
    """Central-difference gradient of a scalar function f at x.

    f: takes an array shaped like x and returns a number. x: array of any
    shape (it is copied; the caller's array is never changed). Returns an array
    shaped like x whose element i is (f(x + h e_i) - f(x - h e_i)) / (2h).
    """
    if not callable(f):
        raise ValueError("f must be a function of x that returns a number")
    if not h > 0:
        raise ValueError(f"h must be a small positive step, got {h}")
    x = np.array(x, dtype=float)  # a float copy: changing it leaves the caller's x alone
    grad = np.zeros_like(x)
    # TODO 3.5: for each index i of x (for i in np.ndindex(x.shape)): remember
    #   x[i], set x[i] = old + h and evaluate f(x), set x[i] = old - h and evaluate
    #   f(x), put x[i] back to old, and store (f_plus - f_minus) / (2 * h) in
    #   grad[i]. Central, not forward, differences. Return grad.
    raise TODO("3.5")


def relative_error(a, b):
    """||a - b|| / (||a|| + ||b||) with Euclidean norms over all elements; 0.0 when a = b = 0.

    a, b: arrays of the same shape (or numbers). Returns a float in [0, 1].
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"relative_error compares arrays of the same shape, got {a.shape} and {b.shape}")
    # TODO 3.6: the norm of the difference divided by the sum of the two norms
    #   (np.linalg.norm of the flattened arrays: use a.ravel()). If the sum of
    #   the norms is 0 (both all zero), return 0.0. Return a float.
    raise TODO("3.6")


# ---------------------------------------------------------------------------
# Given code: the figure and the printout. They use your functions above.

SEED_LOGITS = (0.5, -1.0)  # the example's logits of classes 1 and 2; class 0's logit x varies
TEMPERATURES = (0.5, 1.0, 2.0)
EXAMPLE_LOGITS = np.array([[4.0, 2.0, 1.0], [0.0, 5.0, 1.0]])
EXAMPLE_TARGETS = np.array([[1.0, 0.0, 0.0], [0.0, 0.8, 0.2]])


def softmax_curves(temperatures=TEMPERATURES, xs=None):
    """Class probabilities of the logits [x, 0.5, -1] as x sweeps, per temperature.

    Returns (xs: (n,), {T: probabilities (n, 3)}).
    """
    xs = np.linspace(-4.0, 4.0, 161) if xs is None else np.asarray(xs, dtype=float)
    logits = np.column_stack([xs, np.full_like(xs, SEED_LOGITS[0]), np.full_like(xs, SEED_LOGITS[1])])
    return xs, {t: softmax(logits, axis=-1, temperature=t) for t in temperatures}


def plot_softmax_curves():
    """Figure 3: each class's probability as class 0's logit varies, at a few temperatures."""
    xs, curves = softmax_curves()
    return draw.softmax_curves(xs, curves, SEED_LOGITS)


def report():
    """Print the module's numbers (make run-module-3)."""
    print(f"softmax([1, 2]) = {softmax([1.0, 2.0])}; softmax([1001, 1002]) = {softmax([1001.0, 1002.0])}")
    print(f"log_softmax([1000, 0, -1000]) = {log_softmax([1000.0, 0.0, -1000.0])}")
    rows = [float(cross_entropy_from_logits(EXAMPLE_LOGITS[[n]], EXAMPLE_TARGETS[[n]])) for n in range(2)]
    mean = float(cross_entropy_from_logits(EXAMPLE_LOGITS, EXAMPLE_TARGETS))
    print(f"logits {EXAMPLE_LOGITS.tolist()}, targets {EXAMPLE_TARGETS.tolist()}: per row "
          f"{rows[0]:.6f}, {rows[1]:.6f}; mean {mean:.6f}")
    print(f"uniform logits, 5 classes: {float(cross_entropy_from_logits(np.zeros((3, 5)), [0, 2, 4])):.6f} "
          f"= log 5 = {np.log(5):.6f}")
    analytic = cross_entropy_grad(EXAMPLE_LOGITS, EXAMPLE_TARGETS)
    numeric = numerical_gradient(lambda z: cross_entropy_from_logits(z, EXAMPLE_TARGETS), EXAMPLE_LOGITS)
    print(f"gradient check: relative error {relative_error(analytic, numeric):.2e} (below 1e-7 means right)")
