"""Module 9: KL divergence at work — knowledge distillation and calibration.

THE IDEA
--------
A trained classifier knows more than its argmax. For a point between two
classes the teacher might say [0.55, 0.40, 0.05]: "probably 0, could well be 1,
certainly not 2". A hard label ([1, 0, 0]) throws that away. Knowledge
distillation (Hinton, Vinyals & Dean 2015) trains a small *student* to match the
teacher's whole distribution, and the distance it minimises is a KL divergence.

Both models' logits are divided by a temperature T >= 1 before the softmax:
    p = softmax(t / T)   (the teacher's soft targets)     q = softmax(s / T)   (the student)
A high T flattens the distributions, so the small probabilities (which classes
the teacher thinks *similar*) get a say. The loss per example is
    T² · KL(p || q) = T² · Σ_c p_c (log p_c − log q_c)
averaged over the batch ("batchmean": sum over classes, mean over examples).
This is exactly
    F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1), reduction="batchmean") * T**2
Mind three things. The direction: the teacher p is the truth, the student q the
prediction, KL(p || q) as in module 2 (F.kl_div takes the *log* of q first and p
second). The reduction: "mean" would also divide by the number of classes.
The factor T²: see below.

CROSS-ENTROPY OR KL? THE SAME GRADIENT
--------------------------------------
Module 2's identity H(p, q) = H(p) + KL(p || q) says the soft-target
cross-entropy and the KL differ by H(p), the teacher's entropy, which does not
depend on the student. So T²·H(p, q) and T²·KL(p || q) differ by T²·H(p) and
have *identical* gradients with respect to the student's logits: the student
learns the same thing either way; only KL reads 0 at a perfect match.

WHY T²
------
The gradient of T²·KL(p || q) with respect to the student's logit s_i is
    T² · (q_i − p_i) / T = T · (q_i − p_i)         (per example; / N for the batch mean)
As T grows, q − p shrinks like 1/T (for large T, q_i − p_i ≈ (s_i − t_i)/(C·T)
with zero-mean logits), so T·(q − p) tends to the fixed (s − t)/C. Without T²
the gradient would shrink like 1/T², and changing T would silently change the
learning rate. You check this on numbers.

CALIBRATION
-----------
A model is *calibrated* when, of all the predictions it makes with confidence
0.8, 80% are right. Split the confidences (the max probability of each row)
into M equal-width bins, bin b holding b/M < confidence <= (b+1)/M. In each bin
compare the accuracy with the mean confidence. The expected calibration error
(Guo et al. 2017, M = 15) weights each bin by its share of the examples:
    ECE = Σ_b (n_b / N) · |accuracy_b − confidence_b|
Temperature scaling fixes an overconfident model with one number: divide the
logits by a T fitted to minimise the NLL (mean cross-entropy) on validation data.
The argmax of logits / T is the argmax of the logits, so accuracy cannot change.

THE EXPERIMENTS (given code below, built on your functions)
---------------
Three module-5 blobs with standard deviation 1.5, so the classes overlap.
- A teacher MLP is trained module-5 style on 600 points.
- Two identical students (same initialisation) see only 30 transfer points: one
  learns from their hard labels, the other from the teacher's soft targets at
  T = 4. On 900 held-out points the hard-label student has memorised its 30
  labels and is wildly overconfident; the distilled one inherits the teacher's
  sense of where the classes overlap, and its held-out cross-entropy is about
  4 times lower (0.29 vs 1.24 nats), its accuracy higher too (0.90 vs 0.87).
- That overconfident hard-label student is then calibrated: fit_temperature on
  300 validation points finds T ≈ 7.2; on the held-out points its accuracy stays
  the same while its NLL and its ECE both fall.

WHAT YOU WRITE
--------------
9.1 distillation_loss(student_logits, teacher_logits, T)          T²·KL(p || q), batchmean
9.2 soft_target_cross_entropy(student_logits, teacher_logits, T)  T²·H(p, q), batch mean
9.3 distillation_grad(student_logits, teacher_logits, T)          its gradient, by hand
9.4 train(model, X, loss_fn, epochs, lr)                          module 5's loop, with Adam
9.5 calibration_bins(probs, labels, n_bins)                       counts, confidence, accuracy per bin
9.6 expected_calibration_error(probs, labels, n_bins)             ECE, bins weighted by their counts
9.7 fit_temperature(logits, labels)                               one T minimising the NLL

THE FIGURES (make run-module-9)
-----------
- The teacher's soft targets at T = 1, 2, 4, 8 for a clear and an ambiguous
  point: as T rises the bars flatten, and the ranking of the wrong classes
  (the "dark knowledge") becomes visible.
- Reliability diagrams of the hard-label student before and after temperature
  scaling: accuracy per confidence bin against the diagonal of perfect
  calibration, the gaps shaded, ECE and NLL in each panel.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

from kata import TODO  # noqa: F401  (the stubs raise it)
from kata.given.module09 import (
    check_labels,
    check_logit_pair,
    check_logits,
    check_probabilities,
    check_temperature,
    overlapping_blobs,
)
from kata.given.plots import module09 as draw
from kata.given.torchtools import one_thread


def distillation_loss(student_logits, teacher_logits, T=4.0):
    """Hinton's distillation loss T²·KL(softmax(t/T) || softmax(s/T)), mean over the batch.

    student_logits, teacher_logits: (N, C) tensors. T: temperature > 0.
    Returns a 0-d tensor in nats, differentiable with respect to student_logits.
    """
    s, t = check_logit_pair(student_logits, teacher_logits)
    T = check_temperature(T)
    # TODO 9.1: return T**2 * KL(p || q) averaged over the batch, where
    #   p = softmax(t / T) (the teacher, the truth) and log q = log_softmax(s / T)
    #   (the student), both over the classes (dim=-1). Sum p·(log p − log q) over the
    #   classes, then take the mean over the N rows: that is
    #   F.kl_div(log q, p, reduction="batchmean"). Do not forget the factor T**2.
    # BEGIN SOLUTION
    log_q = F.log_softmax(s / T, dim=-1)
    p = F.softmax(t / T, dim=-1)
    return F.kl_div(log_q, p, reduction="batchmean") * T**2
    # END SOLUTION


def soft_target_cross_entropy(student_logits, teacher_logits, T=4.0):
    """T²·H(softmax(t/T), softmax(s/T)): cross-entropy against the teacher's soft targets.

    Same shapes as distillation_loss; a 0-d tensor in nats, mean over the batch.
    """
    s, t = check_logit_pair(student_logits, teacher_logits)
    T = check_temperature(T)
    # TODO 9.2: return T**2 times the mean over the N rows of -Σ_c p_c log q_c, with
    #   p = softmax(t / T) and log q = log_softmax(s / T) over the classes (dim=-1).
    #   Sum over the classes, mean over the rows.
    # BEGIN SOLUTION
    p = F.softmax(t / T, dim=-1)
    return -(p * F.log_softmax(s / T, dim=-1)).sum(dim=-1).mean() * T**2
    # END SOLUTION


def distillation_grad(student_logits, teacher_logits, T=4.0):
    """The gradient of distillation_loss with respect to student_logits, by hand.

    Returns an (N, C) tensor: T·(softmax(s/T) − softmax(t/T)) / N.
    """
    s, t = check_logit_pair(student_logits, teacher_logits)
    T = check_temperature(T)
    s, t = s.detach(), t.detach()
    # TODO 9.3: derive it: d/ds of T²·KL(p || softmax(s/T)) is T²·(q − p)·(1/T) per row,
    #   and the batch mean divides by N = the number of rows. Return
    #   T * (softmax(s / T) - softmax(t / T)) / N, softmax over the classes (dim=-1).
    # BEGIN SOLUTION
    n_rows = s.shape[0]
    return T * (F.softmax(s / T, dim=-1) - F.softmax(t / T, dim=-1)) / n_rows
    # END SOLUTION


def train(model, X, loss_fn, epochs=200, lr=0.02):
    """Full-batch training, module 5 style. Returns the loss before each update (list of floats).

    model: an nn.Module mapping X (N, d) to logits (N, C). loss_fn: logits -> 0-d tensor.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if lr <= 0:
        raise ValueError(f"the learning rate must be positive, got {lr}")
    # TODO 9.4: make optimizer = torch.optim.Adam(model.parameters(), lr=lr) and an empty
    #   history list. For each of the `epochs` epochs, in this order: optimizer.zero_grad();
    #   loss = loss_fn(model(X)) (all of X at once, no mini-batches); loss.backward();
    #   optimizer.step(); append loss.item(). Return the history.
    # BEGIN SOLUTION
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X))
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    return history
    # END SOLUTION


