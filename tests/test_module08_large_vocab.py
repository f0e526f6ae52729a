"""Module 8: cross-entropy at large vocabularies without the logits matrix.

Expected values come from scipy.special.logsumexp, torch (F.cross_entropy on the
full logits and its autograd gradients) and hand-computed constants, never from
the reference. The values known mistakes produce are computed here too, so a
failure can name the mistake. Sizes are tiny: the point is equality, not speed.
"""

import math
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp
from torch.overrides import TorchFunctionMode

from kata.testing.expect import Call, diagnose, expect_close, expect_refusals, expect_shape, expect_true, fail, show

MODULE = "module08_large_vocab"
# A wrong answer fails on the first example that shows it: no shrinking (slow with torch), one failure reported.
QUICK_PROPERTY = settings(max_examples=25, phases=(Phase.explicit, Phase.generate))
IGNORE = -100
EXACT = {"rtol": 1e-10, "atol": 1e-10}  # float64: the chunked loss must equal the naive one
INF = math.inf


class Quiet(np.errstate):
    """A mistaken -inf - (-inf) shows up as nan (for its diagnosis), not as a numpy warning; log 0 is -inf."""

    def __init__(self):
        super().__init__(over="ignore", invalid="ignore", divide="ignore", under="ignore")


def inputs(n, h, v, seed=0, dtype=torch.float64, ignored=(), scale=3.0):
    """Seeded hidden (N, H), weight (V, H), targets (N,) with some tokens ignored."""
    g = torch.Generator().manual_seed(seed)
    hidden = torch.randn(n, h, generator=g, dtype=dtype)
    weight = torch.randn(v, h, generator=g, dtype=dtype) * scale / math.sqrt(h)
    targets = torch.randint(0, v, (n,), generator=g)
    targets[list(ignored)] = IGNORE
    return hidden, weight, targets


def naive(hidden, weight, targets, grad_loss=1.0):
    """Oracle: torch's loss and autograd gradients on the full logits."""
    h, w = hidden.detach().clone().requires_grad_(), weight.detach().clone().requires_grad_()
    loss = F.cross_entropy(h @ w.T, targets, ignore_index=IGNORE)
    (grad_loss * loss).backward()
    return loss.detach(), h.grad, w.grad


def token_losses(hidden, weight, targets):
    """Per-token losses (0 for ignored tokens) and the kept mask, by torch."""
    losses = F.cross_entropy(hidden @ weight.T, targets, ignore_index=IGNORE, reduction="none")
    return losses, targets != IGNORE


def chunk_mean_mistakes(hidden, weight, targets, chunk_size):
    """Values of a mean of chunk means (two flavours) and of dividing by N instead of the count."""
    losses, kept = token_losses(hidden, weight, targets)
    n = len(targets)
    by_kept, by_size = [], []
    for start in range(0, n, chunk_size):
        part, mask = losses[start:start + chunk_size], kept[start:start + chunk_size]
        by_size.append(float(part.sum()) / len(part))
        if mask.any():
            by_kept.append(float(part.sum()) / int(mask.sum()))
    why = ("that is a mean of chunk means: the chunks hold different numbers of kept tokens, so sum the losses "
           "of every chunk and divide once by the total count of kept tokens")
    safe = torch.where(kept, targets, 0)
    with_ignored = float(F.cross_entropy(hidden @ weight.T, safe))
    summed_in = float(F.cross_entropy(hidden @ weight.T, safe, reduction="sum")) / max(int(kept.sum()), 1)
    return [(float(losses.sum()) / n, "you divided by N, all the tokens: divide by the count of kept tokens "
                                      "(targets != ignore_index)"),
            (float(np.mean(by_kept)), why), (float(np.mean(by_size)), why),
            (with_ignored, "the ignored tokens were counted (as class 0): leave rows with target == ignore_index out"),
            (summed_in, "the ignored tokens' losses (as class 0) were added in: leave them out of the sum, not only "
                        "out of the count")]


def described(got) -> str:
    """What came back, in words: 'a tuple of length 3', 'a tensor of shape ()', 'None'."""
    if got is None:
        return "None"
    if isinstance(got, (tuple, list)):
        return f"a {type(got).__name__} of length {len(got)}"
    if isinstance(got, (torch.Tensor, np.ndarray)):
        return f"a {type(got).__name__} of shape {tuple(got.shape)}"
    return f"a {type(got).__name__}"


def expect_pair(got, call, names, why):
    expect_true(isinstance(got, tuple) and len(got) == 2,
                f"{call} returned {described(got)}, expected a tuple of two, ({names}): {why}")


def forward(mod, hidden, weight, targets, chunk_size, ignore_index=IGNORE):
    """mod.chunked_cross_entropy_forward(...), checked to be a pair (loss, lse)."""
    got = mod.chunked_cross_entropy_forward(hidden, weight, targets, chunk_size, ignore_index)
    expect_pair(got, f"chunked_cross_entropy_forward(N={hidden.shape[0]}, V={weight.shape[0]}, chunk_size={chunk_size})",
                "loss, lse", "the loss, and the N logsumexps the backward pass needs")
    return got


def expect_loss(loss, expected, call, mistakes, **tolerance):
    """expect_close for a loss; the (costly) mistake values are worked out only when it fails."""
    tolerance = tolerance or EXACT
    if isinstance(loss, torch.Tensor) and loss.shape == () and np.isclose(float(loss), expected, **tolerance):
        return
    expect_close(loss, expected, call, **tolerance, mistakes=mistakes())


