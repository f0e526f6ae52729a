"""Module 7: cross-entropy for language models: bits per character, perplexity, code length, a learning-rate sweep.

THE IDEA
--------
A language model reads text one character at a time and, before each next
character, gives a probability to every character of the alphabet. A BIGRAM
model looks only at the character it has just read: it is a (V, V) table q,
row = the context character, column = the next one, each row a distribution.
Its loss on a text x_1 ... x_N is the cross-entropy of its predictions: the
surprisal -ln q(x_{t+1} | x_t) of each character that really came next, over
the N - 1 predictions it makes (the first character has no context and is not
scored). Averaged, that is nats per character, the number every language-model
paper reports in one unit or another:

- bits per character: the same surprisals measured with base-2 logarithms;
- perplexity: the number K of equally likely characters that would cost the
  same. A model that spreads its bets evenly over K characters pays ln K nats
  on every character, whatever the text: uniform over our 5 characters,
  ln 5 = 1.609438 nats = 2.321928 bits per character, perplexity 5.

What about the SUMMED loss? It is -ln of the probability the model gives the
whole text (after its first character), so its exp is 1/q(text): the inverse
likelihood. That is a meaningful number (a model that finds the text twice as
likely halves it), but it grows exponentially with the length, so it cannot
compare texts, or models scored on texts, of different lengths. Perplexity is
the length-free version: what each character contributes to it, on average,
in the geometric sense.

THE DATA: TEXT WHOSE ANSWER IS KNOWN
------------------------------------
Real text has an unknown true distribution. Ours does not: it is sampled from
the small Markov chain below (alphabet " aent", TRANSITIONS[i, j] =
P(next = j | current = i)), so the best possible loss is known exactly. In the
long run the chain spends a fraction π_i of its time in character i (its
stationary distribution, π P = π), and from there the next character is as
unpredictable as the row P_i. Its ENTROPY RATE is the expected surprisal of the
next character under the chain itself, with the context drawn from π:

    H = 1.099732 nats = 1.586578 bits per character

A model q, scored on an endless text from the chain, gets its CROSS-ENTROPY RATE
H(P, q): the same expectation of -ln q(next | context) instead of -ln P(...).
In each context it is module 1's cross-entropy of the rows P_i and q_i, and
module 2's H(p, q) = H(p) + KL(p || q) splits it into the entropy rate plus
what the model wastes: each row's KL, weighted by how often its context comes
up. So H(P, q) >= H (Gibbs), with equality only for q = P.

A model that ignores the context (a unigram model, the same row for every
context) can at best score the entropy of π, the unigram entropy
H(π) = 1.533916 nats = 2.212973 bits. The gap H(π) - H = 0.434184 nats
(0.626395 bits) is the MUTUAL INFORMATION I(x_t; x_{t+1}) of two consecutive
characters: how much the current character tells you about the next. It is
all that a bigram model can gain over a unigram one.

A chain may never make some transitions (in English, q is followed by u).
Such a transition adds nothing to either rate, whatever the model says there:
0·ln 0 = 0, module 1's convention. The other way round is not harmless: a
model that gives probability 0 to a transition the chain does make has an
infinite cross-entropy rate; it would be infinitely surprised.

TRAIN TEXT, HELD-OUT TEXT, ENDLESS TEXT
---------------------------------------
We fit on TRAIN_CHARS = 3000 characters (seed 0) and score on HELDOUT_CHARS =
20000 other characters (seed 1) from the same chain. Two honest caveats:
- On its own training text a fitted model can score *below* the entropy rate
  (here 1.0922 nats for the count model): it has fitted that text's accidents.
- Even on held-out text the measured loss wobbles around the model's
  cross-entropy rate: by about ±0.006 nats (one standard error) on 20000
  characters. The count model scores 1.1104 nats there, its rate is 1.1025.
The guarantee H(P, q) >= H holds for the endless text, which we can compute
exactly because we know P: cross_entropy_rate() below.

THE MODELS
----------
- Count model: count each pair (context, next) in the training text, add k to
  every count (add-k smoothing: no probability is exactly 0), normalise each
  row. Module 2 showed that fitting a categorical distribution to counts by
  gradient descent on the cross-entropy lands on the normalised counts: they
  are the maximum-likelihood fit. The count model is that answer for every
  context at once; with k -> 0 it is the maximum-likelihood bigram model, the
  table with the lowest training cross-entropy.
- Trained model: a V×V table of logits, row = context, trained by gradient
  descent on the same training cross-entropy, so it heads for the unsmoothed
  count model (the add-one table is within 0.001 nats of it on the training
  text). After STEPS = 50 steps at LEARNING_RATE = 5 it is within 0.02 nats.
- Unigram model (given): every row the character frequencies. It sits above both.

BITS YOU CAN HOLD
-----------------
A loss in bits is a file size. A character the model gives probability q can
be written down in -log2 q bits, and an arithmetic coder driven by the model
gets within 2 bits of the sum for a whole text. So the model's summed loss in
bits is its IDEAL CODE LENGTH of the text: the size of the file a compressor
built on it would write (plus a few hundred bits to send the table). On
average no lossless code can do better than the entropy rate, H bits per
character, and a model's expected code length per character is its
cross-entropy rate in bits: H plus the model's KL rate, its wasted bits
(wasted_bits_per_character(), given).

zlib and lzma (Python's standard library) are real compressors that know
nothing about the chain: they learn the text's repeats as they go. On the
20000 held-out characters:

    the true chain P               1.597 bits per character (its rate: H = 1.587)
    the count model (k = 1)        1.602 (expected 1.591: it wastes 0.004 bits per character)
    lzma, the .xz format           2.051
    zlib, level 9                  2.126
    the unigram entropy H(π)       2.213

Both compressors land below the unigram entropy, which no code that ignores
the context can beat on average: they found some of the context. Both stay
about half a bit per character above the entropy rate, which no lossless code
can beat on average: they pay for learning the statistics on the way, and
they model repeated strings, not a Markov chain. They need length: on the
3000 training characters zlib needs 2.26 bits per character and lzma, with
its headers, 2.50, both above the unigram entropy.

"On average" matters: one text can go far below the bound. zlib writes 20000
a's in 0.017 bits per character, but the chain would practically never write
that text; over the texts it does write, no code beats H.

WHAT YOU WRITE
--------------
7.1  cross_entropy_rate(transitions, probs)   a model's expected loss per character on endless text, nats
7.2  bigram_pairs(ids)                        (contexts, targets): each character and the one after it
7.3  sequence_cross_entropy(probs, ids, reduction)   the model's loss on a text: each, summed or mean
7.4  bits_per_character(probs, ids)           that mean loss in bits
7.5  perplexity(probs, ids)                   the number of equally likely characters it amounts to
7.6  count_bigram_model(ids, vocab_size, k)   the add-k smoothed bigram table
7.7  train_bigram(ids, vocab_size, lr, steps)    gradient descent on a table of logits
7.8  learning_rate_sweep(ids, lrs, ...)      the final training loss for each learning rate
7.9  code_length_bits(probs, ids)             the model's ideal code length of a text, in bits
7.10 compressed_bits_per_character(text, method)   what zlib or lzma needs per character

THE FIGURES (make run-module-7, and the tests compare them with plots_baseline/)
-----------
1. training_curve: the training loss in bits per character, step by step,
   falling from log2 5 (uniform guessing), past the unigram entropy, down to
   the count model's loss next to the entropy rate. The right panel zooms in
   on where the models end, scored on the training text, the held-out text
   and the endless text.
2. learning_rate_sweep: the final training loss against the learning rate (log
   axis): too small a step has not arrived after 50 steps, too large a step
   overshoots and bounces.
3. code_lengths: bits per character of the held-out text for each code (the
   models' ideal code lengths, zlib, lzma), against the entropy rate below
   them all.
"""

