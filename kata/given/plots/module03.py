"""Drawing for module 3: the softmax curve at a few temperatures."""

from __future__ import annotations

from kata.given.plots import COLOURS, MARKERS, new_figure


def softmax_curves(xs, curves, other_logits):
    """One panel per temperature: each class's probability as class 0's logit x sweeps."""
    fig = new_figure(12.0, 4.8)
    axes = fig.subplots(1, len(curves), sharey=True)
    crossing = other_logits[0]  # classes 0 and 1 tie where x equals class 1's logit
    for ax, (temperature, probs) in zip(axes, curves.items()):
        logit_names = ["x", f"{other_logits[0]:g}", f"{other_logits[1]:g}"]
        for k in range(probs.shape[1]):
            ax.plot(xs, probs[:, k], color=COLOURS[k], lw=2, marker=MARKERS[k], markevery=(4 * k, 16), ms=6,
                    label=f"class {k} (logit {logit_names[k]})")
        ax.axvline(crossing, color="0.4", ls=":", lw=1.2, label=f"x = {crossing:g}: classes 0 and 1 tie")
        ax.set_title(f"T = {temperature:g}" + ("  (sharper)" if temperature < 1 else "  (flatter)" if temperature > 1 else ""))
        ax.set_xlim(xs[0], xs[-1])
        ax.set_ylim(0, 1)
        ax.set_xlabel("x = logit of class 0")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("softmax probability")
    axes[-1].legend(loc="upper left", fontsize=9)
    fig.suptitle("softmax([x, 0.5, -1] / T): raising one logit takes probability from all the others; "
                 "low T sharpens, high T flattens")
    return fig
