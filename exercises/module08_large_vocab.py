"""Module 8: cross-entropy at LLM vocabulary sizes, without the logits matrix.

THE IDEA
--------
A language model ends in a linear layer: N token states `hidden` (N, H) times a
classifier `weight` (V, H) give logits z = hidden @ weight.T of shape (N, V), and
the loss is the mean cross-entropy of those logits against the next tokens.
At today's sizes that matrix is huge: 8192 tokens × 256,000 words (Gemma 2) is
2.1 billion float32 numbers, 8.4 GB, and the backward pass needs more of the
same size. Cut Cross-Entropy (Apple, ICLR 2025) reports the loss's memory on
Gemma 2 falling from 24 GB to 1 MB; Liger-Kernel reports more than 4x less
memory for its fused linear cross-entropy at a 128k vocabulary. The trick:
never hold the (N, V) logits. Compute them a block at a time, keep only what
the loss needs, and recompute the blocks in the backward pass.

THE MATHS
---------
For token i with target t_i, the loss is
    loss_i = logsumexp_j(z_ij) − z_i,t_i        where z_ij = hidden_i · weight_j
The second term is one dot product per token. The first needs all V logits, but
not at once: an ONLINE logsumexp reads them in chunks and keeps two numbers per
token, a running max m and a running sum s = Σ exp(z − m) of what it has seen.
A new chunk c moves the max to m' = max(m, max(c)), and then
    s' = s · exp(m − m') + Σ_j exp(c_j − m')
The first factor RESCALES the old sum to the new max: without it the old terms
stay measured against the old max and the result is wrong as soon as a later
chunk holds a bigger value. Start with m = −inf, s = 0 (exp(−inf) = 0), and at
the end logsumexp = m + log s. Nothing ever overflows: every exponent is ≤ 0.

The mean is over the tokens that count. Padding and prompt tokens carry the
target ignore_index (−100, as in torch) and are left out:
    loss = Σ_{i kept} loss_i / (number of kept tokens)
When tokens are processed in chunks, sum each chunk's losses and divide once by
the total count, as torchtune's chunked loss does. A MEAN OF CHUNK MEANS is
wrong whenever the chunks hold different numbers of kept tokens (a short last
chunk, padding in one chunk): it over-weights the tokens of the small chunks.

The gradient of the mean loss with respect to the logits is, row by row,
    ∂loss/∂z_i = (softmax(z_i) − onehot(t_i)) / count      (0 for an ignored row)
and the chain rule through z = hidden @ weight.T gives
    ∂loss/∂hidden = G @ weight        ∂loss/∂weight = G.T @ hidden
with G the (N, V) matrix above. G is as big as the logits, so the backward pass
builds it block by block too: softmax(z)_ij = exp(z_ij − logsumexp_i), and the
forward pass already saved the N numbers logsumexp_i, so a block of G is one
block of logits recomputed, exponentiated, minus 1 at the targets, over count.
Both terms matter: without the softmax term the gradient only ever pushes the
target logit up; without the 1/count it is count times too large.

torch.autograd.Function (given below as ChunkedCrossEntropy) ties the two
together: its forward returns the loss and saves hidden, weight, targets and the
N logsumexps (not the logits); its backward calls your backward function.

WHAT YOU WRITE
--------------
8.1 logsumexp_update(running_max, running_sum, chunk)
                           one step of the online logsumexp (numpy)
8.2 online_logsumexp(x, chunk_size)
                           log Σ exp(x) over the last axis, chunk by chunk (numpy);
                           it equals scipy.special.logsumexp
8.3 streaming_logsumexp(hidden, weight, chunk_size)
                           the same in torch for the logits hidden @ weight.T,
                           computing chunk_size vocabulary columns at a time
8.4 chunked_cross_entropy_forward(hidden, weight, targets, chunk_size, ignore_index)
                           the mean loss over kept tokens, token chunk by token chunk,
                           and the logsumexps the backward pass needs
8.5 chunked_cross_entropy_backward(hidden, weight, targets, lse, chunk_size, ignore_index, grad_loss)
                           the gradients of hidden and weight, block by block
8.6 loss_memory_bytes(n_tokens, vocab, chunk_size, dtype)
                           the bytes of the largest temporaries of each method
Then chunked_cross_entropy(hidden, weight, targets, chunk_size) (given) equals
F.cross_entropy(hidden @ weight.T, targets): loss and both gradients.

THE FIGURE (make run-module-8, and the test compares it with plots_baseline/)
----------
Your loss_memory_bytes for 8192 tokens in float32, as the vocabulary grows from
1024 to 262,144 words, on log axes: the naive loss grows in proportion to V and
reaches tens of GB at Gemma 2's 256,000 words, while the chunked loss stays flat
at 12 MiB, because one block never exceeds chunk_size × chunk_size.

WHAT make run-module-8 MEASURES
-------------------------------
It runs each method's forward + backward once at N = 2048 tokens, H = 256,
V = 32768, chunk_size 1024, float32, each in a fresh Python process, and prints
its PEAK EXTRA RESIDENT MEMORY: the most memory resident at any one moment of
the run, above what was resident just before it (on Linux: the kernel's
high-water mark VmHWM, reset just before the run, minus VmRSS before it; the
process returns large freed blocks to the system at once, so memory freed and
reused during the run counts once). Your formula counts the loss's temporaries
only, so it prints beside the measurement. The gradients of hidden (N×H) and
weight (V×H), 34 MiB here, are inside the chunked peak (they are allocated
when the backward pass starts and filled block by block) but not the naive
one (they are allocated after its peak, once the (N, V) matrices are freed).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from kata import TODO  # noqa: F401  (the stubs raise it)
from kata.given.module08 import check_chunk_size, check_loss_inputs, make_inputs, measure_peak
from kata.given.plots import module08 as draw


def logsumexp_update(running_max, running_sum, chunk):
    """One step of the online logsumexp over the last axis (numpy).

    running_max, running_sum: arrays of shape (...) (the max so far, and Σ exp(x − max)
    of what was seen so far); chunk: (..., C) the next C values of each row.
    Returns (new_max, new_sum), both of shape (...).
    """
    running_max = np.asarray(running_max, dtype=float)
    running_sum = np.asarray(running_sum, dtype=float)
    chunk = np.asarray(chunk, dtype=float)
    if chunk.ndim == 0 or chunk.shape[-1] == 0:
        raise ValueError(f"chunk must hold at least one value on its last axis, got shape {chunk.shape}")
    if running_max.shape != chunk.shape[:-1] or running_sum.shape != chunk.shape[:-1]:
        raise ValueError(f"running_max and running_sum need the shape of chunk without its last axis, {chunk.shape[:-1]}, "
                         f"got {running_max.shape} and {running_sum.shape}")
    # TODO 8.1: new_max = the larger of running_max and the chunk's max over its last
    #   axis (np.maximum, chunk.max(axis=-1)). Rescale the old sum to the new max,
    #   running_sum * np.exp(running_max - new_max), and add the chunk's own terms,
    #   np.exp(chunk - new_max[..., None]).sum(axis=-1). Return (new_max, new_sum).
    raise TODO("8.1")


def online_logsumexp(x, chunk_size):
    """log Σ exp(x) over the last axis, reading chunk_size values at a time (numpy).

    x: (..., n) array, n >= 1. Returns shape (...): a 0-d array for a 1-d x.
    Equal to scipy.special.logsumexp(x, axis=-1) for every chunk_size.
    """
    x = np.asarray(x, dtype=float)
    chunk_size = check_chunk_size(chunk_size)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"x must hold at least one value on its last axis, got shape {x.shape}")
    # TODO 8.2: start with running_max = -inf and running_sum = 0, arrays of shape
    #   x.shape[:-1] (np.full, np.zeros). For start = 0, chunk_size, 2*chunk_size, ...
    #   pass x[..., start:start + chunk_size] to logsumexp_update. Return
    #   running_max + np.log(running_sum).
    raise TODO("8.2")


def streaming_logsumexp(hidden, weight, chunk_size):
    """logsumexp over the vocabulary of the logits hidden @ weight.T, without building them.

    hidden: (N, H), weight: (V, H) float tensors. Returns an (N,) tensor of the
    hidden's dtype; the largest temporary is (N, chunk_size).
    """
    chunk_size = check_chunk_size(chunk_size)
    if hidden.ndim != 2 or weight.ndim != 2 or hidden.shape[1] != weight.shape[1]:
        raise ValueError(f"hidden must be (N, H) and weight (V, H) with the same H, "
                         f"got shapes {tuple(hidden.shape)} and {tuple(weight.shape)}")
    # TODO 8.3: the online logsumexp of 8.1-8.2 in torch. running_max starts at -inf
    #   and running_sum at 0, tensors of shape (N,) and the dtype of hidden
    #   (hidden.new_full, hidden.new_zeros). For start = 0, chunk_size, ...:
    #   logits = hidden @ weight[start:start + chunk_size].T, an (N, chunk) block;
    #   new_max = torch.maximum(running_max, logits.amax(dim=-1)); rescale the sum
    #   by torch.exp(running_max - new_max) and add torch.exp(logits - new_max[:, None])
    #   summed over dim=-1. Return running_max + torch.log(running_sum).
    raise TODO("8.3")


def chunked_cross_entropy_forward(hidden, weight, targets, chunk_size, ignore_index=-100):
    """The mean cross-entropy of hidden @ weight.T over the kept tokens, in blocks.

    hidden: (N, H), weight: (V, H), targets: (N,) int64 (ignore_index for tokens
    that do not count). Returns (loss, lse): loss a 0-d tensor in nats, lse the
    (N,) logsumexp of every token's logits (saved for the backward pass).
    The largest temporary is chunk_size × chunk_size.
    """
    chunk_size = check_chunk_size(chunk_size)
    check_loss_inputs(hidden, weight, targets, ignore_index)
    # TODO 8.4: kept = targets != ignore_index; safe = torch.where(kept, targets, 0)
    #   (a valid index for every row). Loop over token chunks, rows = slice(start,
    #   start + chunk_size) for start = 0, chunk_size, ...: the chunk's lse is
    #   streaming_logsumexp(hidden[rows], weight, chunk_size) (store it in an (N,)
    #   tensor lse); the target logits are (hidden[rows] * weight[safe[rows]]).sum(-1);
    #   add the SUM of lse - target logit over the chunk's kept rows to a running
    #   total. After the loop, loss = total / kept.sum(): one division by the count
    #   of kept tokens, not a mean of chunk means. Return (loss, lse).
    raise TODO("8.4")


def chunked_cross_entropy_backward(hidden, weight, targets, lse, chunk_size, ignore_index=-100, grad_loss=1.0):
    """The gradients of chunked_cross_entropy_forward's loss, recomputing the logits in blocks.

    lse: (N,) the forward pass's logsumexps; grad_loss: the gradient arriving at
    the loss (a float or 0-d tensor; 1 for loss.backward()).
    Returns (grad_hidden (N, H), grad_weight (V, H)).
    """
    chunk_size = check_chunk_size(chunk_size)
    check_loss_inputs(hidden, weight, targets, ignore_index)
    if lse.shape != (hidden.shape[0],):
        raise ValueError(f"lse must have shape ({hidden.shape[0]},), one logsumexp per token, got {tuple(lse.shape)}")
    # TODO 8.5: kept = targets != ignore_index and scale = grad_loss / count, with
    #   count = kept.sum().to(hidden.dtype) (a float over an int64 tensor comes out in
    #   float32, too coarse for float64). Start grad_hidden and grad_weight at zero
    #   (torch.zeros_like). For each token chunk rows = slice(t0, t0 + chunk_size)
    #   and each vocabulary chunk cols = slice(v0, v0 + chunk_size): recompute the block of logits
    #   hidden[rows] @ weight[cols].T; its softmax is torch.exp(logits - lse[rows, None]);
    #   subtract 1 where a kept row's target falls in [v0, v0 + chunk_size) (at column
    #   target - v0); multiply rows by kept (ignored rows get 0) and by scale. With
    #   that block G: grad_hidden[rows] += G @ weight[cols] and
    #   grad_weight[cols] += G.T @ hidden[rows]. Return (grad_hidden, grad_weight).
    raise TODO("8.5")


def loss_memory_bytes(n_tokens, vocab, chunk_size=None, dtype=torch.float32):
    """Bytes of the largest temporaries of the loss's forward + backward pass.

    chunk_size None: the naive loss F.cross_entropy(hidden @ weight.T, targets);
    otherwise the chunked loss. dtype: a floating torch dtype (its element size in
    bytes is torch.finfo(dtype).bits // 8). Returns an int.
    """
    if isinstance(n_tokens, bool) or not isinstance(n_tokens, int) or n_tokens < 1:
        raise ValueError(f"n_tokens must be a positive int, got {n_tokens!r}")
    if isinstance(vocab, bool) or not isinstance(vocab, int) or vocab < 1:
        raise ValueError(f"vocab must be a positive int, got {vocab!r}")
    if chunk_size is not None:
        check_chunk_size(chunk_size)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating torch dtype such as torch.float32, got {dtype!r}")
    # TODO 8.6: b = torch.finfo(dtype).bits // 8 bytes per number. The naive loss
    #   (chunk_size None) holds three (N, V) matrices at its peak, the log-probabilities
    #   saved for backward and two gradients of that size: return 3 * N * V * b. The
    #   chunked loss holds three blocks of min(N, chunk_size) × min(V, chunk_size)
    #   numbers, plus the N saved logsumexps: return (3 * block + N) * b.
    raise TODO("8.6")


# ---------------------------------------------------------------------------
# Given code: the autograd Function, the loss, the figure and the printout.


class ChunkedCrossEntropy(torch.autograd.Function):
    """Forward: your chunked loss, saving the N logsumexps (not the logits).

    Backward: your block-by-block gradient, recomputing the logits.
    """

    @staticmethod
    def forward(ctx, hidden, weight, targets, chunk_size, ignore_index):
        loss, lse = chunked_cross_entropy_forward(hidden, weight, targets, chunk_size, ignore_index)
        ctx.save_for_backward(hidden, weight, targets, lse)
        ctx.chunk_size, ctx.ignore_index = chunk_size, ignore_index
        return loss

    @staticmethod
    def backward(ctx, grad_loss):
        hidden, weight, targets, lse = ctx.saved_tensors
        grad_hidden, grad_weight = chunked_cross_entropy_backward(
            hidden, weight, targets, lse, ctx.chunk_size, ctx.ignore_index, grad_loss)
        return grad_hidden, grad_weight, None, None, None


def chunked_cross_entropy(hidden, weight, targets, chunk_size, ignore_index=-100):
    """Mean cross-entropy (nats) of hidden @ weight.T against targets, never holding the logits.

    hidden: (N, H), weight: (V, H), targets: (N,) int64 with ignore_index for
    tokens that do not count. A 0-d tensor; loss.backward() fills hidden.grad and
    weight.grad as F.cross_entropy(hidden @ weight.T, targets) would.
    """
    chunk_size = check_chunk_size(chunk_size)
    check_loss_inputs(hidden, weight, targets, ignore_index)
    return ChunkedCrossEntropy.apply(hidden, weight, targets, chunk_size, ignore_index)


def naive_cross_entropy(hidden, weight, targets, ignore_index=-100):
    """The textbook loss: the full (N, V) logits, then F.cross_entropy."""
    return F.cross_entropy(hidden @ weight.T, targets, ignore_index=ignore_index)


FIGURE_TOKENS = 8192
FIGURE_CHUNK = 1024
FIGURE_VOCABS = [2 ** k for k in range(10, 19)]  # 1024 ... 262,144
KNOWN_VOCABS = {"GPT-2": 50257, "Llama 3": 128256, "Gemma 2": 256000}
BENCH = {"n_tokens": 2048, "hidden_size": 256, "vocab": 32768, "chunk_size": 1024}


def memory_curves(n_tokens=FIGURE_TOKENS, chunk_size=FIGURE_CHUNK, vocabs=FIGURE_VOCABS, dtype=torch.float32):
    """Vocabulary sizes and loss_memory_bytes of each method for them (float32 by default).

    Returns (vocabs (k,), {"naive": bytes (k,), "chunked": bytes (k,)}) as numpy arrays.
    """
    vocabs = np.asarray(vocabs)
    curves = {"naive": np.array([loss_memory_bytes(n_tokens, int(v), None, dtype) for v in vocabs], dtype=float),
              "chunked": np.array([loss_memory_bytes(n_tokens, int(v), chunk_size, dtype) for v in vocabs], dtype=float)}
    return vocabs, curves


def plot_memory_vs_vocab():
    """Figure 8: the loss's memory against the vocabulary size, naive vs chunked (your formula)."""
    vocabs, curves = memory_curves()
    known = {name: (v, loss_memory_bytes(FIGURE_TOKENS, v, None), loss_memory_bytes(FIGURE_TOKENS, v, FIGURE_CHUNK))
             for name, v in KNOWN_VOCABS.items()}
    return draw.memory_vs_vocab(vocabs, curves, known, FIGURE_TOKENS, FIGURE_CHUNK)


def report():
    """Measured peaks beside the formula at N = 2048, H = 256, V = 32768 (make run-module-8)."""
    n, h, v, c = BENCH["n_tokens"], BENCH["hidden_size"], BENCH["vocab"], BENCH["chunk_size"]
    hidden, weight, targets = make_inputs(256, 32, 4096, torch.float64)
    naive = naive_cross_entropy(hidden, weight, targets)
    naive.backward()
    grads = hidden.grad.clone(), weight.grad.clone()
    hidden.grad = weight.grad = None
    chunked = chunked_cross_entropy(hidden, weight, targets, 1000)
    chunked.backward()
    print(f"float64, N=256, H=32, V=4096, chunk 1000: loss naive {naive.item():.12f}, chunked {chunked.item():.12f}; "
          f"largest gradient difference {max((hidden.grad - grads[0]).abs().max().item(), (weight.grad - grads[1]).abs().max().item()):.1e}")
    mib = 2 ** 20
    grads_bytes = (n * h + v * h) * 4
    print(f"\nPeak extra memory of forward + backward, N={n}, H={h}, V={v}, chunk {c}, float32, each in a fresh process")
    print(f"(measured: the most memory resident at once during the run. It holds the {grads_bytes / mib:.0f} MiB of "
          "hidden.grad and weight.grad for chunked;\n naive allocates them after its peak. "
          "Formula: your loss_memory_bytes, the temporaries only)")
    measured = {}
    for method, chunk in (("naive", None), ("chunked", c)):
        result = measure_peak(method, n, h, v, c, "float32", __name__.split(".")[0])
        measured[method] = result["peak_extra_bytes"]
        print(f"  {method:8s} measured {measured[method] / mib:8.1f} MiB   formula {loss_memory_bytes(n, v, chunk) / mib:8.1f} MiB"
              f"   loss {result['loss']:.6f}")
    print(f"  chunked / naive measured: {measured['chunked'] / measured['naive']:.3f} (the target is at most 1/8 = 0.125); "
          f"measured with {result['how']}")