from __future__ import annotations

import lzma
import zlib

import numpy as np
import torch
import torch.nn.functional as F

from kata import TODO  # noqa: F401  (the stubs raise it)
from kata.given.cache import course_cache
from kata.given.checks import check_training
from kata.given.module07 import (
    COMPRESSORS,
    as_ids,
    as_text,
    as_transition_table,
    check_compressor,
    check_positive,
    check_steps,
    sample_chain,
    stationary_distribution,
)
from kata.given.plots import module07 as draw

# ---------------------------------------------------------------------------
# Given code: the chain, the texts and the settings. Row = current character,
# column = next character; each row sums to 1.

ALPHABET = " aent"
VOCAB_SIZE = len(ALPHABET)
TRANSITIONS = np.array([
    #  ' '    a     e     n     t        next
    [0.02, 0.35, 0.05, 0.03, 0.55],  # after ' ': words start with t or a
    [0.30, 0.02, 0.08, 0.35, 0.25],  # after a: often n
    [0.75, 0.05, 0.05, 0.10, 0.05],  # after e: usually the end of the word
    [0.60, 0.03, 0.15, 0.02, 0.20],  # after n
    [0.25, 0.12, 0.55, 0.03, 0.05],  # after t: often e
])
TRAIN_CHARS, TRAIN_SEED = 3000, 0
HELDOUT_CHARS, HELDOUT_SEED = 20000, 1
K = 1.0                # add-one smoothing
LEARNING_RATE = 5.0    # plain gradient descent on the logits table
STEPS = 50
LEARNING_RATES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0)  # above ~30 the bouncing turns chaotic


