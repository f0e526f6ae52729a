"""Module 9: KL divergence at work — knowledge distillation and calibration.

THE IDEA
--------
A trained classifier knows more than its argmax. For a point between two
classes the teacher might say [0.55, 0.40, 0.05]: "probably 0, could well be 1,
certainly not 2". A hard label ([1, 0, 0]) throws that away. Knowledge
distillation (Hinton, Vinyals & Dean 2015) trains a small *student* to match the
teacher's whole distribution, by minimising KL(teacher || student): the KL
divergence with the teacher's distribution as the truth. KL is not a distance
(module 2): it is not symmetric, KL(p || q) differs from KL(q || p), so which
way round matters.

TEMPERATURE
-----------
Both models' logits are divided by one temperature T > 0 before the softmax:
    p = softmax(t / T)    the teacher's soft targets: the truth
    q = softmax(s / T)    the student's prediction at the same T
A high T flattens both, so the small probabilities (which wrong classes the
teacher thinks *similar*: its "dark knowledge") get a say. Per example the
loss compares them with KL(p || q), a sum over the classes; over a batch it is
the mean over the examples ("batchmean" in torch's words; reduction="mean" in
F.kl_div would divide by N·C, the number of elements, which is no mean over
examples).

This course trains the student on that soft term only. Hinton et al. add a
second, hard-label term (the student's ordinary cross-entropy at T = 1 against
the true labels) and mix the two with a weight; the soft term alone does most
of the work, and one term keeps the experiment clean. Whatever T a student is
trained at, it is *used* at T = 1: every held-out score below comes from its
plain logits.

A POWER OF T KEEPS THE GRADIENT'S SCALE
---------------------------------------
Dividing by T does something unwelcome to the gradient. Module 3 gave you the
gradient of a softmax cross-entropy with respect to its logits; here the logits
are s / T, and the chain rule adds its own factor. Then look at large T, where
    softmax(z / T) ≈ (1 + (z − mean(z)) / T) / C
and ask how fast q − p shrinks as T grows. Put together, the gradient of the
plain KL falls like a power of T, so changing T would silently change the
learning rate. Hinton et al. multiply the KL by the power of T that cancels
this, and the gradient keeps its scale at every T. Finding that power is part
of task 9.1; the gradient itself, in closed form, is task 9.3. The tests check
your answer on numbers: from T = 8 to T = 32 the gradient of your loss keeps
its size, and at T = 10^4 it sits on the limit the expansion above predicts.

CROSS-ENTROPY OR KL? THE SAME GRADIENT
--------------------------------------
Module 2's identity H(p, q) = H(p) + KL(p || q) says the soft-target
cross-entropy and the KL differ by H(p), the teacher's entropy, which does not
depend on the student. Scaled by the same power of T they differ by a constant
and have *identical* gradients with respect to the student's logits: the
student learns the same thing either way; only the KL reads 0 at a perfect match.

CALIBRATION
-----------
A model is *calibrated* when, of all the predictions it makes with confidence
0.8, 80% are right. A row's confidence is its largest probability and its
prediction the class that has it (in a tie the first such class, as torch.max
and argmax return). Split (0, 1] into M equal-width bins, closed on the right:
    bin b holds the confidences c with   b/M < c <= (b+1)/M,   b = 0, ..., M−1
so a confidence exactly on an inner edge belongs to the bin *below* it (with
M = 4, c = 0.5 is in bin 1, (0.25, 0.5]) and c = 1 to the last bin. In each bin
compare the accuracy (the fraction of its rows predicted right) with the mean
confidence of its rows. An empty bin has neither; the code stores 0, 0, 0 for it.

The expected calibration error (Guo et al. 2017, who use M = 15) is what its
name says: an expectation. Pick one of the N examples at random, each equally
likely; look up the bin it falls in, and that bin's |accuracy − mean
confidence|. ECE is the expected value of that gap, in [0, 1]. What this is as
a sum over the bins is for you to work out (task 9.6). A small case to check
by hand: with 5 bins, six rows with confidences 0.9 (right), 0.75 (right),
0.7 (wrong), 0.55 (right), 0.95 (wrong) and 1.0 (right) have ECE = 0.2916667.

TEMPERATURE SCALING
-------------------
An overconfident model can be repaired with one number: divide all its logits
by a T > 0 chosen to minimise the NLL (the mean cross-entropy) on held-out
*validation* data. The argmax of logits / T is the argmax of the logits, so the
accuracy cannot change; only the confidences move. As a function of 1/T the
NLL is convex (a log-sum-exp of functions linear in 1/T, minus one linear in
1/T), and strictly so unless every row's logits are all equal, so it has at most
one minimum and any sound one-dimensional search finds it. A minimum with T > 0
exists when the validation set holds at least one mistake the model is sure of
enough to be wrong about (the course's does); if every validation prediction
were right, the NLL would keep falling as T -> 0 and there would be no
answer. How you search is yours: over T, 1/T or log T (which keeps T positive
for free), with a torch optimiser, with scipy, or with a search you write.
What the tests ask is the minimum itself: T within a relative 1e-4 of it.

THE EXPERIMENTS (given code below, built on your functions)
---------------
Module 5's three blobs, but with standard deviation 1.5, so the classes overlap.
- A teacher MLP is trained with cross-entropy on 600 points (your train, 9.4).
- Two identical students (same initialisation) see only 30 transfer points: one
  learns from their hard labels, the other from the teacher's soft targets at
  T = 4 (your distillation_loss). On 900 held-out points the hard-label student
  has memorised its 30 labels and is wildly overconfident; the distilled one
  inherits the teacher's sense of where the classes overlap. Its held-out
  cross-entropy is about 4 times lower (0.29 vs 1.24 nats; the teacher's is
  0.28, and the best possible, that of the Bayes posterior of the known blobs,
  0.26) and its accuracy higher too (0.90 vs 0.87).
- The overconfident hard-label student is then calibrated: fit_temperature on
  300 validation points finds T ≈ 7.2. On the held-out points its accuracy
  stays 0.870 while its NLL falls from 1.24 to 0.37 nats and its ECE from
  0.113 to 0.041.

WHAT YOU WRITE
--------------
9.1 distillation_loss(student_logits, teacher_logits, T)          KL(p || q), batchmean, times the right power of T
9.2 soft_target_cross_entropy(student_logits, teacher_logits, T)  the same, with H(p, q) in place of KL(p || q)
9.3 distillation_grad(student_logits, teacher_logits, T)          9.1's gradient with respect to s, derived by hand
9.4 train(model, X, loss_fn, epochs, lr)                          full-batch Adam; the loss before each update
9.5 calibration_bins(probs, labels, n_bins)                       count, mean confidence and accuracy per bin
9.6 expected_calibration_error(probs, labels, n_bins)             the expected gap, as the lesson defines it
9.7 fit_temperature(logits, labels)                               the one T > 0 minimising the validation NLL

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

import torch
import torch.nn.functional as F
from torch import nn

from kata import TODO  # noqa: F401  (the stubs raise it)
from kata.given.cache import course_cache
from kata.given.checks import check_training
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
    """Hinton's distillation loss: KL(softmax(t/T) || softmax(s/T)), batchmean, scaled by a power of T.

    student_logits, teacher_logits: (N, C) tensors. T: temperature > 0.
    Returns a 0-d tensor in nats, differentiable with respect to student_logits.
    """
    s, t = check_logit_pair(student_logits, teacher_logits)
    T = check_temperature(T)
    # TODO 9.1: the distillation loss: per example KL(p || q), with p = softmax(t / T) (the teacher,
    #   the truth) and q = softmax(s / T), both over the classes (the last axis); its mean over the
    #   N rows; times the power of T that keeps the gradient's scale as T grows (derive it: the
    #   lesson shows how). Return a 0-d tensor in nats that autograd can differentiate with respect
    #   to student_logits (torch operations only: no .item(), numpy or float()). The logits of a row
    #   may be 1000 apart: p may then hold exact zeros (0·log 0 counts as 0) and q entries below the
    #   smallest float, and the loss must stay finite. Check value: s = [[2, 1, 0.1], [0.5, 2.5, 0.3]],
    #   t = [[3, 0.5, -1], [0, 1.5, 1]] (float64) at T = 4 give 0.334203 (at T = 1, 0.207476).
    # BEGIN SOLUTION
    log_q = F.log_softmax(s / T, dim=-1)
    p = F.softmax(t / T, dim=-1)
    return F.kl_div(log_q, p, reduction="batchmean") * T**2
    # END SOLUTION


def soft_target_cross_entropy(student_logits, teacher_logits, T=4.0):
    """The cross-entropy against the teacher's soft targets, scaled as distillation_loss is.

    Same shapes as distillation_loss; a 0-d tensor in nats, mean over the batch.
    """
    s, t = check_logit_pair(student_logits, teacher_logits)
    T = check_temperature(T)
    # TODO 9.2: as 9.1 (the same p and q, the same reduction, the same power of T), but with the
    #   cross-entropy H(p, q) of module 1 in place of KL(p || q). A 0-d tensor in nats,
    #   differentiable with respect to student_logits, finite for logits 1000 apart.
    #   Check value: 9.1's check logits at T = 4 give 17.131260.
    # BEGIN SOLUTION
    p = F.softmax(t / T, dim=-1)
    return -(p * F.log_softmax(s / T, dim=-1)).sum(dim=-1).mean() * T**2
    # END SOLUTION


def distillation_grad(student_logits, teacher_logits, T=4.0):
    """The gradient of distillation_loss with respect to student_logits, in closed form.

    Returns an (N, C) tensor (the logits' dtype).
    """
    s, t = check_logit_pair(student_logits, teacher_logits)
    T = check_temperature(T)
    s, t = s.detach(), t.detach()
    # TODO 9.3: the gradient of your distillation_loss (9.1) with respect to student_logits, in
    #   closed form: derive it on paper, then compute it with tensor operations, without autograd.
    #   Shape (N, C), the logits' dtype; finite for logits 1000 apart. Check value: for 9.1's check
    #   logits at T = 4 the first row is [-0.217799, 0.086312, 0.131487].
    # BEGIN SOLUTION
    n_rows = s.shape[0]
    return T * (F.softmax(s / T, dim=-1) - F.softmax(t / T, dim=-1)) / n_rows
    # END SOLUTION


def train(model, X, loss_fn, epochs=200, lr=0.02):
    """Full-batch training with Adam. Returns the loss before each update (list of floats).

    model: an nn.Module mapping X (N, d) to logits (N, C). loss_fn: logits -> 0-d tensor.
    """
    check_training(lr, epochs)
    # TODO 9.4: full-batch training with torch.optim.Adam over model.parameters(), learning rate
    #   lr, Adam's other settings at their defaults. Each of the `epochs` epochs makes exactly one
    #   update, from the gradient of that epoch's loss loss_fn(model(X)) alone, on all of X at once
    #   (no mini-batches). Return a list of `epochs` Python floats: entry k is the loss computed in
    #   epoch k, before that epoch's update (so entry 0 is the untrained model's loss).
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
    # TODO 9.5: for each of the n_bins equal-width bins of the confidence, the number of rows in
    #   it, their mean confidence and their accuracy (the fraction of them whose prediction is their
    #   label). The bins are the lesson's, b/n_bins < c <= (b+1)/n_bins: closed on the right, so a
    #   confidence exactly on an inner edge goes to the lower bin, and 1.0 to the last. An empty bin
    #   gets 0, 0, 0. Return (counts, confidences, accuracies): three float64 tensors of shape
    #   (n_bins,) (probs is float64 here). Check: with 4 bins, the confidences 0.5, 0.75 and 1.0
    #   fall in bins 1, 2 and 3.
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
    """The expected calibration error of the lesson, over equal-width confidence bins (a float in [0, 1])."""
    probs, labels = check_probabilities(probs, labels, n_bins)
    # TODO 9.6: the lesson's expected calibration error, as a Python float: the expected value, over
    #   the N examples (each equally likely), of |accuracy − mean confidence| of the bin the example
    #   falls in, the bins being those of calibration_bins with these n_bins. Work out what that
    #   expectation is in terms of the bins (an empty bin holds no example). Check value: the
    #   lesson's six rows with 5 bins give 0.2916667.
    # BEGIN SOLUTION
    counts, confidences, accuracies = calibration_bins(probs, labels, n_bins)
    weights = counts / probs.shape[0]
    return float((weights * (accuracies - confidences).abs()).sum())
    # END SOLUTION


def fit_temperature(logits, labels):
    """The temperature T > 0 minimising the NLL F.cross_entropy(logits / T, labels) (a float).

    logits: (N, C) validation logits (no gradient needed); labels: (N,) class indices.
    """
    logits = check_logits(logits).detach().double()
    labels = check_labels(labels, logits.shape[0], logits.shape[1])
    # TODO 9.7: return, as a Python float, the one temperature T > 0 (the same for every row and
    #   class) that minimises the NLL, the mean cross-entropy of logits / T against labels, on these
    #   validation logits (float64 here, with no gradient). Parametrise and search as you like (T,
    #   1/T or log T; torch.optim, scipy.optimize or a search of your own), but run the search to
    #   convergence: the tests accept a T within a relative 1e-4 of the minimiser, and report the
    #   NLL's slope at your T when it is further. Check value: logits [[2, 0], [0, 1], [1, 0.5]] with
    #   labels [0, 1, 1] give T = 0.740131.
    # BEGIN SOLUTION
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=1.0, max_iter=200, tolerance_grad=1e-12, tolerance_change=1e-15,
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


@course_cache
def teacher():
    """The teacher: a 32-unit MLP trained with cross-entropy on 600 points (module 5 style)."""
    X, y = overlapping_blobs(200, seed=100)
    model = mlp(32, seed=0)
    with torch.enable_grad(), one_thread():  # enable_grad: even if the caller is inside torch.no_grad()
        train(model, X, lambda logits: F.cross_entropy(logits, y), epochs=200, lr=0.02)
    return model.eval()


@course_cache
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


@course_cache
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
        print(f"T = {T:>4g}: distillation loss {kl:.6f}  soft-target CE {ce:.6f}  difference {ce - kl:.6f}   "
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
