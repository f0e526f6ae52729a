"""Drawing for module 4: logistic regression's loss curve and decision boundary."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import LinearSegmentedColormap

from kata.given.plots import COLOURS, MARKERS, new_figure

# P(class 1 | x) from class 0's colour (p = 0) through white (p = 1/2) to class 1's (p = 1).
PROBABILITY_CMAP = LinearSegmentedColormap.from_list("p_class1", [COLOURS[0], "white", COLOURS[1]])
# Bands 0.1 wide centred on 0.1, 0.2, ..., so that p = 1/2 is drawn white.
LEVELS = np.concatenate([[0.0], np.arange(0.05, 1.0, 0.1), [1.0]])
TICKS = [0.0, 0.25, 0.5, 0.75, 1.0]
CLASS_NAMES = ("class 0 (centre (-2, -2))", "class 1 (centre (2, 2))")


def loss_curve(losses, log2, final_loss, lr):
    """The mean BCE per epoch, the log 2 start marked, the final loss annotated."""
    fig = new_figure()
    fig.set_layout_engine(None)  # a fixed layout: constrained layout would double the drawing time
    ax = fig.subplots(gridspec_kw={"left": 0.09, "right": 0.98, "bottom": 0.11, "top": 0.93})
    epochs = np.arange(len(losses))
    ax.axhline(log2, color="0.5", ls="--", lw=1.2, label=f"log 2 = {log2:.4f} nats (p = 1/2 for every point)")
    ax.plot(epochs, losses, color=COLOURS[0], lw=2.2, label=f"mean binary cross-entropy (lr = {lr:g}, full batch)")
    ax.plot([0], [losses[0]], "o", color=COLOURS[0], ms=8, mfc="white", mew=2, clip_on=False, zorder=4)
    ax.plot([epochs[-1]], [losses[-1]], "s", color=COLOURS[0], ms=8, mfc="white", mew=2, zorder=4)
    ax.annotate(f"epoch 0: {losses[0]:.4f} nats (w = 0)", (0, losses[0]), xytext=(14, -22),
                textcoords="offset points", fontsize=10)
    ax.annotate(f"epoch {epochs[-1]}: {losses[-1]:.4f} nats\nafter the last update: {final_loss:.4f}",
                (epochs[-1], losses[-1]), xytext=(-190, 45), textcoords="offset points", fontsize=10,
                bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "0.7"},
                arrowprops={"arrowstyle": "-", "color": "black", "lw": 0.8})
    ax.set_xlim(0, len(losses))
    ax.set_ylim(0, 0.8)
    ax.set_xticks(np.arange(0, len(losses) + 1, 20 if len(losses) >= 40 else 5))
    ax.set_yticks(np.arange(0.0, 0.81, 0.1))
    ax.set_xlabel("epoch (one full-batch gradient step each)")
    ax.set_ylabel("mean binary cross-entropy  [nats]")
    ax.set_title("Gradient descent drives the loss down from log 2 (a coin flip) towards 0")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right")
    return fig


def _shade(ax, grid):
    x1, x2, p = grid
    return ax.contourf(x1, x2, p, levels=LEVELS, cmap=PROBABILITY_CMAP, alpha=0.45, vmin=0.0, vmax=1.0)


def _boundary(ax, grid, w, lw=2.2):
    """The line p = 1/2; none when w = 0 (p = 1/2 everywhere)."""
    if not np.any(w):
        return False
    x1, x2, p = grid
    ax.contour(x1, x2, p, levels=[0.5], colors="black", linewidths=lw)
    return True


def _scatter(ax, X, y, size=30, labels=True):
    for k in (0, 1):
        points = X[y == k]
        ax.scatter(points[:, 0], points[:, 1], s=size, c=COLOURS[k], marker=MARKERS[k], edgecolors="white",
                   linewidths=0.6, label=CLASS_NAMES[k] if labels else None, zorder=3)


def _frame(ax, grid):
    x1, x2, _ = grid
    ax.set_xlim(x1.min(), x1.max())
    ax.set_ylim(x2.min(), x2.max())
    ax.set_aspect("equal")
    ticks = np.arange(np.ceil(x1.min() / 2) * 2, x1.max() + 1e-9, 2.0)
    ax.set_xticks(ticks)  # fixed ticks: no locator to run at every draw
    ax.set_yticks(ticks)


def decision_boundary(X, y, grid, w, b, p_data, acc, epochs):
    """P(class 1 | x) shaded, the boundary p = 1/2, the two classes by colour and marker.

    p_data: (N,) the model's P(class 1) at the data points; the misclassified ones get a ring.
    """
    fig = new_figure()
    fig.set_layout_engine(None)  # a fixed layout: constrained layout would double the drawing time
    ax = fig.subplots(gridspec_kw={"left": 0.065, "right": 0.575, "bottom": 0.1, "top": 0.9})
    shading = _shade(ax, grid)
    _boundary(ax, grid, w)
    _scatter(ax, X, y)
    wrong = (np.asarray(p_data) >= 0.5) != (y == 1)
    ax.scatter(X[wrong, 0], X[wrong, 1], s=170, facecolors="none", edgecolors="black", linewidths=1.5, zorder=4,
               label=f"misclassified ({int(wrong.sum())} of {len(y)})")
    sign = "+" if b >= 0 else "-"
    ax.plot([], [], color="black", lw=2.2, label=f"boundary p = 1/2:\n{w[0]:.3f} x1 + {w[1]:.3f} x2\n    {sign} {abs(b):.3f} = 0")
    _frame(ax, grid)
    ax.set_xlabel("feature x1")
    ax.set_ylabel("feature x2")
    fig.suptitle(f"After {epochs} epochs a straight line splits the blobs (accuracy {acc:.3f})", y=0.975)
    fig.legend(loc="center left", bbox_to_anchor=(0.675, 0.5), fontsize=10, labelspacing=1.0, borderpad=0.8)
    bar = fig.colorbar(shading, cax=fig.add_axes((0.59, 0.1, 0.02, 0.8)), ticks=TICKS)
    bar.set_label("P(class 1 | x) from predict_proba")
    return fig


def boundary_snapshots(X, y, panels):
    """One small panel per (epoch, w, b, grid, loss): the boundary and shading as training goes."""
    fig = new_figure(width=11.0, height=4.2)
    fig.set_layout_engine(None)  # a fixed layout: constrained layout would double the drawing time
    axes = fig.subplots(1, len(panels), sharex=True, sharey=True,
                        gridspec_kw={"left": 0.055, "right": 0.9, "bottom": 0.2, "top": 0.8, "wspace": 0.08})
    shading = None
    for ax, (epoch, w, _b, grid, loss) in zip(axes, panels):
        shading = _shade(ax, grid)
        if not _boundary(ax, grid, w, lw=1.8):
            ax.text(0.96, 0.04, "w = 0: p = 1/2\neverywhere,\nno boundary yet", transform=ax.transAxes,
                    ha="right", va="bottom", fontsize=9,
                    bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "0.7"})
        _scatter(ax, X, y, size=12, labels=ax is axes[0])
        _frame(ax, grid)
        ax.set_title(f"epoch {epoch}: loss {loss:.3f} nats\nw = [{w[0]:.2f}, {w[1]:.2f}]", fontsize=10)
        ax.set_xlabel("feature x1")
    axes[0].set_ylabel("feature x2")
    axes[0].plot([], [], color="black", lw=1.8, label="boundary p = 1/2")
    fig.legend(loc="lower center", ncols=3, fontsize=10, markerscale=1.8, bbox_to_anchor=(0.48, 0.0))
    bar = fig.colorbar(shading, cax=fig.add_axes((0.925, 0.2, 0.015, 0.6)), ticks=TICKS)
    bar.set_label("P(class 1 | x)")
    fig.suptitle("One step finds the boundary's direction; later epochs sharpen it (steeper shading)", y=0.97)
    return fig