def encode(text: str) -> np.ndarray:
    """Character ids (int64) of a string over ALPHABET."""
    unknown = sorted(set(text) - set(ALPHABET))
    if unknown:
        raise ValueError(f"text has characters outside the alphabet {ALPHABET!r}: {unknown}")
    return np.array([ALPHABET.index(c) for c in text], dtype=np.int64)


def decode(ids) -> str:
    """The string spelled by character ids."""
    return "".join(ALPHABET[i] for i in as_ids(ids, VOCAB_SIZE, min_length=0))


@course_cache
def _corpus():
    train = sample_chain(TRANSITIONS, TRAIN_CHARS, TRAIN_SEED)
    heldout = sample_chain(TRANSITIONS, HELDOUT_CHARS, HELDOUT_SEED)
    return train, heldout


def corpus():
    """(train_ids, heldout_ids): 3000 and 20000 character ids sampled from the chain (seeds 0 and 1)."""
    train, heldout = _corpus()
    return train.copy(), heldout.copy()


# ---------------------------------------------------------------------------
# 7.1 The floor: the entropy rate, and a model's cross-entropy rate


def cross_entropy_rate(transitions, probs):
    """A bigram model's expected loss per character on endless text from the chain, in nats.

    transitions: (V, V) the true chain P (rows sum to 1); probs: (V, V) the
    model's table q(next = j | context = i). Returns a float (+inf when q rules
    out a transition the chain makes); for probs = transitions it is the
    chain's entropy rate.
    """
    P = as_transition_table(transitions, "transitions")
    q = as_transition_table(probs, "probs")
    if q.shape != P.shape:
        raise ValueError(f"probs has shape {q.shape} but transitions has shape {P.shape}: they need the same alphabet")
    pi = stationary_distribution(P)
    # TODO 7.1: the cross-entropy rate in nats: the expected surprisal -ln q of
    #   the next character on endless text from the chain, the context drawn from
    #   the long-run frequencies pi (computed for you above) and the next
    #   character from the chain's own row P[context]. Conventions: natural log;
    #   a transition the chain never makes (P_ij = 0) adds nothing, whatever q
    #   says there (a 0 in q included); one the chain makes but q rules out
    #   (q_ij = 0 < P_ij) makes the rate +inf: no eps, no clipping. Return a float.
    #   Check values: for P = [[.9, .1], [.5, .5]] (pi = [5/6, 1/6]) the entropy
    #   rate cross_entropy_rate(P, P) is 0.386427; for the course's chain 1.099732.
    # BEGIN SOLUTION
    with np.errstate(divide="ignore"):  # ln 0 = -inf where q rules out a transition the chain makes
        surprisal = -np.log(np.where(P > 0, q, 1.0))
    rows = np.where(P > 0, P * surprisal, 0.0).sum(axis=1)
    return float(pi @ rows)
    # END SOLUTION


def entropy_rate(transitions):
    """The chain's entropy rate: its own cross-entropy rate, in nats per character."""
    return cross_entropy_rate(transitions, transitions)


