"""Module 1: surprisal, entropy and cross-entropy.

Expected values are math.log of hand-chosen numbers (-ln 0.9 = 0.105361, ...) and,
for the properties, a plain-Python oracle (math.log with the lesson's conventions),
never the reference itself. Known mistakes have their own diagnosis, computed with
numpy along the path the TODO prescribes.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kata.testing.expect import (
    Call,
    expect_close,
    expect_refusals,
    expect_shape,
    expect_true,
    fail,
    show,
    without_warnings,
)
from kata.testing.strategies import EXTREME_ENTRY, extreme_distributions, extreme_pairs

MODULE = "module01_cross_entropy"
LN2 = math.log(2)
LN10 = math.log(10)

P = [1.0, 0.0]
Q1 = [0.9, 0.1]
Q2 = [0.2, 0.8]
H_P_Q1 = -math.log(0.9)  # 0.105361
H_P_Q2 = -math.log(0.2)  # 1.609438
MINUS_LN_EPS = -math.log(1e-12)  # 27.631021


def text(value) -> str:
    """A value as a call shows it: [1, 0], [0.9, 0.1], [[0.5, 0.5, 0], [1, 0, 0]], 1e-300 (six significant digits)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return np.array2string(np.asarray(value, dtype=float), separator=", ", max_line_width=10_000,
                               formatter={"float_kind": lambda v: f"{v + 0.0:.6g}"})
    return f"{value!r}" if isinstance(value, float) else str(value)


def called(name, *args, **keywords) -> str:
    """How a message writes the call: ``cross_entropy([1, 0], [0.9, 0.1], eps=0.1)``."""
    return f"{name}({', '.join([text(a) for a in args] + [f'{k}={text(v)}' for k, v in keywords.items()])})"


def oracle_entropy(p):
    return -sum(pi * math.log(pi) for pi in p if pi > 0)


def oracle_cross_entropy(p, q, eps=1e-12):
    return -sum(pi * math.log(max(qi, eps)) for pi, qi in zip(p, q) if pi > 0)


NP_LOG_BASE = ("numpy's second argument is `out` (an array to write the result into), not a base: np.log(x, base) is "
               "not math.log(x, base). Take the natural log and change its units yourself")
MATH_LOG_ARRAY = "math.log takes one number at a time: numpy's np.log works on a whole array at once"
MATH_LOG_ZERO = "math.log refuses 0, while numpy's np.log(0) is -inf, which makes the surprisal +inf the contract asks for"
ADDED_EPS_REFUSED = ("something inside passed surprisal a number that is not a probability. q + eps can exceed 1: clip q "
                     "into [eps, 1] instead of adding eps")


def named_call(call, function, *args, value_error=None, **kwargs):
    """``function(*args, **kwargs)`` on valid inputs; the errors a learner's log can raise are named.

    ``value_error`` is the diagnosis of any other ValueError (for cross_entropy: a helper was given a bad value).
    """
    try:
        return function(*args, **kwargs)
    except TypeError as error:
        text = str(error)
        why = NP_LOG_BASE if "ArrayType" in text else MATH_LOG_ARRAY if "converted to Python scalars" in text else None
        if why is None:
            raise
        problem = f"TypeError ({text})"
    except ValueError as error:
        text = str(error)
        why = MATH_LOG_ZERO if "math domain error" in text else value_error
        if why is None:
            raise
        problem = f"ValueError ({text}) although its inputs are valid"
    fail(f"{call} raised {problem}: {why}")  # outside the except block: one failure to hypothesis


# --- 1.1 surprisal -----------------------------------------------------------

MINUS_SURPRISAL = "a negative surprisal means the minus sign is missing: log q <= 0, so -log q >= 0"
IN_NATS = "that is the answer in nats: divide by log(base) for other units"
NATS_NOT_BASE_TEN = ("that is the answer in nats: every base needs the change of units, base 10 as much as base 2 "
                     "(log_b q = ln q / ln b)")
