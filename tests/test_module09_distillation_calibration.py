"""Module 9: knowledge distillation and calibration.

Expected values come from torch's own F.kl_div / F.cross_entropy / autograd, kata.testing.oracles'
full-batch loop, a golden-section search written here, a numpy ECE written here, hand-computed
constants (exact in binary where a bin edge is hit) and the Bayes posterior of the known Gaussian
blobs, never from the reference module.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from kata.testing.expect import (
    NEAR_MISS,
    Call,
    diagnose,
    expect_close,
    expect_refusals,
    expect_shape,
    expect_true,
    fail,
    show,
)
from kata.testing.oracles import full_batch
from kata.testing.strategies import logits

MODULE = "module09_distillation_calibration"

CENTRES = np.array([[0.0, 0.0], [3.0, 3.0], [-3.0, 3.0]])  # module 5's blobs
SPREAD = 1.5


def random_logits(n, c, seed, scale=2.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, c, generator=g, dtype=torch.float64) * scale,
            torch.randn(n, c, generator=g, dtype=torch.float64) * scale)


# Logits 1000 apart in a row: softmax gives exact zeros (exp(-1000) underflows), and a log of
# softmax gives -inf. The second row is an ordinary one, so each row needs its own shift.
EXTREME_STUDENT = torch.tensor([[-1000.0, 0.0, 1000.0], [3.0, 2.0, 1.0]], dtype=torch.float64)
EXTREME_TEACHER = torch.tensor([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]], dtype=torch.float64)
NOT_FINITE = ("some probabilities are exactly 0 here (exp(-1000) underflows), so a log of a softmax gives -inf "
              "and 0·(-inf) gives NaN: take every log from log_softmax (never log(softmax(...)), nor "
              "torch.distributions, which turns q = 0 into inf), and a zero p then counts 0 by itself")


def kl_form(s, t, T, reduction="batchmean"):
    """The oracle: torch's F.kl_div with the student's log-probabilities first, both logs from log_softmax."""
    return float(F.kl_div(F.log_softmax(s / T, -1), F.log_softmax(t / T, -1), reduction=reduction,
                          log_target=True) * T**2)


def soft_ce_form(s, t, T):
    """The oracle: torch's cross-entropy with probability targets (it takes log_softmax itself)."""
    return float(F.cross_entropy(s / T, F.softmax(t / T, -1)) * T**2)


def expect_finite_number(got, call: str, shape_diagnoses: dict) -> float:
    """``got`` must be a 0-d tensor (a loss), finite."""
    expect_true(isinstance(got, torch.Tensor), f"{call} returned {type(got).__name__}: return a torch tensor "
                "(a 0-d tensor), so that loss.backward() works")
    expect_shape(got, (), call, diagnoses=shape_diagnoses)
    value = float(got.detach())
    expect_true(math.isfinite(value), f"{call} returned {value}: {NOT_FINITE}")
    return value


def loss_shapes(n, c):
    return {(n,): "one value per row: take the mean over the N rows as well (batchmean)",
            (n, c): "one value per element: sum over the classes, then take the mean over the rows"}


def distillation_mistakes(s, t, T):
    n, c = s.shape
    right = kl_form(s, t, T)
    p, log_q = F.softmax(t / T, -1), F.log_softmax(s / T, -1)
    return [
        (right / T**2, f"the T factor is missing: the plain KL's gradient shrinks like 1/T², so multiply it by "
                       f"T**2 (= {T**2:g} at T = {T:g}) to keep the gradient's scale"),
        (right / T, f"the KL is multiplied by T, one power short: its gradient shrinks like 1/T², so the factor "
                    f"is T**2 (= {T**2:g} at T = {T:g})"),
        (right * T, "the KL is multiplied by T**3, one power too many: the factor that keeps the gradient's scale is T**2"),
        (float(F.kl_div(F.log_softmax(t / T, -1), F.softmax(s / T, -1), reduction="batchmean") * T**2),
         "KL is in the wrong direction: that is KL(student || teacher). The teacher p = softmax(t/T) is the truth: "
         "F.kl_div(log q, p) takes the student's log_softmax first"),
        (right / c, f"that is reduction='mean', which divides by N·C = every element; the per-example KL is a sum "
                    f"over the {c} classes, so use reduction='batchmean' (sum, then divide by N)"),
        (right * n, "that is the sum over the batch: use reduction='batchmean' to divide by the number of rows N"),
        (float(-(p * log_q).sum(-1).mean() * T**2),
         "that is the cross-entropy H(p, q), not the KL: KL(p || q) = H(p, q) - H(p) subtracts the teacher's entropy"),
        (float(F.kl_div(F.log_softmax(s, -1), p, reduction="batchmean") * T**2),
         "the student's logits must be divided by T too: log q = log_softmax(s / T)"),
        (float(F.kl_div(F.log_softmax(s / T, -1), F.softmax(t, -1), reduction="batchmean") * T**2),
         "the teacher's logits must be divided by T too: p = softmax(t / T)"),
        (float(F.kl_div(log_q, F.softmax(t / T, 0), reduction="batchmean") * T**2),
         "the softmax runs over the classes, the last axis (dim=-1), not over the batch (dim=0)"),
        (float(F.kl_div(F.log_softmax(s / T, 0), p, reduction="batchmean") * T**2),
         "the log_softmax runs over the classes, the last axis (dim=-1), not over the batch (dim=0)"),
        (float(F.kl_div(F.log_softmax(s / T, 0), F.softmax(t / T, 0), reduction="batchmean") * T**2),
         "both softmaxes ran over the batch (dim=0): each row is a distribution over the classes, the last axis"),
        (float((torch.special.xlogy(F.softmax(t / T, 0), F.softmax(t / T, 0))
                - F.softmax(t / T, 0) * F.log_softmax(s / T, 0)).sum(0).mean() * T**2),
         "every step ran over dim 0, the batch: the softmaxes and the KL's sum run over the classes (the last axis), "
         "and the mean over the rows"),
        (float("nan"), "NaN: F.kl_div's second argument is the teacher's probabilities p; a log p there "
                       "needs log_target=True (the log of a negative number is NaN)"),
    ]


# --- 9.1 distillation_loss -----------------------------------------------------------


@pytest.mark.task("9.1")
def test_distillation_loss_equals_the_kl_div_form(mod):
    for n, c, T, seed in ((5, 3, 2.0, 0), (3, 5, 4.5, 1), (8, 4, 1.0, 2)):
        s, t = random_logits(n, c, seed)
        call = f"distillation_loss(student (shape {n}x{c}), teacher, T={T:g})"
        got = mod.distillation_loss(s, t, T)
        expect_true(isinstance(got, torch.Tensor), f"{call} returned {type(got).__name__}: return a torch tensor "
                    "(a 0-d tensor), so that loss.backward() works")
        expect_shape(got, (), call, diagnoses=loss_shapes(n, c))
        expect_close(got, kl_form(s, t, T), call, rtol=1e-7, mistakes=distillation_mistakes(s, t, T))