def unigram_entropy(transitions):
    """-Σ_i π_i ln π_i: the best loss of a model that ignores the context, in nats."""
    pi = stationary_distribution(transitions)
    return float(-(pi[pi > 0] * np.log(pi[pi > 0])).sum())


def wasted_bits_per_character(transitions, probs):
    """Given: the model's KL rate Σ_i π_i KL(P_i || q_i) in bits, the bits per character its code wastes.

    By H(p, q) = H(p) + KL(p || q), row by row: the cross-entropy rate minus the entropy rate.
    """
    return (cross_entropy_rate(transitions, probs) - entropy_rate(transitions)) / LN2


# ---------------------------------------------------------------------------
# 7.2 - 7.5 Scoring a model on a text


def bigram_pairs(ids):
    """(contexts, targets): two int arrays of length N-1 for N character ids.

    contexts[t] is what the model has read, targets[t] the character it must
    predict next.
    """
    ids = as_ids(ids)
    # TODO 7.2: return (contexts, targets), two int arrays of length N-1 for N
    #   ids: contexts[t] is a character of the text and targets[t] the one that
    #   follows it, in the text's order. No wrap-around: the last character has
    #   no next one. Check: [3, 0, 1, 4] gives ([3, 0, 1], [0, 1, 4]).
    # BEGIN SOLUTION
    return ids[:-1], ids[1:]
    # END SOLUTION


REDUCTIONS = ("mean", "sum", "none")


def sequence_cross_entropy(probs, ids, reduction="mean"):
    """Cross-entropy of a bigram model on a text, in nats.

    probs: (V, V) with probs[c, j] = q(next = j | context = c); ids: (N,) the
    text. reduction "mean" (per predicted character, the default) or "sum"
    give a float, "none" the (N-1,) numpy array of losses, one per pair.
    """
    probs = as_transition_table(probs, "probs")
    ids = as_ids(ids, probs.shape[0])
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    # TODO 7.3: one loss per (context, next) pair of your bigram_pairs(ids): the
    #   surprisal in nats of the character that came next, under the model's row
    #   for its context. reduction "none" returns the (N-1,) numpy array of
    #   losses, "sum" their total and "mean" their average over the N-1
    #   predictions, both as floats. A cell of probs that the text never uses
    #   must not matter, even a 0; a pair whose cell is 0 costs +inf. Check:
    #   probs = [[.2, .5, .3], [.6, .1, .3], [.25, .35, .4]] and ids
    #   [0, 1, 0, 2, 2, 1] give a mean of 0.874812 nats.
    # BEGIN SOLUTION
    contexts, targets = bigram_pairs(ids)
    with np.errstate(divide="ignore"):  # a pair the model calls impossible costs +inf
        losses = -np.log(probs[contexts, targets])
    if reduction == "none":
        return losses
    return float(losses.sum() if reduction == "sum" else losses.mean())
    # END SOLUTION


def bits_per_character(probs, ids):
    """The model's mean cross-entropy on the text, in bits per character."""
    probs = as_transition_table(probs, "probs")
    ids = as_ids(ids, probs.shape[0])
    # TODO 7.4: the mean loss of your sequence_cross_entropy(probs, ids), in
    #   bits instead of nats: what the surprisals would average with base-2
    #   logarithms. A float. Check: a uniform model over 5 characters scores
    #   log2 5 = 2.321928 bits on any text.
    # BEGIN SOLUTION
    return sequence_cross_entropy(probs, ids) / np.log(2)
    # END SOLUTION


def perplexity(probs, ids):
    """The model's perplexity on the text: its effective number of equally likely choices per character."""
    probs = as_transition_table(probs, "probs")
    ids = as_ids(ids, probs.shape[0])
    # TODO 7.5: the perplexity: the number K of equally likely characters whose
    #   uniform guess would cost the same mean loss (nats, from your
    #   sequence_cross_entropy) as this model does on this text. A float, the
    #   same for a text and for that text repeated. Check: a uniform model over 5
    #   characters has perplexity 5 on any text; the 7.3 check gives 2.398424.
    # BEGIN SOLUTION
    return float(np.exp(sequence_cross_entropy(probs, ids)))
    # END SOLUTION