BITS_NOT_BASE_TEN = "that is in bits: use the base you were given, log(q) / log(base), not log2 for every base"
MULTIPLIED = "you multiplied by log(base): to change units, divide by it"
LOG10_OF_BASE = ("you divided by log10(base): the change of units divides nats by the natural log of the base, "
                 "ln b (how many nats one unit of base b is)")
BITS_BY_DEFAULT = "that is 1 bit: with base=None the answer is in nats (natural log)"
LOG10_BY_DEFAULT = "that is log base 10: with base=None use the natural log"


@pytest.mark.task("1.1")
def test_surprisal_in_nats_and_bits(mod):
    def surprisal(q, **base):
        call = called("surprisal", q, **base)
        return call, named_call(call, mod.surprisal, q, **base)

    call, got = surprisal(1.0)
    expect_close(got, 0.0, call, atol=1e-12, mistakes=[(1.0, "a certain event carries no information: -log 1 = 0")])
    call, got = surprisal(0.5)
    expect_close(got, LN2, call, mistakes=[(-LN2, MINUS_SURPRISAL), (1.0, BITS_BY_DEFAULT),
                                           (math.log10(2), LOG10_BY_DEFAULT)])
    call, got = surprisal(0.5, base=2)
    expect_close(got, 1.0, call, mistakes=[(LN2, IN_NATS), (LN2 * LN2, MULTIPLIED), (-1.0, MINUS_SURPRISAL),
                                           (LN2 / math.log10(2), LOG10_OF_BASE)])
    call, got = surprisal(0.25, base=2)
    expect_close(got, 2.0, call)
    call, got = surprisal(0.1, base=10)
    expect_close(got, 1.0, call, mistakes=[(LN10 / LN2, BITS_NOT_BASE_TEN), (LN10, NATS_NOT_BASE_TEN),
                                           (LN10 * LN10, MULTIPLIED)])


@pytest.mark.task("1.1")
def test_surprisal_is_elementwise_and_infinite_at_zero(mod):
    call = "surprisal([0, 0.1, 1])"
    got = without_warnings(call, named_call, call, mod.surprisal, np.array([0.0, 0.1, 1.0]),
                           why="-log 0 = inf is the right answer here: compute the log inside np.errstate(divide='ignore')")
    got = expect_shape(got, (3,), call, diagnoses={(): "surprisal is elementwise: one value per element of q"})
    expect_true(not np.isfinite(got[0]),
                f"{call} returned {show(got)}: surprisal(0) should be +inf (an impossible event is infinitely "
                "surprising); clipping or adding eps is cross_entropy's job, not surprisal's")
    expect_close(got, [math.inf, -math.log(0.1), 0.0], call,
                 mistakes=[([-math.inf, math.log(0.1), 0.0], "a negative surprisal means the minus sign is missing: "
                                                             "-log 0 = +inf, and -log 0.1 > 0")])


@pytest.mark.task("1.1")
def test_surprisal_refuses_non_probabilities(mod):
    expect_refusals(mod.surprisal, works=Call(0.5), refuses=[
        (Call(1.5), "1.5 is not a probability"),
        (Call(0.5, base=1), "log 1 = 0 cannot be a base"),
    ])


def surprisal_mistakes(q, base, expected):
    """Values that known mistakes give for surprisal(q, base), with their diagnosis."""
    nats = math.inf if q == 0 else -math.log(q)
    mistakes = [(-expected, "a negative surprisal means the minus sign is missing" +
                 (" (-log 0 = +inf)" if q == 0 else ""))]
    if base is None:
        return mistakes + [(nats / LN2, "that is in bits: with base=None the answer is in nats (natural log)"),
                           (nats / LN10, LOG10_BY_DEFAULT)]
    mistakes += [(nats, NATS_NOT_BASE_TEN if base != 2 else IN_NATS), (nats * math.log(base), MULTIPLIED)]
    return mistakes + ([(nats / LN2, BITS_NOT_BASE_TEN)] if base != 2 else [])


