"""Drawing for module 8: the loss's memory against the vocabulary size."""

from __future__ import annotations

from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from kata.given.plots import COLOURS, MARKERS, new_figure

UNITS = [(2 ** 30, "GiB"), (2 ** 20, "MiB"), (2 ** 10, "KiB"), (1, "B")]


def human_bytes(n: float) -> str:
    """1536 -> '1.5 KiB'; powers of 1024, at most 3 significant digits."""
    for size, unit in UNITS:
        if n >= size:
            value = n / size
            return f"{value:.3g} {unit}"
    return f"{n:.3g} B"


def memory_vs_vocab(vocabs, curves, known, n_tokens, chunk_size):
    """Naive and chunked memory (bytes, log scale) against the vocabulary size (log scale).

    curves: {"naive": bytes (k,), "chunked": bytes (k,)};
    known: {model name: (vocab, naive bytes, chunked bytes)} marked on both curves.
    """
    fig = new_figure()
    ax = fig.add_subplot()
    styles = {"naive": ("naive: the full (N, V) logits and their gradients", COLOURS[1], MARKERS[0]),
              "chunked": (f"chunked: {chunk_size}×{chunk_size} blocks, recomputed in backward", COLOURS[0], MARKERS[1])}
    for name, (label, colour, marker) in styles.items():
        ax.plot(vocabs, curves[name], color=colour, marker=marker, lw=2, ms=7, label=label)
    box = {"boxstyle": "round,pad=0.25", "fc": "white", "ec": "0.7", "alpha": 0.9}
    for index, (model, (vocab, naive, chunked)) in enumerate(known.items()):
        ax.axvline(vocab, color="0.6", lw=1, ls=":", zorder=0)
        ax.plot([vocab, vocab], [naive, chunked], "*", color="black", ms=13, zorder=5)
        # labels sit in the empty band between the curves, left of their dotted line, staggered
        ax.text(vocab / 1.08, 2.0 ** (26 + 2 * index), f"{model}\nV = {vocab:,}\nnaive: {human_bytes(naive)}",
                ha="right", va="center", fontsize=9, bbox=box)
    last = list(known.values())[-1]
    ax.annotate(f"chunked: {human_bytes(last[2])} at every V ≥ {chunk_size}, "
                f"{last[1] / last[2]:,.0f}× less than naive at V = {last[0]:,}",
                (last[0], last[2]), xytext=(-4, -16), textcoords="offset points", ha="right", va="top", fontsize=9,
                bbox=box)
    ax.plot([], [], "*", color="black", ms=11, label="vocabularies of real models")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator([float(v) for v in vocabs]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1024:g}k"))
    ticks = [2.0 ** k for k in range(20, 37, 2)]  # 1 MiB ... 64 GiB
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda b, _: human_bytes(b)))
    ax.set_ylim(2 ** 20, 2 ** 37)
    ax.set_xlim(vocabs[0] / 1.3, vocabs[-1] * 1.3)
    ax.set_xlabel("vocabulary size V  [words; log scale, k = 1024]")
    ax.set_ylabel("memory of the loss's temporaries  [bytes, log scale]")
    ax.set_title(f"Naive loss memory grows with V; chunked stays flat (N = {n_tokens:,} tokens, float32)",
                 fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    return fig
