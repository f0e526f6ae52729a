"""Module 6: numerical stability and label smoothing.

Expected values are hand-computed constants (softplus(-1.5) = 0.201413, ...),
scipy.special (logsumexp, log_softmax) and torch (F.cross_entropy with
label_smoothing, F.binary_cross_entropy_with_logits with pos_weight, weight and
every reduction), never the reference itself. Known mistakes have their own
diagnosis, computed along the path the TODO prescribes.
"""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import log_softmax as scipy_log_softmax
from scipy.special import logsumexp as scipy_logsumexp

from kata.testing.expect import Call, expect_close, expect_refusals, expect_shape, expect_true, fail, show
from kata.testing.strategies import logits

MODULE = "module06_stability"
LN2 = math.log(2)
INF = math.inf
F32_EXP_LIMIT = 88.722839  # ln(3.4028235e38), the largest float32
F16_EXP_LIMIT = 11.089866  # ln(65504), the largest float16
SEED_LOGITS = [10.0, 20.0, 100.0]
CE_LOGITS = [2.0, 1.0, 0.1]
LSM_CE_LOGITS = [-0.417030, -1.417030, -2.317030]  # log_softmax([2, 1, 0.1])
CE_PLAIN = 0.417030  # -log softmax([2, 1, .1])[0]
CE_SMOOTHED = 0.513697  # (0.9 + 0.1/3)·0.417030 + (0.1/3)·(1.417030 + 2.317030)
SOFTPLUS = {-1.5: 0.201413, 1.5: 1.701413, -0.3: 0.554355, 0.3: 0.854355}  # log(1 + e^x)
CLIP_LOSSES = {1e-7: 16.118096, 1e-12: 27.631021, 1e-15: 34.538776}  # -log(clip): a clipped naive BCE
KEEPDIMS = "keepdims: the result must drop the reduced axis (squeeze m, and sum without keepdims)"
ALL_MASKED = ("a row of only -inf: its max m is -inf, and x - m = -inf - (-inf) is nan. Shift such a row by 0 "
              "instead: its sum is 0, and log 0 = -inf is the right answer")


class Quiet(np.errstate):
    """Let a mistaken overflow show up as inf / nan (for its diagnosis) rather than as a numpy warning."""

    def __init__(self):
        super().__init__(over="ignore", invalid="ignore", divide="ignore", under="ignore")


def broadcast_safe(call: str, why: str, function, *args, **kwargs):
    """``function(*args)``; numpy's "could not be broadcast" ValueError becomes one sentence that ends in ``why``."""
    try:
        return function(*args, **kwargs)
    except ValueError as error:
        if "broadcast" not in str(error):
            raise
        problem = str(error).splitlines()[0]
    fail(f"{call} raised ValueError ({problem}): {why}")


def smoothing_mistakes(true_loss, other_losses, eps, plain):
    """Values that known label-smoothing mistakes give for one row, with their diagnosis."""
    c = 1 + len(other_losses)
    variant = (1 - eps) * true_loss + eps / (c - 1) * sum(other_losses)
    return [
        (variant, "that is the ε/(C−1) variant (true class 1 − ε, the others ε/(C−1)); "
                  "torch's label_smoothing uses q = (1 − ε)·target + ε/C for every class"),
        ((1 - eps) * true_loss, "the smoothing term is dropped: (1 − ε)·(−log p_true) alone; "
                                "add ε/C·(−log p_k) for every class k"),
        ((1 - eps + eps / c) * true_loss, "you kept only the true class's term q_true·(−log p_true); "
                                          "sum q_k·(−log p_k) over all classes"),
        (plain, "that is the plain cross-entropy: the smoothing was not applied"),
        (-(1 - eps + eps / c) * true_loss - eps / c * sum(other_losses), "a negative loss means the minus sign is missing"),
        (((1 - eps + eps / c) * true_loss + eps / c * sum(other_losses)) / c,
         f"you averaged over the {c} classes: the cross-entropy sums q_k·(−log p_k) over them"),
    ]


# --- 6.1 naive_log_softmax ------------------------------------------------------------


@pytest.mark.task("6.1")
def test_naive_log_softmax_is_right_on_small_logits(mod):
    expect_close(mod.naive_log_softmax([1.0, 2.0, 3.0]), scipy_log_softmax([1.0, 2.0, 3.0]),
                 "naive_log_softmax([1, 2, 3])",
                 mistakes=[([-2.0, -1.0, 0.0], "that is z − max(z): take the log of e^z / Σ e^z"),
                           (np.exp(scipy_log_softmax([1.0, 2.0, 3.0])), "that is softmax itself: take the log")])
    batch = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    call = "naive_log_softmax(batch of shape (2, 3))"
    got = broadcast_safe(call, "each row's sum has shape (2,) and does not line up with the rows of e^z: "
                         "sum with keepdims=True, shape (2, 1)", mod.naive_log_softmax, batch)
    got = expect_shape(got, (2, 3), call)
    everything = batch - np.log(np.exp(batch).sum())
    expect_close(got, scipy_log_softmax(batch, axis=-1), call,
                 mistakes=[(everything, "you summed over the whole batch: sum over axis=-1 with keepdims=True"),
                           (batch - np.log(np.exp(batch).sum(axis=0)), "you summed over axis 0 (the batch): sum over axis=-1")])


@pytest.mark.task("6.1")
def test_naive_log_softmax_breaks_on_100_0_minus100_in_float32(mod):
    z = np.array([100.0, 0.0, -100.0], dtype=np.float32)
    call = "naive_log_softmax(float32 [100, 0, -100])"
    mod.naive_log_softmax([1.0, 2.0])  # the function must work before its failure can be checked
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            got = mod.naive_log_softmax(z)
        except (RuntimeWarning, FloatingPointError) as warning:
            fail(f"{call} raised a numpy warning ({warning}): wrap the computation in "
                 "np.errstate(over='ignore', invalid='ignore', divide='ignore') so the overflow shows as inf / nan")
    got_dtype = getattr(got, "dtype", None)
    expect_true(got_dtype == np.float32,
                f"{call} returned dtype {got_dtype}: compute in the input's dtype (float32); "
                "converting to float64 moves the overflow to 709.8 and hides the lesson")
    got = expect_shape(got, (3,), call)
    if np.isfinite(got[0]):
        fail(f"{call} returned {show(got)}: its first entry should be nan, the naive form must overflow here "
             "(e^100 is inf in float32). Compute log(e^z / Σ e^z) as written, without subtracting the max "
             "(that fix is tasks 6.2 and 6.3)")
    if np.isfinite(got[1:]).any():
        fail(f"{call} returned {show(got)}: e^0 / inf and e^-100 / inf are 0, and log 0 must stay -inf: take the log "
             "of e^z / Σ e^z as it is, without adding an eps or clipping")
    expect_true(np.isnan(got[0]) and got[1] == -np.inf and got[2] == -np.inf,
                f"{call} returned {show(got)}, expected [nan, -inf, -inf]: e^100 = inf, so e^z / Σ = [inf/inf, 0, 0]; "
                "compute log(e^z / Σ e^z) exactly as written")


