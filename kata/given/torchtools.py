"""Given torch helpers the lessons share (imports torch: only torch modules use it)."""

from __future__ import annotations

import contextlib

import torch


@contextlib.contextmanager
def one_thread():
    """Run torch on one CPU thread inside the block, then restore the thread count.

    The course's models are tiny: splitting their matrix products over threads
    costs more than it saves (20-40x more on a busy 2-core machine), and one
    thread gives the same floating-point sums on every machine, so figures match
    their baselines. Usable as ``with one_thread():`` or as a decorator.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
