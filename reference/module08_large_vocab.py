"""Module 8: cross-entropy at LLM vocabulary sizes, without the logits matrix.

THE IDEA
--------
A language model ends in a linear layer: N token states `hidden` (N, H) times a
classifier `weight` (V, H), one row per token of the vocabulary, give logits
z = hidden @ weight.T of shape (N, V), and the loss is the mean cross-entropy
of those logits against the next tokens. At today's sizes that matrix is huge:
8192 tokens against Gemma 2's vocabulary of 256,000 tokens are 2.1 billion
float32 numbers, 8.4 GB, and the backward pass needs more of the same size
(1 GB = 10^9 bytes, 1 MB = 10^6 bytes, here and in the figure). Two
published anchors:
- Cut Cross-Entropy (Wijmans et al., Apple, ICLR 2025, arXiv:2411.09009):
  "Taking the Gemma 2 (2B) model as an example, CCE reduces the memory
  footprint of the loss computation from 24 GB to 1 MB".
- Liger-Kernel's README (github.com/linkedin/Liger-Kernel, section Kernels)
  on its FusedLinearCrossEntropy: "It achieves >4X memory reduction for 128k
  vocab size", against the Hugging Face layers of LLaMA 3-8B (4K hidden size,
  4K sequence length, one A100 80G).
The trick: never hold the (N, V) logits. Compute them a block at a time, keep
only what the loss needs, and recompute the blocks in the backward pass.

THE MATHS
---------
For token i with target t_i, the loss is
    loss_i = logsumexp_j(z_ij) − z_i,t_i        where z_ij = hidden_i · weight_j
The second term is one dot product per token. The first needs all V logits, but
not at once: an ONLINE logsumexp reads them in chunks and keeps two numbers per
token, a running max m and a running sum s = Σ exp(x − m) over the values x it
has seen, so that logsumexp = m + log s at any moment. When a chunk arrives the
max may grow to m', and then the old s is measured against the wrong max: work
out the factor that re-measures it, and what the chunk itself adds (task 8.1).
Check on paper: after the values [1, 1] (m = 1, s = 2), the chunk [3, 0] gives
m' = 3 and s' = 1.320458. Nothing may overflow: every exponent must be <= 0.
The empty start is m = −inf, s = 0 (nothing seen; exp(−inf) = 0). Masked
logits are −inf, and a chunk of nothing but −inf leaves m at −inf: then
−inf − (−inf) is nan, so that case needs care (scipy's logsumexp([−inf, 0])
is 0, not nan).

The mean is over the tokens that count. Padding and prompt tokens carry the
target ignore_index (−100, as in torch) and are left out:
    loss = Σ_{i kept} loss_i / (number of kept tokens)
When tokens are processed in chunks, sum each chunk's losses and divide once by
the total count, as torchtune's chunked loss does. A MEAN OF CHUNK MEANS is
wrong whenever the chunks hold different numbers of kept tokens (a short last
chunk, padding in one chunk): it over-weights the tokens of the small chunks.

The backward pass needs the gradients of the mean loss with respect to hidden
and weight. You derived the gradient of the mean cross-entropy with respect
to the logits in module 3; here work out what the ignored tokens and the
gradient arriving at the loss (grad_loss) do to it, and carry it through
z = hidden @ weight.T with the chain rule (task 8.5). That gradient has the
logits' shape (N, V), so it is never held whole either. The forward pass saved
the N numbers logsumexp_i, and with them the softmax of any block of logits
can be recomputed from that block alone. Check values: hidden [[1, 0]],
weight [[1, 0], [0, 1]] and target [0] give grad_hidden [[−0.268941, 0.268941]]
and grad_weight [[−0.268941, 0], [0.268941, 0]].

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
1,024 to 262,144 tokens, on log axes: the naive loss grows in proportion to V
and reaches 25.2 GB at Gemma 2's 256,000 tokens (Cut Cross-Entropy measured
24 GB), while the chunked loss stays flat at 12.6 MB, because one block never
exceeds chunk_size × chunk_size.

WHAT make run-module-8 MEASURES
-------------------------------
It runs each method's forward + backward once at N = 2048 tokens, H = 256,
V = 32768, chunk_size 1024, float32, each in a fresh Python process (the two
side by side), and prints its PEAK EXTRA RESIDENT MEMORY: the most memory
resident at any one moment of the run, above what was resident just before it
(on Linux: the kernel's high-water mark VmHWM, reset just before the run, minus
VmRSS before it; the process returns large freed blocks to the system at once,
so memory freed and reused during the run counts once). Your formula counts
the loss's temporaries only, so it prints beside the measurement. The
gradients of hidden (N×H) and weight (V×H), 35.7 MB here, are inside the
chunked peak (they are allocated when the backward pass starts and filled
block by block) but not the naive one (they are allocated after its peak,
once the (N, V) matrices are freed).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from kata import TODO  # noqa: F401  (the stubs raise it)
from kata.given.module08 import (
    as_online_state,
    as_values,
    check_chunk_size,
    check_loss_inputs,
    make_inputs,
    measure_peaks,
)

RUN_NOTE = ("about 10 s on 2 idle cores (up to a minute on a busy machine): it measures both losses' peak memory "
            "in two fresh Python processes, side by side.")


def logsumexp_update(running_max, running_sum, chunk):
    """One step of the online logsumexp over the last axis (numpy).

    running_max, running_sum: arrays of shape (...) (the max so far, and Σ exp(x − max)
    of what was seen so far; (-inf, 0) before anything); chunk: (..., C) the next C
    values of each row, -inf allowed (a masked logit).
    Returns (new_max, new_sum), both of shape (...).
    """
    running_max, running_sum, chunk = as_online_state(running_max, running_sum, chunk)
    # TODO 8.1: one step of the online logsumexp, row by row over the last axis.
    #   (running_max, running_sum) summarise the values seen so far: their max m and
    #   the sum of exp(x − m) over them; (−inf, 0) means nothing seen yet. Return
    #   (new_max, new_sum), the same summary of those values together with the
    #   chunk's, each of shape chunk.shape[:-1], so that new_max + log(new_sum) is
    #   the logsumexp of everything seen. Never exponentiate a positive number and
    #   never make a nan: a chunk of only −inf (masked logits) adds nothing, so
    #   (−inf, 0) stays (−inf, 0). Check value: logsumexp_update(1, 2, [3, 0])
    #   gives (3, 1.320458).
    # BEGIN SOLUTION
    new_max = np.maximum(running_max, chunk.max(axis=-1))
    shift = np.where(np.isfinite(new_max), new_max, 0.0)  # only -inf so far: measure against 0, every term is 0
    new_sum = running_sum * np.exp(running_max - shift) + np.exp(chunk - shift[..., None]).sum(axis=-1)
    return new_max, new_sum
    # END SOLUTION


def online_logsumexp(x, chunk_size):
    """log Σ exp(x) over the last axis, reading chunk_size values at a time (numpy).

    x: (..., n) array, n >= 1, -inf allowed. Returns shape (...): a 0-d array for a 1-d x.
    Equal to scipy.special.logsumexp(x, axis=-1) for every chunk_size.
    """
    x = as_values(x)
    chunk_size = check_chunk_size(chunk_size)
    # TODO 8.2: log Σ exp(x) over the last axis of x, read chunk_size values at a
    #   time with YOUR logsumexp_update (task 8.1), starting from the empty
    #   summary: the chunks are x[..., 0:chunk_size], x[..., chunk_size:2*chunk_size],
    #   ... (the last may be shorter). Return shape x.shape[:-1] (a 0-d array for a
    #   1-d x), equal to scipy.special.logsumexp(x, axis=-1) for every chunk_size:
    #   for values far from 0 either way (all near −10,000 too), for −inf entries,
    #   and for a row of only −inf, which gives −inf. Check value:
    #   online_logsumexp([-inf, 0], 1) is 0.0.
    # BEGIN SOLUTION
    running_max = np.full(x.shape[:-1], -np.inf)
    running_sum = np.zeros(x.shape[:-1])
    for start in range(0, x.shape[-1], chunk_size):
        running_max, running_sum = logsumexp_update(running_max, running_sum, x[..., start:start + chunk_size])
    with np.errstate(divide="ignore"):  # a row of only -inf: log 0 = -inf
        return running_max + np.log(running_sum)
    # END SOLUTION


def streaming_logsumexp(hidden, weight, chunk_size):
    """logsumexp over the vocabulary of the logits hidden @ weight.T, without building them.

    hidden: (N, H), weight: (V, H) float tensors. Returns an (N,) tensor of the
    hidden's dtype; the largest temporary is (N, chunk_size).
    """
    chunk_size = check_chunk_size(chunk_size)
    if hidden.ndim != 2 or weight.ndim != 2 or hidden.shape[1] != weight.shape[1]:
        raise ValueError(f"hidden must be (N, H) and weight (V, H) with the same H, "
                         f"got shapes {tuple(hidden.shape)} and {tuple(weight.shape)}")
    # TODO 8.3: the online logsumexp of tasks 8.1-8.2 in torch, over the
    #   vocabulary of the logits hidden @ weight.T without ever building them: take
    #   weight chunk_size rows (vocabulary entries) at a time, so that no temporary
    #   is bigger than (N, chunk_size). Return an (N,) tensor of hidden's dtype,
    #   equal to torch.logsumexp(hidden @ weight.T, dim=-1) and finite for logits
    #   of any size, very negative ones included (logits all near −10,000 give
    #   about −10,000, not −inf). Check value: hidden [[-100]] and weight
    #   [[100], [100.01], [100.02]] give [−9999.592394].
    # BEGIN SOLUTION
    running_max = hidden.new_full((hidden.shape[0],), -float("inf"))
    running_sum = hidden.new_zeros(hidden.shape[0])
    for start in range(0, weight.shape[0], chunk_size):
        logits = hidden @ weight[start:start + chunk_size].T
        new_max = torch.maximum(running_max, logits.amax(dim=-1))
        running_sum = running_sum * torch.exp(running_max - new_max) + torch.exp(logits - new_max[:, None]).sum(dim=-1)
        running_max = new_max
    return running_max + torch.log(running_sum)
    # END SOLUTION


def chunked_cross_entropy_forward(hidden, weight, targets, chunk_size, ignore_index=-100):
    """The mean cross-entropy of hidden @ weight.T over the kept tokens, in blocks.

    hidden: (N, H), weight: (V, H), targets: (N,) int64 (ignore_index for tokens
    that do not count). Returns (loss, lse): loss a 0-d tensor in nats, lse the
    (N,) logsumexp of every token's logits (saved for the backward pass).
    The largest temporary is chunk_size × chunk_size.
    """
    chunk_size = check_chunk_size(chunk_size)
    check_loss_inputs(hidden, weight, targets, ignore_index)
    # TODO 8.4: the mean cross-entropy (nats) of the logits hidden @ weight.T
    #   against targets over the kept tokens (targets != ignore_index), never
    #   holding more than chunk_size × chunk_size logits: take the tokens
    #   chunk_size at a time, and let YOUR streaming_logsumexp (task 8.3) take the
    #   vocabulary in chunks. A token's loss is its logsumexp minus its target's
    #   logit; an ignored token's target (−100) is not a valid index. Divide ONCE,
    #   by the number of kept tokens: chunks may hold different numbers of them, so
    #   a mean of chunk means is wrong. Return (loss, lse): loss a 0-d tensor of
    #   hidden's dtype, lse the (N,) logsumexps of every token, ignored ones too
    #   (the backward pass needs them).
    # BEGIN SOLUTION
    kept = targets != ignore_index
    safe = torch.where(kept, targets, 0)  # a valid index for every row; ignored rows are masked out below
    lse = hidden.new_empty(hidden.shape[0])
    total = hidden.new_zeros(())
    for start in range(0, hidden.shape[0], chunk_size):
        rows = slice(start, start + chunk_size)
        lse[rows] = streaming_logsumexp(hidden[rows], weight, chunk_size)
        target_logits = (hidden[rows] * weight[safe[rows]]).sum(-1)
        total = total + torch.where(kept[rows], lse[rows] - target_logits, 0.0).sum()
    return total / kept.sum(), lse
    # END SOLUTION


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
    # TODO 8.5: the gradients (grad_hidden (N, H), grad_weight (V, H)) of
    #   chunked_cross_entropy_forward's mean loss, times grad_loss (the gradient
    #   arriving at the loss), built block by block: no temporary bigger than
    #   chunk_size tokens × chunk_size vocabulary entries (besides hidden, weight
    #   and the two gradients). Derive them: the gradient of the mean loss with
    #   respect to each block of logits (ignored tokens contribute nothing; the mean
    #   divides by the number of kept tokens), then the chain rule through
    #   z = hidden @ weight.T. `lse` holds each token's logsumexp from the forward
    #   pass. Work in hidden's dtype: a Python float divided by an int64 count comes
    #   out in float32. Check value: hidden [[1, 0]], weight [[1, 0], [0, 1]],
    #   targets [0] give grad_hidden [[-0.268941, 0.268941]] and grad_weight
    #   [[-0.268941, 0], [0.268941, 0]].
    # BEGIN SOLUTION
    kept = targets != ignore_index
    scale = grad_loss / kept.sum().to(hidden.dtype)
    grad_hidden = torch.zeros_like(hidden)
    grad_weight = torch.zeros_like(weight)
    for t0 in range(0, hidden.shape[0], chunk_size):
        rows = slice(t0, t0 + chunk_size)
        h, t, k = hidden[rows], targets[rows], kept[rows]
        for v0 in range(0, weight.shape[0], chunk_size):
            cols = slice(v0, v0 + chunk_size)
            w = weight[cols]
            block = torch.exp(h @ w.T - lse[rows, None])  # the softmax of this block
            hit = torch.nonzero(k & (t >= v0) & (t < v0 + w.shape[0])).squeeze(1)
            block[hit, t[hit] - v0] -= 1.0
            block *= k[:, None] * scale
            grad_hidden[rows] += block @ w
            grad_weight[cols] += block.T @ h
    return grad_hidden, grad_weight
    # END SOLUTION


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
    # TODO 8.6: the bytes (an int) of the temporaries each loss holds at its peak.
    #   The naive loss (chunk_size None) holds three matrices of N × V numbers at
    #   the peak of its backward pass: the log-probabilities saved for it and two
    #   gradients of that size. The chunked loss holds three blocks of logits, each
    #   of at most chunk_size tokens × chunk_size vocabulary entries (and never
    #   more than the data has), plus the N logsumexps it saved. Every number takes
    #   the bytes of `dtype` (torch.finfo gives its bits). Check values:
    #   loss_memory_bytes(2048, 32768, None) is 805,306,368 (805 MB) and
    #   loss_memory_bytes(2048, 32768, 1024) is 12,591,104 (12.6 MB).
    # BEGIN SOLUTION
    b = torch.finfo(dtype).bits // 8
    if chunk_size is None:
        return 3 * n_tokens * vocab * b
    block = min(n_tokens, chunk_size) * min(vocab, chunk_size)
    return (3 * block + n_tokens) * b
    # END SOLUTION


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
    from kata.given.plots import module08 as draw  # imported here: the measuring processes do without matplotlib

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
    mb = 1e6
    grads_bytes = (n * h + v * h) * 4
    print(f"\nPeak extra memory of forward + backward, N={n}, H={h}, V={v}, chunk {c}, float32, each in a fresh process")
    print(f"(measured: the most memory resident at once during the run. It holds the {grads_bytes / mb:.1f} MB of "
          "hidden.grad and weight.grad for chunked;\n naive allocates them after its peak. "
          "Formula: your loss_memory_bytes, the temporaries only. 1 MB = 10^6 bytes)")
    results = measure_peaks(("naive", "chunked"), n, h, v, c, "float32", __name__.split(".")[0])
    for method, chunk in (("naive", None), ("chunked", c)):
        result = results[method]
        print(f"  {method:8s} measured {result['peak_extra_bytes'] / mb:8.1f} MB   formula "
              f"{loss_memory_bytes(n, v, chunk) / mb:8.1f} MB   loss {result['loss']:.6f}")
    ratio = results["chunked"]["peak_extra_bytes"] / results["naive"]["peak_extra_bytes"]
    print(f"  chunked / naive measured: {ratio:.3f} (the target is at most 1/8 = 0.125); "
          f"measured with {results['chunked']['how']}")