@pytest.mark.task("6.1")
def test_naive_log_softmax_overflows_just_past_ln_of_the_largest_float(mod):
    with Quiet():
        below = mod.naive_log_softmax(np.array([88.0, 0.0], dtype=np.float32))
        above = mod.naive_log_softmax(np.array([89.0, 0.0], dtype=np.float32))
        float64_above = mod.naive_log_softmax(np.array([710.0, 0.0]))
        float64_below = mod.naive_log_softmax(np.array([700.0, 0.0]))
        half_below = mod.naive_log_softmax(np.array([11.0, 0.0], dtype=np.float16))
        half_above = mod.naive_log_softmax(np.array([12.0, 0.0], dtype=np.float16))
    expect_close(below, [0.0, -88.0], "naive_log_softmax(float32 [88, 0])", rtol=1e-5, atol=1e-5)
    expect_true(not np.isfinite(np.asarray(above, dtype=float)).all(),
                f"naive_log_softmax(float32 [89, 0]) returned {show(above)}: e^89 > 3.4e38 (the largest float32, "
                f"ln = {F32_EXP_LIMIT:.2f}) must overflow in float32; keep the input's dtype and do not subtract the max")
    expect_close(float64_below, [0.0, -700.0], "naive_log_softmax(float64 [700, 0])")
    expect_true(not np.isfinite(np.asarray(float64_above, dtype=float)).all(),
                f"naive_log_softmax(float64 [710, 0]) returned {show(float64_above)}: in float64 e^z overflows past "
                "ln(1.8e308) = 709.78; the naive form must not subtract the max")
    expect_true(getattr(half_above, "dtype", None) == np.float16,
                f"naive_log_softmax(float16 [12, 0]) returned dtype {getattr(half_above, 'dtype', None)}: keep the "
                "input's dtype, float16 too")
    expect_close(half_below, [0.0, -11.0], "naive_log_softmax(float16 [11, 0])", rtol=1e-3, atol=1e-3)
    expect_true(not np.isfinite(np.asarray(half_above, dtype=float)).all(),
                f"naive_log_softmax(float16 [12, 0]) returned {show(half_above)}: e^12 = 162755 is more than 65504, the "
                f"largest float16 (ln = {F16_EXP_LIMIT:.2f}), so it must overflow in float16")


@pytest.mark.task("6.1")
def test_naive_log_softmax_gives_minus_inf_to_a_masked_class(mod):
    with Quiet():
        got = mod.naive_log_softmax([0.0, -INF, 1.0])
    expect_close(got, scipy_log_softmax([0.0, -INF, 1.0]), "naive_log_softmax([0, -inf, 1])",
                 mistakes=[([-1.313262, -27.631021, -0.313262], "a masked class (logit -inf) has probability 0 and "
                            "log-probability -inf: take the log of e^z / Σ e^z as it is, without adding an eps")])


@pytest.mark.task("6.1")
def test_naive_log_softmax_refuses_bad_logits(mod):
    expect_refusals(mod.naive_log_softmax, works=Call([1.0, 2.0]), refuses=[
        (Call([]), "there are no logits"),
        (Call([1.0, np.nan]), "a logit is NaN"),
        (Call([1.0, INF]), "+inf has no log-probability"),
        (Call([-INF, -INF]), "every class of the row is masked")])


def exact_losses_vs_scale(scales):
    """(class, -log softmax(s·[1, 0, -1])[class] for every scale s): the figure's oracle, in float64."""
    tail = np.log1p(np.exp(-scales) + np.exp(-2 * scales))
    return ((1, scales + tail), (0, tail))


@pytest.mark.task("6.1")
def test_the_naive_curve_breaks_where_float32_exp_overflows(mod):
    scales = mod.SCALES
    for target, exact in exact_losses_vs_scale(scales):
        naive, _ = mod.loss_vs_scale(target)
        naive = expect_shape(np.asarray(naive, dtype=float), scales.shape, f"the naive loss curve for class {target}")
        ok = scales < 80  # right below the overflow first: a wrong curve is not blamed on the dtype or a shift
        expect_close(naive[ok], exact[ok], f"the naive float32 loss of class {target} below s = 80", rtol=1e-4, atol=1e-4)
        broke = mod.first_failure(scales, naive)
        expect_true(math.isfinite(broke), f"the naive loss of class {target} never became inf / nan up to s = {scales[-1]:g}: "
                    "naive_log_softmax must compute in float32 (no astype) and must not subtract the max")
        expect_true(F32_EXP_LIMIT < broke <= F32_EXP_LIMIT + 0.25,
                    f"the naive loss of class {target} first fails at s = {broke}; it should fail just past "
                    f"ln(max float32) = {F32_EXP_LIMIT:.2f}, where e^s overflows")


# --- 6.2 logsumexp ----------------------------------------------------------------------


@pytest.mark.task("6.2")
def test_logsumexp_of_the_seed_logits_matches_scipy(mod):
    expected = float(scipy_logsumexp(SEED_LOGITS))  # 100.0 (+ 4e-35)
    with Quiet():
        got = expect_shape(mod.logsumexp(SEED_LOGITS), (), "logsumexp([10, 20, 100])", diagnoses={(1,): KEEPDIMS})
        expect_close(got, expected, "logsumexp([10, 20, 100])",
                     mistakes=[(expected - 100.0, "you subtracted the max m = 100 but did not add it back: "
                                                  "log Σ e^z = m + log Σ e^(z − m)")])
        expect_close(mod.logsumexp(np.array(SEED_LOGITS, dtype=np.float32)), 100.0, "logsumexp(float32 [10, 20, 100])",
                     mistakes=[(np.inf, "logsumexp without the max: e^100 overflows float32 to inf. "
                                        "Subtract m = max(x) before exp, add it back after the log"),
                               (0.0, "you subtracted the max m = 100 but did not add it back: "
                                     "log Σ e^z = m + log Σ e^(z − m)")])


@pytest.mark.task("6.2")
def test_logsumexp_of_huge_equal_logits(mod):
    with Quiet():
        expect_close(mod.logsumexp([1000.0, 1000.0]), 1000.0 + LN2, "logsumexp([1000, 1000])",
                     mistakes=[(np.inf, "logsumexp without the max: e^1000 overflows even float64 (limit 709.78). "
                                        "Subtract m = max(x) before exp, add it back after the log"),
                               (LN2, "you subtracted the max m = 1000 but did not add it back: "
                                     "log Σ e^x = m + log Σ e^(x − m)"),
                               (1000.0, "that is only the max: add log Σ e^(x − m), here log 2")])
        expect_close(mod.logsumexp([-1000.0, -1000.0]), -1000.0 + LN2, "logsumexp([-1000, -1000])",
                     mistakes=[(-np.inf, "logsumexp without the max: e^-1000 underflows to 0 and log 0 = -inf. "
                                         "Subtract m = max(x) before exp, add it back after the log"),
                               (LN2, "you subtracted the max m = -1000 but did not add it back")])
    expect_close(mod.logsumexp([1.0, 2.0, 3.0]), 3.407606, "logsumexp([1, 2, 3])",
                 mistakes=[(0.407606, "you subtracted the max m = 3 but did not add it back")])


