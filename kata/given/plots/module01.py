"""Drawing for module 1: cross-entropy of a binary prediction."""

from __future__ import annotations

from kata.given.plots import COLOURS, MARKERS, new_figure


def binary_cross_entropy(qs, curves, minima, seed_points):
    """One curve H([p, 1-p], [q, 1-q]) per true p, its minimum at q = p, the seed's predictions."""
    fig = new_figure()
    ax = fig.add_subplot()
    for i, (colour, marker, (p, curve)) in enumerate(zip(COLOURS, MARKERS[1:], curves.items())):
        label = f"true P(class 0) = {p:g}" + ("  (one-hot: -log q, the NLL)" if p == 1 else "")
        ax.plot(qs, curve, color=colour, lw=2, marker=marker, markevery=(10 + 5 * i, 24), ms=6, label=label)
        ax.plot([p], [minima[p]], "o", color=colour, ms=7, mfc="white", mew=2, clip_on=False, zorder=4)
    ax.plot([], [], "o", color="grey", mfc="white", mew=2, label="minimum at q = p (value H(p))")
    for q, value, label in seed_points:
        ax.plot([q], [value], "*", color="black", ms=14, zorder=5)
        # q2's label sits up and to the right of its star; q1's in the empty corner under the curves, to its left,
        # so that neither box nor line crosses a curve
        offset, align = ((12, 14), "left") if q < 0.5 else ((-100, -8), "right")
        ax.annotate(f"{label}\nH = {value:.3f} nats", (q, value), xytext=offset, ha=align, va="bottom",
                    textcoords="offset points", fontsize=10,
                    bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "0.7", "alpha": 0.9},
                    arrowprops={"arrowstyle": "-", "color": "black", "lw": 0.8})
    ax.set_xlim(0, 1.02)  # a margin past q = 1 and under 0, so the p = 1 minimum at (1, 0) is drawn whole
    ax.set_ylim(-0.08, 4)
    ax.set_xlabel("q = predicted probability of class 0")
    ax.set_ylabel("cross-entropy H(p, q)  [nats]")
    ax.set_title("Cross-entropy is smallest when the prediction q equals the truth p")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center")
    return fig
