"""Module 7: cross-entropy for a character language model.

Oracles: hand-computed constants (a two-state chain, a chain with forbidden
transitions, small texts), the course chain's numbers from numpy's left
eigenvector (computed once, written here), the tests' own plain-Python rate,
count table and mutual information, kata.testing.oracles.full_batch for the
training loop, and the standard library's zlib and lzma called directly.
Never the reference module.
"""

import lzma
import math
import warnings
import zlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from kata.testing import oracles
from kata.testing.expect import (
    Call,
    expect_close,
    expect_number,
    expect_refusals,
    expect_shape,
    expect_true,
    fail,
    show,
)
from kata.testing.plugin import task_fixture

MODULE = "module07_language_model"
LN2 = math.log(2)

# The course chain, copied: the numbers below belong to exactly this matrix.
TRANSITIONS = np.array([
    [0.02, 0.35, 0.05, 0.03, 0.55],
    [0.30, 0.02, 0.08, 0.35, 0.25],
    [0.75, 0.05, 0.05, 0.10, 0.05],
    [0.60, 0.03, 0.15, 0.02, 0.20],
    [0.25, 0.12, 0.55, 0.03, 0.05],
])
V = 5
ENTROPY_RATE = 1.099732      # nats: -Σ π_i Σ_j P_ij ln P_ij, π from numpy.linalg.eig(P.T)
ENTROPY_RATE_BITS = 1.586578
UNIGRAM_ENTROPY = 1.533916   # nats: -Σ π_i ln π_i
UNIGRAM_ENTROPY_BITS = 2.212973
MUTUAL_INFORMATION = 0.434184  # nats: Σ π_i P_ij ln(P_ij / π_j) = H(π) - H
ROW_MEAN_ENTROPY = 1.112308  # the rows' entropies averaged evenly (a mistake)
HELDOUT_CHARS = 20000
ZLIB_HELDOUT = 2.1256        # 8 · 5314 bytes / 20000 characters (zlib level 9, the held-out text)
LZMA_HELDOUT = 2.0512        # 8 · 5128 bytes / 20000 characters (lzma defaults: .xz, preset 6)

# A two-state chain by hand: π = [5/6, 1/6].
P2 = [[0.9, 0.1], [0.5, 0.5]]
Q2 = [[0.8, 0.2], [0.6, 0.4]]
H2 = 0.386427                # 5/6·(-.9 ln .9 - .1 ln .1) + 1/6·ln 2
H2_ROW_MEAN = 0.509115       # (0.325083 + 0.693147) / 2
H2_ROW_SUM = 1.018230
H2_AXIS0 = 0.463970          # Σ_j π_j Σ_i P_ij(-ln P_ij): the sum over the contexts, weighted by the next character
RATE2 = 0.420404             # 5/6·(-.9 ln .8 - .1 ln .2) + 1/6·(-.5 ln .6 - .5 ln .4)
RATE2_ROW_MEAN = 0.537666
RATE2_SWAPPED = 0.569529     # -Σ π_i Σ_j Q_ij ln P_ij
RATE2_AXIS0 = 0.483383
KL2_BITS = 0.049018          # Σ π_i KL(P_i || Q_i) = 0.033977 nats, in bits

# A chain with forbidden transitions (zeros): 0 -> 1 or 2, 1 -> 0, 2 -> 0 or 2. π = [.4, .2, .4].
P3 = [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0], [0.5, 0.0, 0.5]]
H3 = 0.554518                # 0.4 ln 2 + 0.2 · 0 + 0.4 ln 2 = 0.8 ln 2 (0.8 bits)
H3_ROW_MEAN = 0.462098       # (ln 2 + 0 + ln 2) / 3
MUTUAL_INFORMATION3 = 0.500402
Q3 = [[0.0, 0.25, 0.75], [1.0, 0.0, 0.0], [0.5, 0.0, 0.5]]   # zero exactly where P3 is
RATE3 = 0.612054             # 0.4·(.5 ln 4 + .5 ln 4/3) + 0.4 ln 2
Q3_RULES_OUT = [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.5, 0.0, 0.5]]  # 0 -> 2 happens, the model says never
RATE3_MASKED_ON_Q = 0.277259  # the impossible transition skipped: 0.4 ln 2
IDS3_ALLOWED = [0, 1, 0, 2, 2, 0, 2, 0, 1]   # 8 pairs of P3: seven of probability 1/2, one (1 -> 0) of 1
CE3_ALLOWED = 0.606504       # 7 ln 2 / 8
IDS3_FORBIDDEN = [0, 0, 1]   # 0 -> 0 has probability 0

# A small text and table by hand.
PROBS3 = [[0.2, 0.5, 0.3], [0.6, 0.1, 0.3], [0.25, 0.35, 0.4]]
IDS3 = [0, 1, 0, 2, 2, 1]
# pairs (0,1) (1,0) (0,2) (2,2) (2,1): -ln of .5 .6 .3 .4 .35
LOSSES3 = [0.693147, 0.510826, 1.203973, 0.916291, 1.049822]
CE3 = 0.874812
CE3_SUM = 4.374058
LIKELIHOOD3 = 0.5 * 0.6 * 0.3 * 0.4 * 0.35   # q(text | first character) = 0.0126
CODE3_BITS = 6.310432        # CE3_SUM / ln 2