@pytest.mark.task("6.2")
def test_logsumexp_reduces_over_the_given_axis(mod):
    x = np.array([[1.0, 2.0, 3.0], [500.0, 0.0, -500.0]])
    lined_up = ("the max of each row has shape (2,) and does not line up with x's rows of 3: keep the reduced "
                "axis while you subtract (keepdims=True), drop it from the result")
    with Quiet():
        got = broadcast_safe("logsumexp(x of shape (2, 3))", lined_up, mod.logsumexp, x)
        got = expect_shape(got, (2,), "logsumexp(x of shape (2, 3))",
                           diagnoses={(2, 1): KEEPDIMS,
                                      (): "you reduced over everything: reduce over `axis` only, one value per row",
                                      (3,): "you reduced over axis 0: the default axis is -1, the last one"})
        expect_close(got, scipy_logsumexp(x, axis=-1), "logsumexp(x of shape (2, 3))",
                     mistakes=[(scipy_logsumexp(x, axis=-1) - x.max(axis=-1), "you subtracted each row's max but did not add it back")])
        got0 = mod.logsumexp(x, axis=0)
        got0 = expect_shape(got0, (3,), "logsumexp(x of shape (2, 3), axis=0)",
                            diagnoses={(2,): "you ignored the axis argument: reduce over `axis`, not always the last one",
                                       (1, 3): KEEPDIMS})
        expect_close(got0, scipy_logsumexp(x, axis=0), "logsumexp(x of shape (2, 3), axis=0)")
        square = np.array([[0.0, 1.0, 2.0], [10.0, 0.0, 0.0], [0.0, 0.0, 20.0]])
        m = square.max(axis=-1)
        expect_close(mod.logsumexp(square), scipy_logsumexp(square, axis=-1), "logsumexp(x of shape (3, 3))",
                     mistakes=[(m + np.log(np.exp(square - m).sum(axis=-1)),
                                "x - m subtracted row i's max from column i: the max of shape (3,) lines up with the "
                                "columns, not the rows. Keep the reduced axis while you subtract (keepdims=True)")])


@pytest.mark.task("6.2")
def test_logsumexp_shifts_every_row_by_its_own_max(mod):
    """Rows at very different scales in one batch: one shift for the whole batch underflows the low row."""
    for dtype, x in ((np.float64, [[1000.0, 999.0], [-1000.0, -1001.0]]), (np.float32, [[100.0, 99.0], [-100.0, -101.0]])):
        x = np.array(x, dtype=dtype)
        expected = scipy_logsumexp(x.astype(float), axis=-1)  # [1000.313262, -999.686738] and [100.313262, -99.686738]
        name = "float32 " if dtype is np.float32 else ""
        with Quiet():
            got = mod.logsumexp(x)
        expect_close(got, expected, f"logsumexp({name}{x.tolist()})", rtol=1e-6,
                     mistakes=[([expected[0], -np.inf], "one shift for the whole batch: the max of all of x is "
                                f"{x.max():g}, so the low row's exponents underflow to 0 and log 0 = -inf. "
                                "Each row needs its own max (over `axis`, keepdims=True)"),
                               ([np.inf, expected[1]], "logsumexp without the max: the high row's e^x overflows. "
                                "Subtract each row's max before exp, add it back after the log")])


@pytest.mark.task("6.2")
def test_logsumexp_keeps_float32_and_float16(mod):
    with Quiet():
        single = mod.logsumexp(np.array([1.0, 2.0, 3.0], dtype=np.float32))
        half = mod.logsumexp(np.array([12.0, 0.0, -12.0], dtype=np.float16))
    expect_true(getattr(single, "dtype", None) == np.float32,
                f"logsumexp(float32 [1, 2, 3]) returned dtype {getattr(single, 'dtype', type(single).__name__)}: keep "
                "x's dtype (no astype, no float(...)); the lesson is what float32 does")
    expect_close(single, 3.407606, "logsumexp(float32 [1, 2, 3])", rtol=1e-6)
    expect_true(getattr(half, "dtype", None) == np.float16,
                f"logsumexp(float16 [12, 0, -12]) returned dtype {getattr(half, 'dtype', type(half).__name__)}: keep x's dtype")
    expect_close(half, 12.0, "logsumexp(float16 [12, 0, -12])", rtol=1e-3,
                 mistakes=[(np.inf, "logsumexp without the max: e^12 overflows float16 (largest 65504, ln = 11.09). "
                                    "Subtract m = max(x) before exp, add it back after the log")])


@pytest.mark.task("6.2")
def test_logsumexp_of_masked_entries_and_of_an_all_masked_row(mod):
    with Quiet():
        expect_close(mod.logsumexp([-INF, 0.0]), 0.0, "logsumexp([-inf, 0])",
                     mistakes=[(np.nan, "e^-inf is 0: a masked entry adds nothing to the sum; do not let it make a nan")])
        expect_close(mod.logsumexp([-INF, -INF]), -INF, "logsumexp([-inf, -inf])", mistakes=[(np.nan, ALL_MASKED)])
        expect_close(mod.logsumexp(np.array([[0.0, 0.0], [-INF, -INF]])), [LN2, -INF], "logsumexp([[0, 0], [-inf, -inf]])",
                     mistakes=[([LN2, np.nan], ALL_MASKED)])


@st.composite
def rows_at_their_own_scales(draw):
    """(rows, classes) logits, each row shifted by its own offset (up to ±1e4); some entries, or whole rows, are -inf."""
    n_rows, n_classes = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    size = n_rows * n_classes
    x = np.asarray(draw(st.lists(st.floats(-30.0, 30.0), min_size=size, max_size=size))).reshape(n_rows, n_classes)
    offsets = draw(st.lists(st.one_of(st.sampled_from([0.0, 1e4, -1e4, 720.0, -760.0]), st.floats(-1e4, 1e4)),
                            min_size=n_rows, max_size=n_rows))
    x = x + np.asarray(offsets)[:, None]
    masked = np.asarray(draw(st.lists(st.sampled_from([False, False, False, True]), min_size=size, max_size=size)))
    x[masked.reshape(n_rows, n_classes)] = -INF
    return x


@pytest.mark.task("6.2")
@given(x=rows_at_their_own_scales(), shift=st.floats(-500.0, 500.0))
def test_logsumexp_equals_torch_and_shifts_with_its_input(mod, x, shift):
    with Quiet():
        got = mod.logsumexp(x)
        expected = torch.logsumexp(torch.from_numpy(x), dim=-1).numpy()
        whole = x.max()  # one shift for the whole batch
        mistakes = [(np.where(np.isneginf(x).all(axis=-1), np.nan, expected), ALL_MASKED)]
        if np.isfinite(whole):
            mistakes.append((whole + np.log(np.exp(x - whole).sum(axis=-1)), "one shift for the whole batch: the max "
                             "of all of x underflows the rows far below it to exp(...) = 0 and log 0 = -inf. Each row "
                             "needs its own max"))
        expect_close(got, expected, f"logsumexp({show(x)})", rtol=1e-9, atol=1e-9, mistakes=mistakes)
        expect_close(mod.logsumexp(x + shift), expected + shift, f"logsumexp(x + {shift}) for x = {show(x)}",
                     rtol=1e-9, atol=1e-9)


