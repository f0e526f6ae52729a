"""Module 7: cross-entropy for a character language model.

Oracles: hand-computed constants (a two-state chain, small texts), the course
chain's entropy rate from scipy's left eigenvector (computed once, written
here), and the tests' own numpy / torch code (a plain count table, a plain
gradient-descent loop). Never the reference module.
"""

import functools
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from kata.testing.expect import expect_close, expect_number, expect_raises, expect_shape, expect_true, fail, show
from kata.testing.strategies import distributions

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
ENTROPY_RATE = 1.099732      # nats: -Σ π_i Σ_j P_ij ln P_ij, π from scipy.linalg.eig(P, left=True)
ENTROPY_RATE_BITS = 1.586578
UNIGRAM_ENTROPY = 1.533916   # nats: -Σ π_i ln π_i
UNIGRAM_ENTROPY_BITS = 2.212973
ROW_MEAN_ENTROPY = 1.112308  # the rows' entropies averaged evenly (a mistake)

# A two-state chain by hand: π = [5/6, 1/6].
P2 = [[0.9, 0.1], [0.5, 0.5]]
Q2 = [[0.8, 0.2], [0.6, 0.4]]
H2 = 0.386427                # 5/6·(-.9 ln .9 - .1 ln .1) + 1/6·ln 2
H2_ROW_MEAN = 0.509115       # (0.325083 + 0.693147) / 2
H2_ROW_SUM = 1.018230
RATE2 = 0.420404             # 5/6·(-.9 ln .8 - .1 ln .2) + 1/6·(-.5 ln .6 - .5 ln .4)
RATE2_ROW_MEAN = 0.537666
RATE2_SWAPPED = 0.569529     # -Σ π_i Σ_j Q_ij ln P_ij

# A small text and table by hand.
PROBS3 = [[0.2, 0.5, 0.3], [0.6, 0.1, 0.3], [0.25, 0.35, 0.4]]
IDS3 = [0, 1, 0, 2, 2, 1]
# pairs (0,1) (1,0) (0,2) (2,2) (2,1): -ln of .5 .6 .3 .4 .35
LOSSES3 = [0.693147, 0.510826, 1.203973, 0.916291, 1.049822]
CE3 = 0.874812
CE3_SUM = 4.374058


# --- oracles written here --------------------------------------------------------


def stationary(P):
    """π by power iteration (the reference solves a linear system instead)."""
    P = np.asarray(P, dtype=float)
    pi = np.full(len(P), 1.0 / len(P))
    for _ in range(2000):
        pi = pi @ P
    return pi / pi.sum()


def rate(P, Q):
    P, Q = np.asarray(P, dtype=float), np.asarray(Q, dtype=float)
    return float(stationary(P) @ -(P * np.log(Q)).sum(axis=1))


def nll(probs, pairs):
    """Mean -ln probs[c][t] over (c, t) pairs, in plain Python."""
    pairs = list(pairs)
    return sum(-math.log(probs[c][t]) for c, t in pairs) / len(pairs)


def pairing_mistakes(probs, ids, expected_mean):
    """Mean CEs that known pairing and unit mistakes produce, with their diagnoses."""
    ids = list(ids)
    n = len(ids)
    return [
        (expected_mean * (n - 1), "that is the SUM of the losses: the default reduction is the mean per character"),
        (expected_mean / LN2, "that is in bits: use the natural log (np.log) where nats are expected"),
        (-expected_mean, "a negative cross-entropy: the minus sign in -ln q is missing"),
        (nll(probs, list(zip(ids[1:], ids[:-1]))),
         "off by one: context and next character are swapped. The context is ids[t], the target ids[t+1]"),
        (nll(probs, list(zip(ids, ids))),
         "off by one: each character is paired with itself. The target is the NEXT character, ids[t+1]"),
        (nll(probs, list(zip(ids[:-1], ids[:-1]))),
         "off by one: each character is paired with itself. The target is the NEXT character, ids[t+1]"),
        (nll(probs, list(zip(ids[1:], ids[1:]))),
         "off by one: each character is paired with itself. The target is the NEXT character, ids[t+1]"),
        (nll(probs, list(zip(ids, ids[1:] + ids[:1]))),
         "off by one: the pairs wrap around (the last character has no next one): N characters give N-1 pairs"),
        (nll(probs, list(zip(ids[:-2], ids[2:]))),
         "off by one: you skipped a character. The target of ids[t] is ids[t+1]"),
    ]