def quietly(function, *args, **kwargs):
    """Call with numpy's warnings silenced: where the answer is ±inf or a 0·log 0, the value is what is judged."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return function(*args, **kwargs)


# --- oracles written here --------------------------------------------------------


def stationary(P):
    """π from the left eigenvector of P for the eigenvalue 1 (the reference solves a linear system instead)."""
    values, vectors = np.linalg.eig(np.asarray(P, dtype=float).T)
    pi = np.real(vectors[:, np.argmin(np.abs(values - 1.0))])
    return pi / pi.sum()


def rate(P, Q):
    """-Σ π_i Σ_j P_ij ln Q_ij in plain Python: P_ij = 0 adds nothing, Q_ij = 0 < P_ij adds infinity."""
    pi = stationary(P)
    total = 0.0
    for i, row in enumerate(np.asarray(P, dtype=float)):
        for j, p in enumerate(row):
            if p > 0:
                q = float(np.asarray(Q, dtype=float)[i, j])
                total += pi[i] * p * (-math.log(q) if q > 0 else math.inf)
    return total


def mutual_information(P):
    """I(x_t; x_t+1) = Σ π_i P_ij ln(P_ij / π_j), from the joint distribution of consecutive characters."""
    pi = stationary(P)
    P = np.asarray(P, dtype=float)
    return sum(pi[i] * P[i, j] * math.log(P[i, j] / pi[j]) for i in range(len(P)) for j in range(len(P)) if P[i, j] > 0)


def nll(probs, pairs):
    """Mean -ln probs[c][t] over (c, t) pairs, in plain Python (a learner's entry <= 0 costs inf, a NaN stays NaN)."""
    pairs = list(pairs)
    return sum(-math.log(q) if q > 0 else (q if math.isnan(q) else math.inf)
               for q in (float(probs[c][t]) for c, t in pairs)) / len(pairs)


def pairing_mistakes(probs, ids, expected_mean):
    """Mean CEs that known pairing and unit mistakes produce, with their diagnoses."""
    ids = list(ids)
    n = len(ids)
    return [
        (expected_mean * (n - 1), "that is the SUM of the losses: the default reduction is the mean per character"),
        (expected_mean * (n - 1) / n,
         f"you divided by N = {n}: N characters make N-1 = {n - 1} predictions, and the mean is over those"),
        (expected_mean / LN2, "that is in bits: use the natural log (np.log) where nats are expected"),
        (-expected_mean, "a negative cross-entropy: the minus sign in -ln q is missing"),
        (nll(probs, list(zip(ids[1:], ids[:-1]))),
         "context and next character are swapped. The context is ids[t], the target ids[t+1]"),
        (nll(probs, list(zip(ids, ids))),
         "each character is paired with itself. The target is the NEXT character, ids[t+1]"),
        (nll(probs, list(zip(ids[:-1], ids[:-1]))),
         "each character is paired with itself. The target is the NEXT character, ids[t+1]"),
        (nll(probs, list(zip(ids[1:], ids[1:]))),
         "each character is paired with itself. The target is the NEXT character, ids[t+1]"),
        (nll(probs, list(zip(ids, ids[1:] + ids[:1]))),
         "off by one: the pairs wrap around (the last character has no next one): N characters give N-1 pairs"),
        (nll(probs, list(zip(ids[:-2], ids[2:]))),
         "off by one: you skipped a character. The target of ids[t] is ids[t+1]"),
    ]


def count_table(ids, vocab_size, k, *, transpose=False, once=False, wrap=False, normalise="rows", k_seen_only=False):
    counts = np.zeros((vocab_size, vocab_size))
    ids = list(ids)
    for c, t in zip(ids, ids[1:] + ids[:1]) if wrap else zip(ids[:-1], ids[1:]):
        if once:
            counts[c, t] = 1.0
        else:
            counts[c, t] += 1.0
    if transpose:
        counts = counts.T
    smoothed = counts + (k * (counts > 0) if k_seen_only else k)
    if normalise == "columns":
        return smoothed / smoothed.sum(axis=0, keepdims=True)
    if normalise == "total":
        return smoothed / smoothed.sum()
    return smoothed / smoothed.sum(axis=1, keepdims=True)


class Table:
    """The bigram model of the training loop: one (V, V) float64 table of logits, all zeros."""

    def __init__(self, vocab_size, dtype=torch.float64):
        self.W = torch.zeros(vocab_size, vocab_size, dtype=dtype, requires_grad=True)

    def parameters(self):
        return [self.W]


def gradient_descent(ids, vocab_size, lr, steps, *, reduction="mean", dtype=torch.float64, **switches):
    """The training loop of 7.7 by kata.testing.oracles.full_batch; returns (probs, losses)."""
    ids = np.asarray(ids)
    contexts, targets = torch.as_tensor(ids[:-1]), torch.as_tensor(ids[1:])
    table = Table(vocab_size, dtype)
    losses = oracles.full_batch(table, lambda t: F.cross_entropy(t.W[contexts], targets, reduction=reduction),
                                epochs=steps, lr=lr, **switches)
    return torch.softmax(table.W.detach().double(), dim=1).numpy(), np.array(losses)


def texts(mod):
    train, heldout = mod.corpus()
    return np.asarray(train), np.asarray(heldout)


@task_fixture("7.7")
def trained(mod):
    """The learner's train_bigram on the training text (trained once, for the tests of 7.7)."""
    return mod._trained_bigram()  # train_bigram(training text), through the lesson's cache the figure uses too


@task_fixture("7.8")
def full_sweep(mod):
    """The learner's learning_rate_sweep on the training text (run once, for the tests of 7.8)."""
    return mod._sweep()  # learning_rate_sweep(training text), through the lesson's cache the figure uses too


def check_table(got, shape, call):
    got = expect_shape(got, shape, call)
    expect_true(np.all(got >= 0), f"{call} has negative entries ({got.min():.4g}): each row must be a distribution "
                "over the next character (are those logits? a softmax of each row makes them probabilities)")
    sums = got.sum(axis=1)
    expect_true(np.allclose(sums, 1.0, atol=1e-6),
                f"{call}: each row must be a distribution over the next character, but the row sums are {show(sums)}: "
                "divide each row by its own sum (axis=1, keepdims=True)")
    return got


# --- Hypothesis: chains and models that reach the extremes ---------------------------

# An entry of a row before it is normalised: exactly 0, vanishingly small, or anything up to 1.
ENTRY = st.one_of(st.just(0.0), st.floats(1e-300, 1e-8), st.floats(1e-8, 1.0))


@st.composite
def chain_tables(draw, n=None, zeros=True):
    """A (n, n) table of rows that are distributions, with zeros and tiny entries.

    Each row i keeps a weight >= 1e-3 on i+1 (mod n), so the chain is irreducible
    and its long-run frequencies π are unique; every other entry may be 0 or tiny.
    """
    n = draw(st.integers(2, 5)) if n is None else n
    entry = ENTRY if zeros else st.floats(1e-300, 1.0)
    rows = []
    for i in range(n):
        weights = np.asarray(draw(st.lists(entry, min_size=n, max_size=n)), dtype=float)
        weights[(i + 1) % n] = max(weights[(i + 1) % n], draw(st.floats(1e-3, 1.0)))
        rows.append(weights / weights.sum())
    return np.stack(rows)


@st.composite
def model_and_text(draw):
    """A model table with tiny (never zero) probabilities and a text of 2 to 40 ids."""
    n = draw(st.integers(2, 5))
    probs = draw(chain_tables(n, zeros=False))
    ids = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=40))
    return probs, np.array(ids)


# --- the data ----------------------------------------------------------------------


@pytest.mark.task("7.1")
def test_the_chain_is_the_one_the_numbers_belong_to(mod):
    expect_close(rate(TRANSITIONS, TRANSITIONS), ENTROPY_RATE, "the tests' own entropy-rate oracle")
    mod.entropy_rate(mod.TRANSITIONS)  # your cross_entropy_rate must work first
    expect_true(np.array_equal(np.asarray(mod.TRANSITIONS), TRANSITIONS),
                "TRANSITIONS was changed: the course's numbers belong to the original chain (make reset-module-7 restores it)")
    train, heldout = texts(mod)
    expect_true(len(train) == 3000 and len(heldout) == HELDOUT_CHARS,
                f"corpus() should give a training text of 3000 characters and a held-out one of {HELDOUT_CHARS}")


# --- 7.1 cross_entropy_rate ----------------------------------------------------------


@pytest.mark.task("7.1")
def test_entropy_rate_of_a_two_state_chain(mod):
    expect_close(mod.cross_entropy_rate(P2, P2), H2, "cross_entropy_rate(P, P) for P = [[.9, .1], [.5, .5]]",
                 mistakes=[(H2 / LN2, "that is in bits: use the natural log (nats)"),
                           (H2_ROW_MEAN, "you averaged the rows evenly: weight row i by π_i, how often the chain is in state i"),
                           (H2_ROW_SUM, "you added the rows' entropies: weight row i by π_i (the weights sum to 1)"),
                           (H2_AXIS0, "you summed over the wrong axis: row i is the context, so sum each row over the next "
                                      "character j, then weight the rows by π_i"),
                           (-H2, "a negative rate: the minus sign is missing"),
                           (float(stationary(P2) @ -np.log(P2).sum(axis=1)),
                            "each -ln q_ij must be weighted by P_ij, how often j follows i: within a row the rate is "
                            "an average over the next character too")])


@pytest.mark.task("7.1")
def test_cross_entropy_rate_of_a_wrong_model(mod):
    call = "cross_entropy_rate(P, q) for P = [[.9, .1], [.5, .5]], q = [[.8, .2], [.6, .4]]"
    expect_close(mod.cross_entropy_rate(P2, Q2), RATE2, call,
                 mistakes=[(RATE2_SWAPPED, "the tables are swapped: the truth P weights the log of the model q"),
                           (RATE2 / LN2, "that is in bits: use the natural log (nats)"),
                           (RATE2_ROW_MEAN, "you averaged the rows evenly: weight row i by π_i"),
                           (RATE2_AXIS0, "you summed over the wrong axis: row i is the context, so sum each row over the "
                                         "next character j, then weight the rows by π_i"),
                           (-RATE2, "a negative rate: the minus sign is missing")])
    expect_close(mod.cross_entropy_rate(P2, [[0.5, 0.5], [0.5, 0.5]]), LN2, "cross_entropy_rate(P, uniform)")