@pytest.mark.task("6.2")
def test_logsumexp_refuses_bad_input(mod):
    expect_refusals(mod.logsumexp, works=Call([1.0, 2.0]), refuses=[
        (Call([]), "there is nothing to sum"),
        (Call([1.0, INF]), "a logit of +inf has no log-probability"),
        (Call([1.0, np.nan]), "a logit is NaN")])


# --- 6.3 stable_log_softmax --------------------------------------------------------------


def exp_then_log(log_probs):
    """log(exp(·)) in the dtype given: what a log of a softmax leaves of log-probabilities (underflow included)."""
    with np.errstate(under="ignore", divide="ignore"):
        return np.log(np.exp(log_probs))


@pytest.mark.task("6.3")
def test_stable_log_softmax_of_100_0_minus100_in_float32(mod):
    z = np.array([100.0, 0.0, -100.0], dtype=np.float32)
    with Quiet():
        got = mod.stable_log_softmax(z)
    expect_close(got, [0.0, -100.0, -200.0], "stable_log_softmax(float32 [100, 0, -100])", atol=1e-5,
                 mistakes=[([np.nan, -np.inf, -np.inf], "that is the naive form log(e^z / Σ e^z): use z − logsumexp(z)"),
                           (exp_then_log(np.array([0.0, -100.0, -200.0], dtype=np.float32)),
                            "exp(-200) underflows to 0 in float32 and log 0 = -inf: a softmax "
                                                    "was exponentiated and logged again; z − logsumexp(z) needs no exp"),
                           ([100.0, 0.0, -100.0], "your logsumexp returned 0 here: it subtracts the max but does not add it back"),
                           ([0.0, 100.0, 200.0], "log-probabilities are <= 0: that is logsumexp(z) − z, the wrong way round")])
    expect_true(getattr(got, "dtype", None) == np.float32,
                f"stable_log_softmax(float32 [100, 0, -100]) returned dtype {getattr(got, 'dtype', None)}: keep the "
                "logits' dtype (no astype): the lesson is that float32 is safe with the stable form")


@pytest.mark.task("6.3")
def test_stable_log_softmax_of_the_seed_logits(mod):
    with Quiet():
        got = mod.stable_log_softmax(SEED_LOGITS)
    expect_close(got, [-90.0, -80.0, 0.0], "stable_log_softmax([10, 20, 100])",
                 mistakes=[(SEED_LOGITS, "your logsumexp returned 0 here: it subtracts the max but does not add it back")])
    expect_close(np.exp(got).sum(), 1.0, "exp(stable_log_softmax([10, 20, 100])).sum()")
    expect_close(mod.stable_log_softmax([1.0, 2.0, 3.0]), scipy_log_softmax([1.0, 2.0, 3.0]), "stable_log_softmax([1, 2, 3])",
                 mistakes=[([-2.0, -1.0, 0.0], "you subtracted only the max: subtract the whole logsumexp(z)"),
                           ([-3.407606, -3.407606, -3.407606], "you returned −logsumexp(z) in every slot: "
                                                                "return z − logsumexp(z)")])


@pytest.mark.task("6.3")
def test_stable_log_softmax_works_row_by_row(mod):
    batch = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]])
    call = "stable_log_softmax(batch of shape (2, 3))"
    put_back = ("logsumexp(z, axis=-1) has one value per row, shape (2,), which lines up with z's columns, not its rows: "
                "put the class axis back (np.expand_dims(..., -1)) so each row's value is subtracted from that row")
    with Quiet():
        got = broadcast_safe(call, put_back, mod.stable_log_softmax, batch)
    got = expect_shape(got, (2, 3), call)
    expect_close(got, scipy_log_softmax(batch, axis=-1), call,
                 mistakes=[(batch - scipy_logsumexp(batch), "you took one logsumexp over the whole batch: one per row (axis=-1)")])
    square = np.array([[0.0, 1.0, 2.0], [10.0, 0.0, 0.0], [0.0, 0.0, 20.0]])
    with Quiet():
        got = mod.stable_log_softmax(square)
    expect_close(got, scipy_log_softmax(square, axis=-1), "stable_log_softmax(batch of shape (3, 3))",
                 mistakes=[(square - scipy_logsumexp(square, axis=-1), put_back.replace("(2,)", "(3,)")),
                           (square - scipy_logsumexp(square), "you took one logsumexp over the whole batch: one per row (axis=-1)")])


@pytest.mark.task("6.3")
def test_stable_log_softmax_is_finite_in_float16(mod):
    z = np.array([12.0, 0.0, -12.0], dtype=np.float16)
    with Quiet():
        got = mod.stable_log_softmax(z)
    expect_close(got, [0.0, -12.0, -24.0], "stable_log_softmax(float16 [12, 0, -12])", atol=1e-2,
                 mistakes=[([np.nan, -np.inf, -np.inf], "that is the naive form: e^12 overflows float16 (largest 65504). "
                                                        "Use z − logsumexp(z)")])
    expect_true(getattr(got, "dtype", None) == np.float16,
                f"stable_log_softmax(float16 [12, 0, -12]) returned dtype {getattr(got, 'dtype', None)}: keep the logits' dtype")


@pytest.mark.task("6.3")
def test_stable_log_softmax_of_a_masked_class(mod):
    with Quiet():
        got = mod.stable_log_softmax([0.0, -INF, 1.0])
    expect_close(got, scipy_log_softmax([0.0, -INF, 1.0]), "stable_log_softmax([0, -inf, 1])")


@pytest.mark.task("6.3")
@given(x=logits(scale=1e4), offset=st.sampled_from([0.0, 1e4, -1e4, 1e5]))
def test_stable_log_softmax_is_exact_at_any_scale(mod, x, offset):
    x = x + offset * np.arange(len(x))[:, None]  # each row at a scale of its own
    with Quiet():
        got = mod.stable_log_softmax(x)
    got = expect_shape(got, x.shape, f"stable_log_softmax of shape {x.shape}")
    expect_close(got, torch.log_softmax(torch.from_numpy(x), dim=-1).numpy(), f"stable_log_softmax({show(x)})",
                 rtol=1e-9, atol=1e-9)
    expect_true(np.isfinite(got).all() and (got <= 1e-12).all(),
                f"stable_log_softmax({show(x)}) returned {show(got)}: log-probabilities are finite and <= 0")


@pytest.mark.task("6.3")
def test_stable_log_softmax_refuses_bad_logits(mod):
    expect_refusals(mod.stable_log_softmax, works=Call([1.0, 2.0]), refuses=[
        (Call([0.0, INF]), "+inf has no log-probability"),
        (Call([[0.0, 1.0], [-INF, -INF]]), "the second row has every class masked"),
        (Call([]), "there are no logits")])


# --- 6.4 bce_with_logits -----------------------------------------------------------------


def as64(a):
    return None if a is None else torch.as_tensor(np.asarray(a, dtype=float))


