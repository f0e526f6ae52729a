"""Markov-chain text and its input checks, for module 7 (given code).

Module 7's lesson defines a small character chain (its alphabet and
transition matrix); this file samples text from it, finds its stationary
distribution, and checks the inputs the lesson's functions take, each check
raising a ``ValueError`` that says what was wrong.
"""

from __future__ import annotations

import numpy as np

from kata.given.checks import as_distribution, check_positive, check_whole


def as_transition_table(table, name: str = "transitions") -> np.ndarray:
    """``table`` as a float (V, V) array whose rows are distributions over the next character."""
    array = np.asarray(table, dtype=float)
    if array.ndim != 2 or array.shape[0] != array.shape[1] or array.shape[0] == 0:
        raise ValueError(
            f"{name} must be a square (V, V) table, row = context character, column = next character; "
            f"got shape {array.shape}"
        )
    return as_distribution(array, f"{name} (each row)")


def as_ids(ids, vocab_size: int | None = None, name: str = "ids", min_length: int = 2) -> np.ndarray:
    """``ids`` as a 1-D int64 array of character ids in [0, vocab_size) (any id >= 0 if None)."""
    array = np.asarray(ids)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of character ids, got shape {array.shape}")
    if array.size < min_length:
        raise ValueError(
            f"{name} has {array.size} character(s): at least {min_length} are needed "
            "(a context and the character that follows it)"
        )
    if array.dtype.kind not in "iu":
        if array.dtype.kind == "f" and np.all(array == np.round(array)):
            array = array.astype(np.int64)
        else:
            raise ValueError(f"{name} must hold integer character ids, got dtype {array.dtype}")
    if array.min() < 0 or (vocab_size is not None and array.max() >= vocab_size):
        allowed = f"[0, {vocab_size})" if vocab_size is not None else ">= 0"
        raise ValueError(f"{name} must hold ids in {allowed}, got min {array.min()} and max {array.max()}")
    return array.astype(np.int64)


def check_steps(steps) -> int:
    return check_whole(steps, "steps")


COMPRESSORS = ("zlib", "lzma")


def check_compressor(method) -> str:
    if method not in COMPRESSORS:
        raise ValueError(f"method must be one of {', '.join(map(repr, COMPRESSORS))}, got {method!r}")
    return method


def as_text(text, name: str = "text") -> str:
    """``text`` as a non-empty string of ASCII characters (one byte each); ids go through decode() first."""
    if not isinstance(text, str):
        raise ValueError(f"{name} must be a string (decode(ids) turns character ids into one), "
                         f"got {type(text).__name__}")
    if not text:
        raise ValueError(f"{name} is empty: there is nothing to compress")
    if not text.isascii():
        raise ValueError(f"{name} must be ASCII, one byte per character")
    return text


def stationary_distribution(transitions) -> np.ndarray:
    """The distribution π over characters with π P = π (the chain's long-run frequencies).

    Solves the linear system (Pᵀ - I) π = 0 with Σ π = 1 (one equation of the
    first kind is replaced by the second), for an irreducible chain.
    """
    P = as_transition_table(transitions)
    V = P.shape[0]
    system = P.T - np.eye(V)
    system[-1, :] = 1.0
    rhs = np.zeros(V)
    rhs[-1] = 1.0
    pi = np.linalg.solve(system, rhs)
    return np.clip(pi, 0.0, None) / np.clip(pi, 0.0, None).sum()


def sample_chain(transitions, n_chars: int, seed: int, start: int = 0) -> np.ndarray:
    """``n_chars`` character ids sampled from the chain, the first one ``start``.

    Deterministic for a given seed: one uniform number per step from
    ``np.random.default_rng(seed)``, turned into the next id by the row's
    cumulative probabilities.
    """
    P = as_transition_table(transitions)
    rng = np.random.default_rng(seed)
    uniforms = rng.random(n_chars)
    cumulative = np.cumsum(P, axis=1)
    cumulative[:, -1] = 1.0  # no rounding gap at the top
    ids = np.empty(n_chars, dtype=np.int64)
    ids[0] = start
    rows = cumulative.tolist()
    current = start
    for t in range(1, n_chars):
        row, u = rows[current], uniforms[t]
        current = next(j for j, edge in enumerate(row) if u < edge)
        ids[t] = current
    return ids


__all__ = ["COMPRESSORS", "as_ids", "as_text", "as_transition_table", "check_compressor", "check_positive", "check_steps",
           "sample_chain", "stationary_distribution"]