@pytest.mark.task("7.1")
def test_transitions_of_probability_zero(mod):
    """Issue 20: a chain that never makes some transitions. 0·ln 0 counts 0; q = 0 < P costs infinity."""
    nan_why = ("NaN: a transition the chain never makes (P_ij = 0) must add nothing, but 0·ln 0 (or 0·ln q) "
               "came out as NaN: skip the cells where P is 0")
    expect_close(quietly(mod.cross_entropy_rate, P3, P3), H3,
                 "cross_entropy_rate(P, P) for P = [[0, .5, .5], [1, 0, 0], [.5, 0, .5]]",
                 mistakes=[(np.nan, nan_why), (H3 / LN2, "that is in bits: use the natural log (nats)"),
                           (H3_ROW_MEAN, "you averaged the rows evenly: weight row i by π_i")])
    expect_close(quietly(mod.cross_entropy_rate, P3, Q3), RATE3,
                 "cross_entropy_rate(P, q) for that P and q = [[0, .25, .75], [1, 0, 0], [.5, 0, .5]] "
                 "(q is 0 exactly where P is)", mistakes=[(np.nan, nan_why)])
    call = "cross_entropy_rate(P, q) for that P and q = [[0, 1, 0], [1, 0, 0], [.5, 0, .5]] (the chain goes 0 -> 2, q says never)"
    got = expect_number(quietly(mod.cross_entropy_rate, P3, Q3_RULES_OUT), call)
    if got == math.inf:
        return
    if abs(got - RATE3_MASKED_ON_Q) < 1e-6:
        fail(f"{call} returned {show(got)}, expected inf: the transition q rules out was skipped. Mask on the chain "
             "(P_ij = 0 adds nothing), not on q: a transition that happens and that q calls impossible costs +inf")
    if math.isfinite(got):
        fail(f"{call} returned {show(got)}, expected inf: a model that gives probability 0 to a transition the chain "
             "makes is infinitely surprised. No eps or clipping in the log: ln 0 is -inf")
    fail(f"{call} returned {show(got)}, expected inf: only the cells where P > 0 count, and there -ln 0 = +inf")


@pytest.mark.task("7.1")
def test_entropy_rate_of_the_course_chain(mod):
    expect_close(mod.entropy_rate(mod.TRANSITIONS), ENTROPY_RATE, "entropy_rate(TRANSITIONS)",
                 mistakes=[(ENTROPY_RATE_BITS, "that is in bits: use the natural log (nats)"),
                           (ROW_MEAN_ENTROPY, "you averaged the rows evenly: weight row i by π_i")])
    expect_close(mod.entropy_rate(mod.TRANSITIONS) / LN2, ENTROPY_RATE_BITS, "entropy_rate(TRANSITIONS) / ln 2 (bits)")
    expect_close(mod.unigram_entropy(mod.TRANSITIONS), UNIGRAM_ENTROPY, "unigram_entropy(TRANSITIONS)")
    expect_close(mod.unigram_entropy(mod.TRANSITIONS) / LN2, UNIGRAM_ENTROPY_BITS, "unigram_entropy(TRANSITIONS) in bits")


@pytest.mark.task("7.1")
def test_the_gap_is_the_mutual_information_of_consecutive_characters(mod):
    expect_close(mutual_information(TRANSITIONS), MUTUAL_INFORMATION, "the tests' own mutual-information oracle")
    for P, expected, name in ((TRANSITIONS, MUTUAL_INFORMATION, "TRANSITIONS"), (P3, MUTUAL_INFORMATION3, "P3")):
        gap = mod.unigram_entropy(P) - quietly(mod.entropy_rate, P)
        expect_close(gap, expected, f"unigram_entropy({name}) - entropy_rate({name}), the information the current "
                     "character gives about the next")


@pytest.mark.task("7.1")
def test_wasted_bits_are_the_kl_rate(mod):
    expect_close(mod.wasted_bits_per_character(P2, Q2), KL2_BITS,
                 "wasted_bits_per_character(P, q) for P = [[.9, .1], [.5, .5]], q = [[.8, .2], [.6, .4]]")
    expect_close(mod.wasted_bits_per_character(P2, P2), 0.0, "wasted_bits_per_character(P, P)", atol=1e-12)
    pi = stationary(P3)
    kl = sum(pi[i] * p * math.log(p / Q3[i][j]) for i, row in enumerate(P3) for j, p in enumerate(row) if p > 0)
    expect_close(quietly(mod.wasted_bits_per_character, P3, Q3), kl / LN2, "wasted_bits_per_character(P3, q3)")


@pytest.mark.task("7.1")
def test_cross_entropy_rate_refuses_bad_tables(mod):
    expect_refusals(mod.cross_entropy_rate, works=Call(P2, Q2), refuses=[
        (Call(P2, np.full((3, 3), 1 / 3), shown="cross_entropy_rate(2×2 chain, 3×3 model)"), "the alphabets differ"),
        (Call(P2, [[0.8, 0.3], [0.6, 0.4]], shown="cross_entropy_rate(P, q with a row summing to 1.1)"),
         "a row of q is not a distribution"),
        (Call([[1.2, -0.2], [0.5, 0.5]], Q2, shown="cross_entropy_rate(P with a negative entry, q)"),
         "probabilities cannot be negative"),
        (Call([0.5, 0.5], [0.5, 0.5]), "a chain needs a square (V, V) table"),
    ])


@pytest.mark.task("7.1")
def test_no_model_beats_the_entropy_rate(mod):
    mod.cross_entropy_rate(P2, Q2)  # one plain call first: an unfinished stub stops here, not in hypothesis

    @given(data=st.data())
    def check(data):
        P = data.draw(chain_tables())
        q = data.draw(chain_tables(len(P)))
        got, floor = float(quietly(mod.cross_entropy_rate, P, q)), float(quietly(mod.cross_entropy_rate, P, P))
        shown = f"P = {np.round(P, 3).tolist()}"
        if math.isnan(got) or math.isnan(floor):
            fail(f"cross_entropy_rate gave NaN for {shown}: a transition of probability 0 must add nothing (0·ln 0 = 0)")
        expect_close(floor, rate(P, P), f"cross_entropy_rate(P, P) for {shown}", rtol=1e-6, atol=1e-9)
        expect_true(got >= floor - 1e-9, f"cross_entropy_rate(P, q) = {got:.6f} is below the entropy rate {floor:.6f} "
                    f"for {shown}: by Gibbs' inequality (row by row) it never is. Does the truth P weight the log of the model q?")

    check()


# --- 7.2 bigram_pairs -----------------------------------------------------------------


@pytest.mark.task("7.2")
def test_pairs_are_each_character_and_the_next(mod):
    ids = np.array([3, 0, 1, 4])
    got = mod.bigram_pairs(ids)
    if not isinstance(got, tuple) or len(got) != 2:
        fail(f"bigram_pairs(ids) returned {type(got).__name__}, expected a tuple (contexts, targets)")
    contexts, targets = (np.asarray(a) for a in got)
    call = "bigram_pairs([3, 0, 1, 4])"
    if contexts.shape != (3,) or targets.shape != (3,):
        longer = max(contexts.size, targets.size) > 3
        fail(f"{call} returned arrays of shapes {contexts.shape} and {targets.shape}, expected (3,) and (3,): "
             + ("off by one: N characters give N-1 pairs (the last character has no next one, no wrap-around)"
                if longer else "a pair is missing: N characters give N-1 pairs, one for every character but the "
                               "last (each with the character right after it)"))
    if np.array_equal(contexts, [0, 1, 4]) and np.array_equal(targets, [3, 0, 1]):
        fail(f"{call} returned contexts [0, 1, 4] and targets [3, 0, 1]: swapped. "
             "The context is the character BEFORE the one predicted")
    if np.array_equal(contexts, targets):
        fail(f"{call} returned contexts equal to targets: each character is paired with itself. "
             "The target is the next character")
    expect_close(contexts, [3, 0, 1], f"{call}: contexts")
    expect_close(targets, [0, 1, 4], f"{call}: targets")


