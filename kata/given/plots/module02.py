"""Drawing for module 2: CE, KL and MSE of a prediction; logit gradients of BCE and MSE."""

from __future__ import annotations

from kata.given.plots import COLOURS, MARKERS, new_figure

BOX = {"boxstyle": "round,pad=0.3", "fc": "white", "ec": "0.7", "alpha": 0.9}


def ce_kl_mse(qs, curves, truth, entropy_of_truth, zs, gradients):
    """Left: the losses as q sweeps (0, 1) against the truth [truth, 1-truth].
    Right: d loss / d z for BCE and MSE-on-sigmoid as the logit z moves away from the label."""
    fig = new_figure(12.0, 5.0)
    left, right = fig.subplots(1, 2)

    for colour, marker, (name, curve) in zip(COLOURS, MARKERS, curves.items()):
        unit = "" if name == "MSE" else "  [nats]"
        left.plot(qs, curve, color=colour, lw=2, marker=marker, markevery=(6, 16), ms=6, label=name + unit)
    left.axvline(truth, color="0.4", ls=":", lw=1.2)
    left.text(truth - 0.01, 2.2, f"the truth:\nq = p = {truth:g}", color="0.3", fontsize=10, ha="right", va="top")
    # The constant gap H(p) between cross-entropy and KL.
    x_gap = 0.35
    i = int(abs(qs - x_gap).argmin())
    ce, kl = curves["cross-entropy"][i], curves["KL divergence"][i]
    left.annotate("", (qs[i], kl), (qs[i], ce), arrowprops={"arrowstyle": "<->", "color": "black", "lw": 1})
    left.annotate(f"gap CE − KL = H(p) = {entropy_of_truth:.3f} nats\n(the same for every q)", (qs[i], (ce + kl) / 2),
                  xytext=(0.42, 1.55), fontsize=10, va="center", bbox=BOX,
                  arrowprops={"arrowstyle": "-", "color": "black", "lw": 0.8})
    left.set_xlim(0, 1)
    left.set_ylim(0, 4)
    left.set_xlabel("q = predicted probability of class 0")
    left.set_ylabel("loss  [nats; MSE has no unit]")
    left.set_title(f"Against p = [{truth:g}, {1 - truth:g}]: CE = H(p) + KL; MSE stays flat")
    left.grid(alpha=0.3)
    left.legend(loc="upper right")

    for colour, marker, (name, gradient) in zip(COLOURS, MARKERS, gradients.items()):
        right.plot(zs, gradient, color=colour, lw=2, marker=marker, markevery=(5, 16), ms=6, label=name)
        value = gradient[-1]
        right.plot([zs[-1]], [value], marker, color=colour, ms=9, mfc="white", mew=2, zorder=5, clip_on=False)
        where = (zs[-1] + 0.03 * (zs[0] - zs[-1]), -0.62 if name == "BCE" else -0.42)
        digits = ".5g" if name == "BCE" else ".3g"
        right.annotate(f"{name} at z = {zs[-1]:g}:  {value:{digits}}", (zs[-1], value), xytext=where,
                       textcoords="data", fontsize=10, ha="right", bbox=BOX,
                       arrowprops={"arrowstyle": "-", "color": "black", "lw": 0.8})
    right.axhline(0, color="0.4", lw=0.8)
    right.set_xlim(zs[0], zs[-1])  # runs from right (left) to badly wrong (right)
    right.set_ylim(-1.1, 0.1)
    right.set_xlabel("logit z of the true class (label y = 1)  →  more and more wrong")
    right.set_ylabel("gradient  d loss / d z   [per unit logit]")
    right.set_title("Gradient w.r.t. the logit: BCE keeps pulling, MSE gives up")
    right.grid(alpha=0.3)
    right.legend(loc="center left")
    return fig