def count_table(ids, vocab_size, k, *, transpose=False, once=False, wrap=False):
    counts = np.zeros((vocab_size, vocab_size))
    ids = list(ids)
    for c, t in zip(ids, ids[1:] + ids[:1]) if wrap else zip(ids[:-1], ids[1:]):
        if once:
            counts[c, t] = 1.0
        else:
            counts[c, t] += 1.0
    if transpose:
        counts = counts.T
    smoothed = counts + k
    return smoothed / smoothed.sum(axis=1, keepdims=True)


def gradient_descent(ids, vocab_size, lr, steps, *, zero_grad=True, reduction="mean", extra_step=False):
    """The training loop, written independently; returns (probs, losses)."""
    contexts = torch.tensor(np.asarray(ids[:-1]), dtype=torch.long)
    targets = torch.tensor(np.asarray(ids[1:]), dtype=torch.long)
    W = torch.zeros(vocab_size, vocab_size, dtype=torch.float64, requires_grad=True)
    losses = []
    for _ in range(steps + int(extra_step)):
        loss = F.cross_entropy(W[contexts], targets, reduction=reduction)
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            W.sub_(lr * W.grad)
        if zero_grad:
            W.grad = None
    return torch.softmax(W, dim=1).detach().numpy(), np.array(losses)


def texts(mod):
    train, heldout = mod.corpus()
    return np.asarray(train), np.asarray(heldout)


@functools.lru_cache(maxsize=2)
def trained(mod):
    """The learner's train_bigram on the training text (trained once per run)."""
    train, _ = texts(mod)
    return mod.train_bigram(train)


@functools.lru_cache(maxsize=2)
def full_sweep(mod):
    train, _ = texts(mod)
    return mod.learning_rate_sweep(train)


def check_table(got, shape, call):
    got = expect_shape(got, shape, call)
    expect_true(np.all(got >= 0), f"{call} has negative probabilities: {got.min():.4g}")
    sums = got.sum(axis=1)
    expect_true(np.allclose(sums, 1.0, atol=1e-6),
                f"{call}: each row must be a distribution over the next character, but the row sums are {np.round(sums, 4)}: "
                "divide each row by its own sum (axis=1, keepdims=True)")
    return got


# --- the data ----------------------------------------------------------------------


@pytest.mark.task("7.1")
def test_the_chain_is_the_one_the_numbers_belong_to(mod):
    rate(TRANSITIONS, TRANSITIONS)  # (sanity of the oracle itself below)
    expect_close(rate(TRANSITIONS, TRANSITIONS), ENTROPY_RATE, "the tests' own entropy-rate oracle")
    mod.entropy_rate(mod.TRANSITIONS)  # your cross_entropy_rate must work first
    expect_true(np.array_equal(np.asarray(mod.TRANSITIONS), TRANSITIONS),
                "TRANSITIONS was changed: the course's numbers belong to the original chain (make reset-module-7 restores it)")
    train, heldout = texts(mod)
    expect_true(len(train) == 3000 and len(heldout) == 3000 and not np.array_equal(train, heldout),
                "corpus() should give two different texts of 3000 characters")


# --- 7.1 cross_entropy_rate ----------------------------------------------------------


