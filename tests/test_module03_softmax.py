"""Module 3: softmax, log_softmax, cross-entropy from logits, its gradient, gradient checking.

Expected values are hand-computed constants (softmax([1, 2]) = 1 / (1 + e^-1), ...),
small numpy formulas written out here, scipy.special (softmax, log_softmax) or
torch (F.cross_entropy and its autograd gradient, float64), never the reference.
The values of known mistakes are computed along the path the lesson teaches
(shift by the max, exp, normalise), with the one step a learner gets wrong.
"""

import contextlib
import math
import traceback
import warnings

import numpy as np
import pytest
import scipy.special
from hypothesis import given
from hypothesis import strategies as st

from kata.testing.expect import (
    Call,
    diagnose,
    expect_close,
    expect_number,
    expect_refusals,
    expect_shape,
    expect_true,
    fail,
    show,
)
from kata.testing.messages import course_folder_of, short_path
from kata.testing.strategies import distributions, logits

MODULE = "module03_softmax"

SOFTMAX_1_2 = [0.26894142, 0.73105858]  # [1, e] / (1 + e)
LOG_SOFTMAX_1_2 = [-1.31326169, -0.31326169]
EXAMPLE_LOGITS = np.array([[4.0, 2.0, 1.0], [0.0, 5.0, 1.0]])
EXAMPLE_SOFT = np.array([[1.0, 0.0, 0.0], [0.0, 0.8, 0.2]])
ROW_LOSSES = [0.169846, 0.824745]  # log(e^4 + e^2 + e) - 4;  .8 (lse - 5) + .2 (lse - 1) with lse = 5.024745
MEAN_LOSS = 0.49729545  # (0.16984602 + 0.82474489) / 2
INDEX_MEAN_LOSS = 0.09729545  # targets [0, 1]: (0.16984602 + (5.02474489 - 5)) / 2
# torch autograd of F.cross_entropy(EXAMPLE_LOGITS, [0, 1]), float64
INDEX_GRADIENT = [[-0.07810263275933027, 0.05709759969229724, 0.021005033067033024],
                  [0.0032866315926545426, -0.012220622527806757, 0.008933990935152254]]
# Rows of very different scales: each row is softmax([1, 0]) = [e, 1] / (1 + e)
FAR_APART = np.array([[1000.0, 999.0], [-1000.0, -1001.0]])
SIGMOID_1 = 0.7310585786300049
SQUARE = np.array([[1.0, 2.0, 3.0], [3.0, 1.0, 0.0], [0.5, 0.5, 2.0]])

EXP_OVERFLOWS = 709.782712893384  # log(largest float64): np.exp(z) is inf above it
FIX_SHIFT = ("subtract each row's own max (along `axis`, keepdims=True) before np.exp; softmax does not change when a "
             "constant is subtracted")
FIX_SHIFT_T = ("subtract each row's own max of z / T (the array you exponentiate, not the logits before the division) "
               "before np.exp, with keepdims=True; softmax does not change when a constant is subtracted")
NO_KEEPDIMS_MAX = ("keepdims=True is missing from the max: without it the row maxima broadcast along the wrong axis, "
                   "so each row is shifted by other rows' maxima")
NO_KEEPDIMS_SUM = ("keepdims=True is missing from the sum: without it the sums broadcast along the wrong axis, so each "
                   "row is divided by other rows' sums")
NO_KEEPDIMS_SUM_LOG = ("keepdims=True is missing from the sum: without it the row sums broadcast along the wrong axis, "
                       "so each row has the log of other rows' sums subtracted from it")
WHOLE_SUM = "you divided by the sum over the whole array; sum along `axis` only, with keepdims=True"
WHOLE_SUM_LOG = ("you took the log of the sum over the whole array; the log-sum-exp is one per row: sum along `axis` "
                 "only, with keepdims=True")
NO_NORMALISATION = "that is exp(z - max) without dividing by the sum"
ADDED_BACK = ("the max m is missing: log Σ exp(z) = m + log Σ exp(z - m), so both parts of it must be "
              "subtracted from z")
LOG_FLIPPED = "the sign is flipped: log-probabilities are <= 0"
LOG_OF_MINUS_INF = ("a log of 0 was taken at the -inf class (its probability is exactly 0): the -inf it gives is right, "
                    "but no log of 0 is needed, since z - m is already -inf there. Subtract the log-sum-exp from z - m "
                    "instead of taking the log of a softmax")
WARNED = "a numpy warning means an exp overflowed, a log of 0 or a 0 / 0 was computed on the way: compute it stably"
BROADCAST = ("a max or a sum along `axis` without keepdims=True loses that axis, so it no longer lines up with the "
             "logits: keep it with keepdims=True")
INDICES_AS_ROWS = ("these targets are class indices, one per row (shape ({n},)), and they do not line up with the "
                   "({n}, {c}) rows: when are_indices is true, pick each row's own target entry (or build the one-hot "
                   "rows first)")


def broadcast_cause(error, args) -> str:
    """Why a broadcasting error happened: class-index targets used as probability rows, or a lost keepdims axis."""
    shapes = [np.shape(a) for a in args if isinstance(a, np.ndarray)]
    indices = [a for a in args if isinstance(a, np.ndarray) and a.ndim == 1 and a.dtype.kind in "iu"]
    for targets in indices:
        n = targets.shape[0]
        rows = [shape for shape in shapes if len(shape) == 2 and shape[0] == n]
        if rows and f"({n},)" in str(error) and f"({n},{rows[0][1]})" in str(error).replace(" ", ""):
            return INDICES_AS_ROWS.format(n=n, c=rows[0][1])
    return BROADCAST


def other_axis(axis):
    return 0 if axis in (-1, 1) else 1


def drawn(z):
    """A drawn input, briefly: its values (a few of them when it is large) and its shape."""
    z = np.asarray(z)
    return show(z) if z.size > 8 else f"{show(z)} (shape {z.shape})"


def lowest_row(z, axis=-1):
    """(its name in a message, the slice along `axis` whose largest logit is the lowest): the one a shift pushes furthest."""
    rows = np.moveaxis(np.asarray(z, dtype=float), axis, -1)
    if rows.ndim == 1:
        return "the row", rows
    tops = rows.max(axis=-1)
    index = np.unravel_index(int(np.argmin(tops)), tops.shape)
    if rows.ndim == 2:
        name = f"the {'column' if axis in (0, -2) and np.ndim(z) == 2 else 'row'} at index {index[0]}"
    else:
        name = f"the slice along axis {axis} at index {tuple(int(i) for i in index)}"
    return name, rows[index]


def global_max_why(z, axis=-1, *, log=False, what="this input"):
    """What shifting by the whole array's max did to z (the logits softmax exponentiates, called `what`)."""
    z = np.asarray(z, dtype=float)
    top = float(z.max())
    name, row = lowest_row(z, axis)
    low = float(row.max())
    with np.errstate(all="ignore"):
        exps = np.exp(row - top)
    if not exps.any():
        happened = "every exp of it underflows to 0, and " + ("log 0 = -inf (so the row comes out +inf)" if log
                                                             else "0 / 0 is NaN")
    elif log:
        happened = "its exps are subnormal numbers with only a few digits left, so their log is off"
    else:
        happened = "its smaller exps underflow to 0 or keep only a few digits (below about -708)"
    of = "" if what == "this input" else f" of {what}"
    return (f"you shifted by the max of the whole array, not each row's own: the max of {what} is {top:g}, so "
            f"{name}{of} (largest logit {low:g}) was moved to a largest logit of {low - top:g} instead of 0, where "
            f"{happened}. "
            "Use max along `axis` with keepdims=True")


