"""Drawing for module 8: the loss's memory against the vocabulary size."""

from __future__ import annotations

from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from kata.given.plots import COLOURS, MARKERS, new_figure

UNITS = [(10 ** 9, "GB"), (10 ** 6, "MB"), (10 ** 3, "kB"), (1, "B")]  # decimal, as the lesson and its sources


def human_bytes(n: float) -> str:
    """1500 -> '1.5 kB'; powers of 1000 (1 GB = 10^9 bytes), at most 3 significant digits."""
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
        ax.text(vocab / 1.08, 10.0 ** (7.9 + 0.6 * index), f"{model}\nV = {vocab:,}\nnaive: {human_bytes(naive)}",
                ha="right", va="center", fontsize=9, bbox=box)
    last = list(known.values())[-1]
    ax.annotate(f"chunked: {human_bytes(last[2])} at every V ≥ {chunk_size:,}, "
                f"{last[1] / last[2]:,.0f}× less than naive at V = {last[0]:,}",
                (last[0], last[2]), xytext=(-4, -16), textcoords="offset points", ha="right", va="top", fontsize=9,
                bbox=box)
    ax.plot([], [], "*", color="black", ms=11, label="vocabularies of real models")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=10)
    ax.xaxis.set_major_locator(FixedLocator([float(v) for v in vocabs]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ticks = [10.0 ** k for k in range(6, 12)]  # 1 MB ... 100 GB
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda b, _: human_bytes(b)))
    ax.set_ylim(10 ** 6, 2 * 10 ** 11)
    ax.set_xlim(vocabs[0] / 1.3, vocabs[-1] * 1.3)
    ax.set_xlabel("vocabulary size V  [tokens; log scale]")
    ax.set_ylabel("memory of the loss's temporaries  [log scale; 1 GB = 10⁹ B]")
    ax.set_title(f"Naive loss memory grows with V; chunked stays flat (N = {n_tokens:,} tokens, float32)",
                 fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    return fig