def torch_bce(z, y, pos_weight=None, weight=None, reduction="mean"):
    out = F.binary_cross_entropy_with_logits(as64(z), as64(y), weight=as64(weight), pos_weight=as64(pos_weight),
                                             reduction=reduction)
    return out.numpy() if reduction == "none" else float(out)


OVERFLOWING_SOFTPLUS = ("softplus written as log(1 + e^x) overflows for x > 709.78, where e^x is inf in float64: "
                        "at z = -1000 the term softplus(-z) has x = 1000 (at z = 1000, softplus(z) has). Rewrite "
                        "softplus so that exp only ever sees a number <= 0")
ZERO_TIMES_INF = ("nan is 0 × inf: a softplus of ±1000 overflowed to inf, and its label factor was 0. Rewrite "
                  "softplus so that exp only ever sees a number <= 0")


@pytest.mark.task("6.4")
def test_bce_with_logits_of_one_example(mod):
    expect_close(mod.bce_with_logits(1.5, 1.0), SOFTPLUS[-1.5], "bce_with_logits(1.5, 1)",
                 mistakes=[(-SOFTPLUS[-1.5], "a negative loss means the minus sign is missing"),
                           (SOFTPLUS[1.5], "that is the loss for label 0: for y = 1 the loss is −log σ(z) = softplus(−z) "
                                           "(check the sign inside your stable softplus too)"),
                           (SOFTPLUS[-1.5] / LN2, "that is in bits: the loss is in nats, natural logarithms")])
    expect_close(mod.bce_with_logits(-0.3, 0.0), SOFTPLUS[-0.3], "bce_with_logits(-0.3, 0)",
                 mistakes=[(SOFTPLUS[0.3], "that is the loss for label 1: for y = 0 the loss is −log(1 − σ(z)) = softplus(z)")])


@pytest.mark.task("6.4")
def test_pos_weight_weighs_only_the_positive_term(mod):
    wrong_term = "pos_weight on the wrong term: it multiplies only the positive term y·log σ(z), not the (1 − y) one"
    expect_close(mod.bce_with_logits(0.3, 1.0, pos_weight=3.0), 1.663066, "bce_with_logits(0.3, 1, pos_weight=3)",
                 mistakes=[(SOFTPLUS[-0.3], "pos_weight had no effect on a positive example: " + wrong_term +
                            " (or was it ignored?). pos_weight 3 triples every positive example's loss")])
    expect_close(mod.bce_with_logits(0.3, 0.0, pos_weight=3.0), SOFTPLUS[0.3], "bce_with_logits(0.3, 0, pos_weight=3)",
                 mistakes=[(3 * SOFTPLUS[0.3], wrong_term + " (nor on the whole loss): a negative example is not weighted")])


@pytest.mark.task("6.4")
def test_bce_with_logits_averages_over_all_elements(mod):
    got = mod.bce_with_logits(np.array([1.5, -0.3]), np.array([1.0, 0.0]))
    expect_close(got, 0.377884, "bce_with_logits([1.5, -0.3], [1, 0])",
                 mistakes=[(0.755768, "you summed: the loss is the mean over all elements (torch's default)")])


@pytest.mark.task("6.4")
def test_bce_with_logits_reductions_equal_torch(mod):
    z = np.array([[1.5, -0.3, 4.0], [-2.0, 0.7, 0.0]])
    y = np.array([[1.0, 0.0, 0.25], [1.0, 1.0, 0.5]])
    per_element = torch_bce(z, y, reduction="none")
    got = mod.bce_with_logits(z, y, reduction="none")
    got = expect_shape(got, (2, 3), "bce_with_logits(z, y, reduction='none') for z of shape (2, 3)",
                       diagnoses={(): "reduction='none' returns one loss per element, an array of z's shape"})
    expect_close(got, per_element, "bce_with_logits(z, y, reduction='none') for z of shape (2, 3)", rtol=1e-9)
    expect_close(mod.bce_with_logits(z, y, reduction="sum"), per_element.sum(),
                 "bce_with_logits(z, y, reduction='sum') for z of shape (2, 3)", rtol=1e-9,
                 mistakes=[(per_element.mean(), "you averaged: reduction='sum' adds the losses of all elements")])
    expect_close(mod.bce_with_logits(z, y, reduction="mean"), per_element.mean(),
                 "bce_with_logits(z, y, reduction='mean') for z of shape (2, 3)", rtol=1e-9,
                 mistakes=[(per_element.sum(), "you summed: reduction='mean' is the mean over all elements")])


@pytest.mark.task("6.4")
def test_weight_rescales_each_element_like_torch(mod):
    z = np.array([[1.5, -0.3, 4.0], [-2.0, 0.7, 0.0]])
    y = np.array([[1.0, 0.0, 0.25], [1.0, 1.0, 0.5]])
    plain = torch_bce(z, y, reduction="none")
    weights = {"(3,), one per column": np.array([2.0, 0.5, 0.0]), "(1,)": np.array([2.5]),
               "(1, 3)": np.array([[0.5, 1.0, 3.0]]), "(2, 3), one negative": np.array([[1.0, -1.5, 2.0], [0.2, 1.0, 4.0]])}
    for shape, weight in weights.items():
        weighted = plain * weight
        call = f"bce_with_logits(z (2, 3), y, weight of shape {shape})"
        expect_close(mod.bce_with_logits(z, y, weight=weight), torch_bce(z, y, weight=weight), call, rtol=1e-9,
                     mistakes=[(plain.mean(), "weight was ignored: multiply each element's loss by its weight"),
                               (weighted.sum() / np.broadcast_to(weight, z.shape).sum(),
                                "you divided by the sum of the weights, F.cross_entropy's rule for class weights: "
                                "BCE's 'mean' is the plain mean of the weighted losses over all elements"),
                               (weighted.sum(), "you summed: reduction='mean' is the mean over all elements")])
        expect_close(mod.bce_with_logits(z, y, weight=weight, reduction="none"), torch_bce(z, y, weight=weight, reduction="none"),
                     call[:-1] + ", reduction='none')", rtol=1e-9)
        expect_close(mod.bce_with_logits(z, y, weight=weight, reduction="sum"), torch_bce(z, y, weight=weight, reduction="sum"),
                     call[:-1] + ", reduction='sum')", rtol=1e-9)
    pos_weight, weight = np.array([3.0, 0.5, 1.0]), np.array([[1.0, 2.0, 0.5], [0.0, 1.0, 3.0]])
    for reduction in ("mean", "sum", "none"):
        expect_close(mod.bce_with_logits(z, y, pos_weight=pos_weight, weight=weight, reduction=reduction),
                     torch_bce(z, y, pos_weight=pos_weight, weight=weight, reduction=reduction),
                     f"bce_with_logits(z (2, 3), y, pos_weight=[3, 0.5, 1], weight (2, 3), reduction={reduction!r})", rtol=1e-9)