# ---------------------------------------------------------------------------
# 7.6 - 7.8 The models


def count_bigram_model(ids, vocab_size=VOCAB_SIZE, k=K):
    """Add-k smoothed bigram model: (vocab_size, vocab_size) float table, each row a distribution.

    Each cell counts its (context, next) pairs plus k pseudo-counts.
    """
    ids = as_ids(ids, vocab_size)
    k = check_positive(k, "k (the add-k smoothing count)")
    # TODO 7.6: the add-k smoothed bigram table of ids: a (vocab_size,
    #   vocab_size) float array, row = context, column = next character. Each
    #   cell holds its number of (context, next) pairs from your
    #   bigram_pairs(ids) (a pair that occurs 3 times counts 3) plus k; then each
    #   row is normalised into a distribution over the next character (a context
    #   that never occurs gets the uniform row). Check: ids [0, 1, 0, 2, 2, 1, 1,
    #   0, 1], vocab_size 3, k = 1 give the row [1/6, 1/2, 1/3] for context 0.
    # BEGIN SOLUTION
    contexts, targets = bigram_pairs(ids)
    counts = np.zeros((vocab_size, vocab_size))
    np.add.at(counts, (contexts, targets), 1.0)
    smoothed = counts + k
    return smoothed / smoothed.sum(axis=1, keepdims=True)
    # END SOLUTION


def unigram_model(ids, vocab_size=VOCAB_SIZE, k=K):
    """Given: a bigram table that ignores the context, every row the add-k character frequencies."""
    ids = as_ids(ids, vocab_size)
    k = check_positive(k, "k (the add-k smoothing count)")
    frequencies = np.bincount(ids, minlength=vocab_size) + k
    return np.tile(frequencies / frequencies.sum(), (vocab_size, 1))


def train_bigram(ids, vocab_size=VOCAB_SIZE, lr=LEARNING_RATE, steps=STEPS):
    """Train a (V, V) table of logits by full-batch gradient descent on the mean training cross-entropy.

    Returns (probs, losses): probs (V, V) numpy float64, each row the softmax
    of the trained logits; losses (steps,) numpy, the mean training CE in nats
    at each step, before that step's update (losses[0] = ln V).
    """
    ids = as_ids(ids, vocab_size)
    steps = check_steps(steps)
    check_training(lr, steps)
    # TODO 7.7: train a (vocab_size, vocab_size) table of logits W (row c = the
    #   logits of the character after c) by full-batch gradient descent on the
    #   mean cross-entropy, in nats, of all the (context, next) pairs of your
    #   bigram_pairs(ids). Conventions that fix the numbers: W starts at all
    #   zeros (every prediction uniform: losses[0] = ln V) and stays float64;
    #   each of the `steps` steps first records the current mean loss, then moves
    #   W by -lr times the gradient of that loss (plain gradient descent: no
    #   momentum, no weight decay; lr = 0 takes no step). Return (probs, losses):
    #   probs the (V, V) float64 numpy array of each row's softmax after the last
    #   step, losses the (steps,) numpy array of the recorded losses. torch
    #   autograd, torch.optim.SGD or your own numpy gradient give the same numbers.
    # BEGIN SOLUTION
    contexts, targets = (torch.as_tensor(a) for a in bigram_pairs(ids))
    logits = torch.zeros(vocab_size, vocab_size, dtype=torch.float64, requires_grad=True)
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(logits[contexts], targets)
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            logits -= lr * logits.grad
        logits.grad = None
    return torch.softmax(logits, dim=1).detach().numpy(), np.array(losses)
    # END SOLUTION


def learning_rate_sweep(ids, lrs=LEARNING_RATES, vocab_size=VOCAB_SIZE, steps=STEPS):
    """Final training cross-entropy (nats) for each learning rate: shape (len(lrs),).

    "Final" means the CE on ids of the probs train_bigram returns, i.e. after
    the last update (losses[-1] is the loss before it).
    """
    ids = as_ids(ids, vocab_size)
    steps = check_steps(steps)
    lrs = [float(lr) for lr in np.atleast_1d(np.asarray(lrs, dtype=float))]
    if not lrs:
        raise ValueError("lrs is empty: give at least one learning rate")
    for lr in lrs:
        check_training(lr, steps)
    # TODO 7.8: for each learning rate of lrs, in the order given, train a fresh
    #   table with your train_bigram(ids, vocab_size, lr, steps) and keep its
    #   final mean training cross-entropy in nats: the loss on ids of the probs
    #   it returns (after the last step; losses[-1] is from before it). Return a
    #   numpy array, one value per learning rate.
    # BEGIN SOLUTION
    finals = []
    for lr in lrs:
        probs, _ = train_bigram(ids, vocab_size, lr, steps)
        finals.append(sequence_cross_entropy(probs, ids))
    return np.array(finals)
    # END SOLUTION


