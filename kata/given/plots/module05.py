"""Drawing for module 5: training losses of two torch models; their decision regions."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import ListedColormap

from kata.given.plots import COLOURS, MARKERS, new_figure

BOX = {"boxstyle": "round,pad=0.3", "fc": "white", "ec": "0.7", "alpha": 0.9}
STYLES = ["-", "--"]


def loss_curves(histories, uniform, lr, largest_input):
    """One loss curve per model over the epochs, with the loss of a uniform guess (log C).

    largest_input: the largest |coordinate| of the data, quoted by the note on a high first loss.
    """
    fig = new_figure()
    ax = fig.add_subplot()
    epochs = None
    for colour, marker, style, (name, losses) in zip(COLOURS, MARKERS, STYLES, histories.items()):
        losses = np.asarray(losses, dtype=float)
        epochs = np.arange(len(losses))
        ax.plot(epochs, losses, color=colour, ls=style, lw=2, marker=marker, markevery=(10, 25), ms=7,
                label=f"{name}:  {losses[0]:.3f} → {losses[-1]:.3f} nats")
    first_name, first_losses = next(iter(histories.items()))
    if first_losses[0] > uniform:
        ax.annotate(f"the {first_name.split(':')[0]} model starts above log 3: its random weights\n"
                    f"times inputs as large as {largest_input:.1f} make confident random guesses",
                    (0, first_losses[0]), xytext=(10, 1.75), fontsize=10, va="center", bbox=BOX,
                    arrowprops={"arrowstyle": "-", "color": "black", "lw": 0.8})
    ax.axhline(uniform, color="0.35", ls=":", lw=1.5)
    ax.text(epochs[-1], uniform + 0.03, f"uniform guess: log 3 = {uniform:.3f} nats (a sane untrained loss)",
            ha="right", va="bottom", fontsize=10, color="0.25")
    ax.set_xlim(0, epochs[-1])
    ax.set_ylim(0, None)
    ax.set_xlabel("epoch (one full-batch gradient step each)")
    ax.set_ylabel("mean cross-entropy on the 900 points  [nats]")
    ax.set_title(f"Full-batch gradient descent, lr = {lr:g}: both losses fall fast, the MLP's ends lower")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right")
    return fig


def decision_regions(panels, X, y, epochs):
    """One panel per model: the predicted class over the plane, and the labelled data on top."""
    fig = new_figure(12.0, 6.0)
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    n_classes = int(y.max()) + 1
    cmap = ListedColormap(COLOURS[:n_classes])
    for ax, (name, xs, ys, classes, accuracy) in zip(axes, panels):
        ax.contourf(xs, ys, classes, levels=np.arange(n_classes + 1) - 0.5, cmap=cmap, alpha=0.22)
        ax.contour(xs, ys, classes, levels=np.arange(1, n_classes) - 0.5, colors="0.25", linewidths=1.0)
        for k in range(n_classes):
            points = X[y == k]
            ax.scatter(points[:, 0], points[:, 1], s=16, color=COLOURS[k], marker=MARKERS[k],
                       edgecolors="white", linewidths=0.4, label=f"class {k}")
        ax.set_title(f"{name}\naccuracy {accuracy:.1%} after {epochs} epochs", fontsize=11)
        ax.set_xlabel("feature x₁")
        ax.set_ylabel("feature x₂")
        ax.set_xlim(xs[0], xs[-1])
        ax.set_ylim(ys[0], ys[-1])
        ax.set_aspect("equal")
    axes[0].legend(loc="lower left", title="true class (shaded: predicted)", fontsize=9, title_fontsize=9,
                   framealpha=0.9, markerscale=1.6)
    fig.suptitle("Decision regions (shaded: the predicted class): straight cuts for the linear model, "
                 "slightly bent ones for the MLP", fontsize=13)
    return fig