@pytest.mark.task("1.1")
@given(q=st.one_of(EXTREME_ENTRY, st.just(5e-324)), base=st.sampled_from([None, 2, 10]))
def test_surprisal_reaches_the_extremes(mod, q, base):
    call = called("surprisal", q, base=base)
    got = float(without_warnings(call, named_call, call, mod.surprisal, q, base=base,
                                 why="compute the log inside np.errstate(divide='ignore')"))
    expected = math.inf if q == 0 else -math.log(q) / (1.0 if base is None else math.log(base))
    expect_close(got, expected, call, rtol=1e-12, atol=1e-15, mistakes=surprisal_mistakes(q, base, expected))


# --- 1.2 entropy ---------------------------------------------------------------


@pytest.mark.task("1.2")
def test_entropy_of_the_seed_distribution_in_bits(mod):
    nats = oracle_entropy([0.1, 0.5, 0.1, 0.3])  # 1.168282
    bits = nats / LN2  # 1.685475
    call = "entropy([.1, .5, .1, .3], base=2)"
    expect_close(named_call(call, mod.entropy, [0.1, 0.5, 0.1, 0.3], base=2), bits, call,
                 mistakes=[(-bits, "a negative entropy means the minus sign is missing"),
                           (nats, "that is the entropy in nats: pass base on to surprisal"),
                           (-nats, "a negative entropy in nats: the minus sign is missing, and pass base on to surprisal"),
                           (bits / 4, "you averaged over the classes: entropy is a sum over them"),
                           (sum(-math.log2(x) for x in [0.1, 0.5, 0.1, 0.3]),
                            "you added up the surprisals unweighted: entropy is the average surprisal, each "
                            "outcome counted as often as it happens")])
    expect_close(mod.entropy([0.5, 0.5], base=2), 1.0, "entropy([.5, .5], base=2), a fair coin")


ZERO_LOG_ZERO = ("0·log 0 = 0·inf gives NaN: the p = 0 terms must add exactly 0 "
                 "(if you masked with np.where: it evaluates both branches, so masking the product alone still "
                 "computes 0·inf)")


@pytest.mark.task("1.2")
def test_entropy_counts_zero_probabilities_as_zero(mod):
    got = without_warnings("entropy([1, 0])", mod.entropy, [1.0, 0.0], why=ZERO_LOG_ZERO)
    expect_close(got, 0.0, "entropy([1, 0])", atol=1e-12, mistakes=[(np.nan, ZERO_LOG_ZERO)])
    expect_close(without_warnings("entropy([.5, .5, 0])", mod.entropy, [0.5, 0.5, 0.0], why=ZERO_LOG_ZERO), LN2,
                 "entropy([.5, .5, 0])", mistakes=[(np.nan, ZERO_LOG_ZERO)])
    expect_close(mod.entropy([0.25] * 4), math.log(4), "entropy([.25, .25, .25, .25])")
    expect_close(mod.entropy([0.25] * 4, base=2), 2.0, "entropy([.25, .25, .25, .25], base=2)")
    expect_close(mod.entropy([0.25] * 4, base=4), 1.0, "entropy([.25, .25, .25, .25], base=4)",
                 mistakes=[(2.0, "that is in bits: pass the base you were given on to surprisal")])


BATCH_TOO = ("you reduced over the batch axis too (a sum or a mean over everything gives one number): reduce over "
             "axis=-1 only, one value per row")
BATCH_ONLY = "you reduced over axis 0 (the batch); reduce over axis=-1, the classes"


@pytest.mark.task("1.2")
def test_entropy_reduces_over_the_last_axis(mod):
    batch = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    call = "entropy([[.5, .5, 0], [1, 0, 0]]), a batch of 2 rows of 3 classes"
    got = expect_shape(without_warnings(call, mod.entropy, batch, why=ZERO_LOG_ZERO), (2,), call,
                       diagnoses={(3,): BATCH_ONLY, (): BATCH_TOO})
    expect_close(got, [LN2, 0.0], call, atol=1e-12)


@pytest.mark.task("1.2")
def test_entropy_refuses_what_is_not_a_distribution(mod):
    expect_refusals(mod.entropy, works=Call([0.5, 0.5]), refuses=[
        (Call([0.5, 0.6]), "p sums to 1.1"),
        (Call([0.5, 0.5], base=-2), "a base must be positive"),
    ])