@pytest.mark.task("7.2")
def test_pairs_refuse_a_text_too_short(mod):
    expect_refusals(mod.bigram_pairs, works=Call([0, 1]), refuses=[
        (Call([2]), "one character makes no pair"),
        (Call([[0, 1], [1, 0]], shown="bigram_pairs(2-D ids)"), "a text is 1-D"),
        (Call([0, -1, 2]), "ids are >= 0"),
    ])


# --- 7.3 sequence_cross_entropy ---------------------------------------------------------


@pytest.mark.task("7.3")
def test_sequence_cross_entropy_by_hand(mod):
    expect_close(mod.sequence_cross_entropy(PROBS3, IDS3), CE3, "sequence_cross_entropy(probs, [0, 1, 0, 2, 2, 1])",
                 mistakes=pairing_mistakes(PROBS3, IDS3, CE3))


@pytest.mark.task("7.3")
def test_sequence_cross_entropy_reductions(mod):
    call = "sequence_cross_entropy(probs, [0, 1, 0, 2, 2, 1], reduction='none')"
    got = expect_shape(mod.sequence_cross_entropy(PROBS3, IDS3, reduction="none"), (5,), call,
                       diagnoses={(6,): "off by one: 6 characters give 5 (context, next) pairs, no wrap-around"})
    reversed_pairs = [-math.log(PROBS3[c][t]) for c, t in zip(IDS3[1:], IDS3[:-1])]
    expect_close(got, LOSSES3, call, mistakes=[([v / LN2 for v in LOSSES3], "those are bits: use the natural log"),
                                               (reversed_pairs, "context and next character are swapped. "
                                                "The context is ids[t], the target ids[t+1]")])
    expect_close(mod.sequence_cross_entropy(PROBS3, IDS3, reduction="sum"), CE3_SUM,
                 "sequence_cross_entropy(..., reduction='sum')",
                 mistakes=[(CE3, "that is the mean: 'sum' adds the losses up")])


@pytest.mark.task("7.3")
def test_cells_of_probability_zero(mod):
    """Issue 20: a model with zeros. A cell the text never uses must not matter; a used one costs +inf."""
    call = "sequence_cross_entropy(q, [0, 1, 0, 2, 2, 0, 2, 0, 1]) for q = [[0, .5, .5], [1, 0, 0], [.5, 0, .5]]"
    expect_close(quietly(mod.sequence_cross_entropy, P3, IDS3_ALLOWED), CE3_ALLOWED, call,
                 mistakes=[(np.nan, "NaN: the zeros of q that the text never uses got into the sum (0·ln 0). "
                                    "Take q(next | context) for each pair only, not the whole log table times a one-hot mask")])
    call = "sequence_cross_entropy(q, [0, 0, 1], reduction='none') for the same q (0 -> 0 has probability 0)"
    got = expect_shape(quietly(mod.sequence_cross_entropy, P3, IDS3_FORBIDDEN, reduction="none"), (2,), call)
    if math.isfinite(got[0]):
        fail(f"{call} returned {show(got)}, expected [inf, 0.693147]: a pair the model gives probability 0 costs "
             "+inf (-ln 0). No eps or clipping: an impossible character is infinitely surprising")
    expect_close(got, [np.inf, LN2], call)
    expect_close(quietly(mod.sequence_cross_entropy, P3, IDS3_FORBIDDEN), np.inf,
                 "sequence_cross_entropy(q, [0, 0, 1]) (the mean, with an impossible pair)")


@pytest.mark.task("7.3")
def test_a_uniform_model_scores_ln_v_on_any_text(mod):
    train, _ = texts(mod)
    uniform = np.full((V, V), 1 / V)
    expect_close(mod.sequence_cross_entropy(uniform, train), math.log(V), "sequence_cross_entropy(uniform, training text)",
                 mistakes=[(math.log2(V), "that is log2 5: use the natural log (nats)"),
                           (math.log(V) * (len(train) - 1), "that is the sum: the default reduction is the mean")])


@pytest.mark.task("7.3")
def test_sequence_cross_entropy_refuses_bad_input(mod):
    expect_refusals(mod.sequence_cross_entropy, works=Call(PROBS3, IDS3), refuses=[
        (Call(PROBS3, [0, 3, 1], shown="sequence_cross_entropy(3×3 table, ids with a 3)"), "id 3 is outside an alphabet of 3"),
        (Call(PROBS3, IDS3, reduction="average", shown="sequence_cross_entropy(..., reduction='average')"),
         "the reductions are 'mean', 'sum' and 'none'"),
        (Call([[0.5, 0.6], [0.5, 0.5]], [0, 1], shown="sequence_cross_entropy(a row summing to 1.1, ids)"),
         "each row must be a distribution"),
        (Call(PROBS3, [1], shown="sequence_cross_entropy(probs, [1])"), "one character makes no prediction to score"),
    ])


@pytest.mark.task("7.3")
def test_the_reductions_agree(mod):
    mod.sequence_cross_entropy(PROBS3, IDS3)  # one plain call first: an unfinished stub stops here

    @given(case=model_and_text())
    def check(case):
        probs, ids = case
        each = expect_shape(mod.sequence_cross_entropy(probs, ids, reduction="none"), (len(ids) - 1,),
                            f"sequence_cross_entropy(probs, {len(ids)} ids, reduction='none')",
                            diagnoses={(len(ids),): f"off by one: {len(ids)} characters give {len(ids) - 1} (context, next) pairs"})
        expect_close(each, [-math.log(probs[c, t]) for c, t in zip(ids[:-1], ids[1:])],
                     f"sequence_cross_entropy(probs, {len(ids)} ids, reduction='none') against -ln q of each pair", rtol=1e-9)
        expect_close(mod.sequence_cross_entropy(probs, ids), each.mean(), "the 'mean' reduction vs the mean of 'none'",
                     rtol=1e-9)
        expect_close(mod.sequence_cross_entropy(probs, ids, reduction="sum"), each.sum(),
                     "the 'sum' reduction vs the sum of 'none'", rtol=1e-9)

    check()


# --- 7.4 bits_per_character -------------------------------------------------------------


@pytest.mark.task("7.4")
def test_bits_per_character(mod):
    expect_close(mod.bits_per_character(PROBS3, IDS3), CE3 / LN2, "bits_per_character(probs, [0, 1, 0, 2, 2, 1])",
                 mistakes=[(CE3, "that is the CE in nats: a bit is ln 2 nats, so divide by ln 2"),
                           (CE3 * LN2, "you multiplied by ln 2: bits = nats / ln 2"),
                           (CE3 / LN2 / LN2, "converted twice: sequence_cross_entropy already gives nats, divide once"),
                           (CE3 / math.log(10), "that is in digits (base 10): bits use log base 2"),
                           (math.log2(CE3), "log2 of the loss is not a change of unit: divide the nats by ln 2"),
                           (CE3_SUM / LN2, "that is the summed loss in bits: bits per character use the mean")])
    train, _ = texts(mod)
    expect_close(mod.bits_per_character(np.full((V, V), 1 / V), train), math.log2(V),
                 "bits_per_character(uniform, training text)")


@pytest.mark.task("7.4")
def test_bits_are_nats_over_ln2(mod):
    mod.bits_per_character(PROBS3, IDS3)  # one plain call first: an unfinished stub stops here

    @given(case=model_and_text())
    def check(case):
        probs, ids = case
        nats = float(mod.sequence_cross_entropy(probs, ids))
        expect_close(mod.bits_per_character(probs, ids), nats / LN2, "bits_per_character vs sequence_cross_entropy / ln 2 "
                     f"for a {len(probs)}-character model and {len(ids)} ids", rtol=1e-9)

    check()


# --- 7.5 perplexity -----------------------------------------------------------------------


