"""Module 7: cross-entropy for language models: bits per character, perplexity, a learning-rate sweep.

THE IDEA
--------
A language model reads text one character at a time and, before each next
character, gives a probability to every character of the alphabet. Its loss
on a text x_1 ... x_N is the cross-entropy of those predictions, averaged
over the N - 1 predictions it makes:

    CE = -(1 / (N-1)) Σ_{t=1}^{N-1} ln q(x_{t+1} | x_t)        [nats per character]

The same number in other units (they carry no new information):

    bits per character   BPC = CE / ln 2
    perplexity           PPL = exp(CE)   (= 2^BPC)

Perplexity is "how many characters the model is choosing between": a model
that spreads its bets evenly over V characters scores CE = ln V, PPL = V.
It is the exp of the *mean* loss per character. The exp of a summed loss
grows with the length of the text and means nothing.

THE DATA: TEXT WHOSE ANSWER IS KNOWN
------------------------------------
Real text has an unknown true distribution. Ours does not: it is sampled from
the small Markov chain below (alphabet " aent", TRANSITIONS[i, j] =
P(next = j | current = i)), so the best possible loss is known exactly. The
chain spends a fraction π_i of its time in character i (its stationary
distribution, π P = π), and from i it is as unpredictable as the row P_i.
Averaging the two gives its ENTROPY RATE:

    H = -Σ_i π_i Σ_j P_ij ln P_ij = 1.099732 nats = 1.586578 bits per character

No model can do better on new text from this chain: on an endless text, a
model with table q scores the CROSS-ENTROPY RATE

    H(P, q) = -Σ_i π_i Σ_j P_ij ln q_ij  >=  H      (Gibbs, row by row)

with equality only for q = P. A model that ignores the context (a unigram
model, the same row for every context) can at best score the entropy of π,
the unigram entropy 1.533916 nats = 2.212973 bits. Knowing the previous
character is worth the gap between the two.

TRAIN TEXT, HELD-OUT TEXT, ENDLESS TEXT
---------------------------------------
We fit on TRAIN_CHARS = 3000 characters (seed 0) and score on 3000 other
characters (seed 1) from the same chain. Two honest caveats:
- On its own training text a fitted model can score *below* the entropy rate
  (here: 1.0922 nats for the count model): it has fitted that text's accidents.
- Even on held-out text the measured CE wobbles around the model's
  cross-entropy rate by about ±0.015 nats (3000 characters are a sample).
The guarantee H(P, q) >= H holds for the endless text, which we can
compute exactly because we know P: cross_entropy_rate() below.

THE MODELS
----------
- Count model: count each pair (context, next) in the training text, add k
  to every count (add-k smoothing: no probability is exactly 0), normalise
  each row. With k -> 0 this is the maximum-likelihood bigram model: the
  table that minimises the training cross-entropy.
- Trained model: a V×V table of logits W, row W[context] = the logits of the
  next character, trained by gradient descent on F.cross_entropy. It
  minimises the same training cross-entropy, so it converges to the
  unsmoothed count model (k -> 0); the add-one table is within 0.001 nats of
  it on the training text. After STEPS = 50 steps at LEARNING_RATE = 5 the
  trained model is within 0.02 nats of both.
- Unigram model (given): every row the character frequencies. It sits above both.

WHAT YOU WRITE
--------------
7.1 cross_entropy_rate(transitions, probs)  -Σ_i π_i Σ_j P_ij ln q_ij, nats
                                            (entropy_rate(P) is cross_entropy_rate(P, P))
7.2 bigram_pairs(ids)                       (contexts, targets): each character and the one after it
7.3 sequence_cross_entropy(probs, ids, reduction)   mean (or sum, or each) of -ln q(next | context)
7.4 bits_per_character(probs, ids)          the mean CE in bits
7.5 perplexity(probs, ids)                  exp of the mean CE in nats
7.6 count_bigram_model(ids, vocab_size, k)  add-k smoothed bigram counts, rows normalised
7.7 train_bigram(ids, vocab_size, lr, steps)   full-batch gradient descent on a logits table
7.8 learning_rate_sweep(ids, lrs, ...)     the final training CE for each learning rate

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
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F

from kata import TODO  # noqa: F401  (the stubs raise it)
from kata.given.module07 import (
    as_ids,
    as_transition_table,
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
HELDOUT_CHARS, HELDOUT_SEED = 3000, 1
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


@functools.lru_cache(maxsize=1)
def _corpus():
    train = sample_chain(TRANSITIONS, TRAIN_CHARS, TRAIN_SEED)
    heldout = sample_chain(TRANSITIONS, HELDOUT_CHARS, HELDOUT_SEED)
    return train, heldout


def corpus():
    """(train_ids, heldout_ids): 3000 + 3000 character ids sampled from the chain (seeds 0 and 1)."""
    train, heldout = _corpus()
    return train.copy(), heldout.copy()


# ---------------------------------------------------------------------------
# 7.1 The floor: the entropy rate, and a model's cross-entropy rate


def cross_entropy_rate(transitions, probs):
    """Cross-entropy rate -Σ_i π_i Σ_j P_ij ln q_ij of a bigram model on endless text, in nats.

    transitions: (V, V) the true chain P (rows sum to 1); probs: (V, V) the
    model's table q(next = j | context = i). π is the chain's stationary
    distribution. Returns a float; for probs = transitions it is the entropy rate.
    """
    P = as_transition_table(transitions, "transitions")
    q = as_transition_table(probs, "probs")
    if q.shape != P.shape:
        raise ValueError(f"probs has shape {q.shape} but transitions has shape {P.shape}: they need the same alphabet")
    pi = stationary_distribution(P)
    # TODO 7.1: return -Σ_i π_i Σ_j P_ij ln q_ij with pi = the stationary
    #   distribution above: the row cross-entropies -Σ_j P_ij ln q_ij, weighted by
    #   how often the chain is in state i (π_i), not averaged evenly. Natural log
    #   (nats). Where P_ij = 0 the term is 0 (use np.where, as in module 1).
    # BEGIN SOLUTION
    terms = np.where(P > 0, P * -np.log(np.where(P > 0, q, 1.0)), 0.0)
    return float(pi @ terms.sum(axis=1))
    # END SOLUTION


def entropy_rate(transitions):
    """The chain's entropy rate H = -Σ_i π_i Σ_j P_ij ln P_ij, in nats per character."""
    return cross_entropy_rate(transitions, transitions)


