"""Given code for module 8 (large vocabularies): input checks and peak memory.

Input checks raise ``ValueError`` with a sentence that says what was wrong:
values for a logsumexp may be -inf (a masked logit), never NaN or +inf.

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
   hands every freed block of 131,072 bytes or more straight back to the system.
   With glibc's default the threshold grows after the first large free, later
   blocks come from its heap and freed ones stay resident there: the chunked
   peak then read about 19 MB more than was ever alive at once;
3. elsewhere (macOS) it falls back to the growth of ``resource.getrusage``'s
   ru_maxrss across the run, which under-counts when the set-up peaked higher
   than the run will (the report says which way it measured).

``measure_peaks`` runs the methods' processes side by side, one torch thread
each: every process measures only its own memory, so no peak changes, and the
two waits (importing torch, running the loss) overlap.

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

import numpy as np
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


def _no_nan_or_plus_inf(values: np.ndarray, name: str) -> None:
    if np.isnan(values).any():
        raise ValueError(f"{name} contains NaN")
    if np.isposinf(values).any():
        raise ValueError(f"{name} contains +inf: a value may be -inf (a masked logit, exp(-inf) = 0) but +inf "
                         "has no logsumexp worth computing")


def as_values(x) -> np.ndarray:
    """``x`` as float64 values (..., n), n >= 1, for a logsumexp over the last axis; -inf allowed, NaN and +inf not."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"x must hold at least one value on its last axis, got shape {x.shape}")
    _no_nan_or_plus_inf(x, "x")
    return x


def as_online_state(running_max, running_sum, chunk) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(running_max, running_sum, chunk) as float64 arrays for one step of the online logsumexp.

    running_max and running_sum have chunk's shape without its last axis; running_max may be
    -inf (nothing seen yet), running_sum is finite and >= 0; chunk holds at least one value
    per row, -inf allowed (a masked logit), NaN and +inf not.
    """
    running_max = np.asarray(running_max, dtype=float)
    running_sum = np.asarray(running_sum, dtype=float)
    chunk = np.asarray(chunk, dtype=float)
    if chunk.ndim == 0 or chunk.shape[-1] == 0:
        raise ValueError(f"chunk must hold at least one value on its last axis, got shape {chunk.shape}")
    if running_max.shape != chunk.shape[:-1] or running_sum.shape != chunk.shape[:-1]:
        raise ValueError(f"running_max and running_sum need the shape of chunk without its last axis, {chunk.shape[:-1]}, "
                         f"got {running_max.shape} and {running_sum.shape}")
    _no_nan_or_plus_inf(chunk, "chunk")
    _no_nan_or_plus_inf(running_max, "running_max")
    if not np.isfinite(running_sum).all() or (running_sum < 0).any():
        raise ValueError(f"running_sum is a sum of exponentials: finite and >= 0, got {running_sum}")
    return running_max, running_sum, chunk


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


def _start(method: str, n_tokens: int, hidden_size: int, vocab: int, chunk_size: int, dtype: str, target: str,
           threads: int | None = None) -> subprocess.Popen:
    command = [sys.executable, "-m", "kata.given.module08", "--child", method, str(n_tokens), str(hidden_size),
               str(vocab), str(chunk_size), dtype, target]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD)}
    if threads is not None:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(method: str, child: subprocess.Popen) -> dict:
    stdout, stderr = child.communicate()
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if child.returncode != 0 or not lines:
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"measuring {method} failed: {last}")
    return json.loads(lines[-1])


def measure_peak(method: str, n_tokens: int, hidden_size: int, vocab: int, chunk_size: int,
                 dtype: str = "float32", target: str = "reference") -> dict:
    """Run one method's forward + backward in a fresh process; its peak extra resident bytes.

    Returns {"method", "peak_extra_bytes", "how", "loss"}; raises RuntimeError if the child failed.
    """
    return _finish(method, _start(method, n_tokens, hidden_size, vocab, chunk_size, dtype, target))


def measure_peaks(methods, n_tokens: int, hidden_size: int, vocab: int, chunk_size: int,
                  dtype: str = "float32", target: str = "reference") -> dict:
    """measure_peak for each method, the fresh processes running side by side (one torch thread each).

    Each process measures only its own resident memory, so running them at once changes no peak;
    on 2 cores it nearly halves the wait. Returns {method: measure_peak's dict}.
    """
    threads = max(1, (os.cpu_count() or 1) // len(methods))
    children = {method: _start(method, n_tokens, hidden_size, vocab, chunk_size, dtype, target, threads)
                for method in methods}
    results, failures = {}, []
    for method, child in children.items():  # wait for every child, even after one failed
        try:
            results[method] = _finish(method, child)
        except RuntimeError as error:
            failures.append(error)
    if failures:
        raise failures[0]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=7, metavar=("METHOD", "N", "H", "V", "CHUNK", "DTYPE", "TARGET"), required=True)
    args = parser.parse_args(argv)
    method, n, h, v, chunk, dtype, target = args.child
    print(json.dumps(_child(method, int(n), int(h), int(v), int(chunk), dtype, target)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
