"""Drawing for module 11: training curves, misclassified digits, CE of fixed examples."""

from __future__ import annotations

import math

import numpy as np

from kata.given.plots import COLOURS, MARKERS, new_figure

LOG10 = math.log(10)
CE_FLOOR = 1e-4  # a CE this small is drawn at the floor of the log axis


def _chance_line(ax, label=True):
    ax.axhline(LOG10, color="0.4", ls="--", lw=1, zorder=1)
    if label:
        ax.annotate("uniform guess: log 10 = 2.303 nats", (0.98, LOG10), xycoords=("axes fraction", "data"),
                    xytext=(0, 4), textcoords="offset points", ha="right", va="bottom", fontsize=9, color="0.3")


def training_curves(history, data_name):
    """Left: train and validation CE per epoch (log scale); right: their accuracy."""
    fig = new_figure(10, 4.6)
    ax_ce, ax_acc = fig.subplots(1, 2)
    epochs = np.arange(len(history["train_ce"]))
    best = int(np.argmin(history["val_ce"]))
    for ax, (train_key, val_key) in ((ax_ce, ("train_ce", "val_ce")), (ax_acc, ("train_acc", "val_acc"))):
        ax.plot(epochs, history[train_key], color=COLOURS[0], marker=MARKERS[0], ms=4, lw=1.6, label="train")
        ax.plot(epochs, history[val_key], color=COLOURS[1], marker=MARKERS[1], ms=4, lw=1.6, label="validation")
        ax.axvline(best, color=COLOURS[2], lw=1, ls=":")
        ax.set_xlabel("epoch (0 = untrained)")
        ax.set_xlim(-0.5, epochs[-1] + 0.5)
        ax.grid(alpha=0.3)
    ax_ce.set_yscale("log")
    ax_ce.set_ylim(max(CE_FLOOR, min(history["train_ce"]) / 2), 5)
    _chance_line(ax_ce)
    ax_ce.annotate(f"lowest validation CE:\n{history['val_ce'][best]:.3f} nats at epoch {best}",
                   (best, history["val_ce"][best]), xytext=(0.62, 0.72), textcoords="axes fraction", ha="right",
                   fontsize=9, color=COLOURS[2], arrowprops={"arrowstyle": "->", "color": COLOURS[2], "lw": 0.8})
    ax_ce.set_ylabel("mean cross-entropy  [nats, log scale]")
    ax_ce.set_title("Cross-entropy: train keeps falling, validation levels off")
    ax_ce.legend(loc="lower left")
    ax_acc.set_ylim(0, 1.02)
    ax_acc.set_ylabel("accuracy  [fraction correct]")
    ax_acc.set_title("Accuracy stops moving long before CE does")
    ax_acc.annotate(f"final: train {history['train_acc'][-1]:.3f}, validation {history['val_acc'][-1]:.3f}",
                    (0.97, 0.3), xycoords="axes fraction", ha="right", fontsize=9,
                    bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "0.7"})
    ax_acc.legend(loc="lower right")
    fig.suptitle(f"MLP on {data_name}: the loss tells you more than the accuracy", fontsize=12)
    return fig


def _digit(ax, image):
    ax.imshow(image, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def misclassified(images, true, predicted, ce, accuracy, n_test, columns=7):
    """One row of up to ``columns`` misclassified digits, each titled true/guess and its CE, highest CE first."""
    shown = min(len(images), columns)
    fig = new_figure(10, 2.9)
    axes = fig.subplots(1, columns, squeeze=False)[0]
    for k, ax in enumerate(axes):
        if k >= shown:
            ax.set_axis_off()
            continue
        _digit(ax, images[k])
        q = math.exp(-float(ce[k]))
        ax.set_title(f"true {int(true[k])}, guess {int(predicted[k])}\nCE {float(ce[k]):.2f} nats\nq(true) = {q:.3f}",
                     fontsize=10)
        for spine in ax.spines.values():
            spine.set_edgecolor(COLOURS[1])
            spine.set_linewidth(2)
    wrong = round((1 - accuracy) * n_test)
    if shown == 0:
        fig.text(0.5, 0.5, "no test digit is misclassified", ha="center", va="center")
    fig.suptitle(f"The MLP's {'worst ' + str(shown) + ' of its ' if wrong > shown else ''}{wrong} mistakes on "
                 f"{n_test} test digits, highest cross-entropy first\n"
                 "CE = -log q(true digit): a confident mistake costs many nats", fontsize=11)
    return fig


def tracked_examples(tracked_ce, images, labels, indices):
    """CE of a few fixed validation digits per epoch (log scale), with the digits beside it."""
    tracked_ce = np.asarray(tracked_ce, dtype=float)
    n = tracked_ce.shape[1]
    fig = new_figure(10, 5.2)
    grid = fig.add_gridspec(n, 2, width_ratios=[7, 1])
    ax = fig.add_subplot(grid[:, 0])
    epochs = np.arange(tracked_ce.shape[0])
    for j in range(n):
        colour, marker = COLOURS[j % len(COLOURS)], MARKERS[j % len(MARKERS)]
        ax.plot(epochs, np.maximum(tracked_ce[:, j], CE_FLOOR), color=colour, marker=marker, ms=5, lw=1.6,
                label=f"validation #{indices[j]}: a {int(labels[j])}")
        thumb = fig.add_subplot(grid[j, 1])
        _digit(thumb, images[j])
        thumb.set_ylabel(f"#{indices[j]}", rotation=0, ha="right", va="center", fontsize=9, color=colour)
        thumb.plot([0.12], [0.12], marker=marker, color=colour, ms=7, transform=thumb.transAxes, clip_on=False)
        for spine in thumb.spines.values():
            spine.set_edgecolor(colour)
            spine.set_linewidth(2.5)
    ax.axhline(LOG10, color="0.4", ls="--", lw=1, zorder=1, label="uniform guess: log 10 = 2.303 nats")
    ax.axhline(math.log(2), color="0.6", ls=":", lw=1.2, zorder=1, label="log 2: below it q(true) > 0.5, surely right")
    ax.set_yscale("log")
    ax.set_ylim(CE_FLOOR * 0.8, 30)
    ax.set_xlim(-0.5, epochs[-1] + 0.5)
    ax.set_xlabel("epoch (0 = untrained)")
    ax.set_ylabel(f"cross-entropy of the example  [nats, log scale]\n(values below {CE_FLOOR:g} drawn at {CE_FLOOR:g})")
    ax.set_title("The CE of five validation digits as the MLP trains:\n"
                 "easy ones fall to ~0, ambiguous ones hover, confident mistakes climb", fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 0.06), fontsize=9, ncol=2, framealpha=0.95)
    return fig
