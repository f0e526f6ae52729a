"""Module 4: logistic regression from scratch, trained with binary cross-entropy.

THE IDEA
--------
A binary classifier turns each point x into one number, the logit
    z = w · x + b
and squashes it into a probability of class 1 with the sigmoid
    p = sigmoid(z) = 1 / (1 + exp(-z))          (0 < p < 1, sigmoid(0) = 1/2).
The loss is the cross-entropy of module 1 with two classes, truth [y, 1 - y]
and prediction [p, 1 - p], averaged over the N samples (a mean, not a sum):
    L(w, b) = -(1/N) Σ_i [ y_i log p_i + (1 - y_i) log(1 - p_i) ]    (nats)
Both terms matter: the first punishes a low p on a class-1 point, the second a
high p on a class-0 point. Gradient descent walks downhill on L, against its
gradient, with a learning rate lr:
    w <- w - lr · ∂L/∂w,    b <- b - lr · ∂L/∂b.

THE GRADIENT (task 4.4: derive it yourself)
------------------------------------------
Work it out on paper before you write code. First one sample: differentiate
its loss with respect to its own logit z_i. You will need σ'(z); write it in
terms of σ(z) itself (check it numerically if you like), and watch how much
of the loss's derivative then cancels. Then the chain rule through
z = Xw + b (what is ∂z_i/∂w? ∂z_i/∂b?), and finally the mean over the N
samples. Check your result against these numbers:
    on the blobs below at w = [0, 0], b = 0:   ∂L/∂w = [-1.060953, -1.002366],  ∂L/∂b = 0
    (the two classes have 100 points each: why does that make ∂L/∂b exactly 0 there?)
    on X = [[1, 2], [-1, 0.5], [0, 0]], y = [1, 0, 1], w = [0.5, -1], b = 0.25:
        ∂L/∂w = [-0.366040, -0.464730],  ∂L/∂b = -0.298101
A gradient points uphill, towards a larger loss; training subtracts it. The
tests compare yours with central differences (module 3's idea) of the loss,
and ask for a relative error below 1e-7.

STABILITY AT z = ±1000
----------------------
Taken literally, 1 / (1 + exp(-z)) computes exp(1000) = inf at z = -1000. The
answer still comes out right, 1 / inf = 0 (the true σ(-1000) ≈ 5e-435 is below
the smallest float64 anyway), but numpy warns "overflow encountered in exp",
and a warning counts as a failure in this course. The other way of writing the
same function, exp(z) / (1 + exp(z)), is worse: at z = +1000 it is inf / inf =
NaN. Each form is safe where its exp only sees numbers <= 0.

What really fails at |z| = 1000 is the log in the loss. σ(-1000) is exactly 0
in float64, so a class-1 point there has log p = log 0 = -inf (the true log σ
is -1000), and likewise 1 - σ(1000) = 0 for a class-0 point. That is why
binary_cross_entropy clips p to [eps, 1 - eps] before taking logs: such a
confidently wrong point costs -log(eps) ≈ 27.63 nats (eps = 1e-12) instead of
inf. Clipping is not adding: log(p + eps) is a different function, and for a
large eps it can even make the loss negative. The true cost of that point,
1000 nats, is lost once p has been rounded to 0; only a loss computed from the
logits keeps it (module 6).

THE EXPERIMENT
--------------
Two Gaussian blobs (kata.given.data.two_blobs(): 100 points around (-2, -2) are
class 0, 100 around (2, 2) are class 1). Start from w = [0, 0], b = 0, so
p = 1/2 everywhere and the loss is log 2 = 0.693147 nats (a coin flip). Run
100 epochs of full-batch gradient descent with lr = 0.1. You should see the
loss fall (0.693147, 0.504888, 0.391990, ...; 0.030134 at epoch 99), end
with w ≈ [1.127862, 1.095388], b ≈ -0.010957, and classify 199 of the 200
points correctly (accuracy 0.995). A point is predicted as class 1 when its
probability is >= 0.5, so a probability of exactly 0.5 is class 1 (careful:
np.round rounds half to even, np.round(0.5) = 0.0, which would call it class 0).

WHAT YOU WRITE
--------------
4.1 sigmoid(z)                          elementwise, float64; no warning or NaN at z = ±1000
4.2 predict_proba(X, w, b)              P(class 1 | x) for each row of X, shape (N,)
4.3 binary_cross_entropy(y_true, y_pred, eps)
                                        the mean over samples, both terms, p clipped to [eps, 1 - eps]
4.4 logistic_gradients(X, y, w, b)      (∂L/∂w, ∂L/∂b) of the mean loss: derive them (above)
4.5 train_logistic_regression(X, y, lr, epochs, snapshot_epochs)
                                        full-batch gradient descent from w = 0, b = 0; weights, bias,
                                        loss history and snapshots of (w, b)
4.6 accuracy(y_true, y_prob)            the fraction of points whose class (p >= 0.5 is class 1) is right

binary_cross_entropy and accuracy work on probabilities, so they take the truth
first, as cross_entropy(p, q) and sklearn's metrics do (module 3's functions on
logits took the prediction first, as torch's do).

THE FIGURES (make run-module-4; the tests compare them with plots_baseline/)
-----------
1. The loss curve: mean BCE per epoch, starting at log 2 and falling.
2. The decision boundary: the shading is P(class 1 | x) from predict_proba, the
   black line is where it equals 1/2 (w · x + b = 0), over the two blobs.
3. The boundary at epochs 0, 1, 10 and 100: at epoch 0 there is no boundary
   (p = 1/2 everywhere); one step already finds its direction, and the
   later epochs make the model more confident (the shading gets steeper).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from kata import TODO  # noqa: F401  (the stubs raise it)
from kata.given.checks import (
    as_features,
    as_labels,
    as_parameters,
    as_probability_vector,
    check_snapshot_epochs,
    check_training,
)
from kata.given.data import two_blobs
from kata.given.plots import module04 as draw

LEARNING_RATE = 0.1
EPOCHS = 100
SNAPSHOT_EPOCHS = (0, 1, 10, 100)


class TrainingResult(NamedTuple):
    """What train_logistic_regression returns (unpack it: w, b, losses, snapshots = ...)."""

    w: np.ndarray  # (D,) the final weights
    b: float  # the final bias
    losses: np.ndarray  # (epochs,) losses[k] = mean BCE before update k+1 (losses[0] at w = 0)
    snapshots: dict  # {epoch: (w copy (D,), b)}: the parameters after that many updates


def sigmoid(z):
    """The logistic function 1 / (1 + exp(-z)), elementwise.

    z: float or array of logits. Returns float64 of the same shape, values in
    [0, 1], without any overflow warning, even at z = ±1000.
    """
    z = np.asarray(z, dtype=np.float64)
    # TODO 4.1: return σ(z) = 1 / (1 + exp(-z)) elementwise, a float64 array of
    #   z's shape (a number gives a 0-d array or a float), for any finite z, with
    #   no numpy warning and no NaN: sigmoid(-1000) = 0 and sigmoid(1000) = 1 as
    #   float64 rounds them, sigmoid(-20) = 2.0611536e-09 (small, but not 0), and
    #   sigmoid(-z) = 1 - sigmoid(z). The lesson explains why the formula as
    #   written warns at z = -1000 and which rewriting is safe where.
    raise TODO("4.1")


def predict_proba(X, w, b):
    """P(class 1 | x) for every row x of X.

    X: (N, D) features; w: (D,) weights; b: the bias (a number).
    Returns (N,) float64 probabilities in [0, 1] (not logits).
    """
    X = as_features(X)
    w, b = as_parameters(w, b, X.shape[1])
    # TODO 4.2: return P(class 1 | x) for every row x of X, a float64 array of
    #   shape (N,): the sigmoid (your 4.1) of the row's logit w · x + b.
    #   Probabilities in [0, 1], not logits.
    raise TODO("4.2")


def binary_cross_entropy(y_true, y_pred, eps=1e-12):
    """Mean binary cross-entropy in nats.

    y_true: (N,) labels in [0, 1]; y_pred: (N,) predicted P(class 1).
    Returns one number: -(1/N) Σ [y log p + (1 - y) log(1 - p)], with p
    clipped to [eps, 1 - eps] so that log 0 never happens.
    """
    y_true = as_labels(y_true, name="y_true")
    y_pred = as_probability_vector(y_pred, y_true.shape[0], name="y_pred")
    # TODO 4.3: return the lesson's loss L as a float, in nats (natural log):
    #   the MEAN over the N samples of each sample's binary cross-entropy, with
    #   both terms (the class-1 term and the class-0 term). Clip y_pred to
    #   [eps, 1 - eps] first (clip, not add: the loss of p = 0 on a class-1 point
    #   is then -log(eps), 27.631021 at the default eps). Check value:
    #   binary_cross_entropy([1, 0, 1, 0], [.9, .2, .6, .3]) = 0.299001.
    raise TODO("4.3")


def logistic_gradients(X, y, w, b):
    """Gradient of the mean BCE of predict_proba(X, w, b) with respect to w and b.

    X: (N, D); y: (N,) labels; w: (D,); b: a number.
    Returns (grad_w of shape (D,), float64; grad_b a float): the direction in which the loss grows.
    """
    X = as_features(X)
    y = as_labels(y, X.shape[0])
    w, b = as_parameters(w, b, X.shape[1])
    # TODO 4.4: return (grad_w, grad_b), the gradient of the MEAN loss
    #   L(w, b) = binary_cross_entropy(y, predict_proba(X, w, b)) with respect to
    #   w (a float64 array of shape (D,)) and to b (a float), the loss as the
    #   lesson writes it (without the clipping, which only keeps the logs finite).
    #   Derive it first (the lesson says how to start); you may call predict_proba
    #   (4.2). It must stay finite where p is exactly 0 or 1 (logits of ±1000).
    #   The sign: a gradient points uphill, the way L grows; training (4.5)
    #   subtracts it. Check values are in the lesson (on its 3-point example,
    #   grad_b = -0.298101).
    raise TODO("4.4")


def train_logistic_regression(X, y, lr=LEARNING_RATE, epochs=EPOCHS, snapshot_epochs=SNAPSHOT_EPOCHS):
    """Full-batch gradient descent on the mean BCE, from w = 0, b = 0.

    X: (N, D); y: (N,) labels 0/1; lr: the learning rate; epochs: how many
    updates; snapshot_epochs: after how many updates to keep a copy of (w, b)
    (0 is the start; any past `epochs` are never reached). lr >= 0 (0 takes no step), epochs a whole number >= 1.
    Returns TrainingResult(w, b, losses (epochs,), snapshots).
    """
    X = as_features(X)
    y = as_labels(y, X.shape[0], hard=True)
    check_training(lr, epochs)
    check_snapshot_epochs(snapshot_epochs)
    # TODO 4.5: full-batch gradient descent from w = zeros (D,) float64, b = 0.0,
    #   for `epochs` epochs of one update each, with these conventions (they fix
    #   the numbers): in each epoch, first record the loss at the current (w, b)
    #   (binary_cross_entropy of predict_proba; so losses[0] = log 2 before any
    #   update), then take both gradients (logistic_gradients) at that same
    #   (w, b), then step both parameters downhill with learning rate lr.
    #   snapshots maps k -> (a copy of w, b) after k updates, for each k in
    #   snapshot_epochs that is reached (k = 0 is the start); a copy, so later
    #   updates do not change it. lr = 0 takes no step. Return
    #   TrainingResult(w, b, losses as an array of shape (epochs,), snapshots).
    raise TODO("4.5")


def accuracy(y_true, y_prob):
    """The fraction of samples classified correctly, a number in [0, 1].

    y_true: (N,) labels 0/1; y_prob: (N,) predicted P(class 1). A point is
    predicted as class 1 when its probability is >= 0.5 (exactly 0.5 included).
    """
    y_true = as_labels(y_true, name="y_true", hard=True)
    y_prob = as_probability_vector(y_prob, y_true.shape[0])
    # TODO 4.6: return, as a float, the fraction of the N samples whose predicted
    #   class equals y_true: a fraction such as 0.995, not a count and not a
    #   percentage. The predicted class is 1 where y_prob >= 0.5 and 0 below it,
    #   so a probability of exactly 0.5 is class 1.
    raise TODO("4.6")


# ---------------------------------------------------------------------------
# Given code: the figures and the printout. They use your functions above.

LIMITS = (-5.5, 6.5)  # both axes of the boundary figures


def probability_grid(w, b, n=101, limits=LIMITS):
    """P(class 1 | x) on an n × n grid over the figure, from your predict_proba.

    Returns (x1 (n, n), x2 (n, n), P (n, n)) with x1 varying along axis 1.
    """
    axis = np.linspace(limits[0], limits[1], n)
    x1, x2 = np.meshgrid(axis, axis)
    points = np.column_stack([x1.ravel(), x2.ravel()])
    return x1, x2, np.asarray(predict_proba(points, w, b)).reshape(x1.shape)


def plot_loss_curve():
    """Figure 1: the mean BCE at each epoch of the worked training run."""
    X, y = two_blobs()
    result = train_logistic_regression(X, y)
    final = binary_cross_entropy(y, predict_proba(X, result.w, result.b))
    return draw.loss_curve(np.asarray(result.losses), float(np.log(2)), final, LEARNING_RATE)


def plot_decision_boundary():
    """Figure 2: P(class 1 | x) and the boundary p = 1/2 after training, over the data."""
    X, y = two_blobs()
    result = train_logistic_regression(X, y)
    grid = probability_grid(result.w, result.b)
    p_data = predict_proba(X, result.w, result.b)
    return draw.decision_boundary(X, y, grid, result.w, result.b, p_data, accuracy(y, p_data), EPOCHS)


def plot_boundary_snapshots():
    """Figure 3: the boundary after 0, 1, 10 and 100 epochs, side by side."""
    X, y = two_blobs()
    result = train_logistic_regression(X, y, snapshot_epochs=SNAPSHOT_EPOCHS)
    panels = []
    for epoch in SNAPSHOT_EPOCHS:
        w, b = result.snapshots[epoch]
        loss = binary_cross_entropy(y, predict_proba(X, w, b))
        panels.append((epoch, np.asarray(w, dtype=float), float(b), probability_grid(w, b, n=61), loss))
    return draw.boundary_snapshots(X, y, panels)


def report():
    """Print the worked training run (make run-module-4)."""
    X, y = two_blobs()
    w0, b0 = np.zeros(2), 0.0
    print(f"loss at w = 0, b = 0: {binary_cross_entropy(y, predict_proba(X, w0, b0)):.6f} nats "
          f"(log 2 = {np.log(2):.6f})")
    w1, b1 = np.array([0.3, -0.2]), 0.1
    grad_w, grad_b = logistic_gradients(X, y, w1, b1)
    analytic = np.append(grad_w, grad_b)
    numeric = _central_differences(lambda t: binary_cross_entropy(y, predict_proba(X, t[:2], t[2])),
                                   np.append(w1, b1))
    error = np.max(np.abs(analytic - numeric) / np.maximum(np.abs(analytic), np.abs(numeric)))  # module 3's relative_error
    print(f"gradient check at w = {w1}, b = {b1}: relative error {error:.2e} (below 1e-7 is right)")
    result = train_logistic_regression(X, y)
    print(f"after {EPOCHS} epochs at lr = {LEARNING_RATE}: w = {np.round(result.w, 6)}, b = {result.b:.6f}")
    print(f"loss: epoch 0 {result.losses[0]:.6f}, epoch 1 {result.losses[1]:.6f}, "
          f"epoch {EPOCHS - 1} {result.losses[-1]:.6f} nats")
    print(f"accuracy: {accuracy(y, predict_proba(X, result.w, result.b)):.3f}")


def _central_differences(f, theta, h=1e-5):
    """(f(θ + h e_k) - f(θ - h e_k)) / 2h for each k (module 3's numerical_gradient does the same)."""
    grad = np.zeros_like(theta)
    for k in range(theta.size):
        step = np.zeros_like(theta)
        step[k] = h
        grad[k] = (f(theta + step) - f(theta - step)) / (2 * h)
    return grad
