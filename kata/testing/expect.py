"""Checks for the tests, written so that a failure teaches.

A failed check ends the test with one line (``pytest.fail(pytrace=False)``)
that names the call, what came back and what was expected, and, when the
value matches a known mistake, what that mistake is:

    cross_entropy([1, 0], [0.9, 0.1]) returned -0.105361, expected 0.105361:
    a negative cross-entropy means the minus sign is missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Number

import numpy as np
import pytest

Mistakes = Iterable[tuple[object, str]]


def fail(message: str):
    pytest.fail(message, pytrace=False)


def show(value, limit: int = 8) -> str:
    """A short, readable rendering of a number or an array: a few values and the shape, never a dump."""
    if value is None:
        return "None"
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (np.ndarray, list, tuple)):
        try:
            array = np.asarray(value)
        except ValueError:  # ragged: show each part
            inside = ", ".join(show(v) for v in list(value)[:limit])
            return f"({inside})" if isinstance(value, tuple) else f"[{inside}]"
        if array.dtype.kind in "fciub" and array.ndim > 0:
            if array.size <= limit:  # every value, without numpy's column padding: [0.999955, 0.5, -0.880797]
                return _nested(array)
            first = ", ".join(show(v) for v in array.ravel()[:4])
            return f"[{first}, …] (shape {array.shape})"
        if array.dtype.kind in "fciub":
            return show(array.item())
        text = repr(value)
        return text if len(text) <= 80 else text[:77] + "…"
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, (float, np.floating)):
        if float(value).is_integer() and 1e6 <= abs(float(value)) < 1e16:  # a count of bytes: every digit shows
            return str(int(value))
        text = f"{float(value) + 0.0:.6g}"  # + 0.0 shows -0.0 as 0
        return text if any(c in text for c in ".eni") else text + ".0"  # "1.0", so a full stop after it reads well
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "…"


def _nested(array: np.ndarray) -> str:
    if array.ndim == 0:
        return show(array.item())
    return "[" + ", ".join(_nested(part) for part in array) + "]"


def _as_array(got, call: str) -> np.ndarray:
    if got is None:
        fail(f"{call} returned None: is a `return` missing?")
    if hasattr(got, "detach"):
        got = got.detach().cpu().numpy()
    try:
        return np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        fail(f"{call} returned {type(got).__name__} {got!r}, expected numbers.")


def expect_number(got, call: str) -> float:
    """``got`` must be one number (a float, a numpy scalar or a 0-d array)."""
    array = _as_array(got, call)
    if array.shape != () and array.size == 1:
        fail(f"{call} returned an array of shape {array.shape} holding one number, expected a plain number (shape ()): "
             "a reduction with keepdims=True keeps its axis; drop keepdims there, or return float(...) of it")
    if array.shape != ():
        fail(
            f"{call} returned an array of shape {array.shape}, expected a single number: "
            "did you forget to sum (or average) over an axis?"
        )
    return float(array)


def expect_shape(got, shape: tuple, call: str, *, diagnoses: dict | None = None) -> np.ndarray:
    """``got`` must be an array of exactly ``shape``; ``diagnoses`` maps wrong shapes to a cause."""
    array = _as_array(got, call)
    if array.shape != tuple(shape):
        why = (diagnoses or {}).get(array.shape)
        fail(f"{call} returned shape {array.shape}, expected {tuple(shape)}" + (f": {why}" if why else "."))
    return array


def _close(a, b, rtol, atol) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


def diagnose(got, mistakes: Mistakes, rtol=1e-4, atol=1e-6, expected=None, tolerance=(0.0, 0.0)) -> str | None:
    """The diagnosis of the known mistake whose value ``got`` matches, if any.

    With ``expected`` given, a mistake only counts when ``got`` is closer to it
    than to the expected value, and a mistake that the test's own ``tolerance``
    (rtol, atol) cannot tell apart from the right answer is never named (dividing
    by N is right when nothing is ignored). When ``got`` matches two mistakes
    with different diagnoses, these inputs cannot tell them apart and neither is
    named. A value within a relative 1e-4 of the expected one's scale that
    matches no mistake is a near miss.
    """
    matched: list[str] = []
    for value, why in mistakes:
        try:
            # atol shrinks with the scale of the values compared, so tiny values are told apart too
            scale = max(_scale(value), _scale(expected) if expected is not None else 0.0)
            if not _close(got, value, rtol, min(atol, rtol * scale) if scale > 0 else atol):
                continue
            if expected is not None:
                if _close(value, expected, *tolerance):
                    continue
                if _distance(got, value) >= _distance(got, expected):
                    continue
        except (TypeError, ValueError):
            continue
        if why not in matched:
            matched.append(why)
    if len(matched) == 1:
        return matched[0]
    if matched:
        return None
    if expected is not None and is_near(got, expected):
        return NEAR_MISS
    return None


NEAR_MISS = ("close, but not equal within this test's tolerance: look for lost precision (a float32 step) "
             "or a slightly different order of operations")


def _scale(value) -> float:
    array = np.asarray(value, dtype=float)
    finite = np.abs(array[np.isfinite(array)]) if array.size else array
    return float(finite.max()) if finite.size else 0.0


def is_near(got, expected, relative: float = 1e-4) -> bool:
    """Every element of ``got`` is within ``relative`` of its own expected value.

    Each element's scale is its own: a factor 2 on a value near 1e-6 is not
    near, 1e-13 where 1e-300 is expected (a clipped logit, say) is not near
    although the array also holds a 1, and nothing is near an expected exact 0.
    """
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    if got.shape != expected.shape or not np.isfinite(expected).all() or not np.isfinite(got).all():
        return False
    gap = np.abs(got - expected)
    return bool(gap.size) and bool(np.all((gap == 0) | (gap <= relative * np.abs(expected))))


def _distance(a, b) -> float:
    """Largest elementwise gap; equal infinities (and NaN against NaN) are 0 apart, not inf - inf."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return np.inf
    with np.errstate(invalid="ignore"):
        gap = np.abs(a - b)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    gap = np.where(same, 0.0, np.where(np.isnan(gap), np.inf, gap))
    return float(np.max(gap)) if gap.size else 0.0