@pytest.mark.task("7.5")
def test_perplexity_by_hand(mod):
    expect_close(mod.perplexity(PROBS3, IDS3), math.exp(CE3), "perplexity(probs, [0, 1, 0, 2, 2, 1])",
                 mistakes=[(math.exp(CE3_SUM), "that is exp of the SUMMED loss, 1/q(text), the inverse likelihood of the "
                                               "whole text: perplexity is per character, from the MEAN loss"),
                           (math.exp(-CE3), "that is 1/perplexity, the geometric mean of the probabilities: the "
                                            "number of choices grows with the loss"),
                           (2 ** CE3, "2 ** nats mixes units: exp(nats), or 2 ** bits"),
                           (math.exp(CE3 / LN2), "exp of the loss in bits mixes units: exp(nats), or 2 ** bits"),
                           (CE3, "that is the cross-entropy itself: perplexity is the K with ln K = that loss"),
                           (5 / (0.5 + 0.6 + 0.3 + 0.4 + 0.35),
                            "that is 1 / the mean probability (an arithmetic mean): perplexity is exp of the mean "
                            "loss, the geometric mean of 1/q")])


@pytest.mark.task("7.5")
def test_perplexity_is_the_inverse_likelihood_per_character(mod):
    got = expect_number(mod.perplexity(PROBS3, IDS3), "perplexity(probs, [0, 1, 0, 2, 2, 1])")
    expect_close(got ** 5, 1 / LIKELIHOOD3, "perplexity(probs, [0, 1, 0, 2, 2, 1]) ** 5 (5 predictions): "
                 "the inverse likelihood 1/q(text) = 1/(.5·.6·.3·.4·.35)")


@pytest.mark.task("7.5")
def test_a_uniform_model_has_perplexity_v(mod):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # exp of a summed loss overflows: it gets its own diagnosis below
        short = mod.perplexity(np.full((V, V), 1 / V), [0, 1, 2, 3])
        train, _ = texts(mod)
        long = mod.perplexity(np.full((V, V), 1 / V), train)
    expect_close(short, 5.0, "perplexity(uniform over 5 characters, 4 ids)",
                 mistakes=[(125.0, "that is 5 ** 3, exp of the SUMMED loss of the 3 predictions: use the MEAN loss"),
                           (math.exp(math.log2(V)), "that is exp(log2 5): exp of a loss in bits. Perplexity is exp of the loss in nats"),
                           (math.log(V), "that is the cross-entropy ln 5 itself: perplexity is the K with ln K = that loss")])
    expect_close(long, 5.0, "perplexity(uniform over 5 characters, the training text)",
                 mistakes=[(np.inf, "exp of a SUMMED loss overflows on a long text: perplexity is exp of the MEAN loss")])


@pytest.mark.task("7.5")
def test_perplexity_is_exp_of_the_cross_entropy(mod):
    mod.perplexity(PROBS3, IDS3)  # one plain call first: an unfinished stub stops here

    @given(case=model_and_text())
    def check(case):
        probs, ids = case
        nats = float(mod.sequence_cross_entropy(probs, ids))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = mod.perplexity(probs, ids)
        expect_close(got, math.exp(min(nats, 709.0)), f"perplexity vs exp(sequence_cross_entropy) for {len(ids)} ids", rtol=1e-9,
                     mistakes=[(math.exp(min(nats * (len(ids) - 1), 709.0)), "that is exp of the SUMMED loss: use the mean")])

    check()


# --- 7.6 count_bigram_model ---------------------------------------------------------------

IDS_COUNT = [0, 1, 0, 2, 2, 1, 1, 0, 1]


@pytest.mark.task("7.6")
def test_count_model_by_hand(mod):
    call = "count_bigram_model([0, 1, 0, 2, 2, 1, 1, 0, 1], vocab_size=3, k=1)"
    got = mod.count_bigram_model(IDS_COUNT, vocab_size=3, k=1.0)
    expected = [[1 / 6, 3 / 6, 2 / 6], [3 / 6, 2 / 6, 1 / 6], [1 / 5, 2 / 5, 2 / 5]]
    mistakes = [(count_table(IDS_COUNT, 3, 1.0, transpose=True),
                 "the table is transposed. Row = context (ids[t]), column = next character (ids[t+1])"),
                (count_table(IDS_COUNT, 3, 1.0, wrap=True),
                 "off by one: the pairs wrap around (last character -> first): N characters give N-1 pairs"),
                (count_table(IDS_COUNT, 3, 1.0, once=True),
                 "repeated pairs were counted once (counts[contexts, targets] += 1 does that): every occurrence counts"),
                (count_table(IDS_COUNT, 3, 1e-12), "no smoothing: add k to every count before normalising"),
                (count_table(IDS_COUNT, 3, 1.0, k_seen_only=True),
                 "k was added only to the pairs that occur: add it to every cell, seen or not"),
                (count_table(IDS_COUNT, 3, 1.0, normalise="columns"),
                 "each COLUMN sums to 1: normalise each row, the distribution of the next character after one context"),
                (count_table(IDS_COUNT, 3, 1.0, normalise="total"),
                 "the whole table sums to 1: that is the joint distribution of pairs. Normalise each row on its own")]
    expect_close(expect_shape(got, (3, 3), call), expected, call, mistakes=mistakes)
    check_table(got, (3, 3), call)
    expect_close(mod.count_bigram_model(IDS_COUNT, vocab_size=3, k=0.5),
                 count_table(IDS_COUNT, 3, 0.5), "count_bigram_model(..., vocab_size=3, k=0.5)",
                 mistakes=[(expected, "k is a parameter: add the k you were given")])
    expect_close(mod.count_bigram_model(IDS_COUNT, vocab_size=4, k=1.0)[3], [0.25] * 4,
                 "count_bigram_model(..., vocab_size=4, k=1)[3], the row of a context that never occurs: "
                 "only its k pseudo-counts, so uniform")


@pytest.mark.task("7.6")
def test_count_model_refuses_bad_input(mod):
    expect_refusals(mod.count_bigram_model, works=Call(IDS_COUNT, vocab_size=3), refuses=[
        (Call(IDS_COUNT, vocab_size=3, k=0, shown="count_bigram_model(..., k=0)"), "add-k smoothing needs k > 0"),
        (Call([0, 1, 5], vocab_size=3), "id 5 is outside the alphabet"),
    ])


@pytest.mark.task("7.6")
def test_count_model_sits_between_the_entropy_rate_and_the_unigram_entropy(mod):
    train, heldout = texts(mod)
    q = check_table(mod.count_bigram_model(train), (V, V), "count_bigram_model(training text)")
    expect_close(q, count_table(list(train), V, 1.0), "count_bigram_model(training text)", rtol=1e-9)
    endless = rate(TRANSITIONS, q)
    # On endless text the guarantee is exact (Gibbs): H <= H(P, q).
    expect_true(ENTROPY_RATE < endless < UNIGRAM_ENTROPY,
                f"the count model's cross-entropy rate is {endless:.4f} nats; it must lie between the entropy rate "
                f"{ENTROPY_RATE} and the unigram entropy {UNIGRAM_ENTROPY}")
    # On the held-out characters it is a sample: close to the rate, within chance.
    truth = -np.log(TRANSITIONS[heldout[:-1], heldout[1:]])
    chance = 3 * truth.std() / math.sqrt(len(truth))
    measured = nll(q, zip(heldout[:-1], heldout[1:]))
    expect_true(abs(measured - endless) < chance and measured < UNIGRAM_ENTROPY,
                f"the count model scores {measured:.4f} nats on held-out text, its rate is {endless:.4f}: "
                f"they should agree within chance (±{chance:.3f})")


# --- 7.7 train_bigram ---------------------------------------------------------------------