@pytest.mark.task("9.1")
def test_distillation_loss_is_differentiable_in_the_student(mod):
    # T = 2 with C = 3 classes: dividing by C (reduction="mean") and a missing power of T give different values
    s, t = random_logits(4, 3, 3)
    s = s.clone().requires_grad_(True)
    loss = mod.distillation_loss(s, t, 2.0)
    expect_true(isinstance(loss, torch.Tensor) and loss.requires_grad,
                "distillation_loss(s, t, 2) gave a value with no gradient: compute it with torch operations on "
                "the tensors (no .item(), .numpy() or float()), so the student can learn from it")
    loss.backward()
    reference = s.detach().clone().requires_grad_(True)
    (F.kl_div(F.log_softmax(reference / 2.0, -1), F.softmax(t / 2.0, -1), reduction="batchmean") * 4.0).backward()
    expect_close(s.grad, reference.grad, "the gradient of distillation_loss(s, t, 2) w.r.t. s", rtol=1e-7, atol=1e-12,
                 mistakes=[(reference.grad / 4, "it is 4 = T² times too small: the factor T**2 is missing"),
                           (reference.grad / 2, "it is 2 = T times too small: the factor is T**2, not T"),
                           (reference.grad / 3, "it is 3 = C times too small: reduction='mean' divides by N·C; "
                                                "batchmean divides by N only")])


@pytest.mark.task("9.1")
def test_distillation_loss_stays_finite_at_extreme_logits(mod):
    # by hand at T = 1: row 0 has p = [1, 0, 0] and log q_0 = -2000, so KL = 2000; row 1 has
    # KL = Σ p (t − s) = 2 (p_2 − p_0) = 1.150420; batchmean 1000.575210
    for T, expected in ((1.0, 1000.575210), (2.0, kl_form(EXTREME_STUDENT, EXTREME_TEACHER, 2.0))):
        call = f"distillation_loss(student, teacher, T={T:g}) with logits 1000 apart in a row"
        got = expect_finite_number(mod.distillation_loss(EXTREME_STUDENT, EXTREME_TEACHER, T), call, loss_shapes(2, 3))
        expect_close(got, expected, call, rtol=1e-9,
                     mistakes=distillation_mistakes(EXTREME_STUDENT, EXTREME_TEACHER, T))


@pytest.mark.task("9.1")
@given(z=logits(scale=1000.0), T=st.floats(0.1, 100.0), shift=st.floats(-1000.0, 1000.0))
def test_distillation_loss_is_zero_at_a_match_and_never_negative(mod, z, T, shift):
    teacher = torch.tensor(z)
    same = mod.distillation_loss(teacher + shift, teacher, T)  # a constant shift does not change a softmax
    call = f"distillation_loss(t + {shift:g}, t, T={T:g})"
    expect_true(math.isfinite(float(same.detach())), f"{call} returned {float(same.detach())}: {NOT_FINITE}")
    expect_close(same, 0.0, call, atol=1e-9,
                 mistakes=[(float(-(F.softmax(teacher / T, -1) * F.log_softmax(teacher / T, -1)).sum(-1).mean() * T**2),
                            "that is the teacher's entropy times T²: you computed a cross-entropy, and KL = H(p, q) - H(p)")])
    other = mod.distillation_loss(torch.flip(teacher, dims=[-1]), teacher, T)
    expect_true(float(other.detach()) >= -1e-9, f"distillation_loss gave {float(other.detach()):.6g} < 0 for T = {T:g}: "
                "a KL divergence is never negative (check the sign and the order of p and log q)")


@pytest.mark.task("9.1")
def test_the_power_of_t_keeps_the_gradient_scale_as_t_grows(mod):
    s, t = random_logits(6, 4, 4, scale=1.0)
    grads = {}
    for T in (8.0, 32.0, 1e4):
        student = s.clone().requires_grad_(True)
        loss = mod.distillation_loss(student, t, T)
        expect_true(isinstance(loss, torch.Tensor) and loss.requires_grad,
                    f"distillation_loss(s, t, {T:g}) gave a value with no gradient: compute it with torch operations "
                    "on the tensors (no .item(), .numpy() or float()), so the student can learn from it")
        loss.backward()
        grads[T] = student.grad
    ratio = float(grads[32.0].norm() / grads[8.0].norm())
    for power, why in ((-2, "like 1/T²: the KL needs a factor T**2"),
                       (-1, "like 1/T: the factor is one power of T short, T**2 is needed"),
                       (1, "like T: the factor has one power of T too many, T**2 is needed")):
        if abs(ratio / 4.0**power - 1) < 0.1:
            fail(f"the gradient of distillation_loss changed by a factor {ratio:.4f} from T = 8 to T = 32, {why}. "
                 "With the right factor the gradient keeps its scale as T grows.")
    expect_true(abs(ratio - 1) < 0.1, f"|gradient| of distillation_loss changed by a factor {ratio:.3f} from T = 8 to "
                "T = 32; with the right power of T it stays about the same")
    # Hinton et al.: for large T, T·(q − p) → ((s − mean s) − (t − mean t)) / C per row, / N for the batch mean.
    centred = (s - s.mean(-1, keepdim=True)) - (t - t.mean(-1, keepdim=True))
    limit = centred / (4 * 6)
    expect_close(grads[1e4], limit, "the gradient of distillation_loss at T = 10000 (it must approach "
                 "((s - mean s) - (t - mean t)) / (C·N), the lesson's large-T expansion)", rtol=0, atol=1e-5,
                 mistakes=[(limit / 1e8, "the gradient shrank like 1/T²: the factor T**2 is missing"),
                           (limit / 1e4, "the gradient shrank like 1/T: the factor is T**2, not T")])


@pytest.mark.task("9.1")
def test_distillation_loss_refuses_bad_input(mod):
    s, t = random_logits(4, 3, 5)
    expect_refusals(mod.distillation_loss, works=Call(s, t, 2.0, shown="distillation_loss(4x3, 4x3, 2)"), refuses=[
        (Call(s, t[:, :2], 2.0, shown="distillation_loss(4x3, 4x2, 2)"), "student and teacher logits have different shapes"),
        (Call(s[0], t[0], 2.0, shown="distillation_loss(one row of 3, ...)"), "logits must be a batch (N, C)"),
        (Call(s, t, 0.0, shown="distillation_loss(s, t, T=0)"), "a temperature must be positive"),
        (Call(s[:0], t[:0], 2.0, shown="distillation_loss(empty batch)"), "there is no example"),
    ])