def relative_difference(got, expected) -> float:
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    scale = np.maximum(np.abs(expected), 1e-300)
    return float(np.max(np.abs(got - expected) / scale))


def expect_close(
    got,
    expected,
    call: str,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    mistakes: Mistakes = (),
    shape_diagnoses: dict | None = None,
):
    """``got`` must equal ``expected`` within tolerance, with the same shape.

    The default rtol suits oracles written to 6 significant digits.
    """
    expected_array = np.asarray(expected, dtype=float)
    if expected_array.shape == ():
        value = expect_number(got, call)
    else:
        value = expect_shape(got, expected_array.shape, call, diagnoses=shape_diagnoses)
    if _close(value, expected_array, rtol, atol):
        return value
    why = diagnose(value, mistakes, expected=expected_array, tolerance=(rtol, atol))
    where = _first_difference(value, expected_array, rtol, atol)
    if why == NEAR_MISS:
        got_text = f"{float(value):.12g}" if expected_array.shape == () else f"{where[1]:.12g} at index {where[0]}"
        wanted = f"{float(expected_array):.12g}" if expected_array.shape == () else f"{where[2]:.12g}"
        fail(f"{call} returned {got_text}, expected {wanted} (relative difference "
             f"{relative_difference(value, expected_array):.1e}, allowed {rtol:g}): {why}.")
    if why is None and np.isnan(value).any():
        why = ("NaN comes from 0·log 0, ∞ − ∞ or ∞/∞ somewhere: look for a log of zero, or an exp that "
               "overflowed to inf")
    elif why is None and np.isinf(value).any():
        value_array, wanted = np.asarray(value, dtype=float), np.broadcast_to(expected_array, np.shape(value))
        if (np.isinf(value_array) & np.isfinite(wanted)).any():
            why = "an infinity usually means log 0 or an overflowing exp"
        elif (np.isinf(value_array) & np.isinf(wanted) & (np.sign(value_array) != np.sign(wanted))).any():
            why = "an infinity came back with the wrong sign: look for a sign that is flipped"
    got_text, expected_text = show(got if _holds_integers(got) else value), show(expected)
    if got_text == expected_text:  # different numbers that print alike: show enough digits to tell them apart
        got_text, expected_text = (np.array2string(np.asarray(v, dtype=float), precision=12, threshold=8, separator=", ")
                                   if np.ndim(v) else f"{float(v):.12g}" for v in (value, expected))
    message = f"{call} returned {got_text}, expected {expected_text}"
    if where is not None and np.asarray(value).size > 8:
        first_got, first_wanted = show(where[1]), show(where[2])
        if first_got == first_wanted:
            first_got, first_wanted = f"{where[1]:.12g}", f"{where[2]:.12g}"
        message += f" (first difference at index {where[0]}: {first_got} instead of {first_wanted})"
    fail(message + (f": {why}" if why else "."))
    return value