@pytest.mark.task("7.7")
def test_training_follows_plain_gradient_descent(mod, trained):
    train, _ = texts(mod)
    got = trained
    if not isinstance(got, tuple) or len(got) != 2:
        what = f"a {type(got).__name__} of length {len(got)}" if isinstance(got, (tuple, list)) else type(got).__name__
        fail(f"train_bigram(training text) returned {what}, expected a tuple (probs, losses)")
    probs, losses = got
    losses = expect_shape(losses, (50,), "train_bigram(training text): losses",
                          diagnoses={(51,): "one loss per step: record the loss of each of the `steps` steps, before its update",
                                     (49,): "one loss per step: record the loss of each of the `steps` steps, before its update"})
    if not math.isclose(float(losses[0]), math.log(V), rel_tol=1e-9):
        _, after = gradient_descent(train, V, 5.0, 1, record_after=True)
        expect_close(losses[0], math.log(V), "train_bigram(training text): losses[0]",
                     mistakes=[(math.log2(V), "that is in bits: F.cross_entropy gives nats, keep them"),
                               (math.log(V) * (len(train) - 1), "that is the summed loss: the contract says the mean over pairs"),
                               (after[0], "that is the loss after the first update: the losses were recorded after the "
                                          "update, record each step's loss before it (losses[0] is the uniform start, ln V)")])
    oracle_probs, oracle = gradient_descent(train, V, 5.0, 50)
    if not np.allclose(losses, oracle, rtol=1e-9):
        _, no_zero = gradient_descent(train, V, 5.0, 50, zero_grad=False)
        _, after = gradient_descent(train, V, 5.0, 50, record_after=True)
        _, single = gradient_descent(train, V, 5.0, 50, dtype=torch.float32)
        _, climbing = gradient_descent(train, V, -5.0, 50)
        _, summed = gradient_descent(train, V, 5.0, 50, reduction="sum")
        _, heavy = gradient_descent(train, V, 5.0, 50,
                                    optimizer=lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9))
        expect_close(losses, oracle, "train_bigram(training text): losses", rtol=1e-9,
                     mistakes=[(no_zero, "the gradients pile up: clear the gradient after every update"),
                               (after, "the losses were recorded after the update: record each step's loss before it"),
                               (climbing, "the loss climbs: step AGAINST the gradient, W minus lr times the gradient"),
                               (single, "that is float32 training: keep the table float64 (dtype=torch.float64)"),
                               (oracle / LN2, "those are bits: F.cross_entropy gives nats, keep them"),
                               (summed / (len(train) - 1), "the steps followed the SUMMED loss, whose gradient is N-1 "
                                "times the mean's: step on the mean cross-entropy, as the contract says"),
                               (summed, "those are summed losses: the contract says the mean over the pairs"),
                               (heavy, "that is SGD with momentum: plain gradient descent has none")])
    raw = probs.detach().numpy() if hasattr(probs, "detach") else np.asarray(probs)
    if raw.dtype != np.float64:
        fail(f"train_bigram(training text): probs came back as {raw.dtype}, expected float64: keep the table float64 "
             "from the start (dtype=torch.float64)")
    probs = check_table(probs, (V, V), "train_bigram(training text): probs")
    if not np.allclose(probs, oracle_probs, rtol=1e-9, atol=1e-15):
        before, _ = gradient_descent(train, V, 5.0, 49)  # the softmax before the 50th update
        expect_close(probs, oracle_probs, "train_bigram(training text): probs", rtol=1e-9, atol=1e-15,
                     mistakes=[(before, "those are the probabilities from before the last update: return the softmax "
                                        "of the logits after the loop has made all `steps` updates")])


@pytest.mark.task("7.7")
def test_the_trained_model_approaches_the_unsmoothed_count_model(mod, trained):
    train, _ = texts(mod)
    probs, losses = trained
    pairs = list(zip(train[:-1], train[1:]))
    # Gradient descent minimises the training CE: its limit is the unsmoothed (k -> 0) count table, the
    # maximum-likelihood bigram model. (Every character of the training text is a context, so k = 0 divides by no 0.)
    mle_ce = nll(count_table(list(train), V, 0.0), pairs)
    expect_true(abs(nll(count_table(list(train), V, 1.0), pairs) - mle_ce) < 0.001,
                "the tests' own oracle: the add-one table should be within 0.001 nats of the unsmoothed one")
    trained_ce = nll(np.asarray(probs, dtype=float), pairs)
    expect_true(abs(trained_ce - mle_ce) < 0.02,
                f"after 50 steps the trained bigram scores {trained_ce:.4f} nats on its training text, the unsmoothed "
                f"count model {mle_ce:.4f}: they minimise the same loss and should end within 0.02 nats")
    last = float(np.asarray(losses)[-1])
    expect_true(abs(last - mle_ce) < 0.02,
                f"the last training loss is {last:.4f} nats, the unsmoothed count model's {mle_ce:.4f}: "
                "they should end within 0.02 nats")


@pytest.mark.task("7.7")
def test_trained_model_sits_between_the_entropy_rate_and_the_unigram_entropy(mod, trained):
    probs, _ = trained
    endless = rate(TRANSITIONS, np.asarray(probs, dtype=float))
    expect_true(ENTROPY_RATE < endless < UNIGRAM_ENTROPY,
                f"the trained model's cross-entropy rate is {endless:.4f} nats; it must lie between the entropy rate "
                f"{ENTROPY_RATE} and the unigram entropy {UNIGRAM_ENTROPY}")


@pytest.mark.task("7.7")
def test_a_learning_rate_of_zero_takes_no_step(mod):
    ids = [0, 1, 2, 1, 1, 0]
    probs, losses = mod.train_bigram(ids, vocab_size=3, lr=0.0, steps=3)
    expect_close(losses, [math.log(3)] * 3, "train_bigram([0, 1, 2, 1, 1, 0], vocab_size=3, lr=0, steps=3): losses")
    expect_close(probs, np.full((3, 3), 1 / 3), "train_bigram(..., lr=0, steps=3): probs (lr 0 never leaves the start)")


@pytest.mark.task("7.7")
def test_train_bigram_refuses_bad_settings(mod):
    expect_refusals(mod.train_bigram, works=Call([0, 1, 2, 1], vocab_size=3, steps=1), refuses=[
        (Call([0, 1, 2, 1], vocab_size=3, lr=-1.0, shown="train_bigram(..., lr=-1)"), "a negative learning rate climbs the loss"),
        (Call([0, 1, 2, 1], vocab_size=3, lr=math.nan, shown="train_bigram(..., lr=nan)"), "a learning rate is a finite number"),
        (Call([0, 1, 2, 1], vocab_size=3, steps=0, shown="train_bigram(..., steps=0)"), "training needs at least one step"),
    ])


@pytest.mark.task("7.7")
def test_figure_numbers_training_curve(mod):
    results = mod.language_model_results()
    losses = expect_shape(results["losses"], (50,), "language_model_results()['losses']")
    expect_close(losses[0], math.log2(V), "the training curve at step 0 (bits)")
    expect_close(results["entropy_rate"], ENTROPY_RATE_BITS, "the entropy-rate line (bits)")
    expect_close(results["unigram_entropy"], UNIGRAM_ENTROPY_BITS, "the unigram-entropy line (bits)")
    for name in ("count", "trained"):
        endless = expect_number(results[name]["endless"], f"the {name} model on endless text")
        expect_true(ENTROPY_RATE_BITS < endless < UNIGRAM_ENTROPY_BITS,
                    f"the {name} model's exact rate {endless:.4f} bits must lie between the entropy rate and the unigram entropy")
        expect_true(results[name]["heldout"] < UNIGRAM_ENTROPY_BITS,
                    f"the {name} model scores {results[name]['heldout']:.4f} bits on held-out text, above the unigram entropy")
    count_train = expect_number(results["count"]["train"], "language_model_results()['count']['train']")
    trained_train = expect_number(results["trained"]["train"], "language_model_results()['trained']['train']")
    expect_true(abs(count_train - trained_train) < 0.02 / LN2,
                f"language_model_results(): on the training text the trained model scores {trained_train:.4f} bits and "
                f"the add-one count model {count_train:.4f} bits; expected them within 0.02 nats "
                f"({0.02 / LN2:.4f} bits) of each other")
    unigram = expect_number(results["unigram"]["endless"], "the unigram model on endless text")
    expect_true(unigram >= UNIGRAM_ENTROPY_BITS - 1e-9, f"the unigram model's rate {unigram:.4f} bits is below the unigram entropy")


@pytest.mark.task("7.7")
@pytest.mark.mpl_image_compare(filename="module07_training_curve.png")
def test_figure_training_curve(mod):
    return mod.plot_training_curve()