# --- 9.2 soft-target cross-entropy, and its gradient equals KL's -------------------------


@pytest.mark.task("9.2")
def test_soft_target_cross_entropy_matches_torch(mod):
    s, t = random_logits(5, 3, 6)
    T = 2.0
    expected = soft_ce_form(s, t, T)
    p = F.softmax(t / T, -1)
    got = mod.soft_target_cross_entropy(s, t, T)
    expect_true(isinstance(got, torch.Tensor), f"soft_target_cross_entropy(s, t, T=2) returned {type(got).__name__}: "
                "return a torch tensor (a 0-d tensor), so that loss.backward() works")
    expect_shape(got, (), "soft_target_cross_entropy(s, t, T=2)", diagnoses=loss_shapes(5, 3))
    expect_close(got, expected, "soft_target_cross_entropy(s, t, T=2)", rtol=1e-7,
                 mistakes=[(expected / T**2, "the factor T² is missing (the same one as in distillation_loss)"),
                           (expected / T, "the factor is T**2, as in distillation_loss, not T"),
                           (-expected, "a negative cross-entropy means the minus sign is missing"),
                           (expected * 5, "you summed over the batch: take the mean over the rows"),
                           (expected / 3, "you averaged over the classes too: sum over the classes, mean over the rows"),
                           (kl_form(s, t, T), "that is the KL divergence; the cross-entropy keeps the teacher's entropy"),
                           (float(-(F.softmax(s / T, -1) * F.log_softmax(t / T, -1)).sum(-1).mean() * T**2),
                            "p and q are swapped: the teacher's probabilities weight the student's log-probabilities"),
                           (float(-(p * F.log_softmax(s, -1)).sum(-1).mean() * T**2),
                            "divide the student's logits by T as well: log q = log_softmax(s / T)"),
                           (float(-(F.softmax(t, -1) * F.log_softmax(s / T, -1)).sum(-1).mean() * T**2),
                            "divide the teacher's logits by T as well: p = softmax(t / T)")])


@pytest.mark.task("9.2")
def test_soft_target_cross_entropy_stays_finite_at_extreme_logits(mod):
    for T in (1.0, 2.0):
        call = f"soft_target_cross_entropy(student, teacher, T={T:g}) with logits 1000 apart in a row"
        got = expect_finite_number(mod.soft_target_cross_entropy(EXTREME_STUDENT, EXTREME_TEACHER, T), call,
                                   loss_shapes(2, 3))
        expected = soft_ce_form(EXTREME_STUDENT, EXTREME_TEACHER, T)
        expect_close(got, expected, call, rtol=1e-9, mistakes=[(expected / T**2, "the factor T² is missing")])


@pytest.mark.task("9.2")
def test_soft_target_ce_and_kl_have_equal_gradients(mod):
    s, t = random_logits(6, 4, 7)
    for T in (1.0, 3.0, 10.0):
        a = s.clone().requires_grad_(True)
        b = s.clone().requires_grad_(True)
        kl, ce = mod.distillation_loss(a, t, T), mod.soft_target_cross_entropy(b, t, T)
        expect_true(ce.requires_grad, "soft_target_cross_entropy gave a value with no gradient: compute it with "
                    "torch operations on the tensors (no .item(), .numpy() or float())")
        kl.backward()
        ce.backward()
        teacher_entropy = float(-(F.softmax(t / T, -1) * F.log_softmax(t / T, -1)).sum(-1).mean())
        expect_close(float(ce.detach()) - float(kl.detach()), T**2 * teacher_entropy,
                     f"soft_target_cross_entropy - distillation_loss at T = {T:g}", rtol=1e-7,
                     mistakes=[(teacher_entropy, "the losses must differ by T²·H(p): is T² missing from one of them?")])
        expect_close(b.grad, a.grad, f"the gradient of soft_target_cross_entropy vs that of distillation_loss at T = {T:g}",
                     rtol=1e-7, atol=1e-12)


# --- 9.3 the gradient by hand --------------------------------------------------------------


def autograd_of_kl(s, t, T):
    student = s.clone().requires_grad_(True)
    (F.kl_div(F.log_softmax(student / T, -1), F.log_softmax(t / T, -1), reduction="batchmean", log_target=True)
     * T**2).backward()
    return student.grad


@pytest.mark.task("9.3")
def test_distillation_grad_matches_autograd(mod):
    for n, c, T, seed in ((5, 3, 2.0, 8), (4, 6, 7.0, 9)):
        s, t = random_logits(n, c, seed)
        expected = autograd_of_kl(s, t, T)
        call = f"distillation_grad(s, t, T={T:g}) for {n} rows"
        got = expect_shape(mod.distillation_grad(s, t, T), (n, c), call,
                           diagnoses={(c,): "one gradient entry per logit: the result has the logits' shape (N, C)"})
        expect_close(got, expected, call, rtol=1e-7, atol=1e-12,
                     mistakes=[(expected * n, "you forgot the batch mean: divide by N, the number of rows"),
                               (expected / T, "one factor T is missing: T²·(q − p)·(1/T) = T·(q − p)"),
                               (expected * T, "one factor T too many: the chain rule through s/T gives 1/T, so T²/T = T"),
                               (-expected, "the sign is flipped: it is q − p (student minus teacher)"),
                               (expected / T**2, "the factor T² of the loss is missing: T²·(q − p)·(1/T)")])


@pytest.mark.task("9.3")
def test_distillation_grad_stays_finite_at_extreme_logits(mod):
    for T in (1.0, 2.0):
        call = f"distillation_grad(student, teacher, T={T:g}) with logits 1000 apart in a row"
        got = expect_shape(mod.distillation_grad(EXTREME_STUDENT, EXTREME_TEACHER, T), (2, 3), call)
        expect_true(bool(np.isfinite(got).all()), f"{call} returned {show(got)}: exp(1000) overflows to inf, and "
                    "inf / inf is NaN. Use softmax (it subtracts each row's largest logit before exp)")
        expect_close(got, autograd_of_kl(EXTREME_STUDENT, EXTREME_TEACHER, T), call, rtol=1e-9, atol=1e-12)


class AutogradUsed(Exception):
    pass


@pytest.mark.task("9.3")
def test_distillation_grad_is_derived_not_autograd(mod, monkeypatch):
    def refuse(*args, **kwargs):
        raise AutogradUsed

    s, t = random_logits(3, 4, 10)
    expected = autograd_of_kl(s, t, 3.0)
    for owner, name in ((torch.autograd, "grad"), (torch.autograd, "backward"), (torch.Tensor, "backward")):
        monkeypatch.setattr(owner, name, refuse)
    try:
        got = mod.distillation_grad(s, t, 3.0)
    except AutogradUsed:
        fail("distillation_grad(s, t, T=3) called autograd: 9.3 asks for the gradient in closed form, derived on "
             "paper and computed with tensor operations (autograd is what the tests check it against)")
    monkeypatch.undo()
    expect_close(got, expected, "distillation_grad(s, t, T=3) for 3 rows of 4", rtol=1e-7, atol=1e-12)


