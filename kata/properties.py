"""Hypothesis settings and strategies shared by the module tests."""

from __future__ import annotations

import numpy as np
from hypothesis import Phase, settings
from hypothesis import strategies as st

# Derandomized and without a database: every run (and `make verify`) sees the
# same examples, so a result never depends on luck. No "explain" phase: it costs
# seconds per failing property, and every property fails on an untouched stub.
# One failure per test (report_multiple_bugs=False) keeps the learner's line single.
PROPERTY = settings(max_examples=40, deadline=None, derandomize=True, database=None, report_multiple_bugs=False,
                    phases=[phase for phase in Phase if phase is not Phase.explain])


@st.composite
def distributions(draw, n_classes=st.integers(2, 6), floor=1e-3):
    """A probability vector with every entry >= floor/n (so no clipping kicks in)."""
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