# --- 7.8 learning_rate_sweep ----------------------------------------------------------------


@pytest.mark.task("7.8")
def test_sweep_matches_gradient_descent(mod):
    train, _ = texts(mod)
    lrs = (20.0, 1.0)  # not ascending: the results follow the order given
    call = "learning_rate_sweep(training text, lrs=(20, 1), steps=10)"
    got = expect_shape(mod.learning_rate_sweep(train, lrs=lrs, steps=10), (2,), call)
    pairs = list(zip(train[:-1], train[1:]))
    finals, befores, means, lowest = [], [], [], []
    for lr in lrs:
        probs, losses = gradient_descent(train, V, lr, 10)
        finals.append(nll(probs, pairs))
        befores.append(losses[-1])
        means.append(losses.mean())
        lowest.append(min(losses.min(), finals[-1]))
    default_lr = [nll(gradient_descent(train, V, 5.0, 10)[0], pairs)] * 2
    default_steps = [nll(gradient_descent(train, V, lr, 50)[0], pairs) for lr in lrs]
    expect_close(got, finals, call, rtol=1e-9,
                 mistakes=[(befores, "those are losses[-1], from before the last update: score the probs train_bigram returns"),
                           (means, "those are the mean losses over training: keep the loss after the last step"),
                           (finals[::-1], "the learning rates were taken in another order (sorted?): return one "
                                          "value per learning rate in the order lrs gives them"),
                           (lowest, "that is the lowest loss seen during training: keep the loss after the last step"),
                           (default_lr, "every run used the same learning rate: pass each lr of lrs to train_bigram"),
                           (default_steps, "those runs took 50 steps: pass the sweep's steps to train_bigram"),
                           (np.array(finals) / LN2, "those are bits: the sweep returns nats")])


@pytest.mark.task("7.8")
def test_sweep_with_a_learning_rate_of_zero(mod):
    got = expect_shape(mod.learning_rate_sweep([0, 1, 2, 1, 1, 0], lrs=(0.0, 1.0), vocab_size=3, steps=4), (2,),
                       "learning_rate_sweep([0, 1, 2, 1, 1, 0], lrs=(0, 1), vocab_size=3, steps=4)")
    expect_close(got[0], math.log(3), "the sweep's final loss at lr 0 (no step: the uniform start, ln 3)")


@pytest.mark.task("7.8")
def test_figure_numbers_learning_rate_sweep(mod, full_sweep):
    finals = expect_shape(full_sweep, (9,), "learning_rate_sweep(training text)")
    expect_true(np.all(np.isfinite(finals)) and np.all(finals > 1.0),
                f"learning_rate_sweep(training text) returned {show(finals)}: expected every final loss to be a finite "
                "number of nats above 1")
    lrs = list(mod.LEARNING_RATES)
    best = lrs[int(np.argmin(finals))]
    expect_true(lrs[0] < best < lrs[-1], f"the best learning rate came out as {best:g}: the too-small and too-large ends should lose")
    expect_true(finals[0] > finals[lrs.index(5.0)] + 0.1 and finals[-1] > finals[lrs.index(5.0)] + 0.1,
                f"the final losses {show(finals)} should be clearly worse at the smallest and the largest "
                "learning rate than at lr 5")


@pytest.mark.task("7.8")
def test_sweep_refuses_bad_learning_rates(mod):
    expect_refusals(mod.learning_rate_sweep, works=Call([0, 1, 2, 1], lrs=(0.5,), vocab_size=3, steps=1), refuses=[
        (Call([0, 1, 2, 1], lrs=(), vocab_size=3, shown="learning_rate_sweep(..., lrs=())"), "there is no learning rate to try"),
        (Call([0, 1, 2, 1], lrs=(0.5, -1.0), vocab_size=3, shown="learning_rate_sweep(..., lrs=(0.5, -1))"),
         "a negative learning rate climbs the loss"),
    ])


@pytest.mark.task("7.8")
@pytest.mark.mpl_image_compare(filename="module07_learning_rate_sweep.png")
def test_figure_learning_rate_sweep(mod):
    return mod.plot_learning_rate_sweep()


# --- 7.9 code_length_bits -------------------------------------------------------------------


@pytest.mark.task("7.9")
def test_code_length_by_hand(mod):
    call = "code_length_bits(probs, [0, 1, 0, 2, 2, 1])"
    mistakes = [(m * 5 / LN2, why.replace("cross-entropy", "code length")) for m, why in pairing_mistakes(PROBS3, IDS3, CE3)
                if "SUM" not in why and "divided by N" not in why and "minus" not in why and "in bits" not in why]
    expect_close(mod.code_length_bits(PROBS3, IDS3), CODE3_BITS, call,
                 mistakes=[(CE3_SUM, "that is in nats: a code length is in bits, base-2 logarithms"),
                           (CE3 / LN2, "that is per character (the mean): the code length is the total for the whole text"),
                           (CODE3_BITS / 6, "that is per character of all 6 (and the code length is a total, not a mean)"),
                           (-CODE3_BITS, "a negative code length: the minus sign of -log2 q is missing"),
                           (CODE3_BITS + math.log2(3), "you charged the first character log2 V bits: the code length "
                                                       "counts the N-1 predicted characters, like the summed loss"),
                           (CE3 / LN2 * 6, "that is the mean times N = 6: N characters make N-1 = 5 predictions, so "
                                           "the total is the sum of their 5 costs"),
                           (sum(math.ceil(-math.log2(q)) for q in (0.5, 0.6, 0.3, 0.4, 0.35)),
                            "you rounded each character's cost up to whole bits: the ideal code length keeps the "
                            "fractions (an arithmetic coder gets within a few bits of it for the whole text)")] + mistakes)


@pytest.mark.task("7.9")
def test_code_length_with_cells_of_probability_zero(mod):
    call = "code_length_bits(q, [0, 1, 0, 2, 2, 0, 2, 0, 1]) for q = [[0, .5, .5], [1, 0, 0], [.5, 0, .5]]"
    expect_close(quietly(mod.code_length_bits, P3, IDS3_ALLOWED), 7.0, call + " (seven characters of probability 1/2)",
                 mistakes=[(np.nan, "NaN: the zeros of q that the text never uses got into the sum (0·log 0): "
                                    "take q(next | context) for each pair only")])
    got = expect_number(quietly(mod.code_length_bits, P3, IDS3_FORBIDDEN), "code_length_bits(q, [0, 0, 1])")
    expect_true(got == math.inf, f"code_length_bits(q, [0, 0, 1]) returned {show(got)}, expected inf: the model gives "
                "0 -> 0 probability 0, and a code built on it cannot write that character down (no eps, no clipping)")


@pytest.mark.task("7.9")
def test_the_ideal_code_length_is_the_summed_cross_entropy_in_bits(mod):
    mod.code_length_bits(PROBS3, IDS3)  # one plain call first: an unfinished stub stops here

    @given(case=model_and_text())
    def check(case):
        probs, ids = case
        summed = float(mod.sequence_cross_entropy(probs, ids, reduction="sum"))
        expect_close(mod.code_length_bits(probs, ids), summed / LN2,
                     f"code_length_bits vs the summed cross-entropy / ln 2 for a {len(probs)}-character model and "
                     f"{len(ids)} ids", rtol=1e-9,
                     mistakes=[(summed, "that is in nats: a code length is in bits")])

    check()