# --- 9.4 training, and the distillation run ------------------------------------------------


def linear_model():
    model = torch.nn.Linear(2, 3).double()
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    return model


def trained(X, loss_fn, epochs, lr, **switches):
    """(history, final logits) of kata.testing.oracles.full_batch on a fresh zero-initialised linear model."""
    model = linear_model()
    history = full_batch(model, lambda m: loss_fn(m(X)), epochs=epochs, lr=lr, **switches)
    with torch.no_grad():
        return history, model(X)


@pytest.mark.task("9.4")
def test_train_runs_full_batch_adam(mod):
    g = torch.Generator().manual_seed(10)
    X = torch.randn(30, 2, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (30,), generator=g)
    loss_fn = lambda z: F.cross_entropy(z, y)  # noqa: E731
    model = linear_model()
    got = mod.train(model, X, loss_fn, epochs=15, lr=0.1)
    call = "train(linear model, X, cross-entropy, epochs=15, lr=0.1)"
    expected, logits = trained(X, loss_fn, 15, 0.1, optimizer=torch.optim.Adam)
    expect_true(isinstance(got, list), f"{call} returned {type(got).__name__}: return the list of losses")
    kinds = {type(v).__name__ for v in got if not isinstance(v, float)}
    expect_true(not kinds, f"{call} returned a list holding {', '.join(sorted(kinds))}: record each loss as a Python "
                "float (loss.item()); a tensor would keep its whole graph alive")
    expect_shape(got, (15,), call, diagnoses={(14,): "one loss per epoch: 15 epochs, 15 losses",
                                              (16,): "one loss per epoch: 15 epochs, 15 losses"})
    after, _ = trained(X, loss_fn, 15, 0.1, optimizer=torch.optim.Adam, record_after=True)
    expect_close(got[0], math.log(3), f"the first loss of {call} (the weights start at 0)",
                 mistakes=[(after[0], "the first entry is the loss after one update: record the loss computed "
                                      "before that epoch's optimizer.step()")])
    mistakes = [(trained(X, loss_fn, 15, 0.1)[0], "that is plain gradient descent (SGD): use torch.optim.Adam"),
                (trained(X, loss_fn, 15, 0.1, optimizer=torch.optim.Adam, zero_grad=False)[0],
                 "the gradients pile up: backward() adds into .grad, so zero them (optimizer.zero_grad()) every epoch"),
                (trained(X, loss_fn, 15, 1e-3, optimizer=torch.optim.Adam)[0],
                 "that is Adam's default learning rate 0.001: pass lr=lr to torch.optim.Adam"),
                (after, "each loss is the one after the update: record the loss computed before optimizer.step()"),
                (trained(X, loss_fn, 15, 0.1, optimizer=torch.optim.Adam, fresh_optimizer=True)[0],
                 "a new Adam every epoch forgets its running averages, so every step is a first step: make the "
                 "optimizer once, before the loop")]
    expect_close(got, expected, f"{call} losses", rtol=1e-7, mistakes=mistakes)
    expect_close(model(X).detach(), logits, "the trained model's logits (train must update the model it is given)",
                 rtol=1e-7, mistakes=[(trained(X, loss_fn, 14, 0.1, optimizer=torch.optim.Adam)[1],
                                       "those are the logits after 14 updates, one fewer than the 15 epochs: every "
                                       "epoch, the last one too, makes its update")])


@pytest.mark.task("9.4")
def test_train_refuses_bad_settings(mod):
    X = torch.zeros(3, 2, dtype=torch.float64)
    y = torch.tensor([0, 1, 2])
    loss_fn = lambda z: F.cross_entropy(z, y)  # noqa: E731
    expect_refusals(mod.train, works=Call(linear_model(), X, loss_fn, epochs=1, lr=0.1, shown="train(..., epochs=1)"),
                    refuses=[(Call(linear_model(), X, loss_fn, epochs=0, lr=0.1, shown="train(..., epochs=0)"),
                              "there is nothing to train"),
                             (Call(linear_model(), X, loss_fn, epochs=5, lr=-1.0, shown="train(..., lr=-1)"),
                              "a negative learning rate climbs the loss")])


def bayes_nll(X, y):
    """Held-out NLL of the Bayes posterior of the known blobs: equal priors, isotropic std SPREAD."""
    d2 = ((X.numpy()[:, None, :] - CENTRES[None]) ** 2).sum(-1)
    return float(F.cross_entropy(torch.tensor(-d2 / (2 * SPREAD**2)), y))


@pytest.mark.task("9.4")
def test_the_distilled_student_beats_the_hard_label_student_on_held_out_data(mod):
    result = mod.distillation_experiment()
    X, y = result["X_test"], result["y_test"]
    scores = {}
    for name, z in result["logits"].items():
        scores[name] = (float(F.cross_entropy(z, y)), float((z.argmax(-1) == y).double().mean()))
    best = bayes_nll(X, y)
    teacher_nll, teacher_acc = scores["teacher"]
    expect_true(teacher_nll < best + 0.05, f"the teacher's held-out cross-entropy is {teacher_nll:.4f} nats, but the "
                f"best possible (the Bayes posterior of the blobs) is {best:.4f}: the teacher is not trained well. Check train()")
    hard_nll, hard_acc = scores["hard-label student"]
    soft_nll, soft_acc = scores["distilled student"]
    expect_true(soft_nll < 0.5 * hard_nll,
                f"held-out cross-entropy: distilled student {soft_nll:.4f} nats, hard-label student {hard_nll:.4f}. "
                "The student trained on the teacher's soft targets should be far better (at least 2x): does train() "
                "make one Adam step per epoch on the whole of X?")
    expect_true(soft_nll < best + 0.1, f"the distilled student's held-out cross-entropy {soft_nll:.4f} nats is far from "
                f"the best possible {best:.4f}")
    expect_true(soft_acc > hard_acc, f"held-out accuracy: distilled student {soft_acc:.4f}, hard-label student "
                f"{hard_acc:.4f}; on these overlapping blobs the distilled one should be higher")