@pytest.mark.task("1.2")
@given(p=extreme_distributions(), base=st.sampled_from([None, 2]))
def test_entropy_reaches_the_extremes(mod, p, base):
    call = called("entropy", p, base=base)
    got = float(without_warnings(call, mod.entropy, p, base=base, why=ZERO_LOG_ZERO))
    unit = 1.0 if base is None else LN2
    expected = oracle_entropy(p) / unit
    expect_close(got, expected, call, rtol=1e-9, atol=1e-12,
                 mistakes=[(np.nan, ZERO_LOG_ZERO), (-expected, "a negative entropy means the minus sign is missing"),
                           (expected * unit, "that is the entropy in nats: pass base on to surprisal")])
    expect_true(-1e-12 <= got <= math.log(len(p)) / unit + 1e-12,
                f"{call} = {got:.6g} is outside [0, log C]: an entropy is never negative and never above the uniform "
                "distribution's")


# --- 1.3 cross_entropy -----------------------------------------------------------


NO_CLIP = "log 0 = -inf: clip q to [eps, 1] before taking the log (if you did, check that the log is of q and not of p)"
FIXED_EPS = "eps is a parameter: clip with the eps you were given, not a fixed 1e-12"
ADDED_EPS = ("you added eps to q, which moves every entry: clip q into [eps, 1] instead, so that only entries "
             "below eps change")
CLIPPED_TOP = "you clipped q into [eps, 1 - eps]: the top of the clip is 1, so a sure and right prediction costs 0"
SWAPPED = "that is H(q, p): the arguments are swapped. The truth p weights the log of the prediction q"
SWAPPED_INF = ("the log is being taken of p, which has a 0 here: the arguments are swapped. "
               "The truth p weights the log of the prediction q")
MEAN_CLASSES = "you took the mean over the classes; cross-entropy sums p·(-log q) over them"
MINUS_CE = "a negative cross-entropy means the minus sign is missing: log q <= 0, so H = -Σ p log q"
P_CLIPPED = ("only q is clipped: p is the truth, and an outcome with p = 0 must add nothing (clipping p gives it the "
             "weight eps)")
LOG10_CE = "that is log base 10: with base=None use the natural log (surprisal from 1.1 does it for you)"