def calibration_bins(probs, labels, n_bins=15):
    """Per confidence bin: (counts, mean confidence, accuracy), three (n_bins,) float64 tensors.

    probs: (N, C) probability rows; labels: (N,) class indices. Bin b holds the rows
    whose confidence (max probability) c satisfies b/n_bins < c <= (b+1)/n_bins.
    An empty bin has count 0, confidence 0 and accuracy 0.
    """
    probs, labels = check_probabilities(probs, labels, n_bins)
    probs = probs.double()
    # TODO 9.5: confidence, prediction = probs.max(dim=-1); correct = (prediction == labels)
    #   as float64. With edges = torch.linspace(0, 1, n_bins + 1, dtype=torch.float64), bin b
    #   holds edges[b] < confidence <= edges[b + 1]. For each bin store its count, the mean
    #   confidence of its rows and the mean of `correct` (its accuracy); leave 0, 0, 0 for an
    #   empty bin. Return (counts, confidences, accuracies), each of shape (n_bins,), float64.
    # BEGIN SOLUTION
    confidence, prediction = probs.max(dim=-1)
    correct = (prediction == labels).double()
    edges = torch.linspace(0, 1, n_bins + 1, dtype=torch.float64)
    counts = torch.zeros(n_bins, dtype=torch.float64)
    confidences = torch.zeros(n_bins, dtype=torch.float64)
    accuracies = torch.zeros(n_bins, dtype=torch.float64)
    for b in range(n_bins):
        inside = (confidence > edges[b]) & (confidence <= edges[b + 1])
        if inside.any():
            counts[b] = inside.sum()
            confidences[b] = confidence[inside].mean()
            accuracies[b] = correct[inside].mean()
    return counts, confidences, accuracies
    # END SOLUTION