@pytest.mark.task("6.4")
def test_bce_with_logits_is_finite_at_huge_logits(mod):
    naive = ("naive BCE: σ(z) rounds to exactly 0 or 1 at |z| = 200, so log σ or log(1 − σ) is log 0. "
             "Never compute σ: derive a form from softplus in which exp never sees a positive number")
    clipped = ("naive BCE with σ clipped: the clip hides the overflow but caps the loss; "
               "at z = 200, y = 0 the true loss is 200 nats. Use a stable softplus form")
    mod.bce_with_logits(1.5, 1.0)  # the function must work first
    cases = [((200.0, 0.0), 200.0), ((-200.0, 1.0), 200.0), ((200.0, 1.0), 0.0), ((-200.0, 0.0), 0.0)]
    for (z, y), expected in cases:
        with Quiet():
            got = mod.bce_with_logits(z, y)
        mistakes = [(np.inf, naive), (np.nan, naive)] + [(loss, clipped) for loss in CLIP_LOSSES.values()]
        expect_close(got, expected, f"bce_with_logits({z:g}, {y:g})", atol=1e-12, mistakes=mistakes)
    with Quiet():
        got = mod.bce_with_logits(-200.0, 1.0, pos_weight=3.0)
    expect_close(got, 600.0, "bce_with_logits(-200, 1, pos_weight=3)",
                 mistakes=[(200.0, "pos_weight on the wrong term: it multiplies the positive term y·log σ(z)"),
                           (np.inf, naive), (np.nan, naive)])
    # e^1000 overflows float64: these catch a softplus written log1p(exp(x)) (exact up to |z| = 709)
    for (z, y), expected in [((-1000.0, 0.0), 0.0), ((1000.0, 1.0), 0.0), ((-1000.0, 1.0), 1000.0), ((1000.0, 0.0), 1000.0)]:
        with Quiet():
            got = mod.bce_with_logits(z, y)
        expect_close(got, expected, f"bce_with_logits({z:g}, {y:g})", atol=1e-12,
                     mistakes=[(np.inf, OVERFLOWING_SOFTPLUS), (np.nan, ZERO_TIMES_INF)])


@pytest.mark.task("6.4")
def test_bce_with_logits_equals_torch_with_a_pos_weight_per_column(mod):
    rng = np.random.default_rng(6)
    z = rng.normal(0.0, 60.0, size=(6, 4))
    z[0, 0], z[1, 1], z[2, 2], z[3, 3] = 200.0, -200.0, 200.0, -200.0
    y = rng.integers(0, 2, size=(6, 4)).astype(float)
    y[0, 0], y[1, 1], y[4] = 0.0, 1.0, rng.uniform(size=4)  # soft labels in row 4
    pos_weight = np.array([0.5, 1.0, 2.0, 5.0])
    with Quiet():
        expect_close(mod.bce_with_logits(z, y), torch_bce(z, y), "bce_with_logits(z, y) on a (6, 4) batch", rtol=1e-9)
        expect_close(mod.bce_with_logits(z, y, pos_weight=pos_weight), torch_bce(z, y, pos_weight),
                     "bce_with_logits(z, y, pos_weight=[0.5, 1, 2, 5]) on a (6, 4) batch", rtol=1e-9)


@pytest.mark.task("6.4")
def test_bce_with_logits_equals_torch_on_random_inputs(mod):
    """300 seeded random rows, each scored alone: logits up to |z| = 200, hard and soft labels, pos_weight or not."""
    rng = np.random.default_rng(64)
    rows, cols = 300, 4
    z = np.where(rng.uniform(size=(rows, cols)) < 0.2, rng.choice([-200.0, 200.0], size=(rows, cols)),
                 rng.uniform(-200.0, 200.0, size=(rows, cols)) * rng.choice([0.01, 0.1, 1.0], size=(rows, 1)))
    y = np.where(rng.uniform(size=(rows, cols)) < 0.7, rng.integers(0, 2, size=(rows, cols)), rng.uniform(size=(rows, cols)))
    weights = rng.uniform(0.1, 10.0, size=(rows, 1))
    expected_plain = F.binary_cross_entropy_with_logits(torch.as_tensor(z), torch.as_tensor(y), reduction="none").mean(1)
    expected_weighted = F.binary_cross_entropy_with_logits(torch.as_tensor(z), torch.as_tensor(y), reduction="none",
                                                           pos_weight=torch.as_tensor(weights)).mean(1)
    with Quiet():
        for i in range(rows):
            w = float(weights[i, 0])
            expect_close(mod.bce_with_logits(z[i], y[i]), float(expected_plain[i]),
                         f"bce_with_logits({show(z[i])}, {show(y[i])})", rtol=1e-9, atol=1e-12)
            expect_close(mod.bce_with_logits(z[i], y[i], pos_weight=w), float(expected_weighted[i]),
                         f"bce_with_logits({show(z[i])}, {show(y[i])}, pos_weight={w:.6g})", rtol=1e-9, atol=1e-12,
                         mistakes=[(float(expected_plain[i]), "pos_weight was ignored: it multiplies the positive term")])


@pytest.mark.task("6.4")
@given(z=st.floats(-1e4, 1e4), y=st.floats(0.0, 1.0))
def test_bce_with_logits_is_finite_and_symmetric_at_any_logit(mod, z, y):
    with Quiet():
        got, mirrored = mod.bce_with_logits(z, y), mod.bce_with_logits(-z, 1.0 - y)
    if not (math.isfinite(got) and got >= -1e-12):
        why = (OVERFLOWING_SOFTPLUS if got == INF else ZERO_TIMES_INF if math.isnan(got) else
               "the loss is >= 0: look for a sign")
        fail(f"bce_with_logits({z}, {y}) returned {show(got)}: the loss is finite and >= 0 for any finite logit. {why}")
    expect_true(math.isclose(got, mirrored, rel_tol=1e-9, abs_tol=1e-9),
                f"bce_with_logits({z}, {y}) = {got!r} but bce_with_logits({-z}, {1.0 - y}) = {mirrored!r}: flipping both the "
                "logit and the label must change nothing. Computing σ(z) first loses digits (σ(20) = 1 − 2e-9); "
                "never form σ, and let exp see only numbers <= 0")


@pytest.mark.task("6.4")
def test_bce_with_logits_refuses_bad_input(mod):
    expect_refusals(mod.bce_with_logits, works=Call(1.5, 1.0), refuses=[
        (Call([1.0, 2.0], [1.0], shown="bce_with_logits(2 logits, 1 label)"), "one label per logit"),
        (Call(1.0, 1.5), "a label is in [0, 1]"),
        (Call(1.0, 1.0, pos_weight=-2.0), "pos_weight must not be negative"),
        (Call([], []), "there is nothing to score"),
        (Call(INF, 1.0), "an infinite logit has no loss"),
        (Call([1.0, 2.0], [1.0, 0.0], weight=[1.0, 2.0, 3.0]), "3 weights do not broadcast against 2 logits"),
        (Call(1.0, 1.0, weight=np.nan), "a weight is NaN"),
        (Call(1.0, 1.0, reduction="batchmean"), "reduction is 'mean', 'sum' or 'none'")])


# --- 6.5 smooth_labels ---------------------------------------------------------------