def unigram_entropy(transitions):
    """-Σ_i π_i ln π_i: the best loss of a model that ignores the context, in nats."""
    pi = stationary_distribution(transitions)
    return float(-(pi[pi > 0] * np.log(pi[pi > 0])).sum())


# ---------------------------------------------------------------------------
# 7.2 - 7.5 Scoring a model on a text


def bigram_pairs(ids):
    """(contexts, targets): two int arrays of length N-1 for N character ids.

    contexts[t] = ids[t] is what the model sees, targets[t] = ids[t+1] is the
    character it must predict next.
    """
    ids = as_ids(ids)
    # TODO 7.2: return (contexts, targets) = (every id but the last, every id but
    #   the first): N characters make N-1 (context, next) pairs. No wrap-around:
    #   the last character has no next one.
    # BEGIN SOLUTION
    return ids[:-1], ids[1:]
    # END SOLUTION


REDUCTIONS = ("mean", "sum", "none")


def sequence_cross_entropy(probs, ids, reduction="mean"):
    """Cross-entropy of a bigram model on a text, in nats.

    probs: (V, V) with probs[c, j] = q(next = j | context = c); ids: (N,) the
    text. reduction "mean" (per character, the default) or "sum" give a float,
    "none" the (N-1,) losses -ln q(ids[t+1] | ids[t]).
    """
    probs = as_transition_table(probs, "probs")
    ids = as_ids(ids, probs.shape[0])
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    # TODO 7.3: take (contexts, targets) from your bigram_pairs(ids); each loss
    #   is -ln probs[context, target] (natural log: nats), one per pair (numpy
    #   fancy indexing: probs[contexts, targets]). Return the losses for "none",
    #   their sum as a float for "sum", their mean as a float for "mean".
    # BEGIN SOLUTION
    contexts, targets = bigram_pairs(ids)
    losses = -np.log(probs[contexts, targets])
    if reduction == "none":
        return losses
    return float(losses.sum() if reduction == "sum" else losses.mean())
    # END SOLUTION


def bits_per_character(probs, ids):
    """The model's mean cross-entropy on the text, in bits per character."""
    # TODO 7.4: the mean sequence_cross_entropy in nats, divided by ln 2.
    # BEGIN SOLUTION
    return sequence_cross_entropy(probs, ids) / np.log(2)
    # END SOLUTION


def perplexity(probs, ids):
    """exp of the model's mean cross-entropy (nats) on the text: its effective number of choices."""
    # TODO 7.5: exp of the MEAN sequence_cross_entropy in nats (not of the sum,
    #   which grows with the length of the text).
    # BEGIN SOLUTION
    return float(np.exp(sequence_cross_entropy(probs, ids)))
    # END SOLUTION


# ---------------------------------------------------------------------------
# 7.6 - 7.8 The models