@pytest.mark.task("7.1")
def test_entropy_rate_of_a_two_state_chain(mod):
    expect_close(mod.cross_entropy_rate(P2, P2), H2, "cross_entropy_rate(P, P) for P = [[.9, .1], [.5, .5]]",
                 mistakes=[(H2 / LN2, "that is in bits: use the natural log (nats)"),
                           (H2_ROW_MEAN, "you averaged the rows evenly: weight row i by π_i, how often the chain is in state i"),
                           (H2_ROW_SUM, "you added the rows' entropies: weight row i by π_i (the weights sum to 1)"),
                           (-H2, "a negative rate: the minus sign is missing")])


@pytest.mark.task("7.1")
def test_cross_entropy_rate_of_a_wrong_model(mod):
    call = "cross_entropy_rate(P, q) for P = [[.9, .1], [.5, .5]], q = [[.8, .2], [.6, .4]]"
    expect_close(mod.cross_entropy_rate(P2, Q2), RATE2, call,
                 mistakes=[(RATE2_SWAPPED, "the tables are swapped: the truth P weights the log of the model q"),
                           (RATE2 / LN2, "that is in bits: use the natural log (nats)"),
                           (RATE2_ROW_MEAN, "you averaged the rows evenly: weight row i by π_i"),
                           (-RATE2, "a negative rate: the minus sign is missing")])
    expect_close(mod.cross_entropy_rate(P2, [[0.5, 0.5], [0.5, 0.5]]), LN2, "cross_entropy_rate(P, uniform)")


@pytest.mark.task("7.1")
def test_entropy_rate_of_the_course_chain(mod):
    expect_close(mod.entropy_rate(mod.TRANSITIONS), ENTROPY_RATE, "entropy_rate(TRANSITIONS)",
                 mistakes=[(ENTROPY_RATE_BITS, "that is in bits: use the natural log (nats)"),
                           (ROW_MEAN_ENTROPY, "you averaged the rows evenly: weight row i by π_i")])
    expect_close(mod.entropy_rate(mod.TRANSITIONS) / LN2, ENTROPY_RATE_BITS, "entropy_rate(TRANSITIONS) / ln 2 (bits)")
    expect_close(mod.unigram_entropy(mod.TRANSITIONS), UNIGRAM_ENTROPY, "unigram_entropy(TRANSITIONS)")
    expect_close(mod.unigram_entropy(mod.TRANSITIONS) / LN2, UNIGRAM_ENTROPY_BITS, "unigram_entropy(TRANSITIONS) in bits")


@pytest.mark.task("7.1")
def test_cross_entropy_rate_refuses_bad_tables(mod):
    mod.cross_entropy_rate(P2, Q2)  # the function must work before its checks matter
    expect_raises(ValueError, mod.cross_entropy_rate, P2, np.full((3, 3), 1 / 3),
                  call="cross_entropy_rate(2×2 chain, 3×3 model)", why="the alphabets differ")
    expect_raises(ValueError, mod.cross_entropy_rate, P2, [[0.8, 0.3], [0.6, 0.4]],
                  call="cross_entropy_rate(P, q with a row summing to 1.1)", why="a row of q is not a distribution")
    expect_raises(ValueError, mod.cross_entropy_rate, [[1.2, -0.2], [0.5, 0.5]], Q2,
                  call="cross_entropy_rate(P with a negative entry, q)", why="probabilities cannot be negative")
    expect_raises(ValueError, mod.cross_entropy_rate, [0.5, 0.5], [0.5, 0.5],
                  call="cross_entropy_rate([.5, .5], [.5, .5])", why="a chain needs a square (V, V) table")


@st.composite
def chain_tables(draw, n=None):
    n = draw(st.integers(2, 5)) if n is None else n
    return np.stack([draw(distributions(n, floor=0.05)) for _ in range(n)])