@pytest.mark.task("9.4")
def test_soft_targets_flatten_as_t_rises(mod):
    probs = expect_shape(mod.soft_targets((1.0, 2.0, 4.0, 8.0)), (4, 2, 3), "soft_targets((1, 2, 4, 8))")
    expect_close(probs.sum(-1), np.ones((4, 2)), "the soft targets' row sums")
    # softmax(t / T) from the T = 1 probabilities: log p1 = t − logsumexp(t), and the constant cancels
    expected = np.stack([torch.softmax(torch.log(torch.tensor(probs[0])) / T, -1).numpy() for T in (1.0, 2.0, 4.0, 8.0)])
    expect_close(probs, expected, "soft_targets at T = 1, 2, 4, 8", rtol=1e-6)
    entropy = -(probs * np.log(probs)).sum(-1)
    expect_true(bool((np.diff(entropy, axis=0) > 0).all()), "the teacher's soft targets should get flatter (higher "
                f"entropy) as T rises; their entropies are {np.round(entropy, 4).tolist()}")
    expect_true(bool((np.argsort(probs, -1) == np.argsort(probs[:1], -1)).all()),
                "dividing logits by T > 0 never changes the ranking of the classes")


@pytest.mark.task("9.4")
@pytest.mark.mpl_image_compare(filename="module09_soft_targets.png")
def test_figure_soft_targets(mod):
    return mod.plot_soft_targets()


# --- 9.5 calibration_bins and 9.6 expected_calibration_error ----------------------------------

# A hand-made example, 5 bins of width 0.2: confidences 0.9 (right), 0.75 (right), 0.7 (wrong),
# 0.55 (right), 0.95 (wrong), 1.0 (right). No confidence sits on an inner edge.
HAND_PROBS = [[0.9, 0.1], [0.25, 0.75], [0.3, 0.7], [0.55, 0.45], [0.95, 0.05], [1.0, 0.0]]
HAND_LABELS = [0, 1, 0, 0, 1, 0]
HAND_COUNTS = [0, 0, 1, 2, 3]
HAND_CONF = [0, 0, 0.55, 0.725, 0.95]  # (0.75 + 0.7) / 2, (0.9 + 0.95 + 1) / 3
HAND_ACC = [0, 0, 1.0, 0.5, 2 / 3]
HAND_ECE = 0.2916667  # (1·0.45 + 2·0.225 + 3·0.283333) / 6
HAND_ECE_EQUAL = 0.3194444  # (0.45 + 0.225 + 0.283333) / 3: every non-empty bin weighted the same
HAND_ECE_EMPTY = 0.1916667  # the same sum / 5 bins, empty ones included
HAND_ECE_BY_BINS = 0.35  # (1·0.45 + 2·0.225 + 3·0.283333) / 5: the counts divided by the number of bins
HAND_ECE_SIGNED = -0.1416667  # (1·0.45 − 2·0.225 − 3·0.283333) / 6: gaps without their absolute value
HAND_ECE_SQUARED = 0.0907639  # (1·0.45² + 2·0.225² + 3·0.283333²) / 6

# Four bins, every confidence exact in binary and half of them on an edge: 0.5 and 0.75 sit on
# inner edges (they belong to bins 1 and 2, below them) and 1.0 on the last edge (bin 3).
EDGE_PROBS = [[0.375, 0.25, 0.25, 0.125], [0.5, 0.25, 0.125, 0.125], [0.125, 0.625, 0.125, 0.125],
              [0.125, 0.125, 0.75, 0.0], [0.0, 0.125, 0.0, 0.875], [0.0, 0.0, 1.0, 0.0]]
EDGE_LABELS = [0, 1, 1, 0, 3, 2]  # right, wrong, right, wrong, right, right
EDGE_COUNTS = [0, 2, 2, 2]
EDGE_CONF = [0, 0.4375, 0.6875, 0.9375]
EDGE_ACC = [0, 0.5, 0.5, 1.0]


def ece_oracle(probs, labels, n_bins=15, edges="right", confidence="max"):
    """A numpy ECE over equal-width bins, and the same with the mistakes the tests name.

    edges: "right" (b/M, (b+1)/M], the contract; "left" [b/M, (b+1)/M) with 1.0 in the last bin
    (floor(c·M)); "drop" [b/M, (b+1)/M) losing 1.0; "both" [b/M, (b+1)/M], an edge counted twice.
    confidence="label": the probability of the true label instead of the largest one.
    "acc_label_prob": per bin, the mean probability of the true label instead of the fraction right.
    """
    probs, labels = np.asarray(probs, dtype=float), np.asarray(labels)
    conf, correct = probs.max(-1), (probs.argmax(-1) == labels).astype(float)
    if confidence == "label":
        conf = probs[np.arange(len(labels)), labels]
    lows, highs = np.arange(n_bins) / n_bins, np.arange(1, n_bins + 1) / n_bins
    label_prob = probs[np.arange(len(labels)), labels]
    counts, confs, accs, accs_n, accs_p = (np.zeros(n_bins) for _ in range(5))
    for b, (low, high) in enumerate(zip(lows, highs)):
        inside = {"right": (conf > low) & (conf <= high), "left": (conf >= low) & ((conf < high) | (b == n_bins - 1)),
                  "drop": (conf >= low) & (conf < high), "both": (conf >= low) & (conf <= high)}[edges]
        if inside.any():
            counts[b], confs[b], accs[b] = inside.sum(), conf[inside].mean(), correct[inside].mean()
            accs_n[b], accs_p[b] = correct[inside].sum() / len(labels), label_prob[inside].mean()
    gaps = np.abs(accs - confs)
    filled = counts > 0
    nan_empty = np.where(filled, confs, np.nan), np.where(filled, accs, np.nan)
    return {"ece": float((counts / len(labels) * gaps).sum()), "counts": counts, "conf": confs, "acc": accs,
            "equal": float(gaps[filled].mean()), "empty": float(gaps.sum() / n_bins),
            "acc_over_n": accs_n, "acc_label_prob": accs_p, "conf_nan": nan_empty[0], "acc_nan": nan_empty[1]}