# ---------------------------------------------------------------------------
# 7.9 - 7.10 Bits you can hold


def code_length_bits(probs, ids):
    """The model's ideal code length of the text, in bits: a total for the N-1 characters after the first."""
    probs = as_transition_table(probs, "probs")
    ids = as_ids(ids, probs.shape[0])
    # TODO 7.9: the ideal code length of the text under the model, in bits: the
    #   total a code built from probs spends on the characters after the first,
    #   each costing log2(1/q) bits for the probability q the model gave it after
    #   the character before it. A float: a total for the N-1 predicted
    #   characters, not per character; +inf if the text makes a transition the
    #   model gives probability 0. Check: the 7.3 check's probs and ids cost
    #   6.310432 bits.
    # BEGIN SOLUTION
    contexts, targets = bigram_pairs(ids)
    with np.errstate(divide="ignore"):  # a character the model calls impossible cannot be written down
        bits = -np.log2(probs[contexts, targets])
    return float(bits.sum())
    # END SOLUTION


def compressed_bits_per_character(text, method="zlib"):
    """Bits per character that a real compressor (zlib or lzma, the standard library's) needs for text."""
    text = as_text(text)
    method = check_compressor(method)
    # TODO 7.10: what a real compressor makes of text, in bits per character of
    #   text: the string as ASCII bytes (one byte per character), compressed by
    #   zlib at level 9 (method "zlib") or by lzma with its defaults, the .xz
    #   format at preset 6 (method "lzma"); the compressed size in bits, divided
    #   by the number of characters of text. A float. Check: the single
    #   character "a" costs 72 bits with zlib (its header and checksum), 480 with
    #   lzma; the held-out text costs 2.1256 bits per character with zlib.
    # BEGIN SOLUTION
    data = text.encode("ascii")
    compressed = zlib.compress(data, 9) if method == "zlib" else lzma.compress(data)
    return 8 * len(compressed) / len(text)
    # END SOLUTION


# ---------------------------------------------------------------------------
# Given code: the figures and the printout. They use your functions above.

LN2 = float(np.log(2))


@course_cache
def _trained_bigram():
    train, _ = corpus()
    return train_bigram(train)


@course_cache
def _sweep():
    train, _ = corpus()
    return learning_rate_sweep(train)


@course_cache
def language_model_results():
    """Every number of figure 1, in bits per character.

    Returns a dict: "losses" (STEPS,) the training curve; "entropy_rate",
    "unigram_entropy", "uniform" (log2 V); and for each of "count", "trained",
    "unigram" a dict of its CE on "train" text, "heldout" text and "endless"
    text (the cross-entropy rate).
    """
    train, heldout = corpus()
    trained_probs, losses = _trained_bigram()
    models = {"count": count_bigram_model(train), "trained": trained_probs, "unigram": unigram_model(train)}
    results = {
        "losses": np.asarray(losses) / LN2,
        "entropy_rate": entropy_rate(TRANSITIONS) / LN2,
        "unigram_entropy": unigram_entropy(TRANSITIONS) / LN2,
        "uniform": np.log2(VOCAB_SIZE),
    }
    for name, probs in models.items():
        results[name] = {
            "train": bits_per_character(probs, train),
            "heldout": bits_per_character(probs, heldout),
            "endless": cross_entropy_rate(TRANSITIONS, probs) / LN2,
        }
    return results


