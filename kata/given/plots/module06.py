"""Drawing for module 6: naive vs stable log-softmax, and label smoothing's best logit gap."""

from __future__ import annotations

import numpy as np

from kata.given.plots import COLOURS, MARKERS, new_figure

BOX = {"boxstyle": "round,pad=0.3", "fc": "white", "ec": "0.7", "alpha": 0.95}


def naive_vs_stable(scales, curves, limit):
    """curves: {target: (naive (S,), stable (S,), first failing scale or inf)}; limit: ln(float32 max)."""
    fig = new_figure()
    ax = fig.add_subplot()
    names = {1: "true class 1 (logit 0): loss ≈ s", 0: "true class 0 (top logit): loss ≈ 0"}
    every = max(1, len(scales) // 30)
    breaks = []
    for index, (target, (naive, stable, broke)) in enumerate(curves.items()):
        colour, marker = COLOURS[index], MARKERS[index]
        ax.plot(scales, stable, color=colour, lw=2.5, label=f"stable, {names.get(target, f'class {target}')}")
        finite = np.isfinite(naive)
        ax.plot(scales[finite], naive[finite], ls="none", marker=marker, markevery=every, ms=7, mfc="white",
                mew=1.8, color=colour, label=f"naive, {names.get(target, f'class {target}')}")
        if np.isfinite(broke):
            at = int(np.argmin(np.abs(scales - broke)))
            ax.plot([broke], [stable[at]], "X", color="black", ms=13, zorder=5)
            breaks.append((broke, stable[at], "nan" if np.isnan(naive[at]) else "inf"))
    finite = np.concatenate([c[1][np.isfinite(c[1])] for c in curves.values()] + [np.zeros(1)])
    top = max(float(finite.max()), 1.0) * 1.08
    ax.axvline(limit, color="0.3", ls="--", lw=1)
    ax.axvspan(limit, scales[-1], color="#D55E00", alpha=0.08, lw=0)
    ax.text(limit + 1.5, top * 0.5, f"e^s > max float32\n(s > ln 3.4e38 = {limit:.2f}):\nnaive gives "
            + " / ".join(sorted({kind for *_, kind in breaks})), fontsize=10, va="top", bbox=BOX)
    if breaks:
        broke, value, _ = max(breaks, key=lambda b: b[1])
        ax.annotate(f"naive breaks at s = {broke:g}", (broke, value), xytext=(-170, 25), textcoords="offset points",
                    fontsize=10, bbox=BOX, arrowprops={"arrowstyle": "-", "color": "black", "lw": 0.8})
        ax.plot([], [], "X", color="black", ms=10, ls="none", label="where naive first gives inf / nan")
    ax.set_xlim(scales[0], scales[-1])
    ax.set_ylim(-3, top)
    ax.set_xlabel("logit scale s   (float32 logits s·[1, 0, −1])")
    ax.set_ylabel("cross-entropy −log softmax(z)[true]  [nats]")
    ax.set_title("log(e^z / Σe^z) overflows at s ≈ 88.7 in float32; z − logsumexp(z) does not")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    return fig


def smoothing_gap(gaps, losses, minima, epsilons, best):
    """Left: smoothed loss vs gap per ε, minima marked. Right: best gap vs ε per class count."""
    fig = new_figure(11.0, 4.8)
    left, right = fig.subplots(1, 2)
    every = max(1, len(gaps) // 16)
    for index, (eps, curve) in enumerate(losses.items()):
        colour, marker = COLOURS[index], MARKERS[index]
        if eps in minima:
            label = f"ε = {eps:g}: best gap {minima[eps]:.2f}"
        else:
            label = f"ε = {eps:g} (one-hot): no minimum"
        left.plot(gaps, curve, color=colour, lw=2, marker=marker, markevery=every, ms=6, mfc="white", label=label)
        if eps in minima:
            at = int(np.argmin(np.abs(gaps - minima[eps])))
            left.plot([minima[eps]], [curve[at]], marker=marker, color=colour, ms=11, mec="black", zorder=5)
    zero = next((curve for eps, curve in losses.items() if eps not in minima), None)
    if zero is not None:
        left.annotate("one-hot: keeps falling,\nthe gap wants to be ∞", (gaps[-1], zero[-1]), xytext=(-105, 62),
                      textcoords="offset points", fontsize=10, bbox=BOX,
                      arrowprops={"arrowstyle": "->", "color": "black", "lw": 0.8})
    left.plot([], [], "o", color="grey", mec="black", ms=9, ls="none", label="minimum: log((1−ε+ε/C)/(ε/C))")
    left.set_xlim(gaps[0], gaps[-1])
    left.set_ylim(0, 1.35 * max(float(np.max(c)) for c in losses.values()))
    left.set_xlabel("logit gap g   (logits [g, 0, 0], true class 0, C = 3)")
    left.set_ylabel("label-smoothed cross-entropy  [nats]")
    left.set_title("Smoothing gives the loss a minimum at a finite gap")
    left.grid(alpha=0.3)
    left.legend(loc="upper left", fontsize=9)
    for index, (n_classes, gap) in enumerate(best.items()):
        right.plot(epsilons, gap, color=COLOURS[index], lw=2, marker=MARKERS[index], markevery=6, ms=6,
                   mfc="white", label=f"C = {n_classes}")
    right.set_xscale("log")
    right.set_xlabel("smoothing ε  (log scale)")
    right.set_ylabel("best gap g* = log(q_true / q_other)")
    right.set_title("The best gap shrinks as ε grows (∞ at ε = 0)")
    right.grid(alpha=0.3)
    right.legend(loc="upper right", fontsize=9)
    return fig