def bins_mistakes(probs, labels, n_bins):
    """(counts, confidences, accuracies) mistakes, each with its diagnosis."""
    right = ece_oracle(probs, labels, n_bins)
    left = ece_oracle(probs, labels, n_bins, edges="left")
    drop = ece_oracle(probs, labels, n_bins, edges="drop")
    both = ece_oracle(probs, labels, n_bins, edges="both")
    by_label = ece_oracle(probs, labels, n_bins, confidence="label")
    edge = ("a confidence exactly on an inner edge went to the bin above it: bins are closed on the right, "
            "b/M < c <= (b+1)/M, so c = 0.5 with 4 bins is in bin 1 (floor(c·M) puts it in bin 2)")
    dropped = ("a confidence of exactly 1.0 fell out: bins are closed on the right, b/M < c <= (b+1)/M, "
               "so 1.0 belongs to the last bin")
    twice = "a confidence exactly on an edge was counted in two bins: each bin is closed on the right only"
    label = ("the confidence is the row's largest probability (the model's belief in its own prediction), "
             "not the probability of the true label")
    empty_nan = "an empty bin gave NaN (the mean of no values): store 0 for its confidence and accuracy"
    return {
        "counts": [(left["counts"], edge), (drop["counts"], dropped), (both["counts"], twice),
                   (by_label["counts"], label),
                   (right["counts"] / len(labels), "the counts are numbers of rows (0, 1, 2, ...), not fractions of "
                                                   "N: the weighting by n_b / N belongs to the ECE (9.6)")],
        "conf": [(left["conf"], edge), (drop["conf"], dropped), (both["conf"], twice), (by_label["conf"], label),
                 (right["conf_nan"], empty_nan)],
        "acc": [(left["acc"], edge), (drop["acc"], dropped), (both["acc"], twice), (right["acc_nan"], empty_nan),
                (right["acc_over_n"], "an accuracy is the fraction of the bin's own rows that are right: divide by "
                                      "the bin's count, not by N"),
                (right["acc_label_prob"], "an accuracy is the fraction of the bin's rows whose prediction (the "
                                          "argmax) is the label, not the mean probability given to the true label")],
    }


def expect_bins(got, probs, labels, n_bins, call):
    """The three tensors of calibration_bins, float64, each checked against the numpy oracle."""
    expect_true(isinstance(got, tuple) and len(got) == 3, f"{call} should return a tuple of three tensors: "
                "(counts, confidences, accuracies)")
    for name, value in zip(("counts", "confidences", "accuracies"), got):
        expect_true(isinstance(value, torch.Tensor), f"{call} returned {type(value).__name__} for its {name}: "
                    "return torch tensors")
        expect_true(value.dtype == torch.float64, f"{call} returned its {name} as {value.dtype}: the contract asks "
                    "for float64 tensors (give torch.zeros a dtype=torch.float64; counts too)")
    oracle, mistakes = ece_oracle(probs, labels, n_bins), bins_mistakes(probs, labels, n_bins)
    shapes = {(): "one value per bin: a tensor of shape (n_bins,)"}
    for value, key, what in zip(got, ("counts", "conf", "acc"), ("counts", "mean confidences", "accuracies")):
        expect_close(value, oracle[key], f"the {what} of {call}", mistakes=mistakes[key], shape_diagnoses=shapes)


@pytest.mark.task("9.5")
def test_calibration_bins_of_the_hand_example(mod):
    probs, labels = torch.tensor(HAND_PROBS, dtype=torch.float64), torch.tensor(HAND_LABELS)
    oracle = ece_oracle(HAND_PROBS, HAND_LABELS, 5)
    np.testing.assert_allclose([oracle["counts"], oracle["conf"], oracle["acc"]], [HAND_COUNTS, HAND_CONF, HAND_ACC])
    expect_bins(mod.calibration_bins(probs, labels, n_bins=5), HAND_PROBS, HAND_LABELS, 5,
                "calibration_bins(hand example, n_bins=5)")


@pytest.mark.task("9.5")
def test_calibration_bins_put_a_confidence_on_an_edge_in_the_bin_below(mod):
    oracle = ece_oracle(EDGE_PROBS, EDGE_LABELS, 4)
    np.testing.assert_allclose([oracle["counts"], oracle["conf"], oracle["acc"]], [EDGE_COUNTS, EDGE_CONF, EDGE_ACC])
    probs, labels = torch.tensor(EDGE_PROBS, dtype=torch.float64), torch.tensor(EDGE_LABELS)
    expect_bins(mod.calibration_bins(probs, labels, n_bins=4), EDGE_PROBS, EDGE_LABELS, 4,
                "calibration_bins(confidences 0.375, 0.5, 0.625, 0.75, 0.875, 1.0; n_bins=4)")


@pytest.mark.task("9.5")
def test_calibration_bins_find_the_right_bin_a_hair_from_an_edge_with_15_bins(mod):
    # k/15 is not exact in binary, so no test puts a confidence ON it; 1e-9 either side of it tells float64 edges
    # (any way of computing them) from float32 ones, which are off by about 1e-8.
    conf = [k / 15 + side for k in (9, 12, 14) for side in (-1e-9, 1e-9)]  # two classes: confidences above 1/2
    probs = [[c, 1 - c] for c in conf]
    labels = [0, 1, 0, 0, 1, 0]
    counts = mod.calibration_bins(torch.tensor(probs, dtype=torch.float64), torch.tensor(labels), n_bins=15)[0]
    expected = np.bincount([int(np.ceil(c * 15)) - 1 for c in conf], minlength=15).astype(float)
    float32_edges = torch.linspace(0, 1, 16, dtype=torch.float32).double()
    wrong = np.bincount([int(torch.searchsorted(float32_edges, torch.tensor(c), right=False)) - 1 for c in conf],
                        minlength=15).astype(float)
    expect_close(counts, expected, "the counts of calibration_bins(confidences 1e-9 either side of 9/15, 12/15 and "
                 "14/15; n_bins=15)", mistakes=[(wrong, "the bin edges are float32 (torch.linspace's default dtype), "
                                                       "which misplaces a confidence within 1e-8 of an edge: make "
                                                       "them float64")])


@pytest.mark.task("9.5")
@given(data=st.data(), n_bins=st.sampled_from([1, 2, 4, 8, 16]))
def test_calibration_bins_match_numpy_for_any_confidences(mod, data, n_bins):
    # Two classes: the confidence is max(c, 1 − c) in [0.5, 1]. With a power of 2 bins every edge is exact in
    # binary, however it is computed, and the exact eighths drawn here sit on edges of 1, 2, 4, 8 and 16 bins.
    n = data.draw(st.integers(1, 12), label="n")
    top = st.one_of(st.sampled_from([k / 8 for k in range(4, 9)]), st.floats(0.5, 1.0))
    conf = data.draw(st.lists(top, min_size=n, max_size=n), label="confidences")
    first = data.draw(st.lists(st.booleans(), min_size=n, max_size=n), label="which class")
    labels = data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n), label="labels")
    probs = [[c, 1 - c] if f or c == 0.5 else [1 - c, c] for c, f in zip(conf, first)]
    got = mod.calibration_bins(torch.tensor(probs, dtype=torch.float64), torch.tensor(labels), n_bins=n_bins)
    expect_bins(got, probs, labels, n_bins, f"calibration_bins(confidences {show(np.asarray(conf))}, n_bins={n_bins})")