@pytest.mark.task("6.5")
def test_smooth_labels_follows_torch(mod):
    third = 0.1 / 3
    expect_close(mod.smooth_labels(0, 3, 0.1), [0.9 + third, third, third], "smooth_labels(0, n_classes=3, smoothing=0.1)",
                 mistakes=[([0.9, 0.05, 0.05], "that is the ε/(C−1) variant (true class 1 − ε, the others ε/(C−1)); "
                                               "torch uses (1 − ε)·target + ε/C, the ε/C going to every class"),
                           ([0.9, 0.0, 0.0], "the smoothing term is dropped: add ε/C to every class"),
                           ([1.0 + third, third, third], "the target is not scaled by (1 − ε): rows must sum to 1"),
                           ([1.0, 0.1, 0.1], "you added ε, not ε/C, to every class: rows must sum to 1"),
                           ([0.9, third, third], "the true class gets its share ε/C too: every class gets ε/C, "
                                                 "so that the row sums to 1"),
                           ([0.1 + 0.3, 0.3, 0.3], "ε and 1 − ε are swapped: the target keeps 1 − ε of its mass, and "
                                                   "only ε is spread over the classes")])
    expect_close(mod.smooth_labels(2, 3, 0.0), [0.0, 0.0, 1.0], "smooth_labels(2, 3, smoothing=0)")
    expect_close(mod.smooth_labels(1, 4, 1.0), [0.25] * 4, "smooth_labels(1, 4, smoothing=1): all uniform")


@pytest.mark.task("6.5")
def test_smooth_labels_of_a_batch_and_of_soft_targets(mod):
    got = expect_shape(mod.smooth_labels(np.array([2, 0]), 4, 0.2), (2, 4), "smooth_labels([2, 0], 4, 0.2)")
    expect_close(got, [[0.05, 0.05, 0.85, 0.05], [0.85, 0.05, 0.05, 0.05]], "smooth_labels([2, 0], 4, 0.2)")
    soft = np.array([[0.5, 0.5, 0.0]])
    expect_close(mod.smooth_labels(soft, 3, 0.3), [[0.45, 0.45, 0.1]], "smooth_labels([[0.5, 0.5, 0]], 3, 0.3)")


@pytest.mark.task("6.5")
@given(n_classes=st.integers(2, 8), data=st.data(), smoothing=st.one_of(st.just(0.0), st.just(1.0), st.floats(1e-6, 1.0)))
def test_smoothed_rows_sum_to_one_and_give_the_finite_gap(mod, n_classes, data, smoothing):
    target = data.draw(st.integers(0, n_classes - 1))
    q = expect_shape(mod.smooth_labels(target, n_classes, smoothing), (n_classes,),
                     f"smooth_labels({target}, {n_classes}, {smoothing})")
    expect_close(q.sum(), 1.0, f"smooth_labels({target}, {n_classes}, {smoothing}).sum()", rtol=1e-9)
    expect_close(q[target], 1 - smoothing + smoothing / n_classes, f"the true class's share, ε = {smoothing}, C = {n_classes}",
                 rtol=1e-9, atol=1e-12)
    if smoothing > 0:
        gap = math.log((1 - smoothing + smoothing / n_classes) / (smoothing / n_classes))
        other = (target + 1) % n_classes
        expect_close(math.log(q[target] / q[other]), gap, f"log(q_true / q_other) for ε = {smoothing}, C = {n_classes}",
                     rtol=1e-6, atol=1e-9)


@pytest.mark.task("6.5")
def test_smooth_labels_refuses_bad_input(mod):
    expect_refusals(mod.smooth_labels, works=Call(0, 3, 0.1), refuses=[
        (Call(0, 3, 1.5), "ε is in [0, 1]"),
        (Call(3, 3, 0.1), "classes are 0, 1, 2"),
        (Call([[0.5, 0.6, 0.0]], 3, 0.1), "a probability row sums to 1")])


# --- 6.6 label_smoothed_cross_entropy ----------------------------------------------------


def torch_ce(logits, targets, smoothing, reduction="mean"):
    t = torch.as_tensor(targets)
    t = t.to(torch.float64) if t.is_floating_point() else t.long()
    out = F.cross_entropy(torch.as_tensor(logits, dtype=torch.float64), t, label_smoothing=smoothing, reduction=reduction)
    return out.numpy() if reduction == "none" else float(out)


@pytest.mark.task("6.6")
def test_label_smoothed_cross_entropy_of_the_course_example(mod):
    loss, others = -LSM_CE_LOGITS[0], [-v for v in LSM_CE_LOGITS[1:]]
    expect_close(mod.label_smoothed_cross_entropy(CE_LOGITS, 0, 0.1), CE_SMOOTHED,
                 "label_smoothed_cross_entropy([2, 1, 0.1], 0, smoothing=0.1)",
                 mistakes=smoothing_mistakes(loss, others, 0.1, CE_PLAIN))
    expect_close(mod.label_smoothed_cross_entropy(CE_LOGITS, 0, 0.0), CE_PLAIN,
                 "label_smoothed_cross_entropy([2, 1, 0.1], 0, smoothing=0)",
                 mistakes=[(-CE_PLAIN, "a negative loss means the minus sign is missing")])
    expect_close(mod.label_smoothed_cross_entropy([CE_LOGITS], [0], 0.1), CE_SMOOTHED,
                 "label_smoothed_cross_entropy([[2, 1, 0.1]], [0], smoothing=0.1)")


@pytest.mark.task("6.6")
def test_label_smoothed_cross_entropy_of_a_batch_equals_torch(mod):
    rng = np.random.default_rng(66)
    logits_ = rng.normal(0.0, 3.0, size=(5, 4))
    targets = np.array([0, 3, 1, 1, 2])
    per_row = torch_ce(logits_, targets, 0.2, "none")
    got = mod.label_smoothed_cross_entropy(logits_, targets, 0.2, reduction="none")
    got = expect_shape(got, (5,), "label_smoothed_cross_entropy(5×4 logits, 5 targets, 0.2, reduction='none')",
                       diagnoses={(): "reduction='none' returns one loss per row, not their mean",
                                  (4,): "one value per class came back: the sum over the classes runs along the last "
                                        "axis, not axis 0 (the rows)"})
    expect_close(got, per_row, "label_smoothed_cross_entropy(5×4 logits, 5 targets, 0.2, reduction='none')", rtol=1e-9)
    expect_close(mod.label_smoothed_cross_entropy(logits_, targets, 0.2), per_row.mean(),
                 "label_smoothed_cross_entropy(5×4 logits, 5 targets, 0.2)", rtol=1e-9,
                 mistakes=[(per_row.sum(), "you summed the rows: reduction='mean' is the mean over rows")])