@pytest.mark.task("7.1")
def test_no_model_beats_the_entropy_rate(mod):
    mod.cross_entropy_rate(P2, Q2)  # one plain call first: an unfinished stub stops here, not in hypothesis

    @given(data=st.data())
    def check(data):
        P = data.draw(chain_tables())
        q = data.draw(chain_tables(len(P)))
        got, floor = float(mod.cross_entropy_rate(P, q)), float(mod.cross_entropy_rate(P, P))
        expect_true(got >= floor - 1e-9, f"cross_entropy_rate(P, q) = {got:.6f} is below the entropy rate {floor:.6f} "
                    f"for P = {np.round(P, 3).tolist()}: by Gibbs' inequality (row by row) it never is. "
                    "Does the truth P weight the log of the model q?")

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
        fail(f"{call} returned arrays of shapes {contexts.shape} and {targets.shape}, expected (3,) and (3,): "
             "off by one: N characters give N-1 pairs (the last character has no next one, no wrap-around)")
    if np.array_equal(contexts, [0, 1, 4]) and np.array_equal(targets, [3, 0, 1]):
        fail(f"{call} returned contexts [0, 1, 4] and targets [3, 0, 1]: off by one, swapped. "
             "The context is the character BEFORE the one predicted: contexts = ids[:-1], targets = ids[1:]")
    if np.array_equal(contexts, targets):
        fail(f"{call} returned contexts equal to targets: off by one, each character is paired with itself. "
             "The target is the next character")
    expect_close(contexts, [3, 0, 1], f"{call}: contexts")
    expect_close(targets, [0, 1, 4], f"{call}: targets")


@pytest.mark.task("7.2")
def test_pairs_refuse_a_text_too_short(mod):
    mod.bigram_pairs([0, 1])  # the function must work before its checks matter
    expect_raises(ValueError, mod.bigram_pairs, [2], call="bigram_pairs([2])", why="one character makes no pair")
    expect_raises(ValueError, mod.bigram_pairs, [[0, 1], [1, 0]], call="bigram_pairs(2-D ids)", why="a text is 1-D")
    expect_raises(ValueError, mod.bigram_pairs, [0, -1, 2], call="bigram_pairs([0, -1, 2])", why="ids are >= 0")


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
                                               (reversed_pairs, "off by one: context and next character are swapped. "
                                                "The context is ids[t], the target ids[t+1]")])
    expect_close(mod.sequence_cross_entropy(PROBS3, IDS3, reduction="sum"), CE3_SUM,
                 "sequence_cross_entropy(..., reduction='sum')",
                 mistakes=[(CE3, "that is the mean: 'sum' adds the losses up")])


@pytest.mark.task("7.3")
def test_a_uniform_model_scores_ln_v_on_any_text(mod):
    train, _ = texts(mod)
    uniform = np.full((V, V), 1 / V)
    expect_close(mod.sequence_cross_entropy(uniform, train), math.log(V), "sequence_cross_entropy(uniform, training text)",
                 mistakes=[(math.log2(V), "that is log2 5: use the natural log (nats)"),
                           (math.log(V) * (len(train) - 1), "that is the sum: the default reduction is the mean")])


@pytest.mark.task("7.3")
def test_sequence_cross_entropy_refuses_bad_input(mod):
    mod.sequence_cross_entropy(PROBS3, IDS3)  # the function must work before its checks matter
    expect_raises(ValueError, mod.sequence_cross_entropy, PROBS3, [0, 3, 1],
                  call="sequence_cross_entropy(3×3 table, ids with a 3)", why="id 3 is outside an alphabet of 3")
    expect_raises(ValueError, mod.sequence_cross_entropy, PROBS3, IDS3, reduction="average",
                  call="sequence_cross_entropy(..., reduction='average')", why="the reductions are 'mean', 'sum' and 'none'")
    expect_raises(ValueError, mod.sequence_cross_entropy, [[0.5, 0.6], [0.5, 0.5]], [0, 1],
                  call="sequence_cross_entropy(a row summing to 1.1, ids)", why="each row must be a distribution")
    expect_raises(ValueError, mod.sequence_cross_entropy, PROBS3, [1],
                  call="sequence_cross_entropy(probs, [1])", why="one character makes no prediction to score")


