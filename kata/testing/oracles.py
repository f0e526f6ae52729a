"""Training loops written once, for the tests: the oracles of modules 5, 9 and 11.

Each is what a TODO describes, written independently of the reference, with
switches for the mistakes the tests name (forgetting to zero the gradients,
recording the loss after the step, summing instead of averaging, ...), so a
test computes the right history and each mistaken one from the same code.
Imported by torch modules' tests only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def full_batch(model, loss_of, *, epochs: int, lr: float, optimizer=None, zero_grad: bool = True,
               record_after: bool = False, fresh_optimizer: bool = False) -> list[float]:
    """Full-batch training: one step per epoch on ``loss_of(model)``; the loss of each epoch, as floats.

    optimizer: None for plain gradient descent written by hand (p -= lr * p.grad, which
    torch.optim.SGD matches to within about 1e-7, without the seconds torch.optim's first
    optimizer spends on imports), or a torch.optim class such as torch.optim.Adam.
    zero_grad=False: the gradients pile up (backward() adds into .grad).
    record_after=True: the loss recorded is the one after the step.
    fresh_optimizer=True: a new optimizer every epoch (its running averages forgotten).
    """
    step = optimizer(model.parameters(), lr=lr) if optimizer is not None else None
    history = []
    for _ in range(epochs):
        if fresh_optimizer and optimizer is not None:
            step = optimizer(model.parameters(), lr=lr)
        if zero_grad:
            if step is not None:
                step.zero_grad()
            else:
                for p in model.parameters():
                    p.grad = None
        loss = loss_of(model)
        loss.backward()
        if step is not None:
            step.step()
        else:
            with torch.no_grad():
                for p in model.parameters():
                    p -= lr * p.grad
        if record_after:
            with torch.no_grad():
                loss = loss_of(model)
        history.append(loss.item())
    return history


def minibatch_epoch(model, X, y, optimizer, *, batch_size: int, order, zero_grad: bool = True,
                    reduction: str = "mean", softmax_first: bool = False, weighted: bool = True) -> float:
    """One pass over ``X[order]`` in batches of ``batch_size``, in training mode; the epoch's mean CE.

    weighted=True: each batch's mean loss counts by its size (Σ loss·len(batch) / N),
    so a short last batch weighs what it holds. The switches make the named mistakes.
    """
    model.train()
    losses = []
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        if zero_grad:
            optimizer.zero_grad()
        out = model(X[idx])
        loss = F.cross_entropy(F.softmax(out, dim=1) if softmax_first else out, y[idx], reduction=reduction)
        loss.backward()
        optimizer.step()
        losses.append((loss.item(), len(idx)))
    if weighted:
        return sum(value * size for value, size in losses) / len(order)
    return sum(value for value, _ in losses) / len(losses)


def dataloader_order(n: int, generator: torch.Generator) -> torch.Tensor:
    """The order one epoch of ``DataLoader(..., shuffle=True, generator=generator)`` visits n examples in.

    Each time it is iterated, the DataLoader first draws a base seed for its workers
    from the generator, and only then does its sampler call randperm with it; so
    its order differs from ``torch.randperm(n, generator=generator)``. The sampler
    then draws one more (empty) permutation for the remainder when the epoch ends,
    which moves the generator on once more.
    """
    torch.empty((), dtype=torch.int64).random_(generator=generator)
    order = torch.randperm(n, generator=generator)
    torch.randperm(n, generator=generator)
    return order


def flat_parameters(model):
    """Every parameter of ``model``, flattened into one numpy vector."""
    return torch.cat([p.detach().flatten() for p in model.parameters()]).numpy()