@pytest.mark.task("7.9")
def test_code_lengths_of_the_heldout_text_approach_the_rates(mod):
    """Per character, a long text's code length is close to the model's expected one, which no model takes below H."""
    train, heldout = texts(mod)
    n = len(heldout) - 1
    models = {"the true chain": TRANSITIONS, "the count model": count_table(list(train), V, 1.0),
              "a uniform model": np.full((V, V), 1 / V)}
    for name, q in models.items():
        per_character = expect_number(mod.code_length_bits(q, heldout), f"code_length_bits({name}, held-out text)") / n
        expected = rate(TRANSITIONS, q) / LN2
        spread = 4 * np.std(-np.log2(q[heldout[:-1], heldout[1:]])) / math.sqrt(n) + 1e-9
        expect_true(abs(per_character - expected) <= spread,
                    f"code_length_bits({name}, held-out text) / {n} = {per_character:.4f} bits per character, but its "
                    f"expected code length per character (its cross-entropy rate in bits) is {expected:.4f}: on "
                    f"{n} predictions they should agree within {spread:.4f}")
        expect_true(per_character > ENTROPY_RATE_BITS,
                    f"{name} codes the held-out text in {per_character:.4f} bits per character, below the entropy rate "
                    f"{ENTROPY_RATE_BITS}: on this text every model's code length lies above it")


# --- 7.10 compressed_bits_per_character -------------------------------------------------------


def compressed(data: bytes, method: str, **options) -> int:
    return len(zlib.compress(data, options.get("level", 9)) if method == "zlib" else lzma.compress(data, **options))


def _close_enough(got, expected) -> bool:
    try:
        return bool(np.isclose(float(got), expected, rtol=1e-9, atol=0.0))
    except (TypeError, ValueError):
        return False


@pytest.mark.task("7.10")
def test_compressors_on_the_heldout_text(mod):
    _, heldout = texts(mod)
    text = mod.decode(heldout)
    data, n = text.encode("ascii"), len(text)
    for method, expected in (("zlib", ZLIB_HELDOUT), ("lzma", LZMA_HELDOUT)):
        bits = 8 * compressed(data, method)
        expect_close(bits / n, expected, f"the tests' own {method} oracle on the held-out text", rtol=1e-9)
        got = mod.compressed_bits_per_character(text, method)
        if _close_enough(got, expected):
            continue
        other = 8 * compressed(data, "lzma" if method == "zlib" else "zlib")
        mistakes = [(bits / 8 / n, "those are bytes per character: a byte is 8 bits"),
                    (bits, "that is the size of the whole file in bits: divide by the number of characters"),
                    (bits / (n - 1), f"you divided by N-1: the text has N = {n} characters, and each is in the file"),
                    (other / n, "the methods are swapped: 'zlib' is zlib, 'lzma' is lzma"),
                    (8 * compressed(text.encode("utf-16"), method) / n,
                     "that is the UTF-16 text (2 bytes per character): encode it as ASCII, one byte per character"),
                    (8 * compressed(text.encode("utf-32"), method) / n,
                     "that is the UTF-32 text (4 bytes per character): encode it as ASCII, one byte per character")]
        if method == "zlib":
            mistakes.append((8 * compressed(data, "zlib", level=6) / n,
                             "that is zlib's default level 6: the contract says level 9, zlib's best"))
            mistakes.append(((bits - 48) / n, "that is raw deflate, without zlib's 2-byte header and 4-byte "
                                              "checksum: zlib.compress(data, 9) keeps them"))
        else:
            mistakes.append((8 * compressed(data, "lzma", format=lzma.FORMAT_ALONE) / n,
                             "that is the legacy .lzma format: the contract says lzma's default, the .xz format"))
        expect_close(got, expected,
                     f"compressed_bits_per_character(held-out text, {method!r})", rtol=1e-9, mistakes=mistakes)


@pytest.mark.task("7.10")
def test_compressors_pay_headers_on_short_texts(mod):
    for method, expected in (("zlib", 72.0), ("lzma", 480.0)):
        try:
            got = mod.compressed_bits_per_character("a", method)
        except ZeroDivisionError:
            fail(f"compressed_bits_per_character('a', {method!r}) divided by zero: a one-character text has N = 1 "
                 "character and N-1 = 0; divide the file's bits by N, the number of characters")
        expect_close(got, expected,
                     f"compressed_bits_per_character('a', {method!r}): one character, a whole header",
                     mistakes=[(expected / 8, "those are bytes: a byte is 8 bits")])
    expect_close(mod.compressed_bits_per_character("a" * HELDOUT_CHARS, "zlib"),
                 8 * compressed(b"a" * HELDOUT_CHARS, "zlib") / HELDOUT_CHARS,
                 f"compressed_bits_per_character('a' * {HELDOUT_CHARS}, 'zlib'), a text of one repeated character", rtol=1e-9)


@pytest.mark.task("7.10")
def test_what_is_true_of_zlib_and_lzma_on_this_text(mod):
    """The lesson's claims, on the course's texts: above the entropy rate, below the unigram entropy when long enough."""
    train, heldout = texts(mod)
    long = {m: mod.compressed_bits_per_character(mod.decode(heldout), m) for m in ("zlib", "lzma")}
    short = {m: mod.compressed_bits_per_character(mod.decode(train), m) for m in ("zlib", "lzma")}
    count_code = nll(count_table(list(train), V, 1.0), zip(heldout[:-1], heldout[1:])) / LN2
    expect_true(ENTROPY_RATE_BITS < count_code < long["lzma"] < long["zlib"] < UNIGRAM_ENTROPY_BITS,
                f"on the held-out text the order should be: the entropy rate {ENTROPY_RATE_BITS} < the count model's ideal "
                f"code {count_code:.4f} < lzma < zlib < the unigram entropy {UNIGRAM_ENTROPY_BITS}; got lzma "
                f"{long['lzma']:.4f} and zlib {long['zlib']:.4f} bits per character")
    expect_true(min(short.values()) > UNIGRAM_ENTROPY_BITS,
                f"on the 3000 training characters zlib needs {short['zlib']:.4f} and lzma {short['lzma']:.4f} bits per "
                f"character: both should be above the unigram entropy {UNIGRAM_ENTROPY_BITS} (too short to learn much)")
    repeated = mod.compressed_bits_per_character("a" * HELDOUT_CHARS, "zlib")
    expect_true(repeated < 0.1, f"a text of {HELDOUT_CHARS} a's costs {repeated:.4f} bits per character with zlib: "
                "a single text that the chain would practically never write can go far below the entropy rate")


@pytest.mark.task("7.10")
def test_compressed_bits_refuse_bad_input(mod):
    expect_refusals(mod.compressed_bits_per_character, works=Call("at ten"), refuses=[
        (Call("at ten", "gzip"), "the methods are 'zlib' and 'lzma'"),
        (Call(""), "an empty text has nothing to compress"),
        (Call(np.array([1, 3, 0]), shown="compressed_bits_per_character(ids)"), "the text is a string: decode(ids) first"),
        (Call("ætt"), "the text must be ASCII, one byte per character"),
    ])


@pytest.mark.task("7.10")
def test_figure_numbers_code_lengths(mod):
    results = mod.code_length_results()
    expect_close(results["entropy_rate"], ENTROPY_RATE_BITS, "code_length_results()['entropy_rate'] (bits)")
    by_n_minus_1 = "you divided by N-1: each of the N characters is in the file, divide by N"
    for method, expected in (("zlib", ZLIB_HELDOUT), ("lzma", LZMA_HELDOUT)):
        expect_close(results[method], expected, f"code_length_results()[{method!r}]", rtol=1e-9,
                     mistakes=[(expected * HELDOUT_CHARS / (HELDOUT_CHARS - 1), by_n_minus_1)])
    expect_close(results["true chain"]["expected"], ENTROPY_RATE_BITS, "the true chain's expected code length")
    expect_close(results["uniform"]["measured"], math.log2(V), "the uniform model's code length per character")
    for name in ("true chain", "count", "unigram", "uniform"):
        row = results[name]
        expect_close(row["wasted"], row["expected"] - ENTROPY_RATE_BITS, f"code_length_results()[{name!r}]['wasted']",
                     atol=1e-6)
        expect_true(row["measured"] > ENTROPY_RATE_BITS, f"{name}: every code should lie above the entropy rate")


@pytest.mark.task("7.10")
@pytest.mark.mpl_image_compare(filename="module07_code_lengths.png")
def test_figure_code_lengths(mod):
    return mod.plot_code_lengths()