@st.composite
def model_and_text(draw):
    n = draw(st.integers(2, 5))
    probs = draw(chain_tables(n))
    ids = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=40))
    return probs, np.array(ids)


@pytest.mark.task("7.3")
def test_the_reductions_agree(mod):
    mod.sequence_cross_entropy(PROBS3, IDS3)  # one plain call first: an unfinished stub stops here

    @given(case=model_and_text())
    def check(case):
        probs, ids = case
        each = expect_shape(mod.sequence_cross_entropy(probs, ids, reduction="none"), (len(ids) - 1,),
                            f"sequence_cross_entropy(probs, {len(ids)} ids, reduction='none')",
                            diagnoses={(len(ids),): f"off by one: {len(ids)} characters give {len(ids) - 1} (context, next) pairs"})
        expect_close(mod.sequence_cross_entropy(probs, ids), each.mean(), "the 'mean' reduction vs the mean of 'none'",
                     rtol=1e-9)
        expect_close(mod.sequence_cross_entropy(probs, ids, reduction="sum"), each.sum(),
                     "the 'sum' reduction vs the sum of 'none'", rtol=1e-9)

    check()


# --- 7.4 bits_per_character -------------------------------------------------------------


@pytest.mark.task("7.4")
def test_bits_per_character(mod):
    expect_close(mod.bits_per_character(PROBS3, IDS3), CE3 / LN2, "bits_per_character(probs, [0, 1, 0, 2, 2, 1])",
                 mistakes=[(CE3, "that is the CE in nats: divide by ln 2 for bits"),
                           (CE3 * LN2, "you multiplied by ln 2: bits = nats / ln 2"),
                           (CE3 / LN2 / LN2, "converted twice: sequence_cross_entropy must stay in nats (natural log)"),
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
                 mistakes=[(math.exp(CE3_SUM), "that is exp of the SUMMED loss: perplexity is exp of the MEAN loss per character"),
                           (2 ** CE3, "2 ** nats mixes units: exp(nats), or 2 ** bits"),
                           (math.exp(CE3 / LN2), "exp of the loss in bits mixes units: exp(nats), or 2 ** bits"),
                           (CE3, "that is the cross-entropy itself: perplexity is its exp")])


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
                           (math.log(V), "that is the cross-entropy ln 5 itself: perplexity is its exp")])
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
        expect_close(got, math.exp(nats), f"perplexity vs exp(sequence_cross_entropy) for {len(ids)} ids", rtol=1e-9,
                     mistakes=[(math.exp(nats * (len(ids) - 1)), "that is exp of the SUMMED loss: use the mean")])

    check()


# --- 7.6 count_bigram_model ---------------------------------------------------------------

IDS_COUNT = [0, 1, 0, 2, 2, 1, 1, 0, 1]


@pytest.mark.task("7.6")
def test_count_model_by_hand(mod):
    call = "count_bigram_model([0, 1, 0, 2, 2, 1, 1, 0, 1], vocab_size=3, k=1)"
    got = check_table(mod.count_bigram_model(IDS_COUNT, vocab_size=3, k=1.0), (3, 3), call)
    expected = [[1 / 6, 3 / 6, 2 / 6], [3 / 6, 2 / 6, 1 / 6], [1 / 5, 2 / 5, 2 / 5]]
    expect_close(got, expected, call,
                 mistakes=[(count_table(IDS_COUNT, 3, 1.0, transpose=True),
                            "off by one: the table is transposed. Row = context (ids[t]), column = next character (ids[t+1])"),
                           (count_table(IDS_COUNT, 3, 1.0, wrap=True),
                            "off by one: the pairs wrap around (last character -> first): N characters give N-1 pairs"),
                           (count_table(IDS_COUNT, 3, 1.0, once=True),
                            "repeated pairs were counted once: counts[contexts, targets] += 1 does that; use np.add.at"),
                           (count_table(IDS_COUNT, 3, 1e-12),
                            "no smoothing: add k to every count before normalising")])
    expect_close(mod.count_bigram_model(IDS_COUNT, vocab_size=3, k=0.5),
                 count_table(IDS_COUNT, 3, 0.5), "count_bigram_model(..., vocab_size=3, k=0.5)",
                 mistakes=[(expected, "k is a parameter: add the k you were given")])