def weighted_surprisal(p, q):
    """Σ p·(-ln q) over the last axis, a p = 0 term adding 0 whatever q is: what a variant's clipped q gives."""
    p, q = np.broadcast_arrays(np.asarray(p, dtype=float), np.asarray(q, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, -p * np.log(np.where(p > 0, q, 1.0)), 0.0).sum(axis=-1)


def ce_mistakes(p, q, expected, eps=1e-12, first=()):
    """Values that known mistakes give for cross_entropy(p, q, eps) in nats, with their diagnosis.

    ``first`` holds mistakes written for these very inputs; a general one with the same value is left out.
    """
    p, q = np.broadcast_arrays(np.asarray(p, dtype=float), np.asarray(q, dtype=float))
    expected = np.asarray(expected, dtype=float)
    added = weighted_surprisal(p, q + eps)
    capped = weighted_surprisal(p, np.minimum(q + eps, 1.0))
    general = [
        (-expected, MINUS_CE),
        (expected / p.shape[-1], MEAN_CLASSES),
        (weighted_surprisal(q, np.maximum(p, eps)), SWAPPED),
        (expected / LN2, "that is the answer in bits: with base=None stay in nats"),
        (expected / LN10, LOG10_CE),
        (added, ADDED_EPS),
        (weighted_surprisal(p, np.clip(q, eps, 1.0 - eps)), CLIPPED_TOP),
        (weighted_surprisal(np.clip(p, eps, 1.0), np.clip(q, eps, 1.0)), P_CLIPPED),
    ]
    if not np.allclose(capped, added, rtol=1e-9, atol=0.0):  # capping at 1 only shows where q + eps > 1
        general.append((capped, ADDED_EPS + " (capping q + eps at 1 still moves the entries between eps and 1)"))
    with np.errstate(divide="ignore", invalid="ignore"):
        if (p == 0).any():  # the log of p's zero, with the arguments swapped and nothing clipped
            general.insert(0, ((q * -np.log(p)).sum(axis=-1), SWAPPED_INF))
        if (q == 0).any():
            general.append(((p * -np.log(q)).sum(axis=-1), NO_CLIP))
    if eps != 1e-12:
        general.append((weighted_surprisal(p, np.maximum(q, 1e-12)), FIXED_EPS))
    first = list(first)
    same = lambda a, b: np.allclose(a, b, rtol=1e-9, atol=0.0, equal_nan=True)  # noqa: E731
    return first + [(value, why) for value, why in general if not any(same(value, v) for v, _ in first)]


def valid_call(call, function, *args, **kwargs):
    """``function(*args)`` on valid inputs: a ValueError from inside it comes from a helper given a bad value."""
    return named_call(call, function, *args, value_error=ADDED_EPS_REFUSED, **kwargs)


@pytest.mark.task("1.3")
def test_seed_example_in_nats(mod):
    for p, q in ((P, Q1), (P, Q2), ([0.5, 0.5], Q1)):
        call = called("cross_entropy", p, q)
        expected = oracle_cross_entropy(p, q)  # 0.105361, 1.609438, 1.203973
        expect_close(valid_call(call, mod.cross_entropy, p, q), expected, call, mistakes=ce_mistakes(p, q, expected))


@pytest.mark.task("1.3")
def test_seed_example_in_bits(mod):
    call = "cross_entropy([1, 0], [0.9, 0.1], base=2)"
    expect_close(valid_call(call, mod.cross_entropy, P, Q1, base=2), H_P_Q1 / LN2, call,  # 0.152003
                 mistakes=[(H_P_Q1, "that is the answer in nats: pass base on to surprisal"),
                           (H_P_Q1 / LN10, "that is log base 10: let your surprisal take the log, with base passed on")])
    expect_close(mod.cross_entropy([0.5, 0.5], [0.5, 0.5], base=2), 1.0, "cross_entropy([.5, .5], [.5, .5], base=2)")


@pytest.mark.task("1.3")
def test_the_better_prediction_has_the_lower_loss(mod):
    good, bad = mod.cross_entropy(P, Q1), mod.cross_entropy(P, Q2)
    expect_true(np.isfinite(good), f"cross_entropy([1, 0], [0.9, 0.1]) returned {float(good)}: with no zero in q the "
                "loss is finite, so the log is being taken of p (which has a 0): the arguments are swapped")
    expect_true(good < bad, f"cross_entropy gave {float(good):.6f} for the right guess q1 and {float(bad):.6f} for the wrong "
                "guess q2: a loss must be lower for the better prediction (is the minus sign missing?)")


def expect_clipped(mod, p, q, expected, *, eps=None, mistakes=(), **checks):
    """cross_entropy(p, q[, eps]) must be ``expected``; numpy's warnings are silenced, the values name the mistakes.

    ``mistakes`` are the ones these inputs were chosen for; the general ones of ``ce_mistakes`` are added.
    """
    keywords = {} if eps is None else {"eps": eps}
    call = called("cross_entropy", p, q, **keywords)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = valid_call(call, mod.cross_entropy, p, q, **keywords)
    expect_close(got, expected, call, mistakes=ce_mistakes(p, q, expected, 1e-12 if eps is None else eps, mistakes),
                 **checks)


@pytest.mark.task("1.3")
def test_clipping_keeps_log_zero_away(mod):
    expect_clipped(mod, [1.0, 0.0], [0.0, 1.0], MINUS_LN_EPS, rtol=1e-5, mistakes=[(np.inf, NO_CLIP)])
    expect_clipped(mod, [1.0, 0.0], [1.0, 0.0], 0.0, atol=1e-9,
                   mistakes=[(np.nan, "NaN is 0·log 0: clip q to [eps, 1] so every log is finite")])
    expect_clipped(mod, [0.0, 1.0], [1.0, 0.0], -math.log(1e-3), eps=1e-3,  # 6.907755
                   mistakes=[(MINUS_LN_EPS, FIXED_EPS), (np.inf, NO_CLIP)])


@pytest.mark.task("1.3")
def test_a_large_eps_tells_clipping_from_adding(mod):
    expect_clipped(mod, [1.0, 0.0], [1.0, 0.0], 0.0, eps=0.1, atol=1e-12,
                   mistakes=[(-math.log(1.1), ADDED_EPS + " (here -log 1.1 < 0)"), (-math.log(0.9), CLIPPED_TOP),
                             (-0.1 * math.log(0.1), P_CLIPPED),
                             (np.nan, "NaN is 0·log 0: clip q to [eps, 1] so every log is finite")])
    # q = [.95, .05]: clipping gives [.95, .1]; adding gives [1.05, .15] (capped at 1: [1, .15]); [eps, 1 - eps] gives
    # [.9, .1]; a fixed eps leaves [.95, .05].
    expected = oracle_cross_entropy([0.5, 0.5], [0.95, 0.1])  # 1.176939
    expect_clipped(mod, [0.5, 0.5], [0.95, 0.05], expected, eps=0.1)
    expect_clipped(mod, [0.0, 1.0], [0.5, 0.5], LN2, eps=0.1,
                   mistakes=[(-math.log(0.6), ADDED_EPS + " (here -log 0.6 instead of log 2)")])
    expect_clipped(mod, [0.0, 1.0], [1.0, 0.0], -math.log(0.1), eps=0.1,  # 2.302585
                   mistakes=[(MINUS_LN_EPS, FIXED_EPS), (np.inf, NO_CLIP)])


ONE_PER_ROW = {(3,): BATCH_ONLY, (): BATCH_TOO}


@pytest.mark.task("1.3")
def test_a_batch_gives_one_loss_per_row(mod):
    p = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])
    q = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    call = "cross_entropy(p, q) with p = [[1, 0, 0], [0, .5, .5]] and q = [[.7, .2, .1], [.1, .3, .6]]"
    got = expect_shape(mod.cross_entropy(p, q), (2,), call, diagnoses=ONE_PER_ROW)
    expected = [oracle_cross_entropy(*row) for row in zip(p, q)]  # 0.356675, 0.857399
    expect_close(got, expected, call, mistakes=ce_mistakes(p, q, expected))