def _holds_integers(value) -> bool:
    """An int, or an integer array or tensor: shown as integers (a count, indices), not as 12810.0."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return False
    if hasattr(value, "is_floating_point"):  # a torch tensor
        return not value.is_floating_point() and not value.is_complex() and str(dtype) != "torch.bool"
    return np.dtype(dtype).kind in "iu"


def _first_difference(got, expected, rtol, atol):
    """(index, got, expected) of the first element outside tolerance, or None for a single number."""
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    if expected.shape == () or got.shape != expected.shape:
        return None
    with np.errstate(invalid="ignore"):
        bad = ~np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    if not bad.any():
        return None
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    return (index[0] if len(index) == 1 else index), float(got[index]), float(expected[index])


def without_warnings(call: str, function, *args, why: str, **kwargs):
    """``function(*args)``; a numpy warning fails the test with one sentence that ends in ``why``."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return function(*args, **kwargs)
        except RuntimeWarning as warning:
            problem = str(warning)
    # Failing outside the except block keeps every such failure one and the same to hypothesis.
    fail(f"{call} raised a numpy warning ({problem}): {why}")


def expect_true(condition: bool, message: str):
    if not condition:
        fail(message)


class Call:
    """The arguments of one call, and how a message writes it: ``Call(1.5, base=2)``.

    ``shown="surprisal(1.5)"`` replaces the call the message would otherwise
    write from the values (useful when they are large arrays).
    """

    def __init__(self, *positional, shown: str | None = None, **keywords):
        self.positional, self.keywords, self.shown = positional, keywords, shown

    def text(self, name: str) -> str:
        if self.shown:
            return self.shown
        parts = [show(a) for a in self.positional] + [f"{k}={show(v)}" for k, v in self.keywords.items()]
        return f"{name}({', '.join(parts)})"

    def __call__(self, function):
        return function(*self.positional, **self.keywords)


def expect_refusals(function, works: Call, refuses: Iterable[tuple[Call, str]], error: type[BaseException] = ValueError):
    """``function`` must accept ``works`` (so the test fails as not done on a stub), then refuse each case.

    ``refuses`` holds (Call(...), why): the call must raise ``error`` because ``why``.
    """
    works(function)
    name = getattr(function, "__name__", "the function")
    for arguments, why in refuses:
        expect_raises(error, function, *arguments.positional, call=arguments.text(name), why=why,
                      **arguments.keywords)


def expect_raises(error: type[BaseException], func, *args, call: str, why: str, **kwargs):
    """``func(*args)`` must raise ``error`` (for input validation)."""
    try:
        func(*args, **kwargs)
    except error:
        return
    except Exception as other:  # noqa: BLE001 - we report what was raised instead
        if type(other).__name__ == "TODO":
            raise
        fail(f"{call} raised {type(other).__name__}: {other}; expected {error.__name__} because {why}.")
    fail(f"{call} returned normally; expected {error.__name__} because {why}.")


def is_number(x) -> bool:
    return isinstance(x, Number) or (isinstance(x, np.ndarray) and x.shape == ())
