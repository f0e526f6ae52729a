"""Module 1's own input check (given code): the clipping floor eps."""

from __future__ import annotations

import math
from numbers import Real


def check_eps(eps) -> float:
    """``eps`` as a float with 0 < eps < 1: the smallest probability cross_entropy lets into a log."""
    if isinstance(eps, bool) or not isinstance(eps, Real) or not math.isfinite(eps) or not 0 < eps < 1:
        raise ValueError(f"eps must be a number with 0 < eps < 1 (the floor q is clipped to before the log), "
                         f"got {eps!r}")
    return float(eps)
