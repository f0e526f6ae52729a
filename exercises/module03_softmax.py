"""Module 3: softmax, cross-entropy from logits, and its gradient checked by hand.

THE IDEA
--------
A classifier's last layer gives one unnormalised score per class, a *logit* z.
Softmax turns a row of logits into a probability distribution:

    softmax(z)_i = exp(z_i / T) / Σ_j exp(z_j / T)

T is the temperature (T = 1 unless said otherwise): T < 1 sharpens the
distribution towards the largest logit, T > 1 flattens it towards uniform.
A logit of -inf is a class that cannot happen: its probability is exactly 0.

Adding the same constant c to every logit of a row changes nothing (the factor
e^c cancels). That is what makes softmax computable. Taken literally, the
formula fails at large logits in two ways: exp(z) overflows to inf past
z ≈ 709.8 (so softmax([1000, 999]) would be inf / inf = NaN), and underflows
to exactly 0 below z ≈ -745 (so softmax([-1000, -1001]) would be 0 / 0 = NaN).
Shift each row so that its largest logit becomes 0. Then no exp can overflow
(every shifted logit is <= 0, so every term is at most 1), and the denominator
cannot be 0 (the largest term is exp(0) = 1, so the sum is at least 1). Terms
far below the max still underflow to 0 (exp(-2000) = 0), and that is harmless:
a probability that small would round to 0 in float64 anyway.

"Each row" matters in a batch. For the two rows [[1000, 999], [-1000, -1001]]
both answers are [0.73105858, 0.26894142]; shift by the largest logit of the
whole array (1000) instead of each row's own, and the second row becomes
[-2000, -2001], whose exps both underflow to 0: 0 / 0 = NaN. Nothing
overflowed; the row was pushed too far down.

Its log needs the same care. log softmax(z)_i = z_i - log Σ_j exp(z_j): never
take the log of a softmax that may have underflowed to 0 (log 0 = -inf, while
the right answer is an ordinary number such as -2000). Work out what
log Σ_j exp(z_j) becomes when you take the row's largest logit m out of the
sum; the log-sum-exp you are left with is safe for the same reason softmax was.

CROSS-ENTROPY FROM LOGITS
-------------------------
For a batch of N rows of logits (N, C) and targets that are either class
indices y_n (shape (N,)) or probability rows t_n (shape (N, C)):

    loss = (1/N) Σ_n  -Σ_i t_ni log softmax(z_n)_i      (a class index y_n is the one-hot row t_n)

The MEAN over the batch, in nats, as torch.nn.functional.cross_entropy does by
default: the sum over the classes, the mean over the rows.

Task 3.4 asks for its gradient with respect to every logit z_nk. Derive it on
paper before you write any code: differentiate one row's loss with respect to
z_k (what is the derivative of log Σ_j exp(z_j)?), use the fact that a target
row sums to 1, and then remember where the mean puts a factor. The result is
short. Check it against these numbers: for logits [[4, 2, 1], [0, 5, 1]] and
class indices [0, 1] the gradient is
    [[-0.078103, 0.057098, 0.021005], [0.003287, -0.012221, 0.008934]]
and every row of it sums to 0 (why must it?).

Mind the argument order, which flips here: functions on probabilities take the
truth first, cross_entropy(p, q) and kl_divergence(p, q) (as sklearn's
log_loss(y_true, y_pred) does), but functions on logits take the prediction
first, cross_entropy_from_logits(logits, targets) here and bce_logit_gradient(z, y)
in module 2 (as torch's F.cross_entropy(input, target) does).

CHECKING A GRADIENT
-------------------
A derivation can be wrong; numbers can tell. The central difference

    df/dx_i ≈ (f(x + h e_i) - f(x - h e_i)) / (2h)        (e_i: 1 at element i, 0 elsewhere)

has an error of order h²: with h = 1e-5 it agrees with the true derivative to
9 digits or more in this module's examples. The forward difference (f(x + h e_i) - f(x)) / h has an
error of order h, about 1e-5 relative at h = 1e-5: good enough to see roughly
where a function goes, but it misses the 1e-7 bar below, so it cannot tell a
right gradient from a slightly wrong one.

Compare two gradients a and b component by component, as CS231n's notes on
gradient checking do: the relative error of component i is

    |a_i - b_i| / max(|a_i|, |b_i|)          (0 where a_i = b_i = 0)

and relative_error(a, b) is the LARGEST of them, over every element. Below
1e-7 the gradient is right; above 1e-2 it is wrong. Why the largest
component's error and not one ratio of whole-array norms? A norm is dominated
by the big components: a = [0.5, -0.5, 1e-4] against b = [0.5, -0.5, 3e-4]
(right in its large entries, 3 times too big in the small one) has the norm
ratio ‖a - b‖ / max(‖a‖, ‖b‖) = 2.83e-4 (1.41e-4 with ‖a‖ + ‖b‖ as the
denominator), which passes for "fine", while the small entry's own relative error
is 2/3. Small entries are
common in softmax gradients (a class the model rules out has p ≈ 0), and
they are where a mistake hides. The price: a component whose true value is 0
is compared with rounding noise (1e-17 against 1e-12 is a relative error near
1), so look at the absolute difference of such components instead.

THE NUMBERS
-----------
    softmax([1, 2]) = softmax([1001, 1002]) = [0.26894142, 0.73105858]
    softmax([[1000, 999], [-1000, -1001]]): both rows [0.73105858, 0.26894142]
    log_softmax([1000, 0, -1000]) = [0, -1000, -2000]
    uniform logits over C classes give a cross-entropy of log C
    logits [[4, 2, 1], [0, 5, 1]] with targets [[1, 0, 0], [0, .8, .2]]:
        per row 0.169846 and 0.824745, batch mean 0.497295
    a right gradient against numerical_gradient: a relative error of about 6e-10

WHAT YOU WRITE
--------------
3.1 softmax(logits, axis=-1, temperature=1.0)     probabilities along `axis`; no NaN or warning for logits up to ±1e4
3.2 log_softmax(logits, axis=-1)                  log-probabilities, finite wherever the logits are
3.3 cross_entropy_from_logits(logits, targets)    class indices or probability rows; the mean over the rows
3.4 cross_entropy_grad(logits, targets)           the gradient of 3.3's loss w.r.t. the logits: derive it
3.5 numerical_gradient(f, x, h=1e-5)              central differences, every element of x in turn
3.6 relative_error(a, b)                          the largest componentwise relative error (above)

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
from kata.given.module03 import (
    as_logits_along,
    check_gradient_inputs,
    check_temperature,
    logits_and_targets,
    same_shape_pair,
)
from kata.given.plots import module03 as draw

# ---------------------------------------------------------------------------
# The exercises. Each input is checked (and made float64) before your code runs.


def softmax(logits, axis=-1, temperature=1.0):
    """softmax(logits / temperature) along ``axis`` (the classes, last by default).

    logits: float64 array of any shape (-inf allowed: probability 0). Returns
    probabilities of the same shape that sum to 1 along ``axis``; no overflow,
    even for logits near ±1e4 or rows of very different scales.
    """
    logits = as_logits_along(logits, axis)
    temperature = check_temperature(temperature)
    # TODO 3.1: return softmax(logits / temperature) along `axis`, a float64 array
    #   of the logits' shape whose slices along `axis` each sum to 1. It must hold,
    #   with no NaN and no numpy warning, for logits up to about ±1e4 and
    #   temperatures from 0.25 to 3 (the range the tests check): softmax([1001,
    #   1002]) = [0.26894142, 0.73105858], and in a batch each slice is on its own
    #   (softmax([[1000, 999], [-1000, -1001]]) has both rows [0.731, 0.269]).
    #   A -inf logit gets probability 0. Use `axis` for every reduction, never a
    #   fixed axis number, and keep the result's shape equal to the input's.
    raise TODO("3.1")


def log_softmax(logits, axis=-1):
    """log(softmax(logits)) along ``axis``, computed stably.

    logits: float64 array of any shape (-inf allowed). Returns log-probabilities
    (<= 0) of the same shape; finite wherever the logits are, e.g.
    [0, -1000, -2000] for [1000, 0, -1000].
    """
    logits = as_logits_along(logits, axis)
    # TODO 3.2: return log(softmax(logits)) along `axis` (temperature 1), a
    #   float64 array of the logits' shape, computed so that it is finite wherever
    #   the logits are: log_softmax([1000, 0, -1000]) = [0, -1000, -2000], and
    #   each slice along `axis` on its own scale (rows [[1000, 999], [-1000,
    #   -1001]] both give [-0.31326169, -1.31326169]). -inf stays -inf. No numpy
    #   warning. Do not take the log of a softmax: a probability that underflowed
    #   to 0 has log -inf.
    raise TODO("3.2")


def cross_entropy_from_logits(logits, targets):
    """Mean cross-entropy over a batch, from logits, in nats.

    logits: (N, C), finite. targets: class indices (N,) of an integer dtype, or
    probability rows (N, C). Returns one float: the mean over the N rows of
    -Σ_i t_i log_softmax(z)_i.
    """
    logits, targets, are_indices = logits_and_targets(logits, targets)
    # TODO 3.3: return the loss of the lesson as one float, in nats: for each of
    #   the N rows, the cross-entropy of its target against softmax of its logits
    #   (summed over the C classes), then the MEAN over the rows. are_indices
    #   tells you which kind targets is: class indices (N,) (row n's target is
    #   the one-hot row of targets[n]) or probability rows (N, C). Work from
    #   log-probabilities (your log_softmax, along the classes), never the log of
    #   a softmax, so that logits [[1000, 0]] with target [1] give 1000.0.
    raise TODO("3.3")


def cross_entropy_grad(logits, targets):
    """Gradient of cross_entropy_from_logits w.r.t. the logits, shape (N, C).

    Same arguments as cross_entropy_from_logits (logits (N, C); class indices
    (N,) or probability rows (N, C)). Returns the float64 array whose element
    [n, k] is d loss / d logits[n, k], for the batch-mean loss.
    """
    logits, targets, are_indices = logits_and_targets(logits, targets)
    # TODO 3.4: return the gradient of cross_entropy_from_logits(logits, targets)
    #   (the batch MEAN) with respect to every logit: a float64 array of shape
    #   (N, C) whose [n, k] is d loss / d logits[n, k]. Derive it on paper first
    #   (the lesson says how to start); you may call your softmax (3.1). Both
    #   kinds of targets: class indices (are_indices True) and probability rows.
    #   Check value: logits [[4, 2, 1], [0, 5, 1]], targets [0, 1] give row 0 =
    #   [-0.078103, 0.057098, 0.021005]; every row sums to 0.
    raise TODO("3.4")


def numerical_gradient(f, x, h=1e-5):
    """Central-difference gradient of a scalar function f at x.

    f: takes an array shaped like x and returns a number. x: array of any
    shape (it is copied; the caller's array is never changed). Returns a float64
    array shaped like x whose element i is (f(x + h e_i) - f(x - h e_i)) / (2h).
    """
    check_gradient_inputs(f, h)
    x = np.array(x, dtype=np.float64)  # a float copy: changing it leaves the caller's x alone
    grad = np.zeros_like(x)
    # TODO 3.5: fill grad (shaped like x) with the CENTRAL difference of f at x
    #   for every element i of x, whatever x's shape (a vector, a matrix of
    #   logits): the change of f between x with element i moved up by h and with
    #   it moved down by h (all other elements as they are), over the distance 2h
    #   between them. Use the h you are given. You may change your copy x in
    #   place, as long as each element is back to its value before the next one
    #   is moved. Call f with arrays shaped like x. Return grad.
    raise TODO("3.5")


def relative_error(a, b):
    """The largest componentwise relative error |a_i - b_i| / max(|a_i|, |b_i|); 0 where both are 0.

    a, b: finite arrays of the same shape (or numbers). Returns a float >= 0.
    """
    a, b = same_shape_pair(a, b)
    # TODO 3.6: return, as a float, the LARGEST over all elements i of the
    #   relative error of component i, |a_i - b_i| / max(|a_i|, |b_i|) (CS231n's
    #   definition: each component against its own size, the larger of the two),
    #   where a component with a_i = b_i = 0 counts as 0 (not NaN, no numpy
    #   warning). Not a ratio of whole-array norms: that hides a wrong small
    #   component. Check value: relative_error([10, 1e-3], [10, 2e-3]) = 0.5.
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
    print(f"softmax([[1000, 999], [-1000, -1001]]) = {softmax([[1000.0, 999.0], [-1000.0, -1001.0]]).tolist()}")
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