def unshifted_cause(z, axis=-1, what="this input", *, in_softmax=True):
    """What softmax without the shift does at z: inf / inf after an exp overflowed, or 0 / 0 after a row underflowed."""
    z = np.asarray(z, dtype=float)
    rows = np.moveaxis(z, axis, -1)
    with np.errstate(all="ignore"):
        exps = np.exp(rows)
        sums = exps.sum(axis=-1)
    if np.isposinf(exps).any():
        return (f"exp overflows to inf (past ~709.8) at the largest logit of {what}, {float(z.max()):g}, and inf / inf "
                "is NaN" + (" (softmax takes no log: the NaN is that division)" if in_softmax else ""))
    if np.isposinf(sums).any():
        return ("the exps are finite but their sum overflows to inf (past ~1.8e308), so every probability of that row "
                "comes out 0")
    name, row = lowest_row(z, axis)
    if (sums == 0).any():
        return (f"0 / 0: every exp of {name} (largest logit {float(row.max()):g}) underflows to exactly 0 (below "
                "~-745), and 0 / 0 is NaN")
    return (f"without a shift the exps of {name} (largest logit {float(row.max()):g}) are subnormal numbers (below "
            "~-708) with only a few digits left")


def unshifted_why(z, axis=-1, what="this input"):
    """Why softmax without the shift fails at z, and what to do."""
    return f"{unshifted_cause(z, axis, what)}: {FIX_SHIFT}"


def warned_why(z, axis=-1, *, log=False):
    """The why of a numpy warning at z: the overflow, when this input can overflow exp."""
    if np.max(z) <= EXP_OVERFLOWS:
        return WARNED
    return log_unshifted_why(z, axis) if log else unshifted_why(z, axis)


def softmax_nan_why(z, axis=-1, what="this input"):
    """A NaN from softmax at z that no listed mistake explains: the two divisions that make one, told for this input."""
    z = np.asarray(z, dtype=float)
    _, row = lowest_row(z, axis)
    return ("softmax takes no log, so a NaN from it is inf / inf (an exp overflowed past ~709.8) or 0 / 0 (every exp "
            f"of a row underflowed to 0 below ~-745); the largest logit of {what} is {float(z.max()):g} and its lowest "
            f"row max is {float(row.max()):g}: {FIX_SHIFT_T if what == 'z / T' else FIX_SHIFT}")


def log_unshifted_why(z, axis=-1):
    """What log Σ exp(z) does without the shift at this input."""
    z = np.asarray(z, dtype=float)
    rows = np.moveaxis(z, axis, -1)
    fix = "take the max out of the log-sum-exp first"
    with np.errstate(all="ignore"):
        exps = np.exp(rows)
        sums = exps.sum(axis=-1)
    if np.isposinf(exps).any():
        return f"exp({float(z.max()):g}) overflows to inf, so log Σ exp(z) = inf: {fix}"
    if np.isposinf(sums).any():
        return f"Σ exp(z) overflows to inf (past ~1.8e308), so log Σ exp(z) = inf: {fix}"
    name, row = lowest_row(z, axis)
    if (sums == 0).any():
        return (f"every exp of {name} (largest logit {float(row.max()):g}) underflows to 0, so log Σ exp(z) = log 0 "
                f"= -inf, and z minus it is +inf: {fix}")
    return (f"the exps of {name} (largest logit {float(row.max()):g}) are subnormal numbers with only a few digits "
            f"left, so log Σ exp(z) is off: {fix}")


def log_of_softmax_why(z, axis=-1):
    """What np.log(softmax(z)) did to this input: the first finite logit whose probability underflowed to 0."""
    z = np.asarray(z, dtype=float)
    rows = np.moveaxis(z, axis, -1)
    with np.errstate(all="ignore"):
        shifted = rows - rows.max(axis=-1, keepdims=True)
        lse = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        probabilities = np.exp(shifted) / np.exp(lse)
    lost = np.argwhere(np.isfinite(rows) & (probabilities == 0))
    fix = "Take the max out of the log-sum-exp instead"
    if len(lost):
        i = tuple(lost[0])
        return (f"that is np.log(softmax(z)): the logit {rows[i]:g} is {-shifted[i]:g} below its row's max, so its "
                f"probability exp({shifted[i]:g}) / Σ underflows to 0 and log 0 = -inf, where log_softmax is "
                f"{float(shifted[i] - lse[i[:-1]][0]):g}. {fix}")
    return ("that is np.log(softmax(z))? never take the log of a softmax: a probability that underflowed to 0 (or to a "
            f"subnormal number with few digits) has a wrong log. {fix}")


