"""Drawing for module 7: a character language model's loss against the entropy rate."""

from __future__ import annotations

import numpy as np

from kata.given.plots import COLOURS, MARKERS, new_figure

BLUE, ORANGE, GREEN, PINK = COLOURS[0], COLOURS[1], COLOURS[2], COLOURS[3]
GREY = "0.45"
BOX = {"boxstyle": "round,pad=0.3", "fc": "white", "ec": "0.7", "alpha": 0.95}


def training_curve(results, lr, heldout_chars):
    """Left: the training loss per step with the reference levels. Right: where each model ends."""
    fig = new_figure(10.0, 5.0)
    left, right = fig.subplots(1, 2, width_ratios=(2.1, 1.0))

    losses = np.asarray(results["losses"])
    steps = np.arange(len(losses))
    h, hu, uniform = results["entropy_rate"], results["unigram_entropy"], results["uniform"]
    count_train = results["count"]["train"]

    left.plot(steps, losses, color=BLUE, lw=2.2, marker=MARKERS[0], markevery=10, ms=6,
              label=f"trained bigram, training loss (lr {lr:g})", zorder=4)
    left.axhline(uniform, color=GREY, ls=":", lw=1.3, label=f"uniform guess: log2 5 = {uniform:.3f}")
    left.axhline(hu, color=PINK, ls="--", lw=1.8, label=f"unigram entropy H(π) = {hu:.3f}")
    left.axhline(count_train, color=GREEN, ls="-.", lw=1.8, label=f"count model, training text = {count_train:.3f}")
    left.axhline(h, color="black", lw=1.6, label=f"entropy rate H = {h:.3f}  (the floor)")
    left.set_xlim(0, len(losses) - 1)
    left.set_ylim(1.45, 2.4)
    left.set_xlabel("gradient-descent step")
    left.set_ylabel("cross-entropy  [bits per character]")
    left.set_title("The training loss falls past the unigram entropy to the entropy rate", fontsize=11)
    left.grid(alpha=0.3)
    # The legend sits below the unigram line, so that no reference line hides under it.
    top = (hu - 0.03 - 1.45) / (2.4 - 1.45)
    left.legend(loc="upper right", bbox_to_anchor=(1.0, top), fontsize=9, framealpha=0.95)
    gap_x = 0.3 * (len(losses) - 1)
    left.annotate("", xy=(gap_x, h + 0.005), xytext=(gap_x, hu - 0.005),
                  arrowprops={"arrowstyle": "<->", "color": "0.3", "lw": 1.2})
    left.text(gap_x + 0.6, h + 0.3 * (hu - h), "knowing the previous\ncharacter is worth\nthis gap: the mutual\n"
              f"information, {hu - h:.3f} bits",
              fontsize=9, va="center", ha="left", bbox=BOX)

    # Right panel: a zoom on where the models end, scored three ways.
    where = ("train", "heldout", "endless")
    labels = ("training\ntext", "held-out\ntext", "endless text\n(exact rate)")
    x = np.arange(len(where))
    for offset, name, colour, marker, label in ((-0.12, "count", GREEN, MARKERS[1], "count model (k = 1)"),
                                                (0.12, "trained", BLUE, MARKERS[0], "trained bigram")):
        values = [results[name][w] for w in where]
        right.plot(x + offset, values, ls="none", marker=marker, ms=9, color=colour, mec="black", mew=0.6,
                   label=label, zorder=4)
    right.axhline(h, color="black", lw=1.6, label="entropy rate H")
    values = [results[n][w] for n in ("count", "trained") for w in where]
    low, high = min(values + [h]), max(values + [h])
    pad = 0.25 * (high - low) + 0.005
    right.set_ylim(low - pad, high + 2.2 * pad)
    right.set_xlim(-0.5, len(where) - 0.5)
    right.set_xticks(x, labels, fontsize=9)
    right.set_ylabel("cross-entropy  [bits per character]")
    right.set_title("Zoom: where the models end", fontsize=11)
    right.grid(alpha=0.3, axis="y")
    right.legend(loc="upper left", fontsize=8.5, framealpha=0.95)
    ends = {w: [results[n][w] for n in ("count", "trained")] for w in where}
    right.text(x[0] + 0.25, np.mean(ends["train"]), "below H: scored on\nthe text they were\nfitted to",
               fontsize=8, ha="left", va="center")
    right.text(x[1], max(ends["heldout"]) + 0.25 * pad, f"chance: one standard error\nis 0.009 bits in {heldout_chars}\ncharacters",
               fontsize=8, ha="center", va="bottom")
    right.text(x[2], max(ends["endless"]) + 0.25 * pad, "always >= H\n(Gibbs)", fontsize=8, ha="center", va="bottom")
    return fig


