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
high p on a class-0 point. Gradient descent walks downhill on L:
    w <- w - lr · ∂L/∂w,    b <- b - lr · ∂L/∂b.

THE MATHS YOU NEED
------------------
With σ'(z) = σ(z)(1 - σ(z)), the derivative of one sample's loss with respect
to its logit collapses to p_i - y_i (prediction minus truth). The chain rule
through z = Xw + b then gives, for X of shape (N, D):
    ∂L/∂w = X^T (p - y) / N        shape (D,)
    ∂L/∂b = mean(p - y)            a number
Check the derivation numerically: module 3's numerical_gradient(f, theta) on
f(theta) = binary_cross_entropy(y, predict_proba(X, theta[:2], theta[2]))
must agree with your formula to a relative_error below 1e-7. (The tests make
this check for you with their own central differences.)

Stability: 1 / (1 + exp(-z)) calls exp(1000) = inf at z = -1000, and numpy
warns "overflow". Only ever exponentiate a number <= 0:
    z >= 0:  1 / (1 + exp(-z))        z < 0:  exp(z) / (1 + exp(z)).

THE EXPERIMENT
--------------
Two Gaussian blobs (kata.given.data.two_blobs(): 100 points around (-2, -2) are
class 0, 100 around (2, 2) are class 1). Start from w = [0, 0], b = 0, so
p = 1/2 everywhere and the loss is log 2 = 0.693147 nats (a coin flip). Run
100 epochs of full-batch gradient descent with lr = 0.1. You should see the
loss fall (0.693147, 0.504888, 0.391990, ...; 0.030134 at epoch 99), end
with w ≈ [1.127862, 1.095388], b ≈ -0.010957, and classify 199 of the 200
points correctly (accuracy 0.995).

WHAT YOU WRITE
--------------
4.1 sigmoid(z)                          elementwise, stable: no overflow warning at ±1000
4.2 predict_proba(X, w, b)              P(class 1 | x) = sigmoid(X @ w + b), shape (N,)
4.3 binary_cross_entropy(y_true, y_pred, eps)
                                        the mean over samples, both terms, p clipped to [eps, 1 - eps]
4.4 logistic_gradients(X, y, w, b)      (∂L/∂w, ∂L/∂b), averaged over the samples
4.5 train_logistic_regression(X, y, lr, epochs, snapshot_epochs)
                                        full-batch gradient descent; weights, bias,
                                        loss history and snapshots of (w, b)
4.6 accuracy(y_true, y_prob)            the fraction of points with (p >= 0.5) == y

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

    z: float or array of logits. Returns the same shape, values in [0, 1],
    without any overflow warning, even at z = ±1000.
    """
    z = np.asarray(z, dtype=float)
    # TODO 4.1: return 1 / (1 + exp(-z)) computed stably: exp must only ever see
    #   a number <= 0. Where z >= 0 use 1 / (1 + exp(-z)); where z < 0 use
    #   exp(z) / (1 + exp(z)). Beware: np.where(c, a, b) computes a and b on
    #   every element, so both must be safe for every z. Return z's shape.
    raise TODO("4.1")


def predict_proba(X, w, b):
    """P(class 1 | x) for every row x of X.

    X: (N, D) features; w: (D,) weights; b: the bias (a number).
    Returns (N,) probabilities in [0, 1] (not logits).
    """
    X = as_features(X)
    w, b = as_parameters(w, b, X.shape[1])
    # TODO 4.2: the logits are z = X @ w + b, shape (N,); return sigmoid(z), your
    #   4.1, so that the caller gets probabilities, not logits.
    raise TODO("4.2")


def binary_cross_entropy(y_true, y_pred, eps=1e-12):
    """Mean binary cross-entropy in nats.

    y_true: (N,) labels in [0, 1]; y_pred: (N,) predicted P(class 1).
    Returns one number: -(1/N) Σ [y log p + (1 - y) log(1 - p)], with p
    clipped to [eps, 1 - eps] so that log 0 never happens.
    """
    y_true = as_labels(y_true, name="y_true")
    y_pred = as_probability_vector(y_pred, y_true.shape[0], name="y_pred")
    # TODO 4.3: clip y_pred to [eps, 1 - eps], then return the MEAN over the
    #   samples of -(y log p + (1 - y) log(1 - p)), natural log. Keep both terms:
    #   the (1 - y) log(1 - p) term is the loss on the class-0 points.
    raise TODO("4.3")


def logistic_gradients(X, y, w, b):
    """Gradient of the mean BCE of predict_proba(X, w, b) with respect to w and b.

    X: (N, D); y: (N,) labels; w: (D,); b: a number.
    Returns (grad_w of shape (D,), grad_b a number).
    """
    X = as_features(X)
    y = as_labels(y, X.shape[0])
    w, b = as_parameters(w, b, X.shape[1])
    # TODO 4.4: with p = predict_proba(X, w, b), the error is p - y (prediction
    #   minus truth, that sign). Return (X.T @ (p - y) / N, mean(p - y)): both
    #   AVERAGED over the N samples, as the loss is a mean. grad_b as a float.
    raise TODO("4.4")


def train_logistic_regression(X, y, lr=LEARNING_RATE, epochs=EPOCHS, snapshot_epochs=SNAPSHOT_EPOCHS):
    """Full-batch gradient descent on the mean BCE, from w = 0, b = 0.

    X: (N, D); y: (N,) labels 0/1; lr: the learning rate; epochs: how many
    updates; snapshot_epochs: after how many updates to keep a copy of (w, b)
    (0 is the start; any past `epochs` are never reached). Returns TrainingResult(w, b, losses (epochs,), snapshots).
    """
    X = as_features(X)
    y = as_labels(y, X.shape[0], hard=True)
    check_training(lr, epochs)
    check_snapshot_epochs(snapshot_epochs)
    # TODO 4.5: start from w = np.zeros(D), b = 0.0, losses = [], snapshots = {}
    #   (store snapshots[0] = (w.copy(), b) if 0 is in snapshot_epochs). Then for
    #   each epoch in range(epochs), in this order:
    #   (1) p = predict_proba(X, w, b); append binary_cross_entropy(y, p) to losses
    #   (the loss BEFORE this epoch's update, so losses[0] = log 2);
    #   (2) grad_w, grad_b = logistic_gradients(X, y, w, b), both from the same w, b;
    #   (3) step DOWNHILL: w = w - lr * grad_w and b = b - lr * grad_b;
    #   (4) if epoch + 1 is in snapshot_epochs, store snapshots[epoch + 1] =
    #   (w.copy(), b): a copy, or later updates would change it too.
    #   Return TrainingResult(w, b, np.array(losses), snapshots).
    raise TODO("4.5")


def accuracy(y_true, y_prob):
    """The fraction of samples classified correctly, a number in [0, 1].

    y_true: (N,) labels 0/1; y_prob: (N,) predicted P(class 1). A point is
    predicted as class 1 when its probability is >= 0.5.
    """
    y_true = as_labels(y_true, name="y_true", hard=True)
    y_prob = as_probability_vector(y_prob, y_true.shape[0])
    # TODO 4.6: predict class 1 where y_prob >= 0.5 (a tie at exactly 0.5 counts
    #   as class 1) and 0 elsewhere; return the mean of (prediction == y_true) as a
    #   float: a fraction such as 0.995, not a count and not a percentage.
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
    error = np.linalg.norm(analytic - numeric) / max(np.linalg.norm(analytic) + np.linalg.norm(numeric), 1e-300)
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
