"""Drawing for module 10: a Monte-Carlo estimate converging, binned entropy → h, heteroscedastic regression."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullLocator

from kata.given.plots import COLOURS, MARKERS, new_figure


def _fixed_layout(fig, **margins):
    """Fixed margins instead of new_figure()'s constrained layout, which measures every label twice and
    doubles the time a figure takes to draw; the margins below were fitted by eye to these figures."""
    fig.set_layout_engine(None)
    fig.subplots_adjust(**margins)
    return fig


def _log_axis(axis) -> None:
    """A log-scaled axis with its decades only: minor ticks cost more to lay out than the rest of the figure."""
    axis.set_minor_locator(NullLocator())


def monte_carlo(data):
    """Left: the estimate ±1 s.e. against n (log x) and the closed form. Right: the s.e. against n, log-log."""
    fig = _fixed_layout(new_figure(12.0, 5.0), left=0.065, right=0.985, bottom=0.11, top=0.87, wspace=0.2)
    left, right = fig.subplots(1, 2)
    n, estimate, error, exact = data["n"], data["estimate"], data["standard_error"], data["exact"]
    left.fill_between(n, estimate - error, estimate + error, color=COLOURS[0], alpha=0.25, lw=0,
                      label="±1 standard error")
    left.plot(n, estimate, color=COLOURS[0], marker=MARKERS[0], lw=1.8, label="Monte-Carlo estimate (seed 0)")
    left.axhline(exact, color=COLOURS[1], ls="--", lw=1.8, label=f"closed form H(p, q) = {exact:.6f}")
    left.set_xscale("log")
    _log_axis(left.xaxis)
    left.set_xlabel("n, the number of samples drawn from p  (log scale)")
    left.set_ylabel("estimate of H(p, q) = E_p[−log q(X)]   [nats]")
    left.set_title("p = N(0, 1), q = N(1, 2²): the estimate closes in on the closed form")
    left.grid(alpha=0.3)
    left.legend(loc="upper right")

    reference = data["term_sd"] / np.sqrt(n)
    right.plot(n, error, color=COLOURS[0], marker=MARKERS[0], lw=1.8, label="standard error of the estimate")
    term_sd = f"{data['term_sd']:.4f}"
    right.plot(n, reference, color=COLOURS[2], ls="--", lw=1.5,
               label=f"{term_sd}/√n, with {term_sd} the exact\nstandard deviation of one term −log q(X)")
    right.set_xscale("log")
    right.set_yscale("log")
    _log_axis(right.xaxis)
    _log_axis(right.yaxis)
    right.set_xlabel("n  (log scale)")
    right.set_ylabel("standard error   [nats, log scale]")
    right.set_title("The error bar shrinks like 1/√n: slope −½ on log-log axes")
    right.grid(alpha=0.3)
    right.legend(loc="lower left")  # the line runs from the top left to the bottom right
    fig.suptitle("Monte Carlo: 100 times the samples for one more correct digit")
    return fig


def binned_entropy(data):
    """The corrected binned entropy of each sample against the bin width, with each distribution's h."""
    fig = _fixed_layout(new_figure(9.0, 5.5), left=0.085, right=0.975, bottom=0.1, top=0.9)
    ax = fig.subplots()
    widths = data["widths"]
    for k, (name, curve) in enumerate(data["curves"].items()):
        ax.plot(widths, curve, color=COLOURS[k], marker=MARKERS[k], lw=1.8, ms=6, label=f"samples of {name}")
    for k, (name, value) in enumerate(data["h"].items()):
        shown = f"{value:.3f}".replace("-", "−")  # the minus sign of the axis labels
        ax.axhline(value, color="0.3", ls=(0, (5, 3)) if k == 0 else ":", lw=1.4, label=f"h({name}) = {shown}")
    uniform = [curve for name, curve in data["curves"].items() if name.startswith("Uniform")]
    if uniform and widths[0] >= 1:  # a bin at least as wide as [0, ½) holds every Uniform sample
        text = "one bin holds every Uniform sample:\nH(bins) = 0, so the value is log Δ alone"
        for k in range(len(widths)):
            if widths[k] < 1:
                break
            ax.annotate(text if k == 0 else "", xy=(widths[k], uniform[0][k]), xytext=(0.35, 0.45), fontsize=9,
                        va="center", arrowprops={"arrowstyle": "->", "color": "0.3", "lw": 1})
    ax.set_xscale("log")
    _log_axis(ax.xaxis)
    ax.invert_xaxis()  # shrinking bins to the right
    ax.set_ylim(-2.4, 2.2)
    ax.set_xlabel("bin width Δ   (log scale, shrinking to the right)")
    ax.set_ylabel("binned entropy H(bins) corrected for Δ   [nats]")
    ax.set_title("Corrected binned entropy: above h while the bins are wide, below h once they are too many\n"
                 "for the samples; only the large samples hold h in between", fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    return fig


def heteroscedastic(data):
    """Left: the data, least squares ±σ and the Gaussian-NLL fit ±σ(x). Right: σ against x."""
    fig = _fixed_layout(new_figure(12.0, 5.0), left=0.05, right=0.985, bottom=0.11, top=0.87, wspace=0.15)
    left, right = fig.subplots(1, 2)
    grid, held_out = data["grid"], data["held_out"]
    ls_label = (f"least squares ± one σ = {data['ls_sigma']:.2f}  "
                f"(held-out NLL {held_out['least squares']['nll']:.2f} nats)")
    nll_label = f"Gaussian NLL fit ± σ(x)  (held-out NLL {held_out['Gaussian NLL fit']['nll']:.2f} nats)"
    left.scatter(data["x"], data["y"], s=12, color="0.55", marker="o", alpha=0.7, label="training data (200 points)")
    left.fill_between(grid, data["ls_mean"] - data["ls_sigma"], data["ls_mean"] + data["ls_sigma"],
                      color=COLOURS[1], alpha=0.15, lw=0)
    left.plot(grid, data["ls_mean"], color=COLOURS[1], ls="--", lw=2, label=ls_label)
    for sign in (-1, 1):
        left.plot(grid, data["ls_mean"] + sign * data["ls_sigma"], color=COLOURS[1], ls="--", lw=0.8)
    left.fill_between(grid, data["nll_mean"] - data["nll_sigma"], data["nll_mean"] + data["nll_sigma"],
                      color=COLOURS[0], alpha=0.3, lw=0)
    left.plot(grid, data["nll_mean"], color=COLOURS[0], lw=2, label=nll_label)
    left.set_xlabel("x")
    left.set_ylabel("y")
    left.set_title("Mean ± σ: one band for least squares, a widening one for the NLL fit")
    left.grid(alpha=0.3)
    left.legend(loc="upper left", fontsize=9)

    right.plot(grid, data["true_sigma"], color="black", ls=":", lw=2, label="true σ(x) = 0.1·exp(0.55x)")
    right.plot(grid, data["nll_sigma"], color=COLOURS[0], marker=MARKERS[0], markevery=10, lw=2,
               label="Gaussian NLL fit: exp(½·log σ²(x))")
    right.plot(grid, np.full_like(grid, data["ls_sigma"]), color=COLOURS[1], ls="--", marker=MARKERS[1],
               markevery=(5, 10), lw=2, label="least squares: √MSE, the same everywhere")
    right.set_xlabel("x")
    right.set_ylabel("predicted noise standard deviation σ")
    right.set_title("The NLL fit learns the noise; least squares averages it")
    right.set_ylim(bottom=0)
    right.grid(alpha=0.3)
    right.legend(loc="upper left", fontsize=9)
    fig.suptitle("Heteroscedastic regression: predict a mean and a variance, train on the Gaussian NLL")
    return fig
