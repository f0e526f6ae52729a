"""Module 9: knowledge distillation and calibration.

Expected values come from torch's own F.kl_div / F.cross_entropy / autograd,
a golden-section search written here, a numpy ECE written here, hand-computed constants and the
Bayes posterior of the known Gaussian blobs, never from the reference module.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from kata.testing.expect import expect_close, expect_raises, expect_shape, expect_true
from kata.testing.strategies import logits

MODULE = "module09_distillation_calibration"

CENTRES = np.array([[0.0, 0.0], [3.0, 3.0], [-3.0, 3.0]])  # module 5's blobs
SPREAD = 1.5


def random_logits(n, c, seed, scale=2.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, c, generator=g, dtype=torch.float64) * scale,
            torch.randn(n, c, generator=g, dtype=torch.float64) * scale)


def kl_form(s, t, T, reduction="batchmean"):
    """The oracle: torch's F.kl_div with the student's log-probabilities first."""
    return float(F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1), reduction=reduction) * T**2)


def distillation_mistakes(s, t, T):
    n, c = s.shape
    right = kl_form(s, t, T)
    p, log_q = F.softmax(t / T, -1), F.log_softmax(s / T, -1)
    return [
        (right / T**2, f"the factor T² is missing: KL at T = {T:g} must be multiplied by T**2 = {T**2:g} "
                       "(it keeps the gradient's scale as T grows)"),
        (float(F.kl_div(F.log_softmax(t / T, -1), F.softmax(s / T, -1), reduction="batchmean") * T**2),
         "KL is in the wrong direction: that is KL(student || teacher). The teacher p = softmax(t/T) is the truth: "
         "F.kl_div(log q, p) with the student's log_softmax first"),
        (right / c, f"that is reduction='mean', which divides by N·C = every element; the per-example KL is a sum "
                    f"over the {c} classes, so use reduction='batchmean' (sum, then divide by N)"),
        (right * n, "that is the sum over the batch: use reduction='batchmean' to divide by the number of rows N"),
        (float(-(p * log_q).sum(-1).mean() * T**2),
         "that is the cross-entropy T²·H(p, q), not the KL: KL(p || q) = H(p, q) - H(p) subtracts the teacher's entropy"),
        (float(F.kl_div(F.log_softmax(s, -1), p, reduction="batchmean") * T**2),
         "the student's logits must be divided by T too: log q = log_softmax(s / T)"),
        (float(F.kl_div(F.log_softmax(s / T, -1), F.softmax(t, -1), reduction="batchmean") * T**2),
         "the teacher's logits must be divided by T too: p = softmax(t / T)"),
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
        expect_close(got, kl_form(s, t, T), call, rtol=1e-7, mistakes=distillation_mistakes(s, t, T))


@pytest.mark.task("9.1")
def test_distillation_loss_is_differentiable_in_the_student(mod):
    s, t = random_logits(4, 3, 3)
    s = s.clone().requires_grad_(True)
    loss = mod.distillation_loss(s, t, 3.0)
    expect_true(isinstance(loss, torch.Tensor) and loss.requires_grad,
                "distillation_loss(s, t, 3) gave a value with no gradient: compute it with torch operations on "
                "the tensors (no .item(), .numpy() or float()), so the student can learn from it")
    loss.backward()
    reference = s.detach().clone().requires_grad_(True)
    (F.kl_div(F.log_softmax(reference / 3.0, -1), F.softmax(t / 3.0, -1), reduction="batchmean") * 9.0).backward()
    expect_close(s.grad, reference.grad, "the gradient of distillation_loss(s, t, 3) w.r.t. s", rtol=1e-7, atol=1e-12,
                 mistakes=[(reference.grad / 9, "it is 9 = T² times too small: the factor T**2 is missing")])


@pytest.mark.task("9.1")
@given(z=logits(scale=10.0), T=st.floats(0.5, 10.0), shift=st.floats(-50, 50))
def test_distillation_loss_is_zero_at_a_match_and_never_negative(mod, z, T, shift):
    teacher = torch.tensor(z)
    same = mod.distillation_loss(teacher + shift, teacher, T)  # a constant shift does not change a softmax
    expect_close(same, 0.0, f"distillation_loss(t + {shift:g}, t, T={T:g})", atol=1e-9,
                 mistakes=[(float(-(F.softmax(teacher / T, -1) * F.log_softmax(teacher / T, -1)).sum(-1).mean() * T**2),
                            "that is the teacher's entropy times T²: you computed a cross-entropy, and KL = H(p, q) - H(p)")])
    other = mod.distillation_loss(torch.flip(teacher, dims=[-1]), teacher, T)
    expect_true(float(other) >= -1e-9, f"distillation_loss gave {float(other):.6g} < 0 for T = {T:g}: a KL divergence is "
                "never negative (check the sign and the order of p and log q)")


@pytest.mark.task("9.1")
def test_t_squared_keeps_the_gradient_scale_as_t_grows(mod):
    s, t = random_logits(6, 4, 4, scale=1.0)
    norms = {}
    for T in (8.0, 32.0, 1e4):
        student = s.clone().requires_grad_(True)
        mod.distillation_loss(student, t, T).backward()
        norms[T] = student.grad
    ratio = float(norms[32.0].norm() / norms[8.0].norm())
    if abs(ratio - 1 / 16) < 0.02:
        expect_true(False, f"the gradient shrank {1 / ratio:.1f}x from T = 8 to T = 32, like 1/T²: the factor T**2 is "
                    "missing from distillation_loss. With it the gradient keeps its scale as T grows")
    expect_true(abs(ratio - 1) < 0.1, f"|gradient| of distillation_loss changed by a factor {ratio:.3f} from T = 8 to "
                "T = 32; with T²·KL it should stay about the same")
    # Hinton et al.: for large T, T·(q − p) → ((s − mean s) − (t − mean t)) / C per row, / N for the batch mean.
    centred = (s - s.mean(-1, keepdim=True)) - (t - t.mean(-1, keepdim=True))
    expect_close(norms[1e4], centred / (4 * 6), "the gradient of distillation_loss at T = 10000", rtol=0, atol=1e-5,
                 mistakes=[(centred / (4 * 6) / 1e8, "the gradient shrank like 1/T²: the factor T**2 is missing")])


@pytest.mark.task("9.1")
def test_distillation_loss_refuses_bad_input(mod):
    s, t = random_logits(4, 3, 5)
    mod.distillation_loss(s, t, 2.0)  # the function must work before its checks matter
    expect_raises(ValueError, mod.distillation_loss, s, t[:, :2], 2.0, call="distillation_loss(4x3, 4x2, 2)",
                  why="student and teacher logits have different shapes")
    expect_raises(ValueError, mod.distillation_loss, s[0], t[0], 2.0, call="distillation_loss(one row of 3, ...)",
                  why="logits must be a batch (N, C)")
    expect_raises(ValueError, mod.distillation_loss, s, t, 0.0, call="distillation_loss(s, t, T=0)",
                  why="a temperature must be positive")
    expect_raises(ValueError, mod.distillation_loss, s[:0], t[:0], 2.0, call="distillation_loss(empty batch)",
                  why="there is no example")


# --- 9.2 soft-target cross-entropy, and its gradient equals KL's -------------------------


@pytest.mark.task("9.2")
def test_soft_target_cross_entropy_matches_torch(mod):
    s, t = random_logits(5, 3, 6)
    T = 2.0
    expected = float(F.cross_entropy(s / T, F.softmax(t / T, -1)) * T**2)  # torch takes probability targets
    p = F.softmax(t / T, -1)
    expect_close(mod.soft_target_cross_entropy(s, t, T), expected, "soft_target_cross_entropy(s, t, T=2)", rtol=1e-7,
                 mistakes=[(expected / T**2, "the factor T² is missing"),
                           (-expected, "a negative cross-entropy means the minus sign is missing"),
                           (expected * 5, "you summed over the batch: take the mean over the rows"),
                           (expected / 3, "you averaged over the classes too: sum over the classes, mean over the rows"),
                           (kl_form(s, t, T), "that is the KL divergence; the cross-entropy keeps the teacher's entropy"),
                           (float(-(F.softmax(s / T, -1) * F.log_softmax(t / T, -1)).sum(-1).mean() * T**2),
                            "p and q are swapped: the teacher's probabilities weight the student's log-probabilities"),
                           (float(-(p * F.log_softmax(s, -1)).sum(-1).mean() * T**2),
                            "divide the student's logits by T as well: log q = log_softmax(s / T)")])


@pytest.mark.task("9.2")
def test_soft_target_ce_and_kl_have_equal_gradients(mod):
    s, t = random_logits(6, 4, 7)
    for T in (1.0, 3.0, 10.0):
        a = s.clone().requires_grad_(True)
        b = s.clone().requires_grad_(True)
        kl, ce = mod.distillation_loss(a, t, T), mod.soft_target_cross_entropy(b, t, T)
        kl.backward()
        ce.backward()
        teacher_entropy = float(-(F.softmax(t / T, -1) * F.log_softmax(t / T, -1)).sum(-1).mean())
        expect_close(float(ce.detach()) - float(kl.detach()), T**2 * teacher_entropy,
                     f"soft_target_cross_entropy - distillation_loss at T = {T:g}", rtol=1e-7,
                     mistakes=[(teacher_entropy, "the losses must differ by T²·H(p): is T² missing from one of them?")])
        expect_close(b.grad, a.grad, f"the gradient of soft_target_cross_entropy vs that of distillation_loss at T = {T:g}",
                     rtol=1e-7, atol=1e-12)


# --- 9.3 the gradient by hand --------------------------------------------------------------


@pytest.mark.task("9.3")
def test_distillation_grad_matches_autograd(mod):
    for n, c, T, seed in ((5, 3, 2.0, 8), (4, 6, 7.0, 9)):
        s, t = random_logits(n, c, seed)
        student = s.clone().requires_grad_(True)
        (F.kl_div(F.log_softmax(student / T, -1), F.softmax(t / T, -1), reduction="batchmean") * T**2).backward()
        expected = student.grad
        call = f"distillation_grad(s, t, T={T:g}) for {n} rows"
        got = expect_shape(mod.distillation_grad(s, t, T), (n, c), call)
        expect_close(got, expected, call, rtol=1e-7, atol=1e-12,
                     mistakes=[(expected * n, "you forgot the batch mean: divide by N, the number of rows"),
                               (expected / T, "one factor T is missing: T²·(q − p)·(1/T) = T·(q − p)"),
                               (expected * T, "one factor T too many: the chain rule through s/T gives 1/T, so T²/T = T"),
                               (-expected, "the sign is flipped: it is q − p (student minus teacher)"),
                               (expected / T**2, "the factor T² of the loss is missing")])


# --- 9.4 training, and the distillation run ------------------------------------------------


def oracle_history(model, X, loss_fn, epochs, lr, optimiser=torch.optim.Adam):
    opt = optimiser(model.parameters(), lr=lr)
    history = []
    for _ in range(epochs):
        opt.zero_grad()
        loss = loss_fn(model(X))
        loss.backward()
        opt.step()
        history.append(loss.item())
    return history


def linear_model():
    model = torch.nn.Linear(2, 3).double()
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    return model


@pytest.mark.task("9.4")
def test_train_runs_module_5s_loop_with_adam(mod):
    g = torch.Generator().manual_seed(10)
    X = torch.randn(30, 2, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (30,), generator=g)
    loss_fn = lambda z: F.cross_entropy(z, y)  # noqa: E731
    model = linear_model()
    got = mod.train(model, X, loss_fn, epochs=15, lr=0.1)
    expected = oracle_history(linear_model(), X, loss_fn, 15, 0.1)
    sgd = oracle_history(linear_model(), X, loss_fn, 15, 0.1, torch.optim.SGD)
    expect_true(isinstance(got, list), f"train(...) returned {type(got).__name__}: return the list of losses")
    expect_shape(got, (15,), "train(..., epochs=15)", diagnoses={(14,): "one loss per epoch: 15 epochs, 15 losses",
                                                                 (16,): "one loss per epoch: 15 epochs, 15 losses"})
    expect_close(got[0], math.log(3), "the first loss of train (weights start at 0)",
                 mistakes=[(expected[1], "the first entry is the loss after one update: record loss.item() "
                                         "of the loss you computed before optimizer.step()")])
    expect_close(got, expected, "train(linear model, X, cross-entropy, epochs=15, lr=0.1) losses", rtol=1e-7,
                 mistakes=[(sgd, "that is plain SGD: use torch.optim.Adam(model.parameters(), lr=lr)")])
    expect_close(model(X).detach(), linear_model_after(X, loss_fn), "the trained model's logits", rtol=1e-7)


def linear_model_after(X, loss_fn):
    model = linear_model()
    oracle_history(model, X, loss_fn, 15, 0.1)
    return model(X).detach()


@pytest.mark.task("9.4")
def test_train_refuses_bad_settings(mod):
    X = torch.zeros(3, 2, dtype=torch.float64)
    y = torch.tensor([0, 1, 2])
    mod.train(linear_model(), X, lambda z: F.cross_entropy(z, y), epochs=1, lr=0.1)
    expect_raises(ValueError, mod.train, linear_model(), X, lambda z: F.cross_entropy(z, y), epochs=0, lr=0.1,
                  call="train(..., epochs=0)", why="there is nothing to train")
    expect_raises(ValueError, mod.train, linear_model(), X, lambda z: F.cross_entropy(z, y), epochs=5, lr=-1.0,
                  call="train(..., lr=-1)", why="a negative learning rate climbs the loss")


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
                "The student trained on the teacher's soft targets should be far better (at least 2x): is "
                "distillation_loss right (T², direction, batchmean)?")
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
# 0.55 (right), 0.95 (wrong), 1.0 (right).
HAND_PROBS = [[0.9, 0.1], [0.25, 0.75], [0.3, 0.7], [0.55, 0.45], [0.95, 0.05], [1.0, 0.0]]
HAND_LABELS = [0, 1, 0, 0, 1, 0]
HAND_COUNTS = [0, 0, 1, 2, 3]
HAND_CONF = [0, 0, 0.55, 0.725, 0.95]  # (0.75 + 0.7) / 2, (0.9 + 0.95 + 1) / 3
HAND_ACC = [0, 0, 1.0, 0.5, 2 / 3]
HAND_ECE = 0.2916667  # (1·0.45 + 2·0.225 + 3·0.283333) / 6
HAND_ECE_EQUAL = 0.3194444  # (0.45 + 0.225 + 0.283333) / 3: every non-empty bin weighted the same
HAND_ECE_EMPTY = 0.1916667  # the same sum / 5 bins, empty ones included


def ece_oracle(probs, labels, n_bins=15):
    """A numpy ECE, bins (b/M, (b+1)/M], weighted by their counts."""
    probs, labels = np.asarray(probs, dtype=float), np.asarray(labels)
    conf, correct = probs.max(-1), (probs.argmax(-1) == labels).astype(float)
    edges = np.linspace(0, 1, n_bins + 1)
    counts, confs, accs = np.zeros(n_bins), np.zeros(n_bins), np.zeros(n_bins)
    for b in range(n_bins):
        inside = (conf > edges[b]) & (conf <= edges[b + 1])
        if inside.any():
            counts[b], confs[b], accs[b] = inside.sum(), conf[inside].mean(), correct[inside].mean()
    gaps = np.abs(accs - confs)
    filled = counts > 0
    return {"ece": float((counts / len(labels) * gaps).sum()), "counts": counts, "conf": confs, "acc": accs,
            "equal": float(gaps[filled].mean()), "empty": float(gaps.sum() / n_bins)}


def random_predictions(n=400, c=4, seed=11, sharpen=3.0):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, c, generator=g, dtype=torch.float64)
    labels = torch.multinomial(F.softmax(z, -1), 1, generator=g).squeeze(-1)
    return F.softmax(sharpen * z, -1), labels  # an overconfident model


@pytest.mark.task("9.5")
def test_calibration_bins_of_the_hand_example(mod):
    got = mod.calibration_bins(torch.tensor(HAND_PROBS), torch.tensor(HAND_LABELS), n_bins=5)
    expect_true(isinstance(got, tuple) and len(got) == 3, "calibration_bins should return a tuple of three tensors: "
                "(counts, confidences, accuracies)")
    counts, confs, accs = got
    expect_close(counts, HAND_COUNTS, "counts of calibration_bins(hand example, n_bins=5)",
                 mistakes=[([0, 0, 1, 2, 2], "the row with confidence exactly 1.0 fell out: bin b holds "
                                            "edges[b] < c <= edges[b + 1], so 1.0 belongs to the last bin")])
    expect_close(confs, HAND_CONF, "mean confidences of calibration_bins(hand example, n_bins=5)")
    expect_close(accs, HAND_ACC, "accuracies of calibration_bins(hand example, n_bins=5)")


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
    mod.calibration_bins(torch.tensor(HAND_PROBS), torch.tensor(HAND_LABELS), n_bins=5)
    expect_raises(ValueError, mod.calibration_bins, torch.tensor([[0.5, 0.6]]), torch.tensor([0]),
                  call="calibration_bins([[0.5, 0.6]], [0])", why="the row sums to 1.1")
    expect_raises(ValueError, mod.calibration_bins, torch.tensor(HAND_PROBS), torch.tensor([0, 1]),
                  call="calibration_bins(6 rows, 2 labels)", why="there must be one label per row")
    expect_raises(ValueError, mod.calibration_bins, torch.tensor(HAND_PROBS), torch.tensor(HAND_LABELS), n_bins=0,
                  call="calibration_bins(..., n_bins=0)", why="there must be at least one bin")
    expect_raises(ValueError, mod.calibration_bins, torch.zeros(0, 2), torch.zeros(0, dtype=torch.long),
                  call="calibration_bins(no rows)", why="there is nothing to bin")


ECE_MISTAKES = [
    (HAND_ECE_EQUAL, "every non-empty bin was weighted equally: weight each bin by its share of the examples, n_b / N"),
    (HAND_ECE_EMPTY, "you averaged the gaps over all the bins (empty ones included): weight each bin by n_b / N"),
]


@pytest.mark.task("9.6")
def test_ece_of_the_hand_example(mod):
    expect_close(mod.expected_calibration_error(torch.tensor(HAND_PROBS), torch.tensor(HAND_LABELS), n_bins=5),
                 HAND_ECE, "expected_calibration_error(hand example, n_bins=5)", mistakes=ECE_MISTAKES)


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
    probs = torch.tensor([[0.8, 0.2]] * 10)
    labels = torch.tensor([0] * 8 + [1] * 2)
    expect_close(mod.expected_calibration_error(probs, labels), 0.0, "ECE of 10 predictions at 0.8, 8 of them right",
                 atol=1e-6)
    expect_close(mod.expected_calibration_error(probs, torch.ones(10, dtype=torch.long)), 0.8,
                 "ECE of 10 predictions at 0.8, all wrong", rtol=1e-6)


# --- 9.7 fit_temperature, and temperature scaling of the overconfident student -------------------


def oracle_temperature(logits, labels):
    """Golden-section search for the T minimising the NLL, on log T in [-4, 4].

    The NLL of logits / T is convex in 1/T (a log-sum-exp of linear functions minus a
    linear one), so it has one minimum and the search cannot be fooled.
    """
    nll = lambda log_t: float(F.cross_entropy(logits / math.exp(log_t), labels))  # noqa: E731
    lo, hi = -4.0, 4.0
    ratio = (math.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = nll(a), nll(b)
    while hi - lo > 1e-9:
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = nll(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = nll(b)
    return math.exp((lo + hi) / 2)


@pytest.mark.task("9.7")
def test_fit_temperature_finds_the_nll_minimum(mod):
    g = torch.Generator().manual_seed(12)
    z = torch.randn(500, 3, generator=g, dtype=torch.float64) * 2
    labels = torch.multinomial(F.softmax(z, -1), 1, generator=g).squeeze(-1)
    for scale, kind in ((3.0, "overconfident"), (0.5, "underconfident")):
        logits = scale * z
        expected = oracle_temperature(logits, labels)
        got = mod.fit_temperature(logits, labels)
        expect_close(got, expected, f"fit_temperature({kind} logits = {scale:g} x the true ones)", rtol=1e-4,
                     mistakes=[(math.log(expected), "that is log T: return T = exp(log T)"),
                               (1 / expected, "that is 1/T: the logits are divided by T, logits / T"),
                               (1.0, "T = 1 is the starting point: did the optimiser run (optimizer.step(closure))?")])


@pytest.mark.task("9.7")
def test_fit_temperature_refuses_bad_input(mod):
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 0.5]], dtype=torch.float64)
    mod.fit_temperature(logits, torch.tensor([0, 1, 1]))
    expect_raises(ValueError, mod.fit_temperature, logits, torch.tensor([0, 1, 2]),
                  call="fit_temperature(2 classes, a label 2)", why="label 2 is not a class of 2-column logits")
    expect_raises(ValueError, mod.fit_temperature, logits, torch.tensor([0, 1]),
                  call="fit_temperature(3 rows, 2 labels)", why="there must be one label per row")


@pytest.mark.task("9.7")
def test_temperature_scaling_keeps_accuracy_and_lowers_nll_and_ece(mod):
    result = mod.calibration_experiment()
    logits, y, T = result["test_logits"], result["y_test"], result["T"]
    expect_close(T, oracle_temperature(result["val_logits"], result["y_val"]), "the fitted temperature", rtol=1e-4)
    expect_true(T > 1, f"the fitted temperature is {T:.3f}: an overconfident model needs T > 1 to soften it")
    before, after = logits, logits / T
    accuracy = [float((z.argmax(-1) == y).double().mean()) for z in (before, after)]
    expect_true(accuracy[0] == accuracy[1], f"accuracy changed from {accuracy[0]:.4f} to {accuracy[1]:.4f}: dividing "
                "the logits by one T > 0 cannot change their argmax")
    nll = [float(F.cross_entropy(z, y)) for z in (before, after)]
    expect_true(nll[1] < nll[0] - 0.3, f"held-out NLL {nll[0]:.4f} -> {nll[1]:.4f} nats after temperature scaling: it "
                "should fall a lot for this overconfident model")
    oracles = [ece_oracle(F.softmax(z, -1).numpy(), y.numpy()) for z in (before, after)]
    ece = [oracle["ece"] for oracle in oracles]
    expect_true(ece[1] < 0.6 * ece[0], f"held-out ECE {ece[0]:.4f} -> {ece[1]:.4f} after temperature scaling: it should "
                "fall clearly")
    for name, oracle in zip(("before", "after"), oracles):
        expect_close(result[name]["ece"], oracle["ece"], f"the ECE {name} temperature scaling",
                     mistakes=[(oracle["equal"], ECE_MISTAKES[0][1]), (oracle["empty"], ECE_MISTAKES[1][1])])


@pytest.mark.task("9.7")
def test_reliability_data_adds_up(mod):
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
    return mod.plot_reliability()