@pytest.mark.task("6.6")
@pytest.mark.parametrize("smoothing", [0.0, 0.05, 0.3, 1.0])
def test_label_smoothed_cross_entropy_equals_torch_on_random_inputs(mod, smoothing):
    """Seeded random logits (scales 0.1 to 100) with class indices and with probability rows, against torch."""
    rng = np.random.default_rng(int(smoothing * 100))
    for n_classes in (2, 3, 7):
        x = rng.normal(size=(40, n_classes)) * rng.choice([0.1, 1.0, 10.0, 100.0], size=(40, 1))
        indices = rng.integers(0, n_classes, size=40)
        soft = rng.dirichlet(np.ones(n_classes), size=40)
        for targets, kind in ((indices, "class indices"), (soft, "probability rows")):
            expected = torch_ce(x, targets, smoothing, "none")
            with Quiet():
                got = mod.label_smoothed_cross_entropy(x, targets, smoothing, reduction="none")
            got = expect_shape(got, (40,), f"label_smoothed_cross_entropy(40×{n_classes} logits, {kind}, "
                               f"{smoothing}, reduction='none')")
            bad = int(np.argmax(np.abs(got - expected) / (1e-9 + np.abs(expected))))
            expect_close(got[bad], expected[bad],
                         f"label_smoothed_cross_entropy({show(x[bad])}, {show(targets[bad])}, smoothing={smoothing})",
                         rtol=1e-9, atol=1e-9)
            expect_close(mod.label_smoothed_cross_entropy(x, targets, smoothing), expected.mean(),
                         f"label_smoothed_cross_entropy(40×{n_classes} logits, {kind}, {smoothing})", rtol=1e-9)


@pytest.mark.task("6.6")
def test_label_smoothed_cross_entropy_takes_the_classes_on_dim_1_like_torch(mod):
    """(N, C, d1) and (N, C, d1, d2) logits, as for a sequence or an image: torch's classes are on dim 1."""
    rng = np.random.default_rng(18)
    for shape in ((2, 3, 4), (2, 3, 4, 5)):
        x = rng.normal(0.0, 2.0, size=shape)
        indices = rng.integers(0, shape[1], size=(shape[0],) + shape[2:])
        soft = np.moveaxis(rng.dirichlet(np.ones(shape[1]), size=indices.shape), -1, 1)
        for targets, kind in ((indices, f"indices of shape {indices.shape}"), (soft, f"probabilities of shape {shape}")):
            call = f"label_smoothed_cross_entropy(logits of shape {shape}, {kind}, 0.1"
            expected = torch_ce(x, targets, 0.1, "none")
            with Quiet():
                got = mod.label_smoothed_cross_entropy(x, targets, 0.1, reduction="none")
            wrong_axis = ("you summed over the wrong axis: the classes are on the last axis of z here "
                          "(the given code moved them there from dim 1)")
            got = expect_shape(got, indices.shape, call + ", reduction='none')",
                               diagnoses={(shape[0],) + shape[3:] + shape[1:2]: wrong_axis,
                                          shape[2:] + shape[1:2]: wrong_axis})
            expect_close(got, expected, call + ", reduction='none')", rtol=1e-9)
            expect_close(mod.label_smoothed_cross_entropy(x, targets, 0.1), expected.mean(), call + ")", rtol=1e-9,
                         mistakes=[(expected.sum(), "you summed: reduction='mean' is the mean over every position "
                                                    f"({expected.size} of them)")])


@pytest.mark.task("6.6")
def test_label_smoothed_cross_entropy_is_finite_at_huge_logits(mod):
    x = np.array([[1000.0, 0.0, -1000.0]])
    with Quiet():
        got = mod.label_smoothed_cross_entropy(x, [2], 0.1)
    expect_close(got, torch_ce(x, [2], 0.1), "label_smoothed_cross_entropy([[1000, 0, -1000]], [2], 0.1)",
                 mistakes=[(np.nan, "NaN: use your stable_log_softmax, not the naive one"),
                           (np.inf, "inf: use your stable_log_softmax, not the naive one")])


@pytest.mark.task("6.6")
def test_label_smoothed_cross_entropy_refuses_bad_input(mod):
    expect_refusals(mod.label_smoothed_cross_entropy, works=Call(CE_LOGITS, 0, 0.1), refuses=[
        (Call([CE_LOGITS, CE_LOGITS], [0], 0.1, shown="label_smoothed_cross_entropy(2 rows, 1 target)"), "one target per row"),
        (Call(CE_LOGITS, 0, 0.1, reduction="sum"), "only 'mean' and 'none' exist here"),
        (Call(np.zeros((2, 3, 4)), np.zeros((2, 3), dtype=int), 0.1,
              shown="label_smoothed_cross_entropy(logits (2, 3, 4), targets (2, 3))"),
         "the classes are on dim 1, as in torch: the targets of (2, 3, 4) logits are (2, 4)")])


# --- the figures ---------------------------------------------------------------------------


@pytest.mark.task("6.3")
def test_the_stable_curve_is_exact_past_the_overflow(mod):
    scales = mod.SCALES
    for target, exact in exact_losses_vs_scale(scales):
        _, stable = mod.loss_vs_scale(target)
        stable = expect_shape(stable, scales.shape, f"the stable loss curve for class {target}")
        expect_close(stable, exact, f"the stable float32 loss of class {target} for logits s·[1, 0, -1]", rtol=1e-5, atol=1e-4)


@pytest.mark.task("6.3")
@pytest.mark.mpl_image_compare(filename="module06_naive_vs_stable.png")
def test_figure_naive_vs_stable(mod):
    return mod.plot_naive_vs_stable()


@pytest.mark.task("6.6")
def test_smoothed_loss_is_lowest_at_the_predicted_gap(mod):
    gaps = mod.GAPS
    step = float(gaps[1] - gaps[0])
    for eps in (0.02, 0.1, 0.3):
        curve = expect_shape(mod.smoothed_loss_vs_gap(eps), gaps.shape, f"smoothed_loss_vs_gap({eps})")
        best = math.log((1 - eps + eps / 3) / (eps / 3))
        q = np.array([1 - eps + eps / 3, eps / 3, eps / 3])
        lowest = float(gaps[int(np.argmin(curve))])
        expect_true(abs(lowest - best) <= step,
                    f"with ε = {eps} the smoothed loss is lowest at gap {lowest:.3f}; it should be at "
                    f"log((1 − ε + ε/C)/(ε/C)) = {best:.3f}")
        expect_close(curve.min(), float(-(q * np.log(q)).sum()), f"the lowest smoothed loss for ε = {eps} (the entropy of q)",
                     rtol=1e-4)
    plain = np.asarray(mod.smoothed_loss_vs_gap(0.0), dtype=float)
    expect_true(bool(np.all(np.diff(plain) < 0)),
                "without smoothing the loss must keep falling as the gap grows: there is no finite best gap")


@pytest.mark.task("6.5")
def test_the_best_gaps_of_the_figure_come_from_the_smoothed_targets(mod):
    for n_classes in (3, 10, 1000):
        for eps in (0.02, 0.1, 0.3):
            best = math.log((1 - eps + eps / n_classes) / (eps / n_classes))
            expect_close(mod.best_gap(eps, n_classes), best, f"best_gap({eps}, {n_classes}) = log(q_true / q_other)",
                         mistakes=[(math.log((1 - eps) / (eps / (n_classes - 1))),
                                    "that is the gap of the ε/(C−1) variant: torch gives every class ε/C")])


@pytest.mark.task("6.6")
@pytest.mark.mpl_image_compare(filename="module06_smoothing_gap.png")
def test_figure_smoothing_gap(mod):
    return mod.plot_smoothing_gap()