def count_bigram_model(ids, vocab_size=VOCAB_SIZE, k=K):
    """Add-k smoothed bigram model: (vocab_size, vocab_size) table, each row a distribution.

    probs[c, j] = (count of c followed by j + k) / (count of c as a context + k·V).
    """
    ids = as_ids(ids, vocab_size)
    k = check_positive(k, "k (the add-k smoothing count)")
    # TODO 7.6: count the pairs from your bigram_pairs(ids) into a (vocab_size,
    #   vocab_size) float table, counts[context, target] += 1 (np.add.at does it
    #   for repeated pairs; counts[contexts, targets] += 1 would count each pair once).
    #   Add k to every cell, then divide each ROW by its own sum.
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
    """Train a (V, V) logits table by full-batch gradient descent on F.cross_entropy.

    Returns (probs, losses): probs (V, V) numpy float64, the softmax of each row
    of the trained logits; losses (steps,) numpy, the mean training CE in nats
    computed at each step before that step's update (losses[0] = ln V).
    """
    ids = as_ids(ids, vocab_size)
    lr = check_positive(lr, "lr (the learning rate)")
    steps = check_steps(steps)
    # TODO 7.7: contexts, targets = your bigram_pairs(ids), as torch tensors
    #   (torch.as_tensor). Start from logits = torch.zeros(vocab_size, vocab_size,
    #   dtype=torch.float64, requires_grad=True): every prediction uniform. Then
    #   `steps` times, in this order: loss = F.cross_entropy(logits[contexts],
    #   targets) (the mean over pairs); append loss.item() to the losses;
    #   loss.backward(); under torch.no_grad() do logits -= lr * logits.grad;
    #   then clear the gradient (logits.grad = None), or the next one adds to it.
    #   (That update is exactly torch.optim.SGD(lr=lr), without importing the
    #   optimiser machinery.) Return (torch.softmax(logits, dim=1) as a numpy
    #   array via .detach().numpy(), np.array(losses)).
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
    lrs = [check_positive(lr, "every learning rate") for lr in np.atleast_1d(np.asarray(lrs, dtype=float))]
    if not lrs:
        raise ValueError("lrs is empty: give at least one learning rate")
    # TODO 7.8: for each lr in lrs, in order: probs, _ = train_bigram(ids,
    #   vocab_size, lr, steps), then score probs with your
    #   sequence_cross_entropy(probs, ids) (mean, nats). Return the scores as a
    #   numpy array.
    # BEGIN SOLUTION
    finals = []
    for lr in lrs:
        probs, _ = train_bigram(ids, vocab_size, lr, steps)
        finals.append(sequence_cross_entropy(probs, ids))
    return np.array(finals)
    # END SOLUTION


# ---------------------------------------------------------------------------
# Given code: the figures and the printout. They use your functions above.

LN2 = np.log(2)


def language_model_results():
    """Every number of figure 1, in bits per character.

    Returns a dict: "losses" (STEPS,) the training curve; "entropy_rate",
    "unigram_entropy", "uniform" (log2 V); and for each of "count", "trained",
    "unigram" a dict of its CE on "train" text, "heldout" text and "endless"
    text (the cross-entropy rate).
    """
    train, heldout = corpus()
    trained_probs, losses = train_bigram(train)
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


def plot_training_curve():
    """Figure 1: the training loss in bits per character approaching the entropy rate."""
    return draw.training_curve(language_model_results(), LEARNING_RATE)


def plot_learning_rate_sweep():
    """Figure 2: the final training loss (bits per character) against the learning rate."""
    train, _ = corpus()
    finals = learning_rate_sweep(train) / LN2
    count_bits = bits_per_character(count_bigram_model(train), train)
    return draw.learning_rate_sweep(np.array(LEARNING_RATES), finals, count_bits,
                                    entropy_rate(TRANSITIONS) / LN2, LEARNING_RATE, STEPS)


def report():
    """Print the module's numbers (make run-module-7)."""
    train, heldout = corpus()
    print(f"a sample of the training text: {decode(train[:60])!r}")
    h, hu = entropy_rate(TRANSITIONS), unigram_entropy(TRANSITIONS)
    print(f"entropy rate     {h:.6f} nats = {h / LN2:.6f} bits per character (perplexity {np.exp(h):.4f})")
    print(f"unigram entropy  {hu:.6f} nats = {hu / LN2:.6f} bits per character")
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
    finals = learning_rate_sweep(train)
    print("learning-rate sweep, final training CE (nats): "
          + ", ".join(f"lr {lr:g}: {value:.4f}" for lr, value in zip(LEARNING_RATES, finals)))
