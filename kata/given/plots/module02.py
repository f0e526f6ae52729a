"""Drawing for module 2: CE, KL and MSE of a prediction; logit gradients of BCE and MSE; the training race."""

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
    left.set_title(f"Against p = [{truth:g}, {1 - truth:g}]: CE = H(p) + KL; MSE stays bounded")
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


def training_race(race, lr, bias):
    """Left: training accuracy against the epoch for each run. Right: each run's own loss over its starting value."""
    fig = new_figure(12.0, 5.0)
    left, right = fig.subplots(1, 2)
    own_loss = {"BCE": "BCE", "MSE on sigmoid": "MSE"}
    stalled = {}
    for colour, marker, (name, history) in zip(COLOURS, MARKERS, race.items()):
        accuracy = history["accuracy"]
        epochs = range(len(accuracy))
        left.plot(epochs, accuracy, color=colour, lw=2, marker=marker, markevery=(5, 20), ms=6,
                  label=f"trained with {name}")
        loss = history[own_loss[name]]
        right.plot(epochs, loss / loss[0], color=colour, lw=2, marker=marker, markevery=(5, 20), ms=6,
                   label=f"{name}: its own loss, from {loss[0]:.3f}")
        stalled[name] = next((e for e, a in enumerate(accuracy) if a > accuracy[0]), len(accuracy))
        first = next((e for e, a in enumerate(accuracy) if a >= 0.9), None)
        if first is not None:
            offset = (first + 12, accuracy[first] - 0.12) if first < len(accuracy) / 2 else (first - 95, accuracy[first] - 0.05)
            left.annotate(f"90% at epoch {first}", (first, accuracy[first]), xytext=offset, fontsize=10, bbox=BOX,
                          arrowprops={"arrowstyle": "-", "color": "black", "lw": 0.8})
    last = len(epochs) - 1
    left.axhline(0.5, color="0.4", ls=":", lw=1.2)
    left.text(12, 0.515, "0.5 at the start: every point called class 0", color="0.3", fontsize=10)
    left.set_xlim(0, last)
    left.set_ylim(0.4, 1.02)
    left.set_xlabel("epoch (full-batch gradient descent updates)")
    left.set_ylabel("training accuracy")
    slow = max(stalled, key=stalled.get)
    left.set_title(f"Saturated start (b = {bias:g}, lr = {lr:g}): {slow} stalls for {stalled[slow]} epochs")
    left.grid(alpha=0.3)
    left.legend(loc="lower right")

    right.set_xlim(0, last)
    right.set_ylim(0, 1.05)
    right.set_xlabel("epoch (full-batch gradient descent updates)")
    right.set_ylabel("loss / loss at epoch 0   [no unit]")
    right.set_title("Each run's own training loss, relative to its start")
    right.grid(alpha=0.3)
    right.legend(loc="center left", bbox_to_anchor=(0.08, 0.42))
    return fig