def expected_calibration_error(probs, labels, n_bins=15):
    """ECE = Σ_b (n_b / N)·|accuracy_b − confidence_b| over equal-width bins (a float in [0, 1])."""
    probs, labels = check_probabilities(probs, labels, n_bins)
    # TODO 9.6: get (counts, confidences, accuracies) from calibration_bins(probs, labels,
    #   n_bins). Weight each bin's gap |accuracy − confidence| by its share of the examples,
    #   counts / N (N = number of rows, so empty bins weigh 0), add up, return a float.
    # BEGIN SOLUTION
    counts, confidences, accuracies = calibration_bins(probs, labels, n_bins)
    weights = counts / probs.shape[0]
    return float((weights * (accuracies - confidences).abs()).sum())
    # END SOLUTION


def fit_temperature(logits, labels):
    """The temperature T > 0 minimising the NLL F.cross_entropy(logits / T, labels) (a float).

    logits: (N, C) validation logits (no gradient needed); labels: (N,) class indices.
    """
    logits = check_logits(logits).detach()
    labels = check_labels(labels, logits.shape[0], logits.shape[1])
    # TODO 9.7: optimise log T, so that T = exp(log T) stays positive. Start from
    #   log_t = torch.zeros((), dtype=logits.dtype, requires_grad=True) (T = 1) and use
    #   optimizer = torch.optim.LBFGS([log_t], lr=1.0, max_iter=100, tolerance_grad=1e-9,
    #   line_search_fn="strong_wolfe"). Its step takes a closure that zeroes the gradient,
    #   computes loss = F.cross_entropy(logits / log_t.exp(), labels), calls loss.backward()
    #   and returns loss. Call optimizer.step(closure) once; return float(log_t.detach().exp()).
    # BEGIN SOLUTION
    log_t = torch.zeros((), dtype=logits.dtype, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=1.0, max_iter=100, tolerance_grad=1e-9,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.detach().exp())
    # END SOLUTION


# ---------------------------------------------------------------------------
# Given code: the experiments, the figures and the printout. They use your functions.

DISTILL_T = 4.0
TEMPERATURES = (1.0, 2.0, 4.0, 8.0)
EXAMPLE_POINTS = torch.tensor([[3.0, 3.5], [1.5, 1.2]], dtype=torch.float64)  # clear, ambiguous
EXAMPLE_NAMES = ("a clear point x = (3, 3.5)", "an ambiguous point x = (1.5, 1.2)")


def mlp(hidden: int, seed: int) -> nn.Module:
    """2 -> hidden -> hidden -> 3 ReLU network in float64, initialised from `seed`."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, 3)).double()


def held_out_scores(logits, y) -> dict:
    """Held-out cross-entropy (nats), accuracy and ECE of a model's logits."""
    probs = F.softmax(logits, dim=-1)
    return {"nll": float(F.cross_entropy(logits, y)),
            "accuracy": float((logits.argmax(dim=-1) == y).double().mean()),
            "ece": expected_calibration_error(probs, y)}


@functools.cache
def teacher():
    """The teacher: a 32-unit MLP trained with cross-entropy on 600 points (module 5 style)."""
    X, y = overlapping_blobs(200, seed=100)
    model = mlp(32, seed=0)
    with torch.enable_grad(), one_thread():  # enable_grad: even if the caller is inside torch.no_grad()
        train(model, X, lambda logits: F.cross_entropy(logits, y), epochs=200, lr=0.02)
    return model.eval()