def learning_rate_sweep(lrs, finals, count_bits, entropy_rate_bits, chosen_lr, steps):
    """The final training loss against the learning rate, on a log axis."""
    fig = new_figure()
    ax = fig.add_subplot()
    ax.plot(lrs, finals, color=BLUE, lw=2, marker=MARKERS[0], ms=8, mec="black", mew=0.6,
            label=f"trained bigram after {steps} steps", zorder=4)
    ax.axhline(count_bits, color=GREEN, ls="-.", lw=1.8, label=f"count model, training text = {count_bits:.3f}")
    ax.axhline(entropy_rate_bits, color="black", lw=1.4, label=f"entropy rate H = {entropy_rate_bits:.3f}")
    best = int(np.argmin(finals))
    chosen = int(np.argmin(np.abs(np.asarray(lrs) - chosen_lr)))
    ax.plot([lrs[chosen]], [finals[chosen]], marker="*", ms=18, color=ORANGE, mec="black", mew=0.8, ls="none",
            label=f"the module's choice, lr = {chosen_lr:g}", zorder=5)
    ax.annotate("too small: not there yet", xy=(lrs[0], finals[0]), xytext=(12, 4), textcoords="offset points",
                fontsize=10, bbox=BOX)
    ax.annotate("too large: overshoots\nand bounces", xy=(lrs[-1], finals[-1]), xytext=(-175, -30),
                textcoords="offset points", fontsize=10, bbox=BOX,
                arrowprops={"arrowstyle": "-", "color": "black", "lw": 0.8})
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel(f"training cross-entropy after {steps} steps  [bits per character]")
    ax.set_ylim(min(finals.min(), entropy_rate_bits) - 0.08, finals.max() + 0.12)
    ax.set_title(f"Final loss against learning rate: too small is slow, too large overshoots (best lr = {lrs[best]:g})",
                 fontsize=11)
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper left", fontsize=10, framealpha=0.95)
    return fig


def code_lengths(results):
    """Bits per character of the held-out text for each code: the models' ideal code lengths and two compressors."""
    fig = new_figure(9.0, 5.2)
    ax = fig.add_subplot()
    h, hu, n = results["entropy_rate"], results["unigram_entropy"], results["characters"]
    rows = [("uniform guess (knows nothing)", "uniform"), ("unigram model (no context)", "unigram"),
            ("zlib, level 9", "zlib"), ("lzma, the .xz format", "lzma"),
            ("count bigram model (k = 1)", "count"), ("the true chain P", "true chain")]
    y = np.arange(len(rows))[::-1]
    low, top = h - 0.12, len(rows) + 0.35
    ax.axvspan(low, h, color="0.88", zorder=0)
    ax.axvline(h, color="black", lw=1.8, zorder=1)
    ax.text(h + 0.01, top - 0.12, f"entropy rate H = {h:.3f}:\nno code can expect less", ha="left", va="top", fontsize=9)
    ax.axvline(hu, color=PINK, ls="--", lw=1.6, zorder=1)
    ax.text(hu + 0.01, top - 0.12, f"unigram entropy H(π) = {hu:.3f}:\nno code without context\ncan expect less",
            ha="left", va="top", fontsize=9)
    first_model = first_compressor = True
    for (_, key), row in zip(rows, y):
        if key in ("zlib", "lzma"):
            value = results[key]
            ax.plot([value], [row], ls="none", marker=MARKERS[1], ms=10, color=ORANGE, mec="black", mew=0.6, zorder=4,
                    label="a compressed file, measured" if first_compressor else None)
            first_compressor = False
            note = f"{value:.3f}   (+{value - h:.2f} above H)"
        else:
            value, expected = results[key]["measured"], results[key]["expected"]
            ax.plot([expected], [row], ls="none", marker=MARKERS[3], ms=11, mfc="none", mec=BLUE, mew=1.6, zorder=3,
                    label="a model's expected code length (its cross-entropy rate)" if first_model else None)
            ax.plot([value], [row], ls="none", marker=MARKERS[0], ms=8, color=BLUE, mec="black", mew=0.6, zorder=4,
                    label="a model's ideal code length of this text" if first_model else None)
            first_model = False
            wasted = results[key]["wasted"]
            note = f"{value:.3f}   (KL: " + (f"wastes {wasted:.3f} bits/char)" if key != "true chain" else "wastes nothing)")
        ax.text(max(value, h) + 0.025, row, note, va="center", fontsize=9)
    ax.set_yticks(y, [label for label, _ in rows], fontsize=10)
    ax.set_ylim(-0.6, top)
    ax.set_xlim(low, 2.85)
    ax.set_xlabel("code length  [bits per character]")
    ax.set_title(f"Bits per character of {n} held-out characters: every code lies above the entropy rate",
                 fontsize=11)
    ax.grid(alpha=0.3, axis="x")
    fig.legend(loc="outside lower center", ncols=3, fontsize=8.5, framealpha=0.95)
    return fig
