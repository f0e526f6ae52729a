"""Drawing for module 9: soft targets at several temperatures, reliability diagrams."""

from __future__ import annotations

import numpy as np

from kata.given.plots import COLOURS, new_figure

HATCHES = ["", "//", "..", "xx", "\\\\", "++"]
CLASS_NAMES = ["class 0\n(0, 0)", "class 1\n(3, 3)", "class 2\n(-3, 3)"]


def soft_targets(probs, temperatures, point_names):
    """Grouped bars: probs[k, i, c] = softmax(teacher logits / T_k) of point i, class c."""
    fig = new_figure(9.0, 5.0)
    axes = fig.subplots(1, len(point_names), sharey=True)
    n_temps, _, n_classes = probs.shape
    width = 0.8 / n_temps
    x = np.arange(n_classes)
    for i, (ax, name) in enumerate(zip(axes, point_names)):
        for k, T in enumerate(temperatures):
            bars = ax.bar(x + (k - (n_temps - 1) / 2) * width, probs[k, i], width, color=COLOURS[k],
                          hatch=HATCHES[k], edgecolor="white" if not HATCHES[k] else "black", linewidth=0.6,
                          label=f"T = {T:g}")
            if k in (0, n_temps - 1):  # label the extremes only, to keep it readable
                for bar, value in zip(bars, probs[k, i]):
                    ax.annotate(f"{value:.2f}" if value >= 0.01 else f"{value:.3f}", (bar.get_x() + bar.get_width() / 2, value), xytext=(0, 2),
                                textcoords="offset points", ha="center", va="bottom", fontsize=8)
        ax.set_xticks(x, CLASS_NAMES[:n_classes])
        ax.set_title(name, fontsize=11)
        ax.set_ylim(0, 1.08)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("teacher probability softmax(t / T)")
    axes[0].legend(loc="upper left", title="temperature")
    fig.suptitle("Higher T flattens the teacher's targets and shows how it ranks the wrong classes")
    return fig


def reliability(panels, n_bins):
    """Two reliability diagrams (before / after temperature scaling), accuracy per confidence bin."""
    fig = new_figure(9.0, 5.0)
    axes = fig.subplots(1, len(panels), sharey=True)
    width = 1.0 / n_bins
    centres = (np.arange(n_bins) + 0.5) * width
    for ax, (name, panel) in zip(axes, panels.items()):
        filled = panel["counts"] > 0
        accuracy, confidence = panel["bin_accuracy"][filled], panel["bin_confidence"][filled]
        x = centres[filled]
        ax.plot([0, 1], [0, 1], "--", color="grey", lw=1.2, label="perfect calibration")
        ax.bar(x, accuracy, width, color=COLOURS[0], edgecolor="black", linewidth=0.6, label="accuracy in bin")
        ax.bar(x, np.abs(accuracy - confidence), width, bottom=np.minimum(accuracy, confidence), fill=False,
               hatch="///", edgecolor=COLOURS[1], linewidth=0, label="gap")
        ax.hlines(confidence, x - width / 2, x + width / 2, color=COLOURS[1], lw=2.5, label="mean confidence in bin")
        for xc, count in zip(x, panel["counts"][filled]):
            ax.text(xc, 0.015, f"{count:.0f}", rotation=90, ha="center", va="bottom", fontsize=7, color="white")
        title = "before: T = 1" if name == "before" else f"after temperature scaling: T = {panel['T']:.2f}"
        ax.set_title(title, fontsize=11)
        ax.text(0.03, 0.97, f"ECE = {panel['ece']:.3f}\nNLL = {panel['nll']:.3f} nats\naccuracy = {panel['accuracy']:.3f}",
                transform=ax.transAxes, va="top", fontsize=10,
                bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "0.7"})
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("confidence (max predicted probability)")
        ax.set_aspect("equal")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("accuracy (white numbers: examples in the bin)")
    axes[0].legend(loc="upper left", bbox_to_anchor=(0.0, 0.78), fontsize=8, framealpha=0.95)
    fig.suptitle(f"Temperature scaling pulls an overconfident model onto the diagonal ({n_bins} equal-width bins)")
    return fig