def unrescaled_lse(x, chunk_size):
    """The online logsumexp of a 1-d/2-d array done wrong: the running sum is never rescaled."""
    x = np.asarray(x, dtype=float)
    m = np.full(x.shape[:-1], -np.inf)
    s = np.zeros(x.shape[:-1])
    for start in range(0, x.shape[-1], chunk_size):
        m = np.maximum(m, x[..., start:start + chunk_size].max(axis=-1))
        s = s + np.exp(x[..., start:start + chunk_size] - m[..., None]).sum(axis=-1)
    return m + np.log(s)


def started_at_zero_lse(x, chunk_size):
    """The online logsumexp started from a running max of 0 instead of -inf (right for values near 0 only)."""
    x = np.asarray(x, dtype=float)
    if (x > 0).any():
        return logsumexp(x, axis=-1)  # the max moves past 0 and the start does no harm
    with Quiet():
        return np.log(np.exp(x).sum(axis=-1))  # every term measured against the max 0 it never leaves


def last_chunk_dropped_lse(x, chunk_size):
    """The online logsumexp whose loop stops one chunk early."""
    x = np.asarray(x, dtype=float)
    n = x.shape[-1]
    stop = ((n - 1) // chunk_size) * chunk_size
    with Quiet():
        return logsumexp(x[..., :stop], axis=-1) if stop > 0 else np.full(x.shape[:-1], -np.inf)


def online_mistakes(x, chunk_size):
    x = np.asarray(x, dtype=float)
    with Quiet():
        forgot_max = logsumexp(x, axis=-1) - x.max(axis=-1)
    return [(unrescaled_lse(x, chunk_size), NOT_RESCALED),
            (forgot_max, "you forgot to add the running max back at the end: logsumexp = m + log s"),
            (last_chunk_dropped_lse(x, chunk_size), "the last chunk was never read: the chunks start at 0, chunk_size, "
                                                   "2*chunk_size, ... up to the end of x (the last may be shorter)")]


NOT_RESCALED = ("the running sum was not rescaled when the running max changed: multiply the old sum by "
                "exp(old max - new max) before adding the new chunk")
STARTED_AT_ZERO = ("the running max started at 0, not at -inf: for values far below 0 every exp(x - 0) underflows to "
                   "0 and log 0 = -inf. Start from the empty summary, a max of -inf and a sum of 0")
MINUS_INF_CHUNK = ("a chunk of only -inf (masked logits): the new max is still -inf, and -inf - (-inf) is nan. "
                   "Such a chunk adds nothing: measure against 0 while the max is -inf, so that every term is exp(-inf) = 0")


class LargestTensor(TorchFunctionMode):
    """Records the largest tensor any torch function or tensor method returns while active.

    (A TorchFunctionMode, not a TorchDispatchMode: entering the latter imports torch._dynamo, 4 s.)"""

    def __init__(self):
        super().__init__()
        self.numel, self.shape, self.op = 0, None, None

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for tensor in out if isinstance(out, (tuple, list)) else [out]:
            if isinstance(tensor, torch.Tensor) and tensor.numel() > self.numel:
                self.numel, self.shape, self.op = tensor.numel(), tuple(tensor.shape), getattr(func, "__name__", str(func))
        return out


def expect_no_logits_matrix(largest, n, h, v, chunk_size, what):
    """No tensor bigger than a chunk_size × chunk_size block, or than hidden (N, H) and weight (V, H) themselves.

    The sizes are chosen so that every token against one vocabulary chunk (N × chunk_size) and one token chunk
    against the whole vocabulary (chunk_size × V) are both bigger than that bound."""
    bound = max(chunk_size * chunk_size, n * h, v * h)
    assert min(n, v) * chunk_size > bound, "the test's sizes cannot tell a missing chunking apart"
    if largest.numel <= bound:
        return
    if largest.numel >= n * v:
        why = "that is the size of the whole (N, V) logits matrix, which the chunked loss must never hold"
    elif largest.numel == n * chunk_size:
        why = ("that is every token against one vocabulary chunk (N × chunk_size): the tokens are not chunked. "
               "Loop over token chunks too, rows = slice(start, start + chunk_size)")
    elif largest.numel == chunk_size * v:
        why = ("that is one token chunk against the whole vocabulary (chunk_size × V): the vocabulary is not chunked. "
               "Take the vocabulary chunk_size entries (rows of weight) at a time too")
    else:
        why = "that is bigger than one block"
    fail(f"{what} made a tensor of shape {largest.shape} (in {largest.op}) for N = {n} tokens, H = {h} and V = {v} "
         f"classes: {why}. A block holds at most chunk_size × chunk_size = {chunk_size} × {chunk_size} numbers")


# --- 8.1 logsumexp_update ------------------------------------------------------


@pytest.mark.task("8.1")
def test_update_from_the_empty_start(mod):
    with Quiet():
        new_max, new_sum = mod.logsumexp_update(-np.inf, 0.0, np.array([1.0, 2.0, 3.0]))
    expect_close(new_max, 3.0, "logsumexp_update(-inf, 0, [1, 2, 3])[0], the new max",
                 mistakes=[(-np.inf, "the new max is the larger of the old max and the chunk's max")])
    expect_close(new_sum, 1.503214724, "logsumexp_update(-inf, 0, [1, 2, 3])[1] = e^-2 + e^-1 + e^0",
                 mistakes=[(math.exp(1) + math.exp(2) + math.exp(3), "measure each term against the new max: exp(x - max)"),
                           (np.inf, "the chunk's terms were measured against the old max (-inf): measure each against "
                                    "the NEW max, exp(x - new max) <= 1"),
                           (0.0, "the chunk's own terms are missing: add Σ exp(x - new max) over the chunk"),
                           (np.nan, "the rescale factor is upside down: from the empty start exp(new max - (-inf)) is inf, "
                                    "and 0 × inf = nan. The old terms shrink when the max grows: multiply the old sum "
                                    "by exp(old max - new max)")])


@pytest.mark.task("8.1")
def test_update_rescales_the_old_sum_when_the_max_grows(mod):
    # seen so far: max 1, sum 2 (e.g. the values 1 and 1); the chunk [3, 0] raises the max to 3
    new_max, new_sum = mod.logsumexp_update(np.float64(1.0), np.float64(2.0), np.array([3.0, 0.0]))
    expect_close(new_max, 3.0, "logsumexp_update(1, 2, [3, 0])[0]")
    expect_close(new_sum, 1.320457635, "logsumexp_update(1, 2, [3, 0])[1] = 2·e^-2 + e^0 + e^-3",
                 mistakes=[(2 + 1 + math.exp(-3), NOT_RESCALED),
                           (2 * math.exp(2) + 1 + math.exp(-3), "the rescale factor is upside down: the old terms "
                            "shrink when the max grows, multiply by exp(old max - new max)")])


@pytest.mark.task("8.1")
def test_update_works_row_by_row(mod):
    running_max = np.array([0.0, 5.0])
    running_sum = np.array([1.0, 1.0])
    chunk = np.array([[1.0, 0.0], [2.0, 3.0]])
    call = "logsumexp_update([0, 5], [1, 1], [[1, 0], [2, 3]])"
    new_max, new_sum = mod.logsumexp_update(running_max, running_sum, chunk)
    new_max = expect_shape(new_max, (2,), call + "[0]",
                           diagnoses={(): "take the chunk's max over its last axis only (axis=-1), one max per row"})
    expect_close(new_max, [1.0, 5.0], call + "[0]",
                 mistakes=[([3.0, 5.0], "that used the max of the whole chunk, all rows together: take it over the "
                                        "last axis only (axis=-1), one max per row")])
    expect_close(new_sum, [math.exp(-1) + 1 + math.exp(-1), 1 + math.exp(-3) + math.exp(-2)], call + "[1]",
                 mistakes=[([1 + 1 + math.exp(-1), 1 + math.exp(-3) + math.exp(-2)], NOT_RESCALED)])


@pytest.mark.task("8.1")
def test_update_with_a_chunk_of_only_minus_inf(mod):
    """Masked logits: a chunk of nothing but -inf adds nothing (the old course gave nan here, issue 18)."""
    with Quiet():
        new_max, new_sum = mod.logsumexp_update(-INF, 0.0, np.array([-INF, -INF]))
    expect_close(new_max, -INF, "logsumexp_update(-inf, 0, [-inf, -inf])[0]")
    expect_close(new_sum, 0.0, "logsumexp_update(-inf, 0, [-inf, -inf])[1]", mistakes=[(np.nan, MINUS_INF_CHUNK)])
    call = "logsumexp_update([-inf, 1], [0, 2], [[-inf, -inf], [-inf, 0]])"
    with Quiet():
        new_max, new_sum = mod.logsumexp_update(np.array([-INF, 1.0]), np.array([0.0, 2.0]),
                                                np.array([[-INF, -INF], [-INF, 0.0]]))
    expect_close(new_max, [-INF, 1.0], call + "[0]")
    expect_close(new_sum, [0.0, 2.0 + math.exp(-1)], call + "[1]",
                 mistakes=[([np.nan, 2.0 + math.exp(-1)], MINUS_INF_CHUNK)])
    with Quiet():
        new_max, new_sum = mod.logsumexp_update(0.0, 1.0, np.array([-INF, 2.0]))
    expect_close(new_sum, math.exp(-2) + 1.0, "logsumexp_update(0, 1, [-inf, 2])[1] (a masked entry adds exp(-inf) = 0)")


@pytest.mark.task("8.1")
def test_update_refuses_bad_input(mod):
    expect_refusals(mod.logsumexp_update, works=Call(np.zeros(2), np.ones(2), np.zeros((2, 3))), refuses=[
        (Call(np.zeros(3), np.ones(3), np.zeros((2, 3)), shown="logsumexp_update(3 maxima, 3 sums, chunk of 2 rows)"),
         "there are 3 running values for 2 rows"),
        (Call(0.0, 1.0, np.array([])), "the chunk is empty"),
        (Call(0.0, 1.0, np.array([1.0, np.nan])), "a value is NaN"),
        (Call(0.0, 1.0, np.array([1.0, INF])), "a value is +inf"),
        (Call(0.0, -1.0, np.array([1.0])), "a running sum of exponentials is never negative")])


# --- 8.2 online_logsumexp ------------------------------------------------------------


@pytest.mark.task("8.2")
def test_online_logsumexp_equals_scipy_when_the_max_keeps_growing(mod):
    x = np.arange(10.0)  # every chunk holds a new max: the rescaling must happen each time
    for chunk_size in (1, 3, 4, 10, 25):
        expect_close(mod.online_logsumexp(x, chunk_size), logsumexp(x), f"online_logsumexp(arange(10), {chunk_size})",
                     rtol=1e-12, atol=1e-12, mistakes=online_mistakes(x, chunk_size))


@pytest.mark.task("8.2")
def test_online_logsumexp_reads_x_chunk_by_chunk_with_logsumexp_update(mod):
    namespace = sys.modules[mod.__name__].__dict__
    update = namespace["logsumexp_update"]  # the course's 8.1 while this test runs
    widths = []

    def counting(running_max, running_sum, chunk):
        widths.append(np.shape(chunk)[-1])
        return update(running_max, running_sum, chunk)

    namespace["logsumexp_update"] = counting
    try:
        got = mod.online_logsumexp(np.arange(10.0), 3)
    finally:
        namespace["logsumexp_update"] = update
    call = "online_logsumexp(arange(10), 3)"
    expect_close(got, logsumexp(np.arange(10.0)), call, rtol=1e-12, atol=1e-12)
    expect_true(widths == [3, 3, 3, 1], f"{call} passed chunks of widths {widths} to logsumexp_update, expected "
                "[3, 3, 3, 1]: the task reads x chunk_size values at a time with your 8.1, never the whole row at once")


@pytest.mark.task("8.2")
def test_online_logsumexp_does_not_overflow(mod):
    x = np.array([1000.0, 1001.0, 1002.0])
    expect_close(mod.online_logsumexp(x, 2), 1002.4076059644, "online_logsumexp([1000, 1001, 1002], 2)", rtol=1e-12,
                 mistakes=[(np.inf, "exp(1000) overflows: subtract the running max before exponentiating")])


@pytest.mark.task("8.2")
def test_online_logsumexp_reduces_over_the_last_axis(mod):
    x = np.random.default_rng(0).normal(0, 5, size=(3, 11))
    call = "online_logsumexp(x of shape (3, 11), 4)"
    got = expect_shape(mod.online_logsumexp(x, 4), (3,), call,
                       diagnoses={(): "you reduced over everything: one logsumexp per row, over axis=-1",
                                  (11,): "you reduced over axis 0: reduce over the last axis"})
    expect_close(got, logsumexp(x, axis=-1), call, rtol=1e-12, mistakes=online_mistakes(x, 4))


@pytest.mark.task("8.2")
def test_online_logsumexp_of_values_far_below_zero(mod):
    x = np.array([-10000.0, -10001.0, -10002.0])
    with Quiet():
        got = mod.online_logsumexp(x, 2)
    expect_close(got, -9999.592394035555, "online_logsumexp([-10000, -10001, -10002], 2)", rtol=1e-12,
                 mistakes=[(-np.inf, STARTED_AT_ZERO)])


@pytest.mark.task("8.2")
def test_online_logsumexp_of_masked_values(mod):
    """Issue 18: online_logsumexp([-inf, 0], 1) gave nan; scipy gives 0.0."""
    with Quiet():
        expect_close(mod.online_logsumexp(np.array([-INF, 0.0]), 1), 0.0, "online_logsumexp([-inf, 0], 1)",
                     mistakes=[(np.nan, MINUS_INF_CHUNK)])
        expect_close(mod.online_logsumexp(np.array([-INF, -INF, -INF]), 2), -INF, "online_logsumexp([-inf, -inf, -inf], 2)",
                     mistakes=[(np.nan, MINUS_INF_CHUNK)])
        x = np.array([[-INF, -INF, 1.0], [-INF, -INF, -INF]])
        expect_close(mod.online_logsumexp(x, 2), [1.0, -INF], "online_logsumexp([[-inf, -inf, 1], [-inf, -inf, -inf]], 2)",
                     mistakes=[([np.nan, np.nan], MINUS_INF_CHUNK), ([1.0, np.nan], MINUS_INF_CHUNK)])


@st.composite
def values_at_any_scale(draw):
    """1-30 values: moderate ones shifted far up or down (±1e4, past exp's float64 range), some -inf, or all -inf."""
    n = draw(st.integers(1, 30))
    x = np.asarray(draw(st.lists(st.floats(-50.0, 50.0), min_size=n, max_size=n)))
    x = x + draw(st.sampled_from([0.0, -1e4, 1e4, -800.0, 750.0]))
    masked = np.asarray(draw(st.lists(st.sampled_from([False, False, True]), min_size=n, max_size=n)))
    if draw(st.sampled_from([False, False, False, False, True])):
        masked[:] = True
    x[masked] = -INF
    return x


@pytest.mark.task("8.2")
@QUICK_PROPERTY
@given(x=values_at_any_scale(), chunk_size=st.integers(1, 12))
def test_online_logsumexp_equals_scipy_for_any_chunking(mod, x, chunk_size):
    with Quiet():
        got = mod.online_logsumexp(x, chunk_size)
        expected = logsumexp(x)
        mistakes = online_mistakes(x, chunk_size) + [(started_at_zero_lse(x, chunk_size), STARTED_AT_ZERO),
                                                     (np.nan, MINUS_INF_CHUNK)]
    expect_close(got, expected, f"online_logsumexp({show(x)}, {chunk_size})", rtol=1e-12, atol=1e-12, mistakes=mistakes)


@pytest.mark.task("8.2")
def test_online_logsumexp_refuses_bad_input(mod):
    expect_refusals(mod.online_logsumexp, works=Call(np.zeros(3), 2), refuses=[
        (Call(np.zeros(3), 0, shown="online_logsumexp(x, 0)"), "a chunk of 0 values never gets anywhere"),
        (Call(np.array([]), 2), "the logsumexp of nothing is undefined"),
        (Call(np.array([0.0, np.nan]), 2), "a value is NaN"),
        (Call(np.array([0.0, INF]), 2), "a value is +inf")])


# --- 8.3 streaming_logsumexp ---------------------------------------------------------------


@pytest.mark.task("8.3")
def test_streaming_logsumexp_equals_torch_logsumexp_of_the_full_logits(mod):
    hidden, weight, _ = inputs(6, 4, 23, seed=1, scale=10.0)
    logits = hidden @ weight.T
    expected = torch.logsumexp(logits, dim=-1)
    for chunk_size in (1, 5, 23, 40):
        call = f"streaming_logsumexp(hidden (6, 4), weight (23, 4), {chunk_size})"
        got = mod.streaming_logsumexp(hidden, weight, chunk_size)
        expect_true(isinstance(got, torch.Tensor), f"{call} returned {type(got).__name__}: return a torch tensor")
        expect_close(got, expected.numpy(), call, **EXACT, shape_diagnoses={(): "one logsumexp per token: reduce over dim=-1 only"},
                     mistakes=[(unrescaled_lse(logits.numpy(), chunk_size), NOT_RESCALED),
                               (np.full(6, -np.inf), "the running max was never updated: it stays -inf, so every "
                                                     "result is -inf. Carry the new max into the next chunk")])
        expect_true(got.dtype == torch.float64, f"{call} returned {got.dtype}: keep the dtype of hidden (float64 here)")


@pytest.mark.task("8.3")
def test_streaming_logsumexp_is_stable_at_large_logits(mod):
    hidden = torch.tensor([[100.0], [-100.0]], dtype=torch.float32)
    weight = torch.tensor([[1.0], [2.0], [3.0], [4.0], [5.0]], dtype=torch.float32)
    expected = torch.logsumexp(hidden @ weight.T, dim=-1)  # [500, -100] (to float32's precision)
    low_row_from_zero = float(torch.log(torch.exp(hidden[1] @ weight.T).sum()))  # a running max started at 0 never moves
    expect_close(mod.streaming_logsumexp(hidden, weight, 2), expected.numpy(),
                 "streaming_logsumexp of logits up to 500 in float32, chunk 2", rtol=1e-6,
                 mistakes=[([np.inf, float(expected[1])], "exp(500) overflows: subtract the running max first"),
                           ([float(expected[0]), low_row_from_zero], STARTED_AT_ZERO),
                           ([np.inf, low_row_from_zero], "nothing was shifted: exp(500) overflows to inf and "
                                                         "exp(-500) underflows to 0. Subtract the running max, which "
                                                         "starts at -inf, before every exp")])


@pytest.mark.task("8.3")
def test_streaming_logsumexp_of_very_negative_logits(mod):
    hidden = torch.tensor([[-100.0]], dtype=torch.float64)
    weight = torch.tensor([[100.0], [100.01], [100.02]], dtype=torch.float64)  # logits -10000, -10001, -10002
    expect_close(mod.streaming_logsumexp(hidden, weight, 2), [-9999.592394035555],
                 "streaming_logsumexp(hidden [[-100]], weight [[100], [100.01], [100.02]], 2)", rtol=1e-12,
                 mistakes=[([-np.inf], "exp of logits near -10,000 underflows to 0, and log 0 = -inf: subtract the "
                                       "running max before exp, and start it at -inf (a max started at 0 never "
                                       "moves)")])


@pytest.mark.task("8.3")
def test_streaming_logsumexp_never_holds_more_than_n_by_chunk_size(mod):
    hidden, weight, _ = inputs(36, 2, 60, seed=6)
    call = "streaming_logsumexp(hidden (36, 2), weight (60, 2), chunk_size=6)"
    with LargestTensor() as largest:
        got = mod.streaming_logsumexp(hidden, weight, 6)
    expect_close(got, torch.logsumexp(hidden @ weight.T, dim=-1).numpy(), call, **EXACT)
    bound = max(36 * 6, 36 * 2, 60 * 2)  # every token against one vocabulary chunk, or the inputs themselves
    if largest.numel > bound:
        why = ("that is the whole (N, V) logits matrix, which the streaming logsumexp must never build"
               if largest.numel >= 36 * 60 else
               "that is one chunk of tokens against the whole vocabulary: the chunks are of the VOCABULARY, "
               "chunk_size rows of weight at a time, with every token in each" if largest.numel == 6 * 60 else
               "that is bigger than every token against one vocabulary chunk")
        fail(f"{call} made a tensor of shape {largest.shape} (in {largest.op}): {why}. No temporary may be bigger "
             "than (N, chunk_size) = (36, 6)")


@pytest.mark.task("8.3")
def test_streaming_logsumexp_keeps_float32(mod):
    hidden, weight, _ = inputs(5, 3, 11, seed=7, dtype=torch.float32)
    got = mod.streaming_logsumexp(hidden, weight, 4)
    call = "streaming_logsumexp(float32 hidden (5, 3), float32 weight (11, 3), 4)"
    expect_true(isinstance(got, torch.Tensor) and got.dtype == torch.float32,
                f"{call} returned {getattr(got, 'dtype', type(got).__name__)}: return hidden's dtype (float32 here)")
    expect_close(got, torch.logsumexp(hidden @ weight.T, dim=-1).numpy(), call, rtol=1e-5)


# --- 8.4 chunked_cross_entropy_forward ----------------------------------------------------------------


@pytest.mark.task("8.4")
def test_forward_equals_the_naive_loss_in_float64(mod):
    hidden, weight, targets = inputs(9, 5, 31, seed=2)
    expected = F.cross_entropy(hidden @ weight.T, targets, ignore_index=IGNORE)
    for chunk_size in (1, 4, 9, 50):
        call = f"chunked_cross_entropy_forward(N=9, V=31, chunk_size={chunk_size})"
        loss, lse = forward(mod, hidden, weight, targets, chunk_size)
        expect_loss(loss, float(expected), call + "[0], the loss",
                    lambda chunk_size=chunk_size: [(-float(expected), "a negative loss: the loss is logsumexp MINUS the target logit"),
                             *chunk_mean_mistakes(hidden, weight, targets, chunk_size)])
        expect_close(lse, torch.logsumexp(hidden @ weight.T, -1).numpy(), call + "[1], the logsumexps", **EXACT)


@pytest.mark.task("8.4")
def test_forward_masks_ignored_tokens_and_divides_by_their_count(mod):
    # 7 tokens in chunks of 3: sizes 3, 3, 1, and the first chunk has two ignored tokens
    hidden, weight, targets = inputs(7, 4, 12, seed=3, ignored=(0, 2))
    expected = F.cross_entropy(hidden @ weight.T, targets, ignore_index=IGNORE)
    loss, _ = forward(mod, hidden, weight, targets, 3)
    expect_loss(loss, float(expected), "chunked_cross_entropy_forward(7 tokens, 2 ignored, chunk_size=3)[0]",
                lambda: chunk_mean_mistakes(hidden, weight, targets, 3))


@pytest.mark.task("8.4")
def test_forward_with_a_short_last_chunk_is_not_a_mean_of_chunk_means(mod):
    hidden, weight, targets = inputs(5, 4, 12, seed=4)  # chunks of 4 and 1 tokens, nothing ignored
    expected = F.cross_entropy(hidden @ weight.T, targets, ignore_index=IGNORE)
    loss, _ = forward(mod, hidden, weight, targets, 4)
    expect_loss(loss, float(expected), "chunked_cross_entropy_forward(5 tokens, chunk_size=4)[0]",
                lambda: chunk_mean_mistakes(hidden, weight, targets, 4))


@pytest.mark.task("8.4")
def test_forward_in_float32_is_within_1e5_of_torch(mod):
    hidden, weight, targets = inputs(40, 16, 300, seed=5, dtype=torch.float32, ignored=(3, 17))
    expected = F.cross_entropy(hidden @ weight.T, targets, ignore_index=IGNORE)
    loss, _ = forward(mod, hidden, weight, targets, 64)
    expect_true(getattr(loss, "dtype", None) == torch.float32,
                f"the float32 loss came back as {getattr(loss, 'dtype', type(loss).__name__)}: keep the dtype of hidden")
    expect_loss(loss, float(expected), "chunked_cross_entropy_forward in float32 (N=40, V=300, chunk 64)[0]",
                lambda: chunk_mean_mistakes(hidden, weight, targets, 64), rtol=1e-5, atol=0.0)


@pytest.mark.task("8.4")
def test_forward_never_builds_the_logits_matrix(mod):
    hidden, weight, targets = inputs(36, 2, 60, seed=6)
    with LargestTensor() as largest:
        forward(mod, hidden, weight, targets, 6)
    expect_no_logits_matrix(largest, 36, 2, 60, 6, "chunked_cross_entropy_forward(N=36, H=2, V=60, chunk_size=6)")


@pytest.mark.task("8.4")
@QUICK_PROPERTY
@given(n=st.integers(1, 9), v=st.integers(2, 15), chunk_size=st.integers(1, 10), seed=st.integers(0, 10 ** 6),
       data=st.data())
def test_forward_equals_torch_for_any_sizes_chunks_and_masks(mod, n, v, chunk_size, seed, data):
    ignored = data.draw(st.sets(st.integers(0, n - 1), max_size=n - 1))
    hidden, weight, targets = inputs(n, 3, v, seed=seed, ignored=sorted(ignored))
    expected = float(F.cross_entropy(hidden @ weight.T, targets, ignore_index=IGNORE))
    loss, _ = forward(mod, hidden, weight, targets, chunk_size)
    expect_loss(loss, expected, f"chunked_cross_entropy_forward(N={n}, V={v}, chunk_size={chunk_size}, "
                f"ignored tokens {sorted(ignored)})[0]", lambda: chunk_mean_mistakes(hidden, weight, targets, chunk_size))


@pytest.mark.task("8.4")
def test_forward_refuses_bad_input(mod):
    hidden, weight, targets = inputs(4, 3, 6)
    expect_refusals(mod.chunked_cross_entropy_forward, works=Call(hidden, weight, targets, 2), refuses=[
        (Call(hidden, weight[:, :2], targets, 2, shown="chunked_cross_entropy_forward(hidden (4, 3), weight (6, 2), ...)"),
         "H differs: 3 vs 2"),
        (Call(hidden, weight, torch.tensor([0, 1, 6, 2]), 2,
              shown="chunked_cross_entropy_forward(..., targets [0, 1, 6, 2], ...) with V = 6"), "class 6 does not exist"),
        (Call(hidden, weight, targets[:3], 2, shown="chunked_cross_entropy_forward(4 tokens, 3 targets)"),
         "there must be one target per token"),
        (Call(hidden, weight, targets, 0, shown="chunked_cross_entropy_forward(..., chunk_size=0)"),
         "a chunk must hold at least one row")])


# --- 8.5 the backward pass -------------------------------------------------------------------------------


def gradient_mistakes(hidden, weight, targets, grad_loss=1.0):
    """(grad_hidden, grad_weight) that known mistakes produce, with their diagnoses."""
    loss, gh, gw = naive(hidden, weight, targets, grad_loss)
    kept = targets != IGNORE
    count, n = int(kept.sum()), len(targets)
    onehot = F.one_hot(torch.where(kept, targets, 0), weight.shape[0]).to(hidden.dtype) * kept[:, None]
    only_onehot = -grad_loss * onehot / count
    softmax = torch.softmax(hidden @ weight.T, -1)
    unmasked = grad_loss * (softmax - onehot) / count
    no_onehot = grad_loss * softmax * kept[:, None] / count
    no_softmax = "the softmax term is missing: the gradient of the logits is (softmax - onehot) / count, not just -onehot / count"
    # grad_loss / kept.sum() with a Python float grad_loss: torch divides by the int64 count in float32
    in_float32 = float(torch.tensor(grad_loss, dtype=torch.float32) / torch.tensor(count, dtype=torch.float32))
    off = in_float32 * count / grad_loss
    return [
        ((gh * off, gw * off), "1/count was computed in float32: a float divided by the int64 tensor kept.sum() "
                               "comes out in torch's default dtype, float32. Convert the count first, "
                               "kept.sum().to(hidden.dtype)"),
        ((only_onehot @ weight, only_onehot.T @ hidden), no_softmax),
        ((no_onehot @ weight, no_onehot.T @ hidden), "the one-hot target is missing: the gradient of the logits is "
                                                     "softmax minus the one-hot of the target, over the count"),
        ((gh * count, gw * count), "the gradient is count times too large: divide by the count of kept tokens (the 1/N of the mean)"),
        ((gh * count / n, gw * count / n), "you divided by N, all the tokens: divide by the count of kept tokens"),
        ((unmasked @ weight, unmasked.T @ hidden), "ignored tokens got a gradient: multiply their rows by 0 (kept is False)"),
        ((gh / grad_loss, gw / grad_loss), "grad_loss was not applied: multiply the gradient by grad_loss (the chain rule)"),
        ((-gh, -gw), "the sign is flipped: the block is softmax MINUS the one-hot target"),
    ]


def expect_gradients(got, expected, mistakes, call, rtol, atol):
    """Both gradients equal torch's; a mismatch is one line with the worst entry and, if known, the mistake."""
    for index, (name, shape_name) in enumerate((("grad_hidden", "hidden's (N, H)"), ("grad_weight", "weight's (V, H)"))):
        want = expected[index].numpy()
        value = expect_shape(got[index], want.shape, f"{call}: {name}",
                             diagnoses={tuple(reversed(want.shape)): f"{name} is transposed: it has {shape_name} shape"})
        if np.allclose(value, want, rtol=rtol, atol=atol):
            continue
        worst = np.unravel_index(np.argmax(np.abs(value - want)), want.shape)
        why = diagnose(value, [(m[index].numpy(), reason) for m, reason in mistakes], expected=want,
                       tolerance=(rtol, atol))
        digits = ".12g" if np.allclose(value, want, rtol=1e-4, atol=1e-6) else ".6g"  # a near miss needs its digits
        fail(f"{call}: {name} differs from torch's autograd, e.g. at {tuple(int(i) for i in worst)} it is "
             f"{value[worst]:{digits}}, expected {want[worst]:{digits}}" + (f": {why}" if why else "."))


@pytest.mark.task("8.5")
def test_backward_equals_torch_autograd_in_float64(mod):
    hidden, weight, targets = inputs(8, 5, 17, seed=7, ignored=(1, 6))
    _, gh, gw = naive(hidden, weight, targets)
    lse = torch.logsumexp(hidden @ weight.T, -1)
    mistakes = gradient_mistakes(hidden, weight, targets)
    for chunk_size in (1, 3, 8, 20):
        call = f"chunked_cross_entropy_backward(N=8, V=17, chunk_size={chunk_size})"
        got = mod.chunked_cross_entropy_backward(hidden, weight, targets, lse, chunk_size, IGNORE, 1.0)
        expect_pair(got, call, "grad_hidden, grad_weight", "the gradients of hidden (N, H) and of weight (V, H)")
        expect_gradients(got, (gh, gw), mistakes, call, **EXACT)


@pytest.mark.task("8.5")
def test_backward_of_the_lessons_check_value(mod):
    hidden = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    weight = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    targets = torch.tensor([0])
    got = mod.chunked_cross_entropy_backward(hidden, weight, targets, torch.logsumexp(hidden @ weight.T, -1), 1, IGNORE, 1.0)
    expect_pair(got, "chunked_cross_entropy_backward(hidden [[1, 0]], weight [[1, 0], [0, 1]], [0], chunk_size=1)",
                "grad_hidden, grad_weight", "the gradients of hidden (N, H) and of weight (V, H)")
    p = 1 / (1 + math.e)  # softmax([1, 0])[1] = 0.268941
    expect_gradients(got, (torch.tensor([[-p, p]], dtype=torch.float64), torch.tensor([[-p, 0.0], [p, 0.0]], dtype=torch.float64)), gradient_mistakes(hidden, weight, targets),
                     "chunked_cross_entropy_backward(hidden [[1, 0]], weight [[1, 0], [0, 1]], targets [0], chunk_size=1)",
                     **EXACT)


@pytest.mark.task("8.5")
def test_loss_backward_fills_both_gradients_like_the_naive_loss(mod):
    hidden, weight, targets = inputs(10, 4, 26, seed=8, ignored=(0, 1, 2, 9))
    _, gh, gw = naive(hidden, weight, targets, grad_loss=2.5)
    h, w = hidden.clone().requires_grad_(), weight.clone().requires_grad_()
    loss = mod.chunked_cross_entropy(h, w, targets, 4)
    (2.5 * loss).backward()
    missing = [name for name, grad in (("hidden.grad", h.grad), ("weight.grad", w.grad)) if grad is None]
    expect_true(not missing, f"after (2.5 * chunked_cross_entropy(...)).backward(), {' and '.join(missing)} "
                "is None, expected a gradient: return both gradients from chunked_cross_entropy_backward")
    expect_gradients((h.grad, w.grad), (gh, gw), gradient_mistakes(hidden, weight, targets, 2.5),
                     "(2.5 * chunked_cross_entropy(N=10 with 4 ignored, V=26, chunk_size=4)).backward()", **EXACT)


@pytest.mark.task("8.5")
def test_float32_gradients_are_close_to_torch(mod):
    hidden, weight, targets = inputs(40, 16, 300, seed=9, dtype=torch.float32)
    _, gh, gw = naive(hidden, weight, targets)
    lse = torch.logsumexp(hidden @ weight.T, -1)
    got = mod.chunked_cross_entropy_backward(hidden, weight, targets, lse, 64, IGNORE, 1.0)
    expect_gradients(got, (gh, gw), gradient_mistakes(hidden, weight, targets),
                     "chunked_cross_entropy_backward in float32 (N=40, V=300, chunk 64)", rtol=1e-4, atol=1e-7)


@pytest.mark.task("8.5")
def test_backward_recomputes_in_blocks(mod):
    hidden, weight, targets = inputs(36, 2, 60, seed=10)
    lse = torch.logsumexp(hidden @ weight.T, -1)
    with LargestTensor() as largest:
        mod.chunked_cross_entropy_backward(hidden, weight, targets, lse, 6, IGNORE, 1.0)
    expect_no_logits_matrix(largest, 36, 2, 60, 6, "chunked_cross_entropy_backward(N=36, H=2, V=60, chunk_size=6)")


# --- 8.6 loss_memory_bytes and the figure ---------------------------------------------------------------


@pytest.mark.task("8.6")
def test_memory_formula_at_the_benchmark_sizes(mod):
    naive_bytes = 3 * 2048 * 32768 * 4  # 805,306,368 bytes = 805 MB
    expect_close(mod.loss_memory_bytes(2048, 32768, None, torch.float32), naive_bytes,
                 "loss_memory_bytes(2048, 32768, None, float32)", rtol=0, atol=0.5,
                 mistakes=[(naive_bytes / 4, "that counts numbers, not bytes: multiply by the element size (4 for float32)"),
                           (naive_bytes * 8, "that is bits: torch.finfo(dtype).bits // 8 gives bytes"),
                           (naive_bytes * 2 / 3, "the naive loss holds three (N, V) matrices at its peak, not two"),
                           (naive_bytes / 3, "the naive loss holds three (N, V) matrices at its peak (the saved "
                                             "log-probabilities and two gradients), not one")])
    chunked_bytes = (3 * 1024 * 1024 + 2048) * 4  # 12,591,104
    expect_close(mod.loss_memory_bytes(2048, 32768, 1024, torch.float32), chunked_bytes,
                 "loss_memory_bytes(2048, 32768, 1024, float32)", rtol=0, atol=0.5,
                 mistakes=[(3 * 1024 * 1024 * 4, "add the N saved logsumexps: (3 * block + N) * bytes"),
                           ((3 * 2048 * 1024 + 2048) * 4, "a block is min(N, chunk_size) × min(V, chunk_size): chunk the tokens too")])


@pytest.mark.task("8.6")
def test_memory_formula_follows_dtype_and_small_sizes(mod):
    expect_close(mod.loss_memory_bytes(2048, 32768, 1024, torch.float64), (3 * 1024 * 1024 + 2048) * 8,
                 "loss_memory_bytes(2048, 32768, 1024, float64)", rtol=0, atol=0.5,
                 mistakes=[((3 * 1024 * 1024 + 2048) * 4, "that is 4 bytes per number, float32's size: take the size "
                                                          "from dtype (torch.finfo gives its bits)")])
    expect_close(mod.loss_memory_bytes(2048, 32768, None, torch.bfloat16), 3 * 2048 * 32768 * 2,
                 "loss_memory_bytes(2048, 32768, None, bfloat16)", rtol=0, atol=0.5)
    expect_close(mod.loss_memory_bytes(10, 50, 1024, torch.float32), (3 * 10 * 50 + 10) * 4,
                 "loss_memory_bytes(10, 50, 1024, float32)", rtol=0, atol=0.5,
                 mistakes=[((3 * 1024 * 1024 + 10) * 4, "a block cannot be bigger than the data: min(N, chunk) × min(V, chunk)")])


@pytest.mark.task("8.6")
def test_gemma2_naive_loss_needs_tens_of_gigabytes(mod):
    got = mod.loss_memory_bytes(8192, 256000, None, torch.float32)
    expect_close(got, 25_165_824_000, "loss_memory_bytes(8192, 256000, None, float32)", rtol=0, atol=0.5)
    expect_true(isinstance(got, (int, np.integer)), f"loss_memory_bytes returned {type(got).__name__}: return an int number of bytes")
    # Cut Cross-Entropy reports about 24 GB for the loss of Gemma 2 at 8192 tokens
    expect_true(20e9 < got < 30e9, f"{got / 1e9:.1f} GB is far from the ~24 GB Cut Cross-Entropy reports for Gemma 2")


@pytest.mark.task("8.6")
def test_memory_formula_refuses_bad_input(mod):
    expect_refusals(mod.loss_memory_bytes, works=Call(4, 8, 2, torch.float32), refuses=[
        (Call(4, 8, 2, torch.int64, shown="loss_memory_bytes(..., torch.int64)"), "the loss is computed in a floating dtype"),
        (Call(0, 8, 2, torch.float32, shown="loss_memory_bytes(0, 8, ...)"), "there are no tokens")])


@pytest.mark.task("8.6")
def test_figure_curves_grow_with_v_for_naive_and_stay_flat_for_chunked(mod):
    vocabs, curves = mod.memory_curves()
    vocabs = np.asarray(vocabs, dtype=float)
    expect_close(vocabs, [2.0 ** k for k in range(10, 19)], "memory_curves() vocabularies")
    expect_close(curves["naive"], 3 * 8192 * vocabs * 4, "memory_curves() naive bytes (N = 8192, float32)", rtol=1e-12)
    expect_close(curves["chunked"], np.full(len(vocabs), (3 * 1024 * 1024 + 8192) * 4.0),
                 "memory_curves() chunked bytes (N = 8192, chunk 1024, float32)", rtol=1e-12)


@pytest.mark.task("8.6")
@pytest.mark.mpl_image_compare(filename="module08_memory_vs_vocab.png")
def test_figure_memory_vs_vocab(mod):
    return mod.plot_memory_vs_vocab()