@pytest.mark.task("7.6")
def test_count_model_refuses_bad_input(mod):
    mod.count_bigram_model(IDS_COUNT, vocab_size=3)  # the function must work before its checks matter
    expect_raises(ValueError, mod.count_bigram_model, IDS_COUNT, vocab_size=3, k=0,
                  call="count_bigram_model(..., k=0)", why="add-k smoothing needs k > 0")
    expect_raises(ValueError, mod.count_bigram_model, [0, 1, 5], vocab_size=3,
                  call="count_bigram_model([0, 1, 5], vocab_size=3)", why="id 5 is outside the alphabet")


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
    # On 3000 held-out characters it is a sample: close to the rate, within chance.
    truth = -np.log(TRANSITIONS[heldout[:-1], heldout[1:]])
    chance = 3 * truth.std() / math.sqrt(len(truth))
    measured = nll(q, zip(heldout[:-1], heldout[1:]))
    expect_true(abs(measured - endless) < chance and measured < UNIGRAM_ENTROPY,
                f"the count model scores {measured:.4f} nats on held-out text, its rate is {endless:.4f}: "
                f"they should agree within chance (±{chance:.3f})")


# --- 7.7 train_bigram ---------------------------------------------------------------------


@pytest.mark.task("7.7")
def test_training_follows_plain_gradient_descent(mod):
    train, _ = texts(mod)
    got = trained(mod)
    if not isinstance(got, tuple) or len(got) != 2:
        what = f"a {type(got).__name__} of length {len(got)}" if isinstance(got, (tuple, list)) else type(got).__name__
        fail(f"train_bigram(training text) returned {what}, expected a tuple (probs, losses)")
    probs, losses = got
    losses = expect_shape(losses, (50,), "train_bigram(training text): losses",
                          diagnoses={(51,): "one loss per step: record the loss of each of the `steps` steps, before its update"})
    expect_close(losses[0], math.log(V), "train_bigram(training text): losses[0]",
                 mistakes=[(math.log2(V), "that is in bits: F.cross_entropy gives nats, keep them"),
                           (math.log(V) * (len(train) - 1), "that is the summed loss: F.cross_entropy's default is the mean")],
                 )
    oracle_probs, oracle = gradient_descent(train, V, 5.0, 50)
    if not np.allclose(losses, oracle, rtol=1e-5):
        _, no_zero = gradient_descent(train, V, 5.0, 50, zero_grad=False)
        _, after = gradient_descent(train, V, 5.0, 50, extra_step=True)
        expect_close(losses, oracle, "train_bigram(training text): losses", rtol=1e-5,
                     mistakes=[(no_zero, "the gradients pile up: clear logits.grad after every update"),
                               (after[1:], "the losses were recorded after the update: record loss.item() before it"),
                               (oracle / LN2, "those are bits: F.cross_entropy gives nats, keep them")])
    probs = check_table(probs, (V, V), "train_bigram(training text): probs")
    if not np.allclose(probs, oracle_probs, rtol=1e-6, atol=1e-12):
        before, _ = gradient_descent(train, V, 5.0, 49)  # the softmax before the 50th update
        expect_close(probs, oracle_probs, "train_bigram(training text): probs", rtol=1e-6, atol=1e-12,
                     mistakes=[(before, "those are the probabilities from before the last update: return the softmax "
                                        "of the logits after the loop has made all `steps` updates")])


