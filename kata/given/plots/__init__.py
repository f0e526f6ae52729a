"""Drawing code for the course's figures (given code, shared by stubs and solutions).

Each module's lesson computes the numbers with the learner's own functions and
hands them to a ``draw_*`` function in ``kata.given.plots.moduleNN``. Figures are
built with ``matplotlib.figure.Figure`` (no pyplot state) at a fixed size and
dpi so that pytest-mpl can compare them pixel for pixel.
"""

from __future__ import annotations

from matplotlib.figure import Figure

DPI = 80
WIDTH, HEIGHT = 8.0, 5.0

# Colour-blind-safe (Okabe-Ito) colours and distinct markers, one per class/curve.
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


def new_figure(width: float = WIDTH, height: float = HEIGHT) -> Figure:
    """A blank figure of fixed size and dpi, laid out with constrained layout."""
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")
