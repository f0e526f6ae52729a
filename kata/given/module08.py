"""Given code for module 8 (large vocabularies): input checks and peak memory.

Input checks raise ``ValueError`` with a sentence that says what was wrong.

Peak memory is measured in a fresh child process per method, so that memory one
method freed cannot be reused by the next and hide its peak:

1. the child imports torch and the lesson, builds the seeded inputs and runs a
   tiny warm-up of the method (kernels and thread pools are loaded);
2. on Linux it resets the kernel's high-water mark of its resident memory
   (``/proc/self/clear_refs``), reads its resident memory (VmRSS), runs the loss
   forward and backward once, and reads the high-water mark (VmHWM). The peak
   extra memory is VmHWM − VmRSS: the most memory resident at any one moment of
   the run, above what was resident before it. Memory freed and reused during
   the run counts once. ``hidden.grad`` and ``weight.grad`` are in it only if
   they are alive at that moment (chunked: yes, they are allocated when the
   backward pass starts; naive: no, they come after the (N, V) matrices are
   freed). The child runs with ``MALLOC_MMAP_THRESHOLD_=131072`` so that glibc
   hands every freed block of 128 KiB or more straight back to the system.
   With glibc's default the threshold grows after the first large free, later
   blocks come from its heap and freed ones stay resident there: the chunked
   peak then read about 18 MiB more than was ever alive at once;
3. elsewhere (macOS) it falls back to the growth of ``resource.getrusage``'s
   ru_maxrss across the run, which under-counts when the set-up peaked higher
   than the run will (the report says which way it measured).

    MALLOC_MMAP_THRESHOLD_=131072 python -m kata.given.module08 --child naive 2048 256 32768 1024 float32 reference
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from kata.course import ROOT
from kata.given.checks import as_class_targets, check_whole

LESSON = "module08_large_vocab"
DTYPES = {"float32": torch.float32, "float64": torch.float64}
# glibc: blocks of at least this many bytes are mmap-ed and returned to the system when freed (see measure_peak)
MMAP_THRESHOLD = 128 * 1024


# ---------------------------------------------------------------------------
# Input checks


def check_chunk_size(chunk_size) -> int:
    return check_whole(chunk_size, "chunk_size")


def check_loss_inputs(hidden, weight, targets, ignore_index=-100) -> None:
    """hidden (N, H) and weight (V, H) float tensors of one dtype; targets (N,) int64 class indices."""
    for name, tensor in (("hidden", hidden), ("weight", weight), ("targets", targets)):
        if not isinstance(tensor, torch.Tensor):
            raise ValueError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
    if hidden.ndim != 2 or weight.ndim != 2:
        raise ValueError(f"hidden must be (N, H) and weight (V, H), got shapes {tuple(hidden.shape)} and {tuple(weight.shape)}")
    if hidden.shape[1] != weight.shape[1]:
        raise ValueError(f"hidden (N, H) and weight (V, H) need the same H, got shapes {tuple(hidden.shape)} and {tuple(weight.shape)}")
    if hidden.shape[0] == 0 or weight.shape[0] == 0:
        raise ValueError(f"there is nothing to compute: hidden has {hidden.shape[0]} tokens and weight {weight.shape[0]} classes")
    if not hidden.is_floating_point() or hidden.dtype != weight.dtype:
        raise ValueError(f"hidden and weight must be floating tensors of one dtype, got {hidden.dtype} and {weight.dtype}")
    if targets.dtype != torch.int64:
        raise ValueError(f"targets must be an int64 tensor of class indices, one per token, got {targets.dtype}")
    as_class_targets(targets, hidden.shape[0], weight.shape[0], ignore_index=ignore_index)


# ---------------------------------------------------------------------------
# The benchmark's inputs and the peak-memory measurement


def make_inputs(n_tokens: int, hidden_size: int, vocab: int, dtype=torch.float32, seed: int = 0):
    """Seeded hidden (N, H) and weight (V, H) that require grad, and targets (N,)."""
    generator = torch.Generator().manual_seed(seed)
    hidden = torch.randn(n_tokens, hidden_size, generator=generator, dtype=dtype).requires_grad_()
    weight = (torch.randn(vocab, hidden_size, generator=generator, dtype=dtype) / hidden_size ** 0.5).requires_grad_()
    targets = torch.randint(0, vocab, (n_tokens,), generator=generator)
    return hidden, weight, targets


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _can_reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        _status_kib("VmHWM")
        return True
    except OSError:
        return False
    except KeyError:
        return False


def _child(method: str, n_tokens: int, hidden_size: int, vocab: int, chunk_size: int, dtype: str, target: str) -> dict:
    lesson = importlib.import_module(f"{target}.{LESSON}")

    def loss_of(hidden, weight, targets):
        if method == "naive":
            return lesson.naive_cross_entropy(hidden, weight, targets)
        return lesson.chunked_cross_entropy(hidden, weight, targets, chunk_size)

    small = make_inputs(8, 4, 16, DTYPES[dtype])
    loss_of(*small).backward()  # warm-up: load the kernels and thread pools
    hidden, weight, targets = make_inputs(n_tokens, hidden_size, vocab, DTYPES[dtype])
    if _can_reset_peak():
        how = "Linux VmHWM - VmRSS"
        before = _status_kib("VmRSS")
        loss = loss_of(hidden, weight, targets)
        loss.backward()
        peak = _status_kib("VmHWM")
    else:
        import resource  # POSIX only; on Linux the branch above is taken

        how = "growth of ru_maxrss (may under-count if the set-up peaked higher)"
        scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale // 1024
        loss = loss_of(hidden, weight, targets)
        loss.backward()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale // 1024
    return {"method": method, "peak_extra_bytes": max(peak - before, 0) * 1024, "how": how, "loss": loss.item()}


def measure_peak(method: str, n_tokens: int, hidden_size: int, vocab: int, chunk_size: int,
                 dtype: str = "float32", target: str = "reference") -> dict:
    """Run one method's forward + backward in a fresh process; its peak extra resident bytes.

    Returns {"method", "peak_extra_bytes", "how", "loss"}; raises RuntimeError if the child failed.
    """
    command = [sys.executable, "-m", "kata.given.module08", "--child", method, str(n_tokens), str(hidden_size),
               str(vocab), str(chunk_size), dtype, target]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"measuring {method} failed: {last}")
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=7, metavar=("METHOD", "N", "H", "V", "CHUNK", "DTYPE", "TARGET"), required=True)
    args = parser.parse_args(argv)
    method, n, h, v, chunk, dtype, target = args.child
    print(json.dumps(_child(method, int(n), int(h), int(v), int(chunk), dtype, target)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