@course_cache
def code_length_results():
    """Every number of figure 3, in bits per character of the held-out text.

    Returns a dict: "entropy_rate", "unigram_entropy", "characters" (N); for
    each model of "true chain", "count", "unigram", "uniform" a dict with
    "measured" (its ideal code length / (N-1)), "expected" (its cross-entropy
    rate in bits) and "wasted" (its KL rate in bits); and "zlib", "lzma" (their
    bits per character).
    """
    train, heldout = corpus()
    models = {"true chain": TRANSITIONS, "count": count_bigram_model(train), "unigram": unigram_model(train),
              "uniform": np.full((VOCAB_SIZE, VOCAB_SIZE), 1.0 / VOCAB_SIZE)}
    results = {"entropy_rate": entropy_rate(TRANSITIONS) / LN2, "unigram_entropy": unigram_entropy(TRANSITIONS) / LN2,
               "characters": len(heldout)}
    for name, probs in models.items():
        expected = cross_entropy_rate(TRANSITIONS, probs) / LN2
        results[name] = {"measured": code_length_bits(probs, heldout) / (len(heldout) - 1), "expected": expected,
                         "wasted": expected - results["entropy_rate"]}
    text = decode(heldout)
    for method in COMPRESSORS:
        results[method] = compressed_bits_per_character(text, method)
    return results


def plot_training_curve():
    """Figure 1: the training loss in bits per character approaching the entropy rate."""
    return draw.training_curve(language_model_results(), LEARNING_RATE, HELDOUT_CHARS)


def plot_learning_rate_sweep():
    """Figure 2: the final training loss (bits per character) against the learning rate."""
    train, _ = corpus()
    finals = _sweep() / LN2
    count_bits = bits_per_character(count_bigram_model(train), train)
    return draw.learning_rate_sweep(np.array(LEARNING_RATES), finals, count_bits,
                                    entropy_rate(TRANSITIONS) / LN2, LEARNING_RATE, STEPS)


def plot_code_lengths():
    """Figure 3: bits per character of the held-out text for each code, against the entropy rate."""
    return draw.code_lengths(code_length_results())


def report():
    """Print the module's numbers (make run-module-7)."""
    train, heldout = corpus()
    print(f"a sample of the training text: {decode(train[:60])!r}")
    h, hu = entropy_rate(TRANSITIONS), unigram_entropy(TRANSITIONS)
    print(f"entropy rate     {h:.6f} nats = {h / LN2:.6f} bits per character (perplexity {np.exp(h):.4f})")
    print(f"unigram entropy  {hu:.6f} nats = {hu / LN2:.6f} bits per character")
    print(f"their gap, the mutual information of consecutive characters: {hu - h:.6f} nats = "
          f"{(hu - h) / LN2:.6f} bits")
    results = language_model_results()
    print(f"training loss: {results['losses'][0]:.4f} bits at step 0 -> {results['losses'][-1]:.4f} bits "
          f"at step {STEPS - 1} (lr {LEARNING_RATE:g})")
    print(f"{'model':<9}{'train text':>12}{'held-out':>12}{'endless':>12}   (nats per character)")
    for name in ("count", "trained", "unigram"):
        row = results[name]
        print(f"{name:<9}" + "".join(f"{row[where] * LN2:>12.4f}" for where in ("train", "heldout", "endless")))
    count = count_bigram_model(train)
    print(f"count model on held-out text: {bits_per_character(count, heldout):.4f} bits per character, "
          f"perplexity {perplexity(count, heldout):.4f}")
    finals = _sweep()
    print("learning-rate sweep, final training CE (nats): "
          + ", ".join(f"lr {lr:g}: {value:.4f}" for lr, value in zip(LEARNING_RATES, finals)))
    codes = code_length_results()
    n = codes["characters"]
    print(f"bits you can hold, on the {n} held-out characters (bits per character; entropy rate "
          f"{codes['entropy_rate']:.4f}):")
    for name in ("true chain", "count", "unigram", "uniform"):
        row = codes[name]
        print(f"  {name:<11} ideal code {row['measured']:.4f} ({row['measured'] * (n - 1):.0f} bits in all), "
              f"expected {row['expected']:.4f}, wasted (KL) {row['wasted']:.4f}")
    for method in COMPRESSORS:
        print(f"  {method:<11} {codes[method]:.4f} ({codes[method] - codes['entropy_rate']:+.4f} above the entropy rate)")
