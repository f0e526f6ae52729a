"""Hypothesis strategies shared by the module tests.

Every property test runs under the "kata" profile that ``kata.testing.plugin``
registers (derandomized, no database, no explain phase, one failure reported).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st


@st.composite
def distributions(draw, n_classes=None, floor=1e-3):
    """A probability vector with every entry >= floor/n (so no clipping kicks in); 2-6 classes by default."""
    n_classes = st.integers(2, 6) if n_classes is None else n_classes
    n = draw(n_classes) if not isinstance(n_classes, int) else n_classes
    weights = draw(st.lists(st.floats(floor, 1.0), min_size=n, max_size=n))
    weights = np.asarray(weights, dtype=float)
    return weights / weights.sum()


@st.composite
def distribution_pairs(draw, floor=1e-3):
    """Two probability vectors over the same number of classes."""
    n = draw(st.integers(2, 6))
    return draw(distributions(n, floor)), draw(distributions(n, floor))


def logits(max_classes=6, max_rows=5, scale=20.0):
    """A (rows, classes) float array of moderate logits."""
    return st.tuples(st.integers(1, max_rows), st.integers(2, max_classes)).flatmap(
        lambda shape: st.lists(
            st.floats(-scale, scale), min_size=shape[0] * shape[1], max_size=shape[0] * shape[1]
        ).map(lambda values: np.asarray(values, dtype=float).reshape(shape))
    )


# Probabilities that reach the extremes: exact zeros and ones, entries down to 1e-300, and ordinary ones.
EXTREME_ENTRY = st.one_of(st.just(0.0), st.just(1.0), st.floats(1e-300, 1e-9), st.floats(1e-9, 1.0))


@st.composite
def extreme_distributions(draw, n_classes=None):
    """A probability vector of 2-6 classes that may hold exact zeros and entries as small as 1e-301."""
    n = draw(st.integers(2, 6)) if n_classes is None else n_classes
    weights = np.array(draw(st.lists(EXTREME_ENTRY, min_size=n, max_size=n)))
    if weights.sum() == 0:
        weights[draw(st.integers(0, n - 1))] = 1.0
    return weights / weights.sum()


@st.composite
def extreme_pairs(draw):
    """Two extreme distributions over the same number of classes."""
    n = draw(st.integers(2, 6))
    return draw(extreme_distributions(n)), draw(extreme_distributions(n))