def quietly(function, *args, call=None, **kwargs):
    """(result, the first numpy warning's text or None): warnings are recorded, so a wrong value can be diagnosed.

    A broadcasting error (keepdims forgotten on a non-square batch) ends the test with its cause.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = function(*args, **kwargs)
        except ValueError as error:
            if "broadcast" not in str(error):
                raise
            frames = [f for f in traceback.extract_tb(error.__traceback__) if course_folder_of(f.filename)]
            where = f" at {short_path(frames[-1].filename)} line {frames[-1].lineno}" if frames else ""
            problem = f"{call or getattr(function, '__name__', 'it')} raised ValueError '{error}'{where}"
            cause = broadcast_cause(error, args)
        else:
            problem = None
    if problem:
        fail(f"{problem}: {cause}")
    texts = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    return result, (texts[0] if texts else None)


def has_unexplained_nan(got, expected, mistakes, rtol, atol):
    """got has a NaN where expected has none, and no listed mistake explains it."""
    try:
        got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return False
    if got.shape != expected.shape or not (np.isnan(got) & ~np.isnan(expected)).any():
        return False
    return diagnose(got, mistakes, expected=expected, tolerance=(rtol, atol)) is None


def expect_calm(call, function, *args, expected, mistakes=(), why=WARNED, rtol=1e-5, atol=1e-8, first=None,
                nan_why=None, **kwargs):
    """function(*args) must equal expected (a known mistake is named first) and make numpy warn nothing.

    first(got, call), if given, checks the raw result before anything else; nan_why names the cause of a NaN that
    no listed mistake explains; why (a text, or a function of the warning's text) explains a warning.
    """
    got, warned = quietly(function, *args, call=call, **kwargs)
    if first is not None:
        first(got, call)
    mistakes = list(mistakes)
    if nan_why is not None and has_unexplained_nan(got, expected, mistakes, rtol, atol):
        fail(f"{call} returned {show(got)}, expected {show(np.asarray(expected, dtype=float))}: {nan_why}")
    value = expect_close(got, expected, call, mistakes=mistakes, rtol=rtol, atol=atol)
    if warned:
        fail(f"{call} gave the right numbers but numpy warned '{warned}' on the way: "
             f"{why(warned) if callable(why) else why}")
    return value


def expect_float64(got, call):
    dtype = getattr(got, "dtype", None)
    if dtype is not None and str(dtype) != "float64":
        fail(f"{call} returned {dtype} values; the contract is float64 (float32 keeps only ~7 digits, too few "
             "for the 1e-7 gradient check of task 3.6)")


def softmax_path(z, axis=-1, *, shift="axis", keep_max=True, total="axis", keep_sum=True):
    """Softmax along the lesson's path (shift, exp, normalise) with one step possibly changed; NaN where it fails.

    total: "axis" (right), "all" (the whole array), "other" (the other axis) or "none" (no division).
    None where the mistake cannot even broadcast (keepdims forgotten on a non-square array).
    """
    z = np.asarray(z, dtype=float)
    with np.errstate(all="ignore"), contextlib.suppress(ValueError):
        m = {"axis": lambda: z.max(axis=axis, keepdims=keep_max), "all": z.max, "none": lambda: 0.0}[shift]()
        e = np.exp(z - m)
        if total == "none":
            return e
        s = e.sum() if total == "all" else e.sum(axis=axis if total == "axis" else other_axis(axis), keepdims=keep_sum)
        return e / s
    return None


LSE_ADDED = ("you added the log-sum-exp: the log of a quotient is the log of the top minus the log of the bottom, "
             "so the log of the softmax's denominator is subtracted")


def log_softmax_path(z, axis=-1, *, shift="axis", keep_max=True, total="axis", keep_sum=True, add_back=False,
                     sign=-1.0):
    """log_softmax as (z - m) - log Σ exp(z - m), with one step possibly changed (sign=+1: the log added)."""
    z = np.asarray(z, dtype=float)
    with np.errstate(all="ignore"), contextlib.suppress(ValueError):
        m = {"axis": lambda: z.max(axis=axis, keepdims=keep_max), "all": z.max, "none": lambda: 0.0}[shift]()
        shifted = z - m
        e = np.exp(shifted)
        s = e.sum() if total == "all" else e.sum(axis=axis if total == "axis" else other_axis(axis), keepdims=keep_sum)
        return (z if add_back else shifted) + sign * np.log(s)
    return None


def computable(mistakes):
    return [(value, why) for value, why in mistakes if value is not None]


def has_nan(value):
    return value is not None and bool(np.isnan(value).any())


def softmax_mistakes(z, axis=-1, what="this input"):
    """The mistakes of 3.1 at z (the logits after the temperature), each computed along the lesson's path.

    Each diagnosis speaks of this z. Without the shift a NaN is the overflow's (or the underflow's), whatever the sum
    did after it, so the unshifted variants that give NaN get that diagnosis.
    """
    z = np.asarray(z, dtype=float)
    fixed = (f"you normalised along axis {other_axis(axis)}; softmax normalises along `axis` (here {axis}): pass axis "
             "(never a fixed number) to max and sum")
    found = []
    if z.ndim > 1 and z.shape[other_axis(axis)] > 1:  # along an axis of length 1 it is no normalisation at all
        found += [(softmax_path(z, other_axis(axis)), fixed), (softmax_path(z, axis, total="other"), fixed)]
    unshifted = unshifted_why(z, axis, what)
    for shift in ("axis", "none"):
        for value, why in ((softmax_path(z, axis, shift=shift, total="all"), WHOLE_SUM),
                           (softmax_path(z, axis, shift=shift, keep_sum=False), NO_KEEPDIMS_SUM)):
            found.append((value, unshifted if shift == "none" and has_nan(value) else why))
    return computable(found + [(softmax_path(z, axis, keep_max=False), NO_KEEPDIMS_MAX),
                    (softmax_path(z, axis, keep_max=False, keep_sum=False),
                     "keepdims=True is missing from both the max and the sum: the row results broadcast along the "
                     "wrong axis"),
                    (softmax_path(z, axis, shift="all"), global_max_why(z, axis, what=what)),
                    (softmax_path(z, axis, shift="none"), unshifted),
                    (softmax_path(z, axis, total="none"), NO_NORMALISATION)])


def temperature_mistakes(z, temperature, axis=-1):
    """The temperature multiplied instead of dividing, or ignored, or the shift taken from the logits before the
    division (each along the lesson's path)."""
    z = np.asarray(z, dtype=float)
    with np.errstate(all="ignore"):
        exps = np.exp(z / temperature - z.max(axis=axis, keepdims=True))
        early = exps / exps.sum(axis=axis, keepdims=True)
    return [(softmax_path(z * temperature, axis), "you multiplied by the temperature; divide the logits by it"),
            (softmax_path(z, axis), "the temperature is ignored: divide the logits by it first"),
            (early, f"you shifted z / T by the max of the logits, not of z / T: at T = {temperature:g} that shift is "
                    "too small or too large, so exp overflows or every exp underflows. Subtract the max of z / T, the "
                    "array you exponentiate, not the logits before the division")]


def log_softmax_mistakes(z, axis=-1):
    """The mistakes of 3.2 at z, along the path (z - m) - log Σ exp(z - m), and the log of a softmax."""
    z = np.asarray(z, dtype=float)
    fixed = [value for value, why in softmax_mistakes(z, axis) if why.startswith("you normalised along axis")]
    right = log_softmax_path(z, axis)
    with np.errstate(all="ignore"):
        logged = [(np.log(value), f"you normalised along axis {other_axis(axis)}; log_softmax normalises along "
                                  f"`axis` (here {axis}): pass axis (never a fixed number) to max and sum")
                  for value in fixed]
        of_softmax = [(np.log(softmax_path(z, axis)), log_of_softmax_why(z, axis))]
        unshifted = softmax_path(z, axis, shift="none")
        if has_nan(unshifted):
            of_softmax.append((np.log(unshifted), "that is np.log(softmax(z)) with a softmax computed without the "
                                                  f"shift: {unshifted_cause(z, axis, in_softmax=False)}. Take the max "
                                                  "out of the log-sum-exp instead"))
        flipped = -right
    return computable(logged + of_softmax + [
        (flipped, LOG_FLIPPED),
        (softmax_path(z, axis), "that is softmax: take its log (stably)"),
        (z - z.max(axis=axis, keepdims=True), "that is z - max(z) alone: subtract the log-sum-exp of the shifted "
                                              "logits too"),
        (log_softmax_path(z, axis, keep_max=False), NO_KEEPDIMS_MAX),
        (log_softmax_path(z, axis, keep_sum=False), NO_KEEPDIMS_SUM_LOG),
        (log_softmax_path(z, axis, total="all"), WHOLE_SUM_LOG),
        (log_softmax_path(z, axis, shift="all"), global_max_why(z, axis, log=True)),
        (log_softmax_path(z, axis, add_back=True), ADDED_BACK),
        (log_softmax_path(z, axis, shift="none"), log_unshifted_why(z, axis)),
        (log_softmax_path(z, axis, sign=1.0), LSE_ADDED),
    ])


@st.composite
def far_apart_rows(draw, max_rows=5, max_classes=6):
    """Logits whose rows sit at very different heights (offsets up to ±1e4) around a moderate spread."""
    rows, classes = draw(st.integers(1, max_rows)), draw(st.integers(2, max_classes))
    heights = draw(st.lists(st.sampled_from([-1e4, -1000.0, 0.0, 1000.0, 1e4]) | st.floats(-1e4, 1e4),
                            min_size=rows, max_size=rows))
    spread = draw(st.lists(st.floats(-30.0, 30.0), min_size=rows * classes, max_size=rows * classes))
    return np.asarray(heights)[:, None] + np.asarray(spread).reshape(rows, classes)


# --- 3.1 softmax -------------------------------------------------------------------


@pytest.mark.task("3.1")
def test_softmax_of_two_logits(mod):
    expect_calm("softmax([1, 2])", mod.softmax, [1.0, 2.0], expected=SOFTMAX_1_2,
                mistakes=[([1.0, 2.0], "you returned the logits: take exp and divide by the sum"),
                          ([math.e, math.e ** 2], "that is exp(z) without dividing by the sum"),
                          ([math.exp(-1), 1.0], NO_NORMALISATION)])


@pytest.mark.task("3.1")
def test_softmax_shifts_each_row_by_its_own_max(mod):
    call = "softmax([[1000, 999], [-1000, -1001]]) (rows of very different scales)"
    expect_calm(call, mod.softmax, FAR_APART, expected=[[SIGMOID_1, 1 - SIGMOID_1]] * 2,
                mistakes=softmax_mistakes(FAR_APART, -1), why=global_max_why(FAR_APART, -1),
                nan_why=softmax_nan_why(FAR_APART, -1))
    call = "softmax([[1000, -1000], [999, -1001]], axis=0) (columns of very different scales)"
    expect_calm(call, mod.softmax, FAR_APART.T, axis=0, expected=[[SIGMOID_1] * 2, [1 - SIGMOID_1] * 2],
                mistakes=softmax_mistakes(FAR_APART.T, 0), why=global_max_why(FAR_APART.T, 0),
                nan_why=softmax_nan_why(FAR_APART.T, 0))


@pytest.mark.task("3.1")
def test_softmax_does_not_overflow_near_1000(mod):
    for shown, z, expected in (("[1001, 1002]", [1001.0, 1002.0], SOFTMAX_1_2),
                               ("[1000, -1000]", [1000.0, -1000.0], [1.0, 0.0]),
                               ("[-1000, -1001]", [-1000.0, -1001.0], [SIGMOID_1, 1 - SIGMOID_1])):
        expect_calm(f"softmax({shown})", mod.softmax, z, expected=expected, why=unshifted_why(z),
                    mistakes=softmax_mistakes(z), nan_why=softmax_nan_why(z))


@pytest.mark.task("3.1")
def test_softmax_normalises_each_row_of_a_batch(mod):
    call = "softmax(3×3 logits) (axis=-1: one distribution per row)"
    got = expect_calm(call, mod.softmax, SQUARE, expected=scipy.special.softmax(SQUARE, axis=1),
                      mistakes=softmax_mistakes(SQUARE, -1))
    expect_float64(mod.softmax(SQUARE), call)
    expect_shape(got, (3, 3), call)


@pytest.mark.task("3.1")
def test_softmax_follows_the_axis_argument(mod):
    call = "softmax(3×3 logits, axis=0) (one distribution per column)"
    expect_calm(call, mod.softmax, SQUARE, axis=0, expected=scipy.special.softmax(SQUARE, axis=0),
                mistakes=[(scipy.special.softmax(SQUARE, axis=1), "the axis argument is ignored: normalise along "
                                                                   "`axis`")] + softmax_mistakes(SQUARE, 0))
    cube = np.arange(12.0).reshape(2, 3, 2) % 5
    call = "softmax(logits of shape (2, 3, 2), axis=1)"
    expect_calm(call, mod.softmax, cube, axis=1, expected=scipy.special.softmax(cube, axis=1),
                mistakes=[(scipy.special.softmax(cube, axis=-1), "the axis argument is ignored: normalise along "
                                                                  "`axis`, whatever the array's number of axes")]
                + softmax_mistakes(cube, 1))


@pytest.mark.task("3.1")
def test_softmax_with_temperature(mod):
    expect_calm("softmax([1, 2], temperature=2)", mod.softmax, [1.0, 2.0], temperature=2.0,
                expected=[0.37754067, 0.62245933],
                mistakes=[([0.11920292, 0.88079708], "you multiplied by the temperature; divide the logits by it"),
                          (SOFTMAX_1_2, "the temperature is ignored: divide the logits by it first")]
                + softmax_mistakes(np.array([0.5, 1.0]), what="z / T"))
    z = np.array([2.0, 0.5, -1.0])
    expect_calm("softmax([2, .5, -1], temperature=0.5)", mod.softmax, z, temperature=0.5,
                expected=[0.95033021, 0.04731416, 0.00235563],
                mistakes=temperature_mistakes(z, 0.5) + softmax_mistakes(z / 0.5, what="z / T"))


@pytest.mark.task("3.1")
def test_softmax_gives_a_ruled_out_class_probability_0(mod):
    e = math.e
    expect_calm("softmax([0, -inf, 1])", mod.softmax, [0.0, -np.inf, 1.0], expected=[1 / (1 + e), 0.0, e / (1 + e)],
                atol=1e-15, mistakes=[(np.array([np.nan, np.nan, np.nan]), "a -inf logit gave NaN: shift by the max "
                                                                         "(a -inf logit stays -inf, its exp is 0)")]
                + softmax_mistakes(np.array([0.0, -np.inf, 1.0])))
    z = np.array([[-np.inf, 0.0], [0.0, -np.inf]])
    expect_calm("softmax([[-inf, 0], [0, -inf]], temperature=0.5)", mod.softmax, z, temperature=0.5,
                expected=[[0.0, 1.0], [1.0, 0.0]], atol=1e-15,
                mistakes=softmax_mistakes(z / 0.5, what="z / T"), nan_why=softmax_nan_why(z / 0.5, what="z / T"))


@pytest.mark.task("3.1")
def test_softmax_refuses_bad_input(mod):
    expect_refusals(mod.softmax, works=Call([1.0, 2.0]), refuses=[
        (Call([1.0, 2.0], temperature=0.0), "a temperature must be positive"),
        (Call([1.0, 2.0], temperature=-1.0), "a temperature must be positive"),
        (Call([]), "there are no logits"),
        (Call([np.inf, 0.0]), "+inf has no softmax (inf - inf)"),
        (Call([[0.0, 1.0], [-np.inf, -np.inf]]), "the second row has no possible class"),
        (Call(SQUARE, axis=2), "logits of shape (3, 3) have no axis 2")])


@pytest.mark.task("3.1")
@given(z=logits(), shift=st.floats(-1000, 1000))
def test_softmax_is_unchanged_when_a_constant_is_added(mod, z, shift):
    call = f"softmax(z + {shift:g}) against softmax(z) for z = {drawn(z)}"
    base, _ = quietly(mod.softmax, z, call=f"softmax(z) for z = {drawn(z)}")
    expect_calm(call, mod.softmax, z + shift, expected=np.asarray(base, dtype=float), rtol=1e-7, atol=1e-12,
                mistakes=softmax_mistakes(z + shift, -1, what="z + shift"), why=warned_why(z + shift),
                nan_why=softmax_nan_why(z + shift, what="z + shift"), first=expect_float64)


@pytest.mark.task("3.1")
@given(z=far_apart_rows(), temperature=st.sampled_from([0.25, 1.0, 3.0]))
def test_softmax_rows_sum_to_one_even_at_extreme_logits(mod, z, temperature):
    call = f"softmax(z, temperature={temperature}) for z = {drawn(z)}"
    scaled = z / temperature
    got = expect_calm(call, mod.softmax, z, temperature=temperature,
                      expected=scipy.special.softmax(scaled, axis=-1), rtol=1e-9, atol=1e-300, first=expect_float64,
                      mistakes=temperature_mistakes(z, temperature) + softmax_mistakes(scaled, -1, what="z / T"),
                      why=warned_why(scaled), nan_why=softmax_nan_why(scaled, what="z / T"))
    expect_close(got.sum(axis=-1), np.ones(z.shape[0]), f"the row sums of {call}", rtol=1e-9)


# --- 3.2 log_softmax ---------------------------------------------------------------


@pytest.mark.task("3.2")
def test_log_softmax_of_two_logits(mod):
    expect_calm("log_softmax([1, 2])", mod.log_softmax, [1.0, 2.0], expected=LOG_SOFTMAX_1_2,
                mistakes=[(SOFTMAX_1_2, "that is softmax: take its log (stably)"),
                          ([1.31326169, 0.31326169], "the sign is flipped: log-probabilities are <= 0"),
                          ([-1.0, 0.0], "that is z - max(z) alone: subtract the log-sum-exp of the shifted logits too"),
                          (log_softmax_path([1.0, 2.0], add_back=True), ADDED_BACK),
                          (log_softmax_path([1.0, 2.0], sign=1.0), LSE_ADDED)])


@pytest.mark.task("3.2")
def test_log_softmax_stays_finite_at_extreme_logits(mod):
    z = np.array([1000.0, 0.0, -1000.0])
    expect_calm("log_softmax([1000, 0, -1000])", mod.log_softmax, z, expected=[0.0, -1000.0, -2000.0],
                mistakes=log_softmax_mistakes(z), why=log_of_softmax_why(z))


@pytest.mark.task("3.2")
def test_log_softmax_shifts_each_row_by_its_own_max(mod):
    call = "log_softmax([[1000, 999], [-1000, -1001]]) (rows of very different scales)"
    expect_calm(call, mod.log_softmax, FAR_APART, expected=[LOG_SOFTMAX_1_2[::-1]] * 2,
                mistakes=log_softmax_mistakes(FAR_APART), why=global_max_why(FAR_APART, log=True))


@pytest.mark.task("3.2")
def test_log_softmax_of_uniform_logits_is_minus_log_c(mod):
    expect_calm("log_softmax(5 equal logits)", mod.log_softmax, np.zeros(5), expected=np.full(5, -math.log(5)),
                mistakes=[(np.full(5, -math.log(5) / math.log(2)), "that is in bits: use the natural log")]
                + log_softmax_mistakes(np.zeros(5)))


@pytest.mark.task("3.2")
def test_log_softmax_follows_the_axis(mod):
    for axis in (-1, 0):
        call = f"log_softmax(3×3 logits, axis={axis})"
        got = expect_calm(call, mod.log_softmax, SQUARE, axis=axis,
                          expected=scipy.special.log_softmax(SQUARE, axis=axis),
                          mistakes=log_softmax_mistakes(SQUARE, axis))
        expect_float64(got, call)


@pytest.mark.task("3.2")
def test_log_softmax_of_a_ruled_out_class_is_minus_inf(mod):
    z = np.array([0.0, -np.inf, 1.0])
    expect_calm("log_softmax([0, -inf, 1])", mod.log_softmax, z,
                expected=[-math.log(1 + math.e), -np.inf, 1 - math.log(1 + math.e)], mistakes=log_softmax_mistakes(z),
                why=lambda warned: LOG_OF_MINUS_INF if "divide by zero" in warned and "log" in warned else WARNED)


@pytest.mark.task("3.2")
@given(z=far_apart_rows())
def test_log_softmax_is_the_log_of_softmax(mod, z):
    expect_calm(f"log_softmax(z) for z = {drawn(z)}", mod.log_softmax, z,
                expected=scipy.special.log_softmax(z, axis=-1), rtol=1e-9, atol=1e-9, first=expect_float64,
                mistakes=log_softmax_mistakes(z), why=warned_why(z, log=True))


# --- 3.3 cross_entropy_from_logits ---------------------------------------------------


ARGMAX = ("you kept only the most likely target class (an argmax): with probability rows every class counts, "
          "-Σ_i t_i log_softmax(z)_i")
NN_BLOCK = ("lp[:, targets] picks every target class in every row (an N×N block): row n's loss is -lp[n, targets[n]], "
            "pick them with lp[np.arange(N), targets]")


def batch_mistakes(mean, per_row, n_classes):
    return [
        (mean * len(per_row), "that is the batch SUM of the row losses; the loss is their mean over the N rows"),
        (-mean, "a negative loss: the minus sign is missing, each row's loss is -Σ t log_softmax(z)"),
        (mean / n_classes, "you averaged over the classes as well; sum over the classes, average over the rows"),
        (mean / math.log(2), "that is in bits: the loss is in nats (natural log)"),
        (np.asarray(per_row), "you returned one loss per row; return their mean"),
    ]


def one_loss(got, call):
    if np.ndim(got) == 1:
        fail(f"{call} returned {np.shape(got)[0]} number(s), one loss per row: return their mean, one float")


@pytest.mark.task("3.3")
def test_soft_targets_row_by_row(mod):
    for n in range(2):
        call = f"cross_entropy_from_logits({EXAMPLE_LOGITS[[n]].tolist()}, {EXAMPLE_SOFT[[n]].tolist()})"
        argmax = -scipy.special.log_softmax(EXAMPLE_LOGITS[n])[EXAMPLE_SOFT[n].argmax()]
        expect_calm(call, mod.cross_entropy_from_logits, EXAMPLE_LOGITS[[n]], EXAMPLE_SOFT[[n]],
                    expected=ROW_LOSSES[n], why=log_of_softmax_why(EXAMPLE_LOGITS[[n]]), first=one_loss,
                    mistakes=batch_mistakes(ROW_LOSSES[n], ROW_LOSSES[n:n + 1], 3) + [(argmax, ARGMAX)])


@pytest.mark.task("3.3")
def test_soft_targets_batch_mean(mod):
    call = "cross_entropy_from_logits([[4, 2, 1], [0, 5, 1]], [[1, 0, 0], [0, .8, .2]])"
    got, _ = quietly(mod.cross_entropy_from_logits, EXAMPLE_LOGITS, EXAMPLE_SOFT)
    one_loss(got, call)
    expect_close(got, MEAN_LOSS, call, mistakes=batch_mistakes(MEAN_LOSS, ROW_LOSSES, 3) + [(INDEX_MEAN_LOSS, ARGMAX)],
                 shape_diagnoses={(2,): "you returned one loss per row; return their mean"})


@pytest.mark.task("3.3")
def test_class_index_targets(mod):
    call = "cross_entropy_from_logits([[4, 2, 1], [0, 5, 1]], [0, 1])"
    got, _ = quietly(mod.cross_entropy_from_logits, EXAMPLE_LOGITS, np.array([0, 1]))
    one_loss(got, call)
    expect_close(got, INDEX_MEAN_LOSS, call, mistakes=batch_mistakes(INDEX_MEAN_LOSS, [0.169846, 0.024745], 3)
                 + [(1.84729545, NN_BLOCK)])


@pytest.mark.task("3.3")
def test_uniform_logits_give_log_c(mod):
    expect_calm("cross_entropy_from_logits(3 rows of 5 equal logits, [0, 2, 4])", mod.cross_entropy_from_logits,
                np.zeros((3, 5)), np.array([0, 2, 4]), expected=math.log(5), first=one_loss,
                mistakes=batch_mistakes(math.log(5), [math.log(5)] * 3, 5))


@pytest.mark.task("3.3")
def test_cross_entropy_from_logits_is_stable(mod):
    expect_calm("cross_entropy_from_logits([[1000, 0]], [1])", mod.cross_entropy_from_logits,
                np.array([[1000.0, 0.0]]), np.array([1]), expected=1000.0, first=one_loss,
                mistakes=[(np.inf, log_of_softmax_why([[1000.0, 0.0]])),
                          (np.nan, "NaN: exp(1000) overflows to inf and inf / inf is NaN, a softmax computed without "
                                   "the shift; work from your log_softmax (3.2)")] + batch_mistakes(1000.0, [1000.0], 2),
                why=log_of_softmax_why([[1000.0, 0.0]]))
    # row 0: -log softmax([1000, 999])_0 = log(1 + 1/e); row 1: -log softmax([-1000, -1001])_1 = log(1 + e)
    expected = (math.log(1 + 1 / math.e) + math.log(1 + math.e)) / 2
    expect_calm("cross_entropy_from_logits([[1000, 999], [-1000, -1001]], [0, 1])", mod.cross_entropy_from_logits,
                FAR_APART, np.array([0, 1]), expected=expected, why=log_of_softmax_why(FAR_APART),
                mistakes=[(np.inf, "a loss of inf: a log-probability became -inf, so it was not computed stably, row "
                                   "by row (log_softmax along the classes)")]
                + batch_mistakes(expected, [math.log(1 + 1 / math.e), math.log(1 + math.e)], 2))


@pytest.mark.task("3.3")
@pytest.mark.parametrize("soft", [False, True], ids=["class indices", "probability rows"])
def test_cross_entropy_from_logits_equals_torch(mod, soft):
    mod.cross_entropy_from_logits(EXAMPLE_LOGITS, EXAMPLE_SOFT)  # not done yet? say so before importing torch
    import torch
    import torch.nn.functional as F  # noqa: N812

    rng = np.random.default_rng(3)
    for n, c in ((1, 2), (7, 5), (16, 10)):
        z = rng.normal(0.0, 3.0, size=(n, c))
        targets = rng.dirichlet(np.ones(c), size=n) if soft else rng.integers(0, c, size=n)
        expected = F.cross_entropy(torch.tensor(z), torch.tensor(targets)).item()
        per_row = F.cross_entropy(torch.tensor(z), torch.tensor(targets), reduction="none").numpy()
        lp = F.log_softmax(torch.tensor(z), dim=-1).numpy()
        call = f"cross_entropy_from_logits(random ({n}, {c}) logits, {'probability rows' if soft else 'class indices'})"
        got, _ = quietly(mod.cross_entropy_from_logits, z, targets)
        one_loss(got, call)
        wrong_pick = ((-lp[np.arange(n), targets.argmax(axis=-1)].mean(), ARGMAX) if soft
                      else (-lp[:, targets].mean(), NN_BLOCK))
        expect_close(expect_number(got, call), expected, call + ", against torch.nn.functional.cross_entropy",
                     rtol=1e-10, atol=1e-12,
                     mistakes=[wrong_pick] + batch_mistakes(expected, per_row, c))


@pytest.mark.task("3.3")
def test_cross_entropy_from_logits_refuses_bad_targets(mod):
    expect_refusals(mod.cross_entropy_from_logits, works=Call(EXAMPLE_LOGITS, np.array([0, 1])), refuses=[
        (Call(EXAMPLE_LOGITS, np.array([0, 3]), shown="cross_entropy_from_logits(logits (2, 3), [0, 3])"),
         "class 3 does not exist among 3 classes"),
        (Call(EXAMPLE_LOGITS, np.array([0, 1, 2]), shown="cross_entropy_from_logits(logits (2, 3), [0, 1, 2])"),
         "there are 3 targets for 2 rows"),
        (Call(EXAMPLE_LOGITS, np.array([[0.5, 0.6, 0.0], [0.0, 1.0, 0.0]]),
              shown="cross_entropy_from_logits(logits (2, 3), rows summing to 1.1 and 1)"), "a target row sums to 1.1"),
        (Call(EXAMPLE_LOGITS, np.array([0.0, 1.0]), shown="cross_entropy_from_logits(logits (2, 3), [0.0, 1.0])"),
         "class indices must be integers"),
        (Call([4.0, 2.0, 1.0], np.array([0])), "logits must be (N, C), not one flat row"),
        (Call([[0.0, -np.inf]], np.array([0])), "the loss needs finite logits")])


@pytest.mark.task("3.3")
@given(p=distributions())
def test_logits_equal_to_log_p_give_the_entropy(mod, p):
    expected = -float(np.sum(p * np.log(p)))
    call = f"cross_entropy_from_logits([log p], [p]) for p = {drawn(p)}"
    got, _ = quietly(mod.cross_entropy_from_logits, np.log(p)[None, :], p[None, :])
    one_loss(got, call)
    expect_close(got, expected, call + " (should be H(p): softmax(log p) = p)", rtol=1e-9,
                 mistakes=batch_mistakes(expected, [expected], len(p)) + [(-math.log(p.max()), ARGMAX)])


# --- 3.4 cross_entropy_grad ------------------------------------------------------------


def torch_gradient(z, targets):
    import torch
    import torch.nn.functional as F  # noqa: N812

    logits = torch.tensor(z, requires_grad=True)
    F.cross_entropy(logits, torch.tensor(targets)).backward()
    return logits.grad.numpy()


def grad_mistakes(z, targets, expected):
    """Mistakes of 3.4, computed from their own formula; `expected` is the right gradient (from torch)."""
    n, c = np.shape(z)
    onehot = np.eye(c)[targets] if np.ndim(targets) == 1 else np.asarray(targets, dtype=float)
    probabilities = scipy.special.softmax(z, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        by_probabilities = -onehot / probabilities / n
    block = [((probabilities - np.isin(np.arange(c), targets)) / n,
              "p[:, targets] -= 1 subtracts 1 in every target class of every row (an N×N block): subtract it only "
              "at each row's own target, p[np.arange(N), targets]")] if np.ndim(targets) == 1 else []
    return block + [
        (by_probabilities, "that is the gradient with respect to the probabilities, -t / p: the task asks for the "
                           "gradient with respect to the logits z, so carry the chain rule on through the softmax"),
        (expected * n, f"the gradient is {n} times too big: the loss is the MEAN over the N = {n} rows, and that "
                       "mean puts a factor into every row's gradient"),
        (-expected, "the sign is flipped: the loss falls when the target class's logit rises, so that component of "
                    "the gradient must be negative"),
        *([(-expected * n, f"the sign is flipped AND the 1/N of the batch mean (N = {n}) is missing")] if n > 1 else []),
        (expected * n / c, f"you divided by C = {c}, the number of classes; the mean is over the N = {n} rows"),
        (scipy.special.softmax(z, axis=-1) / n, "the target is missing: that is softmax / N, and the derivative of "
                                                "the -Σ t_i z_i part of the loss still has to be subtracted"),
        ((scipy.special.softmax(z, axis=0) - onehot) / n, "softmax along axis 0 (the rows): each row of logits is "
                                                          "its own distribution, use softmax(logits, axis=-1)"),
        ((probabilities - 1) / n, f"each row of the gradient must sum to 0 (a softmax row and a target row both sum "
                                  f"to 1), and yours sums to (1 - C) / N: you subtracted 1 from every one of the C = "
                                  f"{c} classes, but the derivative of -Σ_i t_i z_i with respect to z_k is -t_k, "
                                  "which is 1 only at a class index's own class"),
        (-onehot * (1 - probabilities) / n, "each row of the gradient must sum to 0, and yours is 0 wherever the "
                                            "target is 0: every logit of a row is inside the log-sum-exp, so every "
                                            "class's logit moves the loss, not only the target's"),
    ]


@pytest.mark.task("3.4")
def test_gradient_of_the_example(mod):
    for targets, expected, shown in ((np.array([0, 1]), np.array(INDEX_GRADIENT), "[0, 1]"),
                                     (EXAMPLE_SOFT, (scipy.special.softmax(EXAMPLE_LOGITS, axis=1) - EXAMPLE_SOFT) / 2,
                                      "[[1, 0, 0], [0, .8, .2]]")):
        call = f"cross_entropy_grad([[4, 2, 1], [0, 5, 1]], {shown})"
        got = expect_calm(call, mod.cross_entropy_grad, EXAMPLE_LOGITS, targets, expected=expected, rtol=1e-9,
                          atol=1e-12, mistakes=grad_mistakes(EXAMPLE_LOGITS, targets, expected))
        expect_float64(got, call)


@pytest.mark.task("3.4")
@pytest.mark.parametrize("soft", [False, True], ids=["class indices", "probability rows"])
def test_gradient_equals_torch_autograd(mod, soft):
    mod.cross_entropy_grad(EXAMPLE_LOGITS, EXAMPLE_SOFT)  # not done yet? say so before importing torch
    rng = np.random.default_rng(4)
    for n, c in ((1, 3), (6, 4), (12, 10)):
        z = rng.normal(0.0, 3.0, size=(n, c))
        targets = rng.dirichlet(np.ones(c), size=n) if soft else rng.integers(0, c, size=n)
        expected = torch_gradient(z, targets)
        call = f"cross_entropy_grad(random ({n}, {c}) logits, {'probability rows' if soft else 'class indices'})"
        expect_calm(call + ", against torch autograd of F.cross_entropy", mod.cross_entropy_grad, z, targets,
                    expected=expected, rtol=1e-9, atol=1e-12, mistakes=grad_mistakes(z, targets, expected))


@pytest.mark.task("3.4")
def test_gradient_at_rows_of_very_different_scales(mod):
    p = np.array([SIGMOID_1, 1 - SIGMOID_1])
    expected = (np.array([p, p]) - np.eye(2)[[1, 0]]) / 2
    expect_calm("cross_entropy_grad([[1000, 999], [-1000, -1001]], [1, 0])", mod.cross_entropy_grad, FAR_APART,
                np.array([1, 0]), expected=expected, atol=1e-15, why=unshifted_why(FAR_APART),
                mistakes=[(np.full((2, 2), np.nan), "NaN: a softmax computed without shifting each row by its own "
                                                    "max; use your softmax (3.1), which is stable")]
                + grad_mistakes(FAR_APART, np.array([1, 0]), expected))


@pytest.mark.task("3.4")
@given(z=far_apart_rows())
def test_gradient_rows_sum_to_zero(mod, z):
    targets = np.arange(z.shape[0]) % z.shape[1]
    call = f"cross_entropy_grad(z, {show(targets)}) for z = {drawn(z)}"
    got = expect_shape(quietly(mod.cross_entropy_grad, z, targets, call=call)[0], z.shape, call)
    # the closed form, which the two tests above check against torch autograd
    expected = (scipy.special.softmax(z, axis=1) - np.eye(z.shape[1])[targets]) / z.shape[0]
    expect_close(got, expected, call, rtol=1e-9, atol=1e-12, mistakes=grad_mistakes(z, targets, expected))
    expect_close(got.sum(axis=1), np.zeros(z.shape[0]), "the row sums of " + call + " (a softmax row and a target "
                 "row both sum to 1, so each row of the gradient sums to 0)", atol=1e-12)


# --- 3.5 numerical_gradient ---------------------------------------------------------------


X3 = np.array([1.0, 2.0, -1.5])


class Formula:
    """A function of x that shows itself by its formula (in messages and in make compare's table)."""

    def __init__(self, text, function):
        self.text, self.function = text, function

    def __call__(self, x):
        return self.function(x)

    def __repr__(self):
        return self.text


cube_sum = Formula("Σ x³", lambda x: float(np.sum(x ** 3)))


TWICE = "twice too big: divide the difference by 2h, not h"
HALF = "half too small: divide the difference by 2h, not 4h"
BACK_TO_X = ("half a one-sided difference: the second f ran at x itself, not at x - h (after x[i] += h, one x[i] -= h "
             "only brings x back): evaluate f at x + h and at x - h")


def forward_difference_message(h):
    return (f"that is a one-sided difference (f(x + h) - f(x)) / h, whose error is of order h = {h:g}: use the "
            "central difference (f(x + h) - f(x - h)) / (2h), whose error is of order h²")


def central(f, x, h, *, restore=True, rows=False, view=False):
    """Central differences, right (restore, every element) or with one known mistake.

    rows: i from range(len(x)), so a matrix's x[i] is a whole row; view: old = x[i] is then a view of that
    row, which the updates change too (so the "minus" evaluation lands back on x itself).
    """
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in (range(len(x)) if rows else np.ndindex(x.shape)):
        old = x[i] if view else np.copy(x[i])
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        grad[i] = (plus - f(x)) / (2 * h)
        if restore:
            x[i] = old
    return grad


@pytest.mark.task("3.5")
def test_central_difference_of_a_cubic(mod):
    # For f(x) = Σ x³ the central difference is exactly 3x² + h² (the h² term is f'''/6 · h²);
    # the forward difference is 3x² + 3xh + h², the backward one 3x² - 3xh + h².
    h = 1e-3
    call = f"numerical_gradient(Σ x³, x = [1, 2, -1.5], h={h:g})"
    got = expect_shape(mod.numerical_gradient(cube_sum, X3, h=h), (3,), call)
    expect_float64(got, call)
    expect_close(got, 3 * X3 ** 2 + h ** 2, call, rtol=1e-8,
                 mistakes=[(3 * X3 ** 2 + 3 * X3 * h + h ** 2, forward_difference_message(h)),
                           (3 * X3 ** 2 - 3 * X3 * h + h ** 2, forward_difference_message(h) + " (this one is backward)"),
                           (2 * (3 * X3 ** 2 + h ** 2), TWICE),
                           ((3 * X3 ** 2 + h ** 2) / 2, HALF),
                           ((3 * X3 ** 2 + 3 * X3 * h + h ** 2) / 2, BACK_TO_X),
                           (3 * X3 ** 2 + 1e-10, "that used the default step 1e-5: h is a parameter, step by the "
                                                 "h you were given")])


@pytest.mark.task("3.5")
def test_numerical_gradient_is_accurate_with_the_default_step(mod):
    got = expect_shape(mod.numerical_gradient(cube_sum, X3), (3,), "numerical_gradient(Σ x³, [1, 2, -1.5])")
    exact = 3 * X3 ** 2
    error = float(np.max(np.abs(got - exact) / exact))
    if np.allclose(np.abs(got - exact), np.abs(X3 * 3e-5), rtol=0.05, atol=0):  # 3xh: the forward difference's error
        fail(f"numerical_gradient(Σ x³, [1, 2, -1.5]) has relative error {error:.1e} against the exact 3x², above the "
             "1e-7 bar of a gradient check: " + forward_difference_message(1e-5))
    # with h = 1e-5, half a one-sided difference is within 1e-5 of exact / 2: both listed, so neither is named
    why = diagnose(got, [(2 * exact, TWICE), (exact / 2, HALF), ((exact + 3 * X3 * 1e-5) / 2, BACK_TO_X)],
                   expected=exact, tolerance=(1e-8, 0.0))
    if why is not None and error >= 1e-8:
        fail(f"numerical_gradient(Σ x³, [1, 2, -1.5]) returned {show(got)}, expected the exact 3x² = [3, 12, 6.75] "
             f"within 1e-8: {why}")
    expect_true(error < 1e-8, f"numerical_gradient(Σ x³, [1, 2, -1.5]) = {got} has relative error {error:.1e} against "
                "the exact 3x² = [3, 12, 6.75]; central differences with h = 1e-5 get below 1e-8")


@pytest.mark.task("3.5")
def test_numerical_gradient_of_a_matrix_argument(mod):
    product = Formula("x00·x01·x10 + 2·x11", lambda x: float(x[0, 0] * x[0, 1] * x[1, 0] + 2.0 * x[1, 1]))

    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    before = x.copy()
    rows = ("for a matrix, x[i] with i from range(len(x)) is a whole row, moved all at once: walk every element, "
            "np.ndindex(x.shape) gives each index")
    call = "numerical_gradient(x00·x01·x10 + 2·x11, [[1, 2], [3, 4]], h=0.01)"
    got = expect_shape(mod.numerical_gradient(product, x, h=0.01), (2, 2), call,
                       diagnoses={(4,): "return the gradient in x's own shape (np.zeros_like(x))"})
    expect_true(np.array_equal(x, before), f"{call} changed the caller's x to {x}: work on the copy")
    expect_close(got, [[6.0, 3.0], [2.0, 2.0]], call, rtol=1e-8,
                 mistakes=[(np.array([[12.0, 6.0], [4.0, 4.0]]), TWICE), (np.array([[3.0, 1.5], [1.0, 1.0]]), HALF),
                           (central(product, before, 0.01, restore=False),
                            "after each element's turn, put x[i] back to its old value: the next elements were "
                            "computed at a shifted x"),
                           (central(product, before, 0.01, rows=True), rows),
                           (central(product, before, 0.01, rows=True, view=True), rows)])


# --- 3.6 relative_error -----------------------------------------------------------------------


def ratio(top, bottom):
    """top / bottom elementwise, 0 where bottom is 0 (as np.divide with where= gives it)."""
    top, bottom = np.broadcast_arrays(np.asarray(top, dtype=float), np.asarray(bottom, dtype=float))
    return np.divide(top, bottom, out=np.zeros_like(top), where=bottom != 0)


def relative_error_mistakes(a, b):
    """What the usual wrong definitions give for a and b (each written out here, 0 / 0 counted as 0)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    d = np.abs(a - b)
    size = np.maximum(np.abs(a), np.abs(b))
    worst = float(np.max(ratio(d, size)))
    norm = np.linalg.norm(a - b)

    def hides(value):
        return (f"a whole-array norm hides a wrong small component: that ratio of norms is {value:.2g}, while the worst "
                f"component's own relative error is {worst:.2g}; compare each component with its own size, "
                "|a_i - b_i| / max(|a_i|, |b_i|), and return the largest")

    by_sum, by_max = (float(ratio(norm, np.linalg.norm(a) + np.linalg.norm(b))),
                      float(ratio(norm, max(np.linalg.norm(a), np.linalg.norm(b)))))
    return [
        (np.max(ratio(d, np.abs(a) + np.abs(b))), "you divided by |a_i| + |b_i|; this course (and CS231n) divides by "
                                                  "the larger of the two, max(|a_i|, |b_i|)"),
        (np.max(ratio(d, np.abs(a))), "you divided by |a_i| alone; divide by the larger of |a_i| and |b_i|"),
        (np.max(ratio(d, np.abs(b))), "you divided by |b_i| alone; divide by the larger of |a_i| and |b_i|"),
        (np.max(ratio(a - b, size)), "the absolute value of a_i - b_i is missing"),
        (np.max(ratio(d, np.maximum(a, b))), "max(a_i, b_i) of negative components is the smaller size: take the max "
                                             "of the absolute values, max(|a_i|, |b_i|)"),
        (np.mean(ratio(d, size)), "that is the MEAN of the componentwise errors: return the largest, the worst "
                                  "component is the one that matters"),
        (by_sum, hides(by_sum)),
        (by_max, hides(by_max)),
    ]


def one_error(got, call):
    if np.ndim(got) >= 1:
        fail(f"{call} returned one error per component: return the largest of them, one float")


@pytest.mark.task("3.6")
def test_relative_error_values(mod):
    for a, b in (([1.0, 4.0], [1.1, 3.0]), ([1.1, 3.0], [1.0, 4.0]), ([-1.0, -4.0], [-1.1, -3.0])):
        call = f"relative_error({a}, {b})"
        expect_calm(call, mod.relative_error, a, b, expected=0.25, mistakes=relative_error_mistakes(a, b),
                    first=one_error)
    expect_calm("relative_error(2.0, 3.0)", mod.relative_error, 2.0, 3.0, expected=1 / 3)


@pytest.mark.task("3.6")
def test_relative_error_sees_a_wrong_small_component(mod):
    a, b = [0.5, -0.5, 1e-4], [0.5, -0.5, 3e-4]
    expect_calm(f"relative_error({a}, {b})", mod.relative_error, a, b, expected=2 / 3,
                mistakes=relative_error_mistakes(a, b), first=one_error)
    expect_calm("relative_error([10, 1e-3], [10, 2e-3])", mod.relative_error, [10.0, 1e-3], [10.0, 2e-3],
                expected=0.5, mistakes=relative_error_mistakes([10.0, 1e-3], [10.0, 2e-3]))


@pytest.mark.task("3.6")
def test_relative_error_of_zeros_is_zero(mod):
    zero_by_zero = "0 / 0 where both components are 0: count such a component as 0 (np.divide with where=)"
    expect_calm("relative_error(zeros, zeros)", mod.relative_error, np.zeros(3), np.zeros(3), expected=0.0,
                mistakes=[(np.nan, zero_by_zero)], why=zero_by_zero, first=one_error)
    expect_calm("relative_error([0, 1], [0, 1.1])", mod.relative_error, [0.0, 1.0], [0.0, 1.1], expected=0.1 / 1.1,
                mistakes=[(np.nan, zero_by_zero)] + relative_error_mistakes([0.0, 1.0], [0.0, 1.1]), why=zero_by_zero)
    expect_refusals(mod.relative_error, works=Call([1.0], [1.0]), refuses=[
        (Call([1.0, 2.0], [1.0, 2.0, 3.0]), "the shapes differ"),
        (Call([], []), "there is nothing to compare"),
        (Call([np.nan], [1.0]), "a NaN gradient is already wrong")])


@pytest.mark.task("3.6")
def test_gradient_check_passes_for_the_right_gradient_and_fails_without_1_over_n(mod):
    # Under this test every other task's function is the course's: only relative_error is judged here.
    rng = np.random.default_rng(5)
    z = rng.normal(0.0, 2.0, size=(4, 3))
    targets = np.array([0, 2, 1, 2])
    analytic = np.asarray(mod.cross_entropy_grad(z, targets))
    numeric = np.asarray(mod.numerical_gradient(lambda logits: mod.cross_entropy_from_logits(logits, targets), z))
    call = "relative_error(cross_entropy_grad, numerical_gradient)"
    got = mod.relative_error(analytic, numeric)
    one_error(got, call)
    error = expect_number(got, call)
    expect_true(error < 1e-7, f"gradient check: relative_error(cross_entropy_grad, numerical_gradient) = {error:.1e}, "
                "above 1e-7 for the right gradient: relative_error must be the largest componentwise error, "
                "|a_i - b_i| / max(|a_i|, |b_i|)")
    wrong = expect_number(mod.relative_error(4 * analytic, numeric), "relative_error(4 × the gradient, numeric)")
    expect_close(wrong, 0.75, "relative_error(a gradient without the 1/N (4× too big), numerical_gradient)",
                 rtol=1e-6, mistakes=relative_error_mistakes(4 * analytic, numeric))


@pytest.mark.task("3.6")
def test_gradient_check_catches_a_wrong_small_component(mod):
    # logits [0, 0, -8], target 0: the gradient is [p0 - 1, p1, p2] with p2 = 1 / (2 + e^8) ≈ 1.7e-4
    z, targets = np.array([[0.0, 0.0, -8.0]]), np.array([0])
    right = torch_gradient(z, targets)
    wrong = right * [1.0, 1.0, 3.0]
    numeric = central(lambda logits: float(scipy.special.logsumexp(logits) - logits[0, 0]), z, 1e-5)
    call = "relative_error(the gradient at logits [[0, 0, -8]] with its small third component 3 times too big, numeric)"
    got = mod.relative_error(wrong, numeric)
    one_error(got, call)
    expect_close(expect_number(got, call), 2 / 3, call, rtol=1e-6,
                 mistakes=relative_error_mistakes(wrong, numeric))
    error = expect_number(mod.relative_error(right, numeric), "relative_error(the right gradient, numeric)")
    expect_true(error < 1e-7, f"relative_error(the right gradient at logits [[0, 0, -8]], numeric) = {error:.1e}: "
                "it should be below 1e-7")


# --- the figure -----------------------------------------------------------------------------


@pytest.mark.task("3.1")
def test_figure_numbers(mod):
    (xs, curves), _ = quietly(mod.softmax_curves, call="softmax_curves()")
    expect_true(set(curves) == {0.5, 1.0, 2.0}, f"softmax_curves() gave temperatures {sorted(curves)}, expected 0.5, 1, 2")
    at_2 = int(np.argmin(abs(xs - 2.0)))
    at_tie = int(np.argmin(abs(xs - 0.5)))
    expected_at_2 = {0.5: [0.95033021, 0.04731416, 0.00235563], 1.0: [0.78559703, 0.17529039, 0.03911257],
                     2.0: [0.58979766, 0.27860069, 0.13160165]}
    figure_logits = np.column_stack([xs, np.full(len(xs), 0.5), np.full(len(xs), -1.0)])
    for t, probs in curves.items():
        probs = expect_shape(probs, (len(xs), 3), f"the curves at T = {t}")
        expect_close(probs, scipy.special.softmax(figure_logits / t, axis=1),
                     f"the figure's probabilities at T = {t} (softmax of the rows [x, 0.5, -1], x from -4 to 4)",
                     mistakes=temperature_mistakes(figure_logits, t)
                     + softmax_mistakes(figure_logits / t, what="the figure's logits / T"))
        expect_close(probs.sum(axis=1), np.ones(len(xs)), f"the class probabilities at T = {t}, summed over classes")
        expect_close(probs[at_2], expected_at_2[t], f"softmax([2, 0.5, -1], temperature={t:g}) in the figure")
        expect_close(probs[at_tie, 0], probs[at_tie, 1], f"P(class 0) against P(class 1) at x = 0.5, T = {t}")


@pytest.mark.task("3.1")
@pytest.mark.mpl_image_compare(filename="module03_softmax_curves.png")
def test_figure_softmax_curves(mod):
    return mod.plot_softmax_curves()