@pytest.mark.task("9.5")
def test_calibration_bins_match_numpy_with_15_bins_by_default(mod):
    probs, labels = random_predictions()
    oracle = ece_oracle(probs.numpy(), labels.numpy(), 15)
    counts, confs, accs = mod.calibration_bins(probs, labels)
    expect_close(counts, oracle["counts"], "counts of calibration_bins(400 predictions) with the default n_bins",
                 shape_diagnoses={(10,): "Guo et al. use 15 bins: the default n_bins is 15"})
    expect_close(confs, oracle["conf"], "mean confidences of calibration_bins(400 predictions)")
    expect_close(accs, oracle["acc"], "accuracies of calibration_bins(400 predictions)")


@pytest.mark.task("9.5")
def test_calibration_bins_refuses_bad_input(mod):
    probs, labels = torch.tensor(HAND_PROBS, dtype=torch.float64), torch.tensor(HAND_LABELS)
    expect_refusals(mod.calibration_bins, works=Call(probs, labels, n_bins=5, shown="calibration_bins(hand example)"),
                    refuses=[(Call(torch.tensor([[0.5, 0.6]]), torch.tensor([0])), "the row sums to 1.1"),
                             (Call(probs, torch.tensor([0, 1]), shown="calibration_bins(6 rows, 2 labels)"),
                              "there must be one label per row"),
                             (Call(probs, labels, n_bins=0, shown="calibration_bins(..., n_bins=0)"),
                              "there must be at least one bin"),
                             (Call(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long),
                                   shown="calibration_bins(no rows)"), "there is nothing to bin")])


def random_predictions(n=400, c=4, seed=11, sharpen=3.0):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, c, generator=g, dtype=torch.float64)
    labels = torch.multinomial(F.softmax(z, -1), 1, generator=g).squeeze(-1)
    return F.softmax(sharpen * z, -1), labels  # an overconfident model


ECE_WEIGHTS = ("weight each bin's gap by the share of the examples that fall in it: the expected gap over the "
               "examples counts a bin as often as it holds an example")
ECE_MISTAKES = [
    (HAND_ECE_EQUAL, "every non-empty bin was weighted equally: " + ECE_WEIGHTS),
    (HAND_ECE_EMPTY, "you averaged the gaps over all the bins (empty ones included): " + ECE_WEIGHTS),
    (HAND_ECE_BY_BINS, "the counts were divided by the number of bins: each bin's share is its count over N, "
                       "the number of examples"),
    (HAND_ECE_SIGNED, "the gaps must be absolute values |accuracy − confidence|: an overconfident bin and an "
                      "underconfident one do not cancel"),
    (HAND_ECE_SQUARED, "the gaps were squared: ECE takes |accuracy − confidence| itself"),
    (-HAND_ECE_SIGNED, "the absolute value was taken of the whole weighted sum, which is |accuracy − mean "
                       "confidence| over all the examples: take each bin's gap |accuracy − confidence| before "
                       "weighting, so that an overconfident bin and an underconfident one do not cancel"),
    (HAND_ECE * len(HAND_LABELS), "that is the count-weighted sum without the division by N: each bin's weight is its "
                                  "share n_b / N of the examples, so an ECE lies in [0, 1]"),
]


@pytest.mark.task("9.6")
def test_ece_of_the_hand_example(mod):
    call = "expected_calibration_error(hand example, n_bins=5)"
    got = mod.expected_calibration_error(torch.tensor(HAND_PROBS, dtype=torch.float64), torch.tensor(HAND_LABELS),
                                         n_bins=5)
    at_15 = ece_oracle(HAND_PROBS, HAND_LABELS, 15)["ece"]
    expect_close(got, HAND_ECE, call, mistakes=[*ECE_MISTAKES, (at_15, "that is the ECE with 15 bins: pass n_bins on "
                                                                        "to calibration_bins")])
    expect_true(isinstance(got, float), f"{call} returned a {type(got).__name__}: return a Python float (float(...))")


@pytest.mark.task("9.6")
def test_ece_matches_numpy_with_15_bins(mod):
    probs, labels = random_predictions()
    oracle = ece_oracle(probs.numpy(), labels.numpy(), 15)
    expect_close(mod.expected_calibration_error(probs, labels), oracle["ece"],
                 "expected_calibration_error(400 overconfident predictions)",
                 mistakes=[(oracle["equal"], ECE_MISTAKES[0][1]), (oracle["empty"], ECE_MISTAKES[1][1]),
                           (ece_oracle(probs.numpy(), labels.numpy(), 10)["ece"], "Guo et al. use 15 bins: n_bins defaults to 15")])


@pytest.mark.task("9.6")
def test_ece_is_zero_for_a_calibrated_model(mod):
    # every prediction has confidence 0.8 and exactly 8 in 10 are right
    probs = torch.tensor([[0.8, 0.2]] * 10, dtype=torch.float64)
    labels = torch.tensor([0] * 8 + [1] * 2)
    expect_close(mod.expected_calibration_error(probs, labels), 0.0, "ECE of 10 predictions at 0.8, 8 of them right",
                 atol=1e-12)
    expect_close(mod.expected_calibration_error(probs, torch.ones(10, dtype=torch.long)), 0.8,
                 "ECE of 10 predictions at 0.8, all wrong", rtol=1e-12)


# --- 9.7 fit_temperature, and temperature scaling of the overconfident student -------------------


def nll(logits, labels, T):
    return float(F.cross_entropy(logits.double() / T, labels))