@pytest.mark.task("1.3")
def test_one_truth_broadcasts_against_many_predictions(mod):
    q = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
    expect_close(mod.cross_entropy(P, q), [H_P_Q1, H_P_Q2, LN2],
                 "cross_entropy([1, 0], [[.9, .1], [.2, .8], [.5, .5]])", shape_diagnoses=ONE_PER_ROW)


@pytest.mark.task("1.3")
def test_with_one_hot_truths_the_mean_is_the_negative_log_likelihood(mod):
    labels = [0, 2, 1]
    q = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.25, 0.25, 0.5]])
    one_hot = np.eye(3)[labels]
    call = "cross_entropy(one-hot labels [0, 2, 1], q = [[.7, .2, .1], [.1, .3, .6], [.25, .25, .5]])"
    # -log q(y) per row: -ln .7, -ln .6, -ln .25; their mean is -ln(.7 · .6 · .25) / 3.
    got = expect_close(mod.cross_entropy(one_hot, q), [-math.log(0.7), -math.log(0.6), -math.log(0.25)], call,
                       shape_diagnoses=ONE_PER_ROW,
                       mistakes=[([0.3 * MINUS_LN_EPS, 0.4 * MINUS_LN_EPS, 0.75 * MINUS_LN_EPS], SWAPPED)])
    expect_close(got.mean(), -math.log(0.7 * 0.6 * 0.25) / 3, f"the mean of {call}, the mean negative log-likelihood")