@pytest.mark.task("7.7")
def test_the_trained_model_approaches_the_unsmoothed_count_model(mod):
    train, _ = texts(mod)
    probs, losses = trained(mod)
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
def test_trained_model_sits_between_the_entropy_rate_and_the_unigram_entropy(mod):
    probs, _ = trained(mod)
    endless = rate(TRANSITIONS, np.asarray(probs, dtype=float))
    expect_true(ENTROPY_RATE < endless < UNIGRAM_ENTROPY,
                f"the trained model's cross-entropy rate is {endless:.4f} nats; it must lie between the entropy rate "
                f"{ENTROPY_RATE} and the unigram entropy {UNIGRAM_ENTROPY}")


@pytest.mark.task("7.7")
def test_train_bigram_refuses_bad_settings(mod):
    mod.train_bigram([0, 1, 2, 1], vocab_size=3, steps=1)  # the function must work before its checks matter
    expect_raises(ValueError, mod.train_bigram, [0, 1, 2, 1], vocab_size=3, lr=0.0,
                  call="train_bigram(..., lr=0)", why="a learning rate of 0 learns nothing")
    expect_raises(ValueError, mod.train_bigram, [0, 1, 2, 1], vocab_size=3, steps=0,
                  call="train_bigram(..., steps=0)", why="training needs at least one step")


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
    lrs = (1.0, 20.0)
    call = "learning_rate_sweep(training text, lrs=(1, 20), steps=10)"
    got = expect_shape(mod.learning_rate_sweep(train, lrs=lrs, steps=10), (2,), call)
    finals, befores = [], []
    for lr in lrs:
        probs, losses = gradient_descent(train, V, lr, 10)
        finals.append(nll(probs, zip(train[:-1], train[1:])))
        befores.append(losses[-1])
    expect_close(got, finals, call, rtol=1e-5,
                 mistakes=[(befores, "those are losses[-1], from before the last update: score the probs train_bigram returns"),
                           (finals[::-1], "the learning rates were taken in the wrong order"),
                           (np.array(finals) / LN2, "those are bits: the sweep returns nats")])


@pytest.mark.task("7.8")
def test_figure_numbers_learning_rate_sweep(mod):
    finals = expect_shape(full_sweep(mod), (9,), "learning_rate_sweep(training text)")
    expect_true(np.all(np.isfinite(finals)) and np.all(finals > 1.0),
                f"learning_rate_sweep(training text) returned {show(finals)}: expected every final loss to be a finite "
                "number of nats above 1")
    lrs = list(mod.LEARNING_RATES)
    best = lrs[int(np.argmin(finals))]
    expect_true(lrs[0] < best < lrs[-1], f"the best learning rate came out as {best:g}: the too-small and too-large ends should lose")
    expect_true(finals[0] > finals[lrs.index(5.0)] + 0.1 and finals[-1] > finals[lrs.index(5.0)] + 0.1,
                f"the final losses {np.round(finals, 4).tolist()} should be clearly worse at the smallest and the largest "
                "learning rate than at lr 5")


@pytest.mark.task("7.8")
def test_sweep_refuses_bad_learning_rates(mod):
    mod.learning_rate_sweep([0, 1, 2, 1], lrs=(0.5,), vocab_size=3, steps=1)  # the function must work first
    expect_raises(ValueError, mod.learning_rate_sweep, [0, 1, 2, 1], lrs=(), vocab_size=3,
                  call="learning_rate_sweep(..., lrs=())", why="there is no learning rate to try")
    expect_raises(ValueError, mod.learning_rate_sweep, [0, 1, 2, 1], lrs=(0.5, -1.0), vocab_size=3,
                  call="learning_rate_sweep(..., lrs=(0.5, -1))", why="a learning rate must be positive")


@pytest.mark.task("7.8")
@pytest.mark.mpl_image_compare(filename="module07_learning_rate_sweep.png")
def test_figure_learning_rate_sweep(mod):
    return mod.plot_learning_rate_sweep()
