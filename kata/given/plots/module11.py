"""Drawing for module 11: training curves, misclassified digits, CE of fixed examples, batch sizes.

The titles that describe a run's data are computed from the data (``ce_story``),
so what a title says is true of the run it shows.
"""

from __future__ import annotations

import math

import numpy as np

from kata.given.plots import COLOURS, MARKERS, new_figure

LOG10 = math.log(10)
LOG2 = math.log(2)
CE_FLOOR = 1e-4  # a CE this small is drawn at the floor of the log axis
RISE = 1.1  # validation CE "rises" when it ends more than 10% above its lowest value


def ce_story(val_ce) -> str:
    """What the validation CE does after its lowest point, in a few words that are true of ``val_ce``."""
    val_ce = np.asarray(val_ce, dtype=float)
    best = int(np.argmin(val_ce))
    if best < len(val_ce) - 1 and val_ce[-1] > RISE * val_ce[best]:
        return f"validation CE is lowest at epoch {best}, then rises"
    return "validation CE levels off"


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
    ax_ce.set_title(f"Training CE falls to {history['train_ce'][-1]:.2g} nats;\n{ce_story(history['val_ce'])}",
                    fontsize=11)
    ax_ce.legend(loc="lower left")
    ax_acc.set_ylim(0, 1.02)
    ax_acc.set_ylabel("accuracy  [fraction correct]")
    ax_acc.set_title(f"Accuracy barely moves after epoch {best}:\nvalidation between "
                     f"{min(history['val_acc'][best:]):.3f} and {max(history['val_acc'][best:]):.3f}", fontsize=11)
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
        q_text = f"{q:.3f}" if q >= 0.001 else f"{q:.1e}"
        ax.set_title(f"true {int(true[k])}, guess {int(predicted[k])}\nCE {float(ce[k]):.2f} nats\nq(true) = {q_text}",
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


def _nats(value) -> str:
    return f"{value:.2g}" if value >= CE_FLOOR else f"< {CE_FLOOR:g}"


def tracked_examples(tracked_ce, images, labels, indices, roles=False):
    """CE of a few fixed validation digits per epoch (log scale), with the digits beside it.

    roles: the digits were chosen for the roles the title names (easy, doubtful, mistakes).
    """
    tracked_ce = np.asarray(tracked_ce, dtype=float)
    n = tracked_ce.shape[1]
    fig = new_figure(10, 5.2)
    grid = fig.add_gridspec(n, 2, width_ratios=[7, 1])
    ax = fig.add_subplot(grid[:, 0])
    epochs = np.arange(tracked_ce.shape[0])
    for j in range(n):
        colour, marker = COLOURS[j % len(COLOURS)], MARKERS[j % len(MARKERS)]
        ax.plot(epochs, np.maximum(tracked_ce[:, j], CE_FLOOR), color=colour, marker=marker, ms=5, lw=1.6,
                label=f"#{indices[j]}: a {int(labels[j])}, last CE {_nats(tracked_ce[-1, j])}")
        thumb = fig.add_subplot(grid[j, 1])
        _digit(thumb, images[j])
        thumb.set_ylabel(f"#{indices[j]}", rotation=0, ha="right", va="center", fontsize=9, color=colour)
        thumb.plot([0.12], [0.12], marker=marker, color=colour, ms=7, transform=thumb.transAxes, clip_on=False)
        for spine in thumb.spines.values():
            spine.set_edgecolor(colour)
            spine.set_linewidth(2.5)
    ax.axhline(LOG10, color="0.4", ls="--", lw=1, zorder=1, label="log 10 = 2.303: a uniform guess")
    ax.axhline(LOG2, color="0.6", ls=":", lw=1.2, zorder=1, label="log 2 = 0.693: q(true) = 0.5")
    ax.set_yscale("log")
    ax.set_ylim(1e-6, 40)  # the room below the floor holds the legend
    ax.set_xlim(-0.5, epochs[-1] + 0.5)
    ax.set_xlabel("epoch (0 = untrained)")
    ax.set_ylabel(f"cross-entropy of the example  [nats, log scale]\n(values below {CE_FLOOR:g} drawn at {CE_FLOOR:g})")
    ax.set_title(f"The CE of {n} validation digits as the MLP trains" + (
        ": easy ones fall towards 0,\na doubtful one swings around log 2, confident mistakes climb" if roles
        else "\n(log 2: the network torn between two digits; log 10: a uniform guess)"), fontsize=11)
    ax.grid(alpha=0.3)
    ax.axhspan(1e-6, CE_FLOOR * 0.8, color="0.95", zorder=0)
    ax.legend(loc="lower left", fontsize=9, ncol=2, framealpha=0.95)
    return fig


def batch_sizes(histories, n_train, lr):
    """Left: training CE against epochs for each batch size; right: the same against optimizer steps."""
    fig = new_figure(10, 4.6)
    ax_epoch, ax_step = fig.subplots(1, 2, sharey=True)
    for k, (size, history) in enumerate(sorted(histories.items())):
        colour, marker = COLOURS[k % len(COLOURS)], MARKERS[k % len(MARKERS)]
        train_ce = np.asarray(history["train_ce"], dtype=float)
        epochs = np.arange(len(train_ce))
        steps_per_epoch = math.ceil(n_train / size)
        label = f"batch {size} ({steps_per_epoch} step{'s' if steps_per_epoch > 1 else ''} per epoch)"
        ax_epoch.plot(epochs, train_ce, color=colour, marker=marker, ms=4, lw=1.6, label=label)
        ax_step.plot(np.maximum(epochs * steps_per_epoch, 0.7), train_ce, color=colour, marker=marker, ms=4, lw=1.6,
                     label=label)
    lowest = min(float(np.min(h["train_ce"])) for h in histories.values())
    for ax in (ax_epoch, ax_step):
        ax.set_yscale("log")
        ax.set_ylim(max(CE_FLOOR, lowest / 2), 5)
        ax.grid(alpha=0.3)
        _chance_line(ax, label=ax is ax_epoch)
    ax_epoch.set_xlabel("epoch (0 = untrained)")
    ax_epoch.set_ylabel("training cross-entropy  [nats, log scale]")
    ax_epoch.set_title("Per epoch: smaller batches fall faster at first\n(more steps per epoch; the smallest are noisy)",
                       fontsize=11)
    ax_epoch.legend(loc="lower left", fontsize=9)
    ax_step.set_xscale("log")
    ax_step.set_xlabel("optimizer steps  [log scale; 0 drawn at 0.7]")
    ax_step.set_title("Per optimizer step: larger batches fall faster\n(each step averages over more digits)", fontsize=11)
    fig.suptitle(f"The MLP on {n_train} training digits, Adam at one learning rate ({lr:g}): "
                 "how quickly CE falls depends on the batch size", fontsize=12)
    return fig