@pytest.mark.task("1.3")
def test_cross_entropy_refuses_bad_distributions(mod):
    expect_refusals(mod.cross_entropy, works=Call(P, Q1), refuses=[
        (Call([0.5, 0.6], Q1), "p sums to 1.1"),
        (Call(P, [1.2, -0.2]), "q has a negative entry"),
        (Call(P, [0.2, 0.3, 0.5]), "the class counts differ"),
        (Call([], []), "there is nothing to compare"),
        (Call(P, Q1, eps=0.0), "eps = 0 would let log 0 back in"),
    ])


def ce_call(mod, p, q, **keywords):
    """(call text, cross_entropy(p, q, **keywords)) for a property test: numpy warnings and helpers' errors named."""
    call = called("cross_entropy", p, q, **keywords)
    return call, float(without_warnings(call, valid_call, call, mod.cross_entropy, p, q, why=NO_CLIP, **keywords))


@pytest.mark.task("1.3")
@given(pair=extreme_pairs(), eps=st.sampled_from([1e-12, 1e-3, 0.1]))
def test_cross_entropy_reaches_the_extremes(mod, pair, eps):
    p, q = pair
    call, got = ce_call(mod, p, q, eps=eps)
    expected = oracle_cross_entropy(p, q, eps)
    expect_close(got, expected, call, rtol=1e-9, atol=1e-12, mistakes=ce_mistakes(p, q, expected, eps))


@pytest.mark.task("1.3")
@given(pair=extreme_pairs())
def test_cross_entropy_is_never_below_entropy(mod, pair):
    p, q = pair
    call, ce = ce_call(mod, p, q)
    h = oracle_entropy(p)
    # The clip hands out at most eps of extra probability per class, so the clipped H(p, q) is at least
    # H(p) - log(1 + C·eps) >= H(p) - C·eps (the log-sum inequality): Gibbs' inequality holds to 1e-9.
    expect_true(ce >= h - 1e-9, f"{call} = {ce:.6f} < entropy(p) = {h:.6f}: Gibbs' inequality says H(p, q) >= H(p). "
                "Check the sign and which argument is inside the log")


@pytest.mark.task("1.3")
@given(p=extreme_distributions())
def test_cross_entropy_with_itself_is_entropy_and_bits_are_nats_over_ln2(mod, p):
    call, nats = ce_call(mod, p, p)
    expected = oracle_cross_entropy(p, p)  # entropy(p), up to the clip of entries below 1e-12
    expect_close(nats, expected, call, rtol=1e-9, atol=1e-11, mistakes=ce_mistakes(p, p, expected))
    call, bits = ce_call(mod, p, p, base=2)
    expect_close(bits, nats / LN2, call, rtol=1e-9, atol=1e-11,
                 mistakes=[(nats, "that is the answer in nats: pass base on to surprisal")])


@pytest.mark.task("1.3")
@given(q=extreme_distributions(), data=st.data())
def test_a_one_hot_truth_costs_the_surprisal_of_its_class(mod, q, data):
    y = data.draw(st.integers(0, len(q) - 1))
    one_hot = np.eye(len(q))[y]
    call, got = ce_call(mod, one_hot, q)
    expected = -math.log(max(q[y], 1e-12))
    expect_close(got, expected, call, rtol=1e-9, atol=1e-12, mistakes=ce_mistakes(one_hot, q, expected))


# --- the figure ---------------------------------------------------------------------


@pytest.mark.task("1.3")
def test_binary_curves_bottom_out_at_the_truth(mod):
    qs, curves = mod.binary_cross_entropy_curves()
    for p, curve in curves.items():
        curve = expect_shape(curve, qs.shape, f"the curve for p = {p}", diagnoses=ONE_PER_ROW)
        lowest = qs[int(np.argmin(curve))]
        expect_true(abs(lowest - min(p, qs[-1])) < 0.01,
                    f"the cross-entropy curve for true p = {p} is lowest at q = {lowest:.3f}; it should be at q = p")
    expect_close(curves[1.0], -np.log(qs), "the curve for the one-hot truth p = 1, which is -log q")


@pytest.mark.task("1.3")
@pytest.mark.mpl_image_compare(filename="module01_binary_cross_entropy.png")
def test_figure_binary_cross_entropy(mod):
    return mod.plot_binary_cross_entropy()