@functools.cache
@one_thread()
def distillation_experiment() -> dict:
    """Hard labels vs the teacher's soft targets for the same student on 30 points.

    Returns the held-out data, each model's held-out logits and scores, and the students.
    """
    X_transfer, y_transfer = overlapping_blobs(10, seed=200)
    X_test, y_test = overlapping_blobs(300, seed=300)
    model = teacher()
    with torch.no_grad():
        teacher_logits = model(X_transfer)
    hard = mlp(16, seed=1000)
    hard_history = train(hard, X_transfer, lambda logits: F.cross_entropy(logits, y_transfer))
    soft = mlp(16, seed=1000)  # the same initialisation
    soft_history = train(soft, X_transfer, lambda logits: distillation_loss(logits, teacher_logits, DISTILL_T))
    with torch.no_grad():
        logits = {"teacher": teacher()(X_test), "hard-label student": hard(X_test),
                  "distilled student": soft(X_test)}
    return {"X_test": X_test, "y_test": y_test, "logits": logits,
            "scores": {name: held_out_scores(z, y_test) for name, z in logits.items()},
            "hard_student": hard.eval(), "histories": {"hard": hard_history, "soft": soft_history}}


@functools.cache
@one_thread()
def calibration_experiment() -> dict:
    """Temperature scaling of the overconfident hard-label student.

    T is fitted on 300 validation points; scores are on the 900 held-out points.
    """
    model = distillation_experiment()["hard_student"]
    X_val, y_val = overlapping_blobs(100, seed=400)
    X_test, y_test = distillation_experiment()["X_test"], distillation_experiment()["y_test"]
    with torch.no_grad():
        val_logits, test_logits = model(X_val), model(X_test)
    T = fit_temperature(val_logits, y_val)
    return {"T": T, "val_logits": val_logits, "y_val": y_val, "test_logits": test_logits, "y_test": y_test,
            "before": held_out_scores(test_logits, y_test),
            "after": held_out_scores(test_logits / T, y_test)}


def soft_targets(temperatures=TEMPERATURES):
    """The teacher's softmax(logits / T) at EXAMPLE_POINTS: shape (len(temperatures), 2, 3)."""
    model = teacher()
    with torch.no_grad():
        logits = model(EXAMPLE_POINTS)
    return torch.stack([F.softmax(logits / T, dim=-1) for T in temperatures])


def plot_soft_targets():
    """Figure 1: the teacher's soft targets at several temperatures."""
    return draw.soft_targets(soft_targets().numpy(), TEMPERATURES, EXAMPLE_NAMES)


def reliability_data(n_bins=15) -> dict:
    """Per-bin (counts, confidence, accuracy) before and after temperature scaling."""
    result = calibration_experiment()
    logits, y = result["test_logits"], result["y_test"]
    panels = {}
    for name, T in (("before", 1.0), ("after", result["T"])):
        counts, confidences, accuracies = calibration_bins(F.softmax(logits / T, dim=-1), y, n_bins)
        panels[name] = {"T": T, "counts": counts.numpy(), "bin_confidence": confidences.numpy(),
                        "bin_accuracy": accuracies.numpy(), **result[name]}
    return panels


def plot_reliability():
    """Figure 2: reliability diagrams before and after temperature scaling."""
    return draw.reliability(reliability_data(), n_bins=15)


def report():
    """Print the experiments' numbers (make run-module-9)."""
    s = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]], dtype=torch.float64)
    t = torch.tensor([[3.0, 0.5, -1.0], [0.0, 1.5, 1.0]], dtype=torch.float64)
    for T in (1.0, 4.0, 16.0):
        kl, ce = float(distillation_loss(s, t, T)), float(soft_target_cross_entropy(s, t, T))
        grad = distillation_grad(s, t, T)
        print(f"T = {T:>4g}: T²·KL = {kl:.6f}  T²·H(p, q) = {ce:.6f}  difference {ce - kl:.6f} = T²·H(p)   "
              f"|gradient| = {float(grad.norm()):.6f}")
    print("Held-out (900 points), after training on 30 transfer points:")
    for name, score in distillation_experiment()["scores"].items():
        print(f"  {name:<20} cross-entropy {score['nll']:.4f} nats   accuracy {score['accuracy']:.4f}   "
              f"ECE {score['ece']:.4f}")
    result = calibration_experiment()
    print(f"Temperature scaling of the hard-label student: T = {result['T']:.4f}")
    for name in ("before", "after"):
        score = result[name]
        print(f"  {name:<6} NLL {score['nll']:.4f} nats   accuracy {score['accuracy']:.4f}   ECE {score['ece']:.4f}")