def oracle_temperature(logits, labels):
    """Golden-section search for the T minimising the NLL, on log T in [-4, 4].

    The NLL of logits / T is convex in 1/T (a log-sum-exp of linear functions minus a
    linear one), so it has one minimum and the search cannot be fooled.
    """
    lo, hi = -4.0, 4.0
    ratio = (math.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = nll(logits, labels, math.exp(a)), nll(logits, labels, math.exp(b))
    while hi - lo > 1e-9:
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = nll(logits, labels, math.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = nll(logits, labels, math.exp(b))
    return math.exp((lo + hi) / 2)


def nll_slope(logits, labels, T):
    """dNLL/dT of F.cross_entropy(logits / T, labels) at T, by autograd in float64."""
    t = torch.tensor(float(T), dtype=torch.float64, requires_grad=True)
    (slope,) = torch.autograd.grad(F.cross_entropy(logits.double() / t, labels), t)
    return float(slope)


ONE_T_PER_CLASS = ("temperature scaling divides every logit by one and the same T; one temperature per class "
                   "(a vector of C of them) is another method, and it can change the argmax")


def fitted_temperature(mod, logits, labels, call):
    """The learner's T for these logits: one positive Python float, or a failure that says why not."""
    n_classes = logits.shape[1]
    try:
        got = mod.fit_temperature(logits, labels)
    except (RuntimeError, ValueError) as error:
        if "cannot be converted to Scalar" in str(error) or "only one element tensors" in str(error):
            fail(f"{call} raised '{str(error).splitlines()[0]}', so its T is not one number: {ONE_T_PER_CLASS}")
        raise
    expect_shape(got, (), call, diagnoses={(n_classes,): f"those are {n_classes} temperatures: {ONE_T_PER_CLASS}",
                                           (1, n_classes): f"those are {n_classes} temperatures: {ONE_T_PER_CLASS}"})
    expect_true(isinstance(got, float), f"{call} returned a {type(got).__name__}: return a Python float (float(...))")
    return got


def expect_temperature(got, logits, labels, call):
    """``got`` must be the NLL-minimising T within a relative 1e-4; otherwise say why, with the NLL's slope there."""
    expected = oracle_temperature(logits, labels)
    mistakes = [(math.log(expected), "that is log T: return T = exp(log T)"),
                (1 / expected, "that is 1/T: the logits are divided by T, logits / T"),
                (1.0, "T = 1 is where a search starts: did the optimiser run (for LBFGS, optimizer.step(closure))?")]
    if _relative(got, expected) <= 1e-4:
        return
    why = diagnose(got, mistakes, expected=expected, tolerance=(1e-4, 0.0))
    if why not in (None, NEAR_MISS):
        expect_close(got, expected, call, rtol=1e-4, mistakes=mistakes)
    if not (math.isfinite(got) and got > 0):
        fail(f"{call} returned {got}, expected {expected:.6g}: a temperature must be a positive number "
             "(searching over log T keeps it positive)")
    slope = nll_slope(logits, labels, got)
    side = "larger" if slope < 0 else "smaller"
    fail(f"{call} returned T = {got:.6g}, expected {expected:.6g} (relative difference {_relative(got, expected):.1e}, "
         f"allowed 1e-4): the NLL's slope at your T is dNLL/dT = {slope:.3g}, not 0, so the minimum lies at a {side} T "
         "and the search stopped short of it: run it longer, or to a tighter tolerance")


def _relative(got, expected):
    return abs(got - expected) / abs(expected)


def temperature_data():
    g = torch.Generator().manual_seed(12)
    z = torch.randn(500, 3, generator=g, dtype=torch.float64) * 2
    labels = torch.multinomial(F.softmax(z, -1), 1, generator=g).squeeze(-1)
    return z, labels


@pytest.mark.task("9.7")
def test_fit_temperature_finds_the_nll_minimum(mod):
    z, labels = temperature_data()
    for scale, kind in ((3.0, "overconfident"), (0.5, "underconfident")):
        logits = scale * z
        call = f"fit_temperature({kind} logits = {scale:g} x the true ones)"
        expect_temperature(fitted_temperature(mod, logits, labels, call), logits, labels, call)


@pytest.mark.task("9.7")
def test_fit_temperature_of_the_small_check(mod):
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 0.5]], dtype=torch.float64)
    labels = torch.tensor([0, 1, 1])
    # the minimum of the NLL, where its slope is 0 (scipy's Brent search agrees to 1e-9)
    expect_true(abs(oracle_temperature(logits, labels) / 0.740131 - 1) < 1e-6, "(course bug) the oracle moved")
    call = "fit_temperature([[2, 0], [0, 1], [1, 0.5]], [0, 1, 1])"
    expect_temperature(fitted_temperature(mod, logits, labels, call), logits, labels, call)


@pytest.mark.task("9.7")
def test_fit_temperature_refuses_bad_input(mod):
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 0.5]], dtype=torch.float64)
    expect_refusals(mod.fit_temperature, works=Call(logits, torch.tensor([0, 1, 1]), shown="fit_temperature(3x2, 3 labels)"),
                    refuses=[(Call(logits, torch.tensor([0, 1, 2]), shown="fit_temperature(2 classes, a label 2)"),
                              "label 2 is not a class of 2-column logits"),
                             (Call(logits, torch.tensor([0, 1]), shown="fit_temperature(3 rows, 2 labels)"),
                              "there must be one label per row")])


def small_fit_first(mod):
    """fit_temperature on three rows: an unfinished one fails at once, before the experiment trains its models."""
    mod.fit_temperature(torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 0.5]], dtype=torch.float64), torch.tensor([0, 1, 1]))


@pytest.mark.task("9.7")
def test_temperature_scaling_keeps_accuracy_and_lowers_nll_and_ece(mod):
    small_fit_first(mod)
    result = mod.calibration_experiment()
    logits, y, T = result["test_logits"], result["y_test"], result["T"]
    expect_temperature(T, result["val_logits"], result["y_val"], "fit_temperature(the hard-label student's validation logits)")
    expect_true(T > 1, f"the fitted temperature is {T:.3f}: an overconfident model needs T > 1 to soften it")
    before, after = logits, logits / T
    accuracy = [float((z.argmax(-1) == y).double().mean()) for z in (before, after)]
    expect_true(accuracy[0] == accuracy[1], f"accuracy changed from {accuracy[0]:.4f} to {accuracy[1]:.4f}: dividing "
                "the logits by one T > 0 cannot change their argmax")
    losses = [float(F.cross_entropy(z, y)) for z in (before, after)]
    expect_true(losses[1] < losses[0] - 0.3, f"held-out NLL {losses[0]:.4f} -> {losses[1]:.4f} nats after temperature "
                "scaling: it should fall a lot for this overconfident model")
    oracles = [ece_oracle(F.softmax(z, -1).numpy(), y.numpy()) for z in (before, after)]
    ece = [oracle["ece"] for oracle in oracles]
    expect_true(ece[1] < 0.6 * ece[0], f"held-out ECE {ece[0]:.4f} -> {ece[1]:.4f} after temperature scaling: it should "
                "fall clearly")
    for name, oracle in zip(("before", "after"), oracles):
        expect_close(result[name]["ece"], oracle["ece"], f"the ECE {name} temperature scaling")


@pytest.mark.task("9.7")
def test_reliability_data_adds_up(mod):
    small_fit_first(mod)
    panels = mod.reliability_data()
    result = mod.calibration_experiment()
    for name, T in (("before", 1.0), ("after", result["T"])):
        oracle = ece_oracle(F.softmax(result["test_logits"] / T, -1).numpy(), result["y_test"].numpy())
        panel = panels[name]
        expect_close(panel["counts"], oracle["counts"], f"the {name} panel's bin counts")
        expect_close(panel["bin_accuracy"], oracle["acc"], f"the {name} panel's bin accuracies")
        expect_close(panel["bin_confidence"], oracle["conf"], f"the {name} panel's mean confidences")


@pytest.mark.task("9.7")
@pytest.mark.mpl_image_compare(filename="module09_reliability.png")
def test_figure_reliability(mod):
    small_fit_first(mod)
    return mod.plot_reliability()
